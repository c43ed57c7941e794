#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "base/progress_bar.hpp"
#include "base/terminal_text.hpp"
#include "base/text_file.hpp"
#include "sim/cli/commands.hpp"
#include "sim/cli/plan_processes.hpp"
#include "sim/draw/plan_charts.hpp"
#include "sim/plan/plan.hpp"
#include "sim/serving/traffic_budget.hpp"

namespace moesim::cli {
namespace {

inline constexpr int kMaxPlanThreads = 1024;  // docs/limits.md
inline constexpr int kMaxPlanRows = 1 << 20;  // far past any grid's options

struct PlanOptions {
  std::string plan;
  std::string out_dir = "moesim-plan";
  int threads = 0;
  int rows = 20;
  bool progress = false;  // a progress line per update, even off a terminal
};

// A plan with /serving: candidates sized and simulated against the traffic and SLA.
int serving_plan(const sim::PlanSpec& spec, const PlanOptions& o, int threads) {
  const auto start = std::chrono::steady_clock::now();
  ProgressBar bar(fmt::format("planning {} deployments x {} batch limits", spec.candidates.size(),
                              spec.serving->max_batch_per_rank.size()),
                  o.progress ? ProgressBar::Lines::InLogs : ProgressBar::Lines::InLogsEvery10s);
  const auto result = [&] {
    try {
      return sim::run_serving_plan(spec, threads, [&](int percent, const std::string& note) {
        bar.update(percent, 100, note);
      });
    } catch (const sim::ServingBudgetError& error) {  // bad input: the traffic asks too much
      throw ConfigError(o.plan, {{"/serving/traffic", error.what()}});
    }
  }();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  fmt::print("{}", escape_for_terminal(sim::serving_plan_table_text(spec, result, o.rows),
                                       /*keep_newlines=*/true));
  std::filesystem::create_directories(o.out_dir);
  const std::filesystem::path dir(o.out_dir);
  write_text_files(
      {{(dir / "plan.csv").string(), sim::serving_plan_csv(result)},
       {(dir / "plan.json").string(), sim::serving_plan_json(spec, result).dump(2) + "\n"}});
  sim::write_scatter_chart(sim::serving_plan_chart(spec, result), (dir / "plan.svg").string());
  fmt::print(
      "{} options ({} simulated) in {:.1f} s on {} threads; wrote {}/plan.csv, plan.json, "
      "plan.svg\n",
      result.outcomes.size(), result.simulated, seconds, threads, dir.string());
  if (const std::string caveat = sim::budget_caveat(result); !caveat.empty())
    throw ConfigError(o.plan, {{"/serving/traffic", caveat}});
  if (result.outcomes.front().verdict != sim::ServingVerdict::Feasible) {
    // The nearest SLA miss (misses are ranked nearest first), else the first rejection.
    const auto sla_miss = std::find_if(
        result.outcomes.begin(), result.outcomes.end(),
        [](const auto& outcome) { return outcome.verdict == sim::ServingVerdict::Sla; });
    const auto& nearest = sla_miss != result.outcomes.end() ? *sla_miss : result.outcomes.front();
    fmt::print(stderr, "error: no option meets the SLA at the traffic's load; nearest: {}: {}\n",
               escape_for_terminal(nearest.label), escape_for_terminal(nearest.reason));
    return kExitPlanInfeasible;
  }
  return kExitOk;
}

int plan(const PlanOptions& o) {
  const PlanProcesses processes;  // several under mpirun
  if (!processes.error().empty()) {
    fmt::print(stderr, "error: {}\n", processes.error());
    return kExitInvalidInput;
  }
  const sim::PlanRanks& ranks = processes.ranks();
  const auto spec = sim::load_plan(o.plan);
  const int threads = o.threads > 0
                          ? o.threads
                          : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  // A serving plan's sweep is not spread over ranks: rank 0 runs it whole.
  if (spec.serving) return ranks.rank == 0 ? serving_plan(spec, o, threads) : kExitOk;
  const auto start = std::chrono::steady_clock::now();
  ProgressBar bar(
      fmt::format(
          "planning {} candidates{}", spec.candidates.size(),
          ranks.distributed() ? fmt::format(" (rank {} of {})", ranks.rank, ranks.size) : ""),
      o.progress ? ProgressBar::Lines::InLogs : ProgressBar::Lines::InLogsEvery10s);
  const auto outcomes = sim::run_plan(
      spec, threads, [&](int done, int total) { bar.update(done, total); }, ranks);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  // Every rank holds the same outcomes; rank 0 alone prints and writes them.
  const bool infeasible = sim::plan_nearest_miss(spec, outcomes).has_value();
  if (ranks.rank != 0) return infeasible ? kExitPlanInfeasible : kExitOk;
  fmt::print("{}", sim::plan_table_text(spec, outcomes, o.rows));
  std::filesystem::create_directories(o.out_dir);
  const std::filesystem::path dir(o.out_dir);
  write_text_files({{(dir / "plan.csv").string(), sim::plan_csv(spec, outcomes)},
                    {(dir / "plan.json").string(), sim::plan_json(spec, outcomes).dump(2) + "\n"}});
  sim::write_scatter_chart(sim::plan_chart(spec, outcomes), (dir / "plan.svg").string());
  fmt::print("{} candidates in {:.1f} s on {} threads{}; wrote {}/plan.csv, plan.json, plan.svg\n",
             outcomes.size(), seconds, threads,
             ranks.distributed() ? fmt::format(" x {} ranks", ranks.size) : "", dir.string());
  if (const auto miss = sim::plan_nearest_miss(spec, outcomes)) {
    fmt::print(stderr, "error: no candidate fits and meets the target; nearest miss: {}\n",
               escape_for_terminal(*miss));
    return kExitPlanInfeasible;
  }
  return kExitOk;
}

}  // namespace

void add_plan_command(CLI::App& app, Action& action) {
  auto o = std::make_shared<PlanOptions>();
  auto* command = app.add_subcommand(
      "plan", "Search cluster options against a throughput/latency target and price");
  command->add_option("plan", o->plan, "plan JSON (e.g. scenarios/plans/dsv3-serving.json)")
      ->required();
  command->add_option("--out", o->out_dir, "output directory")->capture_default_str();
  // Bounded: each thread is a worker started at once, and a table of no rows hides a feasible plan.
  command->add_option("-j,--threads", o->threads, "worker threads (default: every core)")
      ->check(CLI::Range(1, kMaxPlanThreads));
  command->add_option("--rows", o->rows, "rows of the ranked table to print")
      ->capture_default_str()
      ->check(CLI::Range(1, kMaxPlanRows));
  command->add_flag("--progress", o->progress,
                    "print a progress line at every update on stderr (default: a bar on a "
                    "terminal, a line every 10 s in logs)");
  command->callback([&action, o] { action = [o] { return plan(*o); }; });
}

}  // namespace moesim::cli
