#pragma once
// Each subcommand registers itself on the CLI11 app and sets `action` to run after parsing.
#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

#include "sim/spec/choices.hpp"

namespace moesim::cli {

// DESIGN.md's exit codes (listed in README.md and `moesim --help`).
enum ExitCode : int {
  kExitOk = 0,
  kExitRegression = 1,
  kExitInvalidInput = 2,
  kExitRuntimeFailure = 3,
  kExitPlanInfeasible = 4,  // `plan`: no candidate meets the target; `serve`: SLA missed
  kExitNothingCompared = 5,
};

using Action = std::function<int()>;

// A CLI11 check admitting exactly the names of one choice table (sim/spec/choices.hpp).
template <typename Enum>
CLI::Validator one_of_choices() {
  const auto& names = sim::kChoiceNames<Enum>;
  return CLI::IsMember(std::vector<std::string>(names.begin(), names.end()));
}

void add_run_command(CLI::App& app, Action& action);
void add_validate_command(CLI::App& app, Action& action);
void add_list_command(CLI::App& app, Action& action);
void add_import_hf_command(CLI::App& app, Action& action);
void add_trace_command(CLI::App& app, Action& action);
void add_place_command(CLI::App& app, Action& action);
void add_topology_command(CLI::App& app, Action& action);
void add_check_command(CLI::App& app, Action& action);
void add_plan_command(CLI::App& app, Action& action);
void add_serve_command(CLI::App& app, Action& action);
void add_bench_command(CLI::App& app, Action& action);
void add_calibrate_command(CLI::App& app, Action& action);
void add_compare_command(CLI::App& app, Action& action);

}  // namespace moesim::cli
