#include <fmt/core.h>

#include <vector>

#include "sim/cli/commands.hpp"
#include "sim/memory_model.hpp"
#include "sim/scenario.hpp"
#include "topology/config_error.hpp"

namespace moesim::cli {
namespace {

int validate(const std::vector<std::string>& files) {
  for (const auto& file : files) {
    // Throws ConfigError (exit 2) at the first bad file, listing every problem in it.
    const auto scenario = sim::load_scenario(file);
    sim::ensure_fits(scenario);
    fmt::print("{}: ok (scenario \"{}\": {} on {} GPUs)\n", file, scenario.name, scenario.model.name,
               scenario.cluster.gpus());
  }
  return kExitOk;
}

}  // namespace

void add_validate_command(CLI::App& app, Action& action) {
  auto files = std::make_shared<std::vector<std::string>>();
  auto* command = app.add_subcommand("validate", "Check scenario files; exit 2 on the first bad one");
  command->add_option("files", *files, "files (or built-in scenario names) to check")->required();
  command->callback([&action, files] { action = [files] { return validate(*files); }; });
}

}  // namespace moesim::cli
