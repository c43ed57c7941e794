#include <fmt/core.h>

#include <chrono>
#include <filesystem>

#include "base/terminal_text.hpp"
#include "base/text_file.hpp"
#include "sim/cli/commands.hpp"
#include "sim/serving/serving_output.hpp"
#include "sim/serving/serving_run.hpp"
#include "sim/serving/traffic_budget.hpp"

namespace moesim::cli {
namespace {

struct ServeOptions {
  std::string file;
  std::string out_dir = "moesim-serve";
  bool quiet = false;
};

int serve(const ServeOptions& options) {
  const auto spec = sim::load_serving(options.file);
  const auto start = std::chrono::steady_clock::now();
  auto outcome = [&] {
    try {
      return sim::run_serving(spec);
    } catch (const sim::ServingBudgetError& error) {  // bad input: the traffic asks too much
      throw ConfigError(options.file, {{"/traffic", error.what()}});
    }
  }();
  outcome.simulate_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::filesystem::create_directories(options.out_dir);
  const std::filesystem::path dir(options.out_dir);
  write_text_files({{(dir / "serving.json").string(), sim::serving_json(outcome).dump(2) + "\n"},
                    {(dir / "requests.csv").string(), sim::requests_csv(outcome)}});
  if (!options.quiet) {
    fmt::print("{}", escape_for_terminal(sim::serving_text(outcome), /*keep_newlines=*/true));
    fmt::print("simulated in {:.2f} s; wrote {}/serving.json, requests.csv\n",
               outcome.simulate_seconds, escape_for_terminal(dir.string()));
  }
  if (!outcome.rejection.empty()) return kExitPlanInfeasible;
  return outcome.meets_sla() ? kExitOk : kExitPlanInfeasible;
}

}  // namespace

void add_serve_command(CLI::App& app, Action& action) {
  auto options = std::make_shared<ServeOptions>();
  auto* command = app.add_subcommand(
      "serve",
      "Simulate serving traffic on a deployment (continuous batching, optional P/D); "
      "write serving.json, requests.csv");
  command->add_option("serving", options->file, "serving JSON (docs/serving.md)")->required();
  command->add_option("--out", options->out_dir, "output directory")->capture_default_str();
  command->add_flag("-q,--quiet", options->quiet, "print nothing on success");
  command->callback([&action, options] { action = [options] { return serve(*options); }; });
}

}  // namespace moesim::cli
