// moesim: simulate MoE models on GPU clusters (see README.md and `moesim --help`).
#include <fmt/core.h>

#include <exception>

#include "base/config_error.hpp"
#include "sim/cli/commands.hpp"

int main(int argc, char** argv) {
  using namespace moesim::cli;
  CLI::App app{"moesim: what a Mixture-of-Experts model will really do on a GPU cluster"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "moesim 0.1.0");
  Action action;
  add_run_command(app, action);
  add_validate_command(app, action);
  add_list_command(app, action);
  add_import_hf_command(app, action);
  add_trace_command(app, action);
  add_place_command(app, action);
  add_topology_command(app, action);
  add_check_command(app, action);
  add_plan_command(app, action);
  add_bench_command(app, action);
  add_calibrate_command(app, action);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    const int code = app.exit(error);
    return code == 0 ? kExitOk : kExitInvalidInput;
  }
  try {
    return action ? action() : kExitInvalidInput;
  } catch (const moesim::ConfigError& error) {
    fmt::print(stderr, "error: {}\n", error.what());
    return kExitInvalidInput;
  } catch (const std::exception& error) {
    fmt::print(stderr, "error: {}\n", error.what());
    return kExitRuntimeFailure;
  }
}
