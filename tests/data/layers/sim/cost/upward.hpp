#pragma once
// Fixture for the LayerIncludes check: a cost-stage header that includes the report stage.
#include "sim/report/report.hpp"
#include "sim/spec/scenario.hpp"
