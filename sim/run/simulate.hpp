#pragma once
// One step of a scenario, layer by layer: the entry point the CLI, GUI, check and plan call.
#include <functional>
#include <vector>

#include "sim/run/inputs.hpp"
#include "sim/run/run_result.hpp"
#include "sim/spec/scenario.hpp"

namespace moesim::sim {

// Called with (layers done, layers in all) so long runs can show progress.
using ProgressCallback = std::function<void(int, int)>;

// One step over resolved inputs (inputs.hpp); no I/O. Throws ConfigError when the scenario does
// not fit in device memory (check_memory_fit says so as a value) or the overrides do not match.
Report simulate(const RunInputs& inputs, const ProgressCallback& progress = {});
// resolve_inputs, then simulate: for callers that hold a scenario and nothing else to read.
Report simulate(const ScenarioSpec& scenario, const ProgressCallback& progress = {},
                const SimulationOverrides& overrides = {});

}  // namespace moesim::sim
