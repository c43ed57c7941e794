#include <fmt/core.h>

#include <filesystem>
#include <fstream>

#include "base/config_error.hpp"
#include "base/progress_bar.hpp"
#include "base/terminal_text.hpp"
#include "base/text_file.hpp"
#include "sim/cli/commands.hpp"
#include "sim/report/provenance.hpp"
#include "sim/report/report.hpp"
#include "sim/report/timeline_text.hpp"
#include "sim/run/simulate.hpp"

namespace moesim::cli {
namespace {

struct RunOptions {
  std::string scenario;
  std::string trace;
  std::string profile;
  bool repeat_layers = false;
  std::string out_dir = "moesim-out";
  bool quiet = false;
  int timeline_gpus = sim::kTimelineGpuLimit;
};

int run(const RunOptions& options) {
  // It tiles the layers of --trace only: without one it would change nothing.
  if (options.repeat_layers && options.trace.empty())
    throw ConfigError("--repeat-layers",
                      {{"",
                        "tiles the layers of the trace --trace replays; expected --trace FILE "
                        "with it"}});
  auto scenario = sim::load_scenario(options.scenario);
  if (!options.profile.empty()) {
    scenario.profile.source = options.profile;
    scenario.profile.field.clear();  // named on the command line, not in the scenario
  }
  sim::SimulationOverrides overrides;
  // A per-token trace has its drops counted token by token (sim/routing/trace_policy.hpp).
  if (!options.trace.empty())
    overrides =
        sim::trace_overrides(options.trace, scenario, {.repeat_layers = options.repeat_layers});
  // Every input is read here, once; the simulation itself does no I/O.
  const auto inputs = sim::resolve_inputs(std::move(scenario), std::move(overrides));
  ProgressBar bar("simulating", ProgressBar::Lines::InLogsEvery10s);
  auto report = sim::simulate(inputs, [&](int done, int total) { bar.update(done, total); });
  report.provenance = sim::describe_inputs(inputs, options.scenario, options.trace);
  std::filesystem::create_directories(options.out_dir);
  const std::filesystem::path dir(options.out_dir);
  write_text_files({{(dir / "report.json").string(), sim::report_to_json(report).dump(2) + "\n"},
                    {(dir / "report.csv").string(), sim::report_to_csv(report)},
                    {(dir / "timeline.json").string(),
                     sim::report_timeline_text(report, options.timeline_gpus) + "\n"}});
  if (!options.quiet) {
    // names from the inputs are escaped whole (a newline too) before the summary lays out its lines
    sim::Report shown = report;
    for (auto* name : {&shown.scenario, &shown.model, &shown.cluster, &shown.workload,
                       &shown.profile_name, &shown.calibration_stack})
      *name = escape_for_terminal(*name);
    fmt::print("{}", escape_for_terminal(sim::report_summary_text(shown), /*keep_newlines=*/true));
    fmt::print("timeline  {}\n", sim::select_timeline_gpus(report, options.timeline_gpus).note);
    fmt::print("wrote     {}/report.json, report.csv, timeline.json (open in ui.perfetto.dev)\n",
               escape_for_terminal(dir.string()));
  }
  return kExitOk;
}

}  // namespace

void add_run_command(CLI::App& app, Action& action) {
  auto options = std::make_shared<RunOptions>();
  auto* command = app.add_subcommand(
      "run", "Simulate a scenario; write report.json, report.csv, timeline.json");
  command->add_option("scenario", options->scenario, "built-in scenario name or scenario JSON file")
      ->required();
  command->add_option("--trace", options->trace,
                      "replay this routing trace (any format moesim trace reads)");
  command->add_option(
      "--profile", options->profile,
      "price from this profile instead of the scenario's: a moesim-profile or moesim calibrate "
      "JSON, h100, h200, h200-torch, h200-torch-loop, roofline or auto");
  command->add_flag("--repeat-layers", options->repeat_layers,
                    "tile a trace with fewer layers over the model's");
  command->add_option("--out", options->out_dir, "output directory")->capture_default_str();
  command
      ->add_option("--timeline-gpus", options->timeline_gpus,
                   "draw every GPU up to this many in timeline.json; beyond it the hottest half "
                   "of them and an even sample of the rest")
      ->check(CLI::Range(1, 8192))  // 16,384 GPUs drew for 12 s; 65,536 took 2.9 GB
      ->capture_default_str();
  command->add_flag("-q,--quiet", options->quiet, "do not print the summary");
  command->callback([&action, options] { action = [options] { return run(*options); }; });
}

}  // namespace moesim::cli
