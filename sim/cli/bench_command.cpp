// `moesim bench`: how long the simulator takes on scenarios, for users sizing sweeps and for us
// tracking speed (tests/bench holds the Google Benchmark twins). Wall time per run, median of N
// after one warm-up run, and the process's peak resident memory.
#include <fmt/core.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>
#include <vector>

#include "base/progress_bar.hpp"
#include "base/terminal_text.hpp"
#include "sim/cli/commands.hpp"
#include "sim/run/simulate.hpp"
#include "sim/spec/builtin_scenarios.hpp"

namespace moesim::cli {
namespace {

struct BenchOptions {
  std::vector<std::string> scenarios;  // empty: every built-in
  int repetitions = 5;
  bool json = false;
};

struct BenchRow {
  std::string scenario;
  int gpus = 0;
  std::string network;
  double median_s = 0;
  double min_s = 0;
};

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const std::size_t middle = values.size() / 2;
  return values.size() % 2 == 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2;
}

double peak_rss_mib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // Linux reports KiB
}

int bench(const BenchOptions& options) {
  std::vector<std::string> names = options.scenarios;
  if (names.empty())
    for (const auto& builtin : sim::builtin_scenarios()) names.emplace_back(builtin.name);
  std::vector<BenchRow> rows;
  for (const auto& name : names) {
    const auto scenario = sim::load_scenario(name);
    fmt::print(stderr, "bench     {} ({} runs + 1 warm-up)\n", escape_for_terminal(name),
               options.repetitions);
    const auto warm = sim::simulate(scenario);
    std::vector<double> seconds;
    // Many repetitions of a slow scenario take minutes: a bar on a terminal, a line every 10 s in
    // logs.
    ProgressBar bar(fmt::format("timing {}", escape_for_terminal(name)),
                    ProgressBar::Lines::InLogsEvery10s);
    for (int run = 0; run < options.repetitions; ++run) {
      const auto start = std::chrono::steady_clock::now();
      const auto report = sim::simulate(scenario);
      seconds.push_back(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
      bar.update(run + 1, options.repetitions);
    }
    rows.push_back({scenario.name, warm.gpus, warm.network_model, median(seconds),
                    *std::min_element(seconds.begin(), seconds.end())});
  }
  const double peak = peak_rss_mib();
  if (options.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& row : rows)
      out.push_back({{"scenario", row.scenario},
                     {"gpus", row.gpus},
                     {"network_model", row.network},
                     {"median_s", row.median_s},
                     {"min_s", row.min_s},
                     {"repetitions", options.repetitions}});
    fmt::print("{}\n", nlohmann::json{{"runs", out}, {"peak_rss_mib", peak}}.dump(2));
    return kExitOk;
  }
  fmt::print("{:<34} {:>6} {:>9} {:>12} {:>12}\n", "scenario", "GPUs", "network", "median", "min");
  for (const auto& row : rows)
    fmt::print("{:<34} {:>6} {:>9} {:>10.2f}ms {:>10.2f}ms\n", escape_for_terminal(row.scenario),
               row.gpus, row.network, row.median_s * 1e3, row.min_s * 1e3);
  fmt::print(
      "peak resident memory {:.1f} MiB (this process); wall times on this machine, medians of {}\n",
      peak, options.repetitions);
  return kExitOk;
}

}  // namespace

void add_bench_command(CLI::App& app, Action& action) {
  auto options = std::make_shared<BenchOptions>();
  auto* command = app.add_subcommand(
      "bench", "Time the simulator on scenarios (median wall time, peak memory)");
  command->add_option("scenarios", options->scenarios,
                      "built-in names or scenario files (default: every built-in)");
  command
      ->add_option("--repetitions", options->repetitions,
                   "timed runs per scenario, after one warm-up")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  command->add_flag("--json", options->json, "print JSON instead of a table");
  command->callback([&action, options] { action = [options] { return bench(*options); }; });
}

}  // namespace moesim::cli
