#pragma once
// One step of a scenario, layer by layer: the entry point the CLI, GUI, check and plan call.
#include <functional>

#include "sim/report.hpp"
#include "sim/scenario.hpp"

namespace moesim::sim {

// Called with (layers done, layers in all) so long runs can show progress.
using ProgressCallback = std::function<void(int, int)>;

// Throws ConfigError when the scenario does not fit in device memory: it is reported as not
// fitting, never simulated.
Report simulate(const ScenarioSpec& scenario, const ProgressCallback& progress = {});

}  // namespace moesim::sim
