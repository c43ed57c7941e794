#pragma once
// Fixture for the LayerIncludes check: base may include only base.
#include "topology/cluster_graph.hpp"
