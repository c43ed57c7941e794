// moesim: simulate MoE models on GPU clusters (see README.md and `moesim --help`).
#include <fmt/core.h>

#include <cstdio>
#include <exception>
#include <filesystem>

#include "base/config_error.hpp"
#include "base/interrupt_cleanup.hpp"
#include "base/terminal_text.hpp"
#include "base/text_file.hpp"
#include "sim/cli/commands.hpp"
#include "sim/cli/strict_options.hpp"
#include "sim/report/provenance.hpp"

int main(int argc, char** argv) {
  using namespace moesim::cli;
  moesim::install_interrupt_cleanup();    // no temporary output survives Ctrl-C or a CI timeout
  moesim::guard_inputs_from_overwrite();  // no output of a command replaces one of its inputs
  CLI::App app{"moesim: what a Mixture-of-Experts model will really do on a GPU cluster"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "moesim " + moesim::sim::moesim_version());
  app.footer(
      "Exit codes: 0 success; 1 check found a regression; 2 invalid input or usage; 3 a runtime "
      "failure; 4 plan found no feasible option (it names the nearest miss); 5 check had nothing "
      "to compare.");
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
  add_serve_command(app, action);
  add_bench_command(app, action);
  add_calibrate_command(app, action);
  add_compare_command(app, action);
  require_strict_option_values(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    if (error.get_exit_code() == 0) return app.exit(error) == 0 ? kExitOk : kExitInvalidInput;
    // CLI11 quotes the value it refused as it came: a terminal escape in it must not reach the tty.
    fmt::print(stderr, "error: {}\nRun with --help for more information.\n",
               moesim::escape_for_terminal(error.what()));
    return kExitInvalidInput;
  }
  try {
    const int status = action ? action() : kExitInvalidInput;
    // What was printed must have reached stdout: a full disk or a closed pipe is a failure.
    if (std::fflush(stdout) != 0 || std::ferror(stdout)) {
      fmt::print(stderr, "error: cannot write standard output\n");
      return kExitRuntimeFailure;
    }
    return status;
  } catch (const moesim::ConfigError& error) {
    fmt::print(stderr, "error: {}\n", error.what());
    return kExitInvalidInput;
  } catch (const std::filesystem::filesystem_error& error) {
    // A path the user gave that cannot even be looked at (a symbolic-link loop, a name too long):
    // bad input, named as the file readers name theirs.
    fmt::print(stderr, "error: {}: /: cannot access it: {}\n",
               moesim::escape_for_terminal(error.path1().string()), error.code().message());
    return kExitInvalidInput;
  } catch (const std::exception& error) {
    // A runtime failure names the path it could not write as given: escaped like an input's.
    fmt::print(stderr, "error: {}\n",
               moesim::escape_for_terminal(error.what(), /*keep_newlines=*/true));
    return kExitRuntimeFailure;
  }
}
