#include "sim/plan/plan.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <mutex>

#include "base/config_error.hpp"
#include "sim/cost/memory_model.hpp"
#include "sim/plan/parallel_for.hpp"
#include "sim/plan/plan_ranks.hpp"
#include "sim/spec/network_work.hpp"
#include "sim/spec/scenario.hpp"

namespace moesim::sim {

double PlanOutcome::usd_per_hour() const { return candidate.usd_per_gpu_hour * report.gpus; }

std::optional<double> PlanOutcome::usd_per_million_tokens() const {
  if (!fits || report.tokens_per_s() <= 0) return std::nullopt;
  return usd_per_hour() / 3600.0 / report.tokens_per_s() * 1e6;
}

namespace {

// One candidate: rejected (with the reason) when it does not fit or cannot be placed, else
// simulated and held against the plan's latency and throughput targets.
PlanOutcome evaluate_candidate(const PlanSpec& plan, const PlanCandidate& candidate) {
  PlanOutcome outcome;
  outcome.candidate = candidate;
  if (!candidate.rejection.empty()) {
    outcome.rejection = candidate.rejection;
    return outcome;
  }
  try {
    const auto scenario = parse_scenario(candidate.scenario.dump(), candidate.label);
    if (auto fit = check_memory_fit(scenario); !fit.fits()) {
      outcome.rejection = std::move(fit.shortfall);
      outcome.memory_needed_bytes = fit.memory.total();
      outcome.memory_capacity_bytes = scenario.cluster.device.hbm_bytes;
      return outcome;
    }
    outcome.report = simulate(scenario);
    outcome.fits = true;
    const bool decode = scenario.workload.kind == WorkloadKind::Decode;
    const double step = outcome.report.step_time_s;
    // Decode emits one token per sequence per step; a prefill serves its sequence in one step.
    outcome.tokens_per_s_per_user =
        decode ? 1.0 / step : static_cast<double>(scenario.workload.context_tokens) / step;
    outcome.meets_latency = !plan.max_latency_ms || step * 1e3 <= *plan.max_latency_ms;
    if (plan.target_tokens_per_s)
      outcome.replicas_needed =
          static_cast<int>(std::ceil(*plan.target_tokens_per_s / outcome.report.tokens_per_s()));
  } catch (const ConfigError& error) {  // a placement the candidate's sizes cannot make
    outcome.rejection = error.problems().empty() ? error.what() : error.problems().front().message;
  }
  return outcome;
}

// Runs `evaluate(i)` for every index in `indices` on `threads` threads (parallel_for.hpp: the
// first exception a call throws comes back here).
template <class Evaluate>
void for_each_parallel(const std::vector<std::size_t>& indices, int threads,
                       const Evaluate& evaluate) {
  parallel_for(indices.size(), threads, [&](std::size_t i) { evaluate(indices[i]); });
}

// Evaluates `indices` (each rank its share of them, threads inside), then, across ranks, gives
// every rank every outcome from the figures the others sent (plan_ranks.hpp).
template <class Evaluate>
void evaluate_spread(const std::vector<std::size_t>& indices, int threads, const PlanRanks& ranks,
                     const PlanSpec& plan, std::vector<PlanOutcome>& outcomes,
                     const Evaluate& evaluate) {
  std::vector<std::size_t> mine;
  for (std::size_t i : indices)
    if (ranks.owns(i)) mine.push_back(i);
  for_each_parallel(mine, threads, evaluate);
  if (!ranks.distributed()) return;
  nlohmann::json sent = nlohmann::json::array();
  for (std::size_t i : mine) sent.push_back({i, outcome_figures(outcomes[i])});
  for (const std::string& text : ranks.all_gather(sent.dump()))
    for (const auto& entry : nlohmann::json::parse(text)) {
      const auto i = entry.at(0).get<std::size_t>();
      outcomes.at(i) = outcome_from_figures(plan.candidates.at(i), entry.at(1));
    }
}

// Pareto front over feasible candidates: no other is better on both axes.
void mark_front(std::vector<PlanOutcome>& outcomes) {
  for (auto& a : outcomes) {
    if (!a.fits) continue;
    const double a_gpu = a.report.tokens_per_s() / a.report.gpus;
    a.pareto = std::none_of(outcomes.begin(), outcomes.end(), [&](const PlanOutcome& b) {
      if (!b.fits) return false;
      const double b_gpu = b.report.tokens_per_s() / b.report.gpus;
      return b_gpu >= a_gpu && b.tokens_per_s_per_user >= a.tokens_per_s_per_user &&
             (b_gpu > a_gpu || b.tokens_per_s_per_user > a.tokens_per_s_per_user);
    });
  }
}

// What the flow replay priced a front member with.
std::string replayed_model(const PlanOutcome& o) {
  if (!o.fits || o.report.network_model == "flow") return "flow";
  const auto& notes = o.report.pricing_notes;
  const bool past = std::find(notes.begin(), notes.end(), kPastFlowBoundsNote) != notes.end();
  return past ? kPastFlowBounds : kAnalyticKernels;
}

// The sweep prices all-to-alls analytically; the front is then played again under the flow
// network, which sees contention the analytic model cannot, until every candidate on the front
// has flow figures (a front member that flow finds slower can let another onto the front).
void rank_front_by_flow(const PlanSpec& plan, std::vector<PlanOutcome>& outcomes, int threads,
                        const PlanRanks& ranks) {
  for (;;) {
    mark_front(outcomes);
    std::vector<std::size_t> replay;
    for (std::size_t i = 0; i < outcomes.size(); ++i)
      if (outcomes[i].pareto && outcomes[i].network_model == "analytic") replay.push_back(i);
    if (replay.empty()) return;
    evaluate_spread(replay, threads, ranks, plan, outcomes, [&](std::size_t i) {
      outcomes[i] = evaluate_candidate(plan, flow_candidate(outcomes[i].candidate));
      // Past the flow model's work bounds "auto" prices analytically again (docs/limits.md), as
      // it does DeepEP's kernels.
      outcomes[i].network_model = replayed_model(outcomes[i]);
    });
  }
}

}  // namespace

std::vector<PlanOutcome> run_plan(const PlanSpec& plan, int threads,
                                  const ProgressCallback& progress, const PlanRanks& ranks) {
  std::vector<PlanOutcome> outcomes(plan.candidates.size());
  std::atomic<int> done{0};
  std::mutex progress_mutex;
  std::vector<std::size_t> all(outcomes.size());
  int mine = 0;  // candidates this rank simulates, for the progress count
  for (std::size_t i = 0; i < all.size(); ++i) {
    all[i] = i;
    mine += ranks.owns(i) ? 1 : 0;
  }
  evaluate_spread(all, threads, ranks, plan, outcomes, [&](std::size_t i) {
    outcomes[i] = evaluate_candidate(plan, plan.candidates[i]);
    const int finished = ++done;
    if (progress) {
      std::lock_guard lock(progress_mutex);
      progress(finished, mine);
    }
  });
  rank_front_by_flow(plan, outcomes, threads, ranks);
  // With a throughput target the question is what the whole service costs: copies x price.
  const bool at_target = plan.target_tokens_per_s.has_value();
  std::stable_sort(
      outcomes.begin(), outcomes.end(), [at_target](const PlanOutcome& a, const PlanOutcome& b) {
        auto rank = [](const PlanOutcome& o) { return !o.fits ? 2 : (o.meets_latency ? 0 : 1); };
        if (rank(a) != rank(b)) return rank(a) < rank(b);
        if (!a.fits) return false;
        if (at_target && a.usd_per_hour_at_target() != b.usd_per_hour_at_target())
          return a.usd_per_hour_at_target() < b.usd_per_hour_at_target();
        return a.usd_per_million_tokens().value_or(0) < b.usd_per_million_tokens().value_or(0);
      });
  return outcomes;
}

std::vector<PlanOutcome> run_plan(const PlanSpec& plan, int threads,
                                  const ProgressCallback& progress) {
  return run_plan(plan, threads, progress, PlanRanks{});
}

bool plan_is_prefill(const PlanSpec& plan) {
  if (plan.candidates.empty()) return false;
  const auto& scenario = plan.candidates.front().scenario;
  const auto kind = nlohmann::json::json_pointer("/workload/kind");
  return !scenario.contains(kind) || scenario.at(kind) == "prefill";
}

bool plan_feasible(const PlanOutcome& outcome) { return outcome.fits && outcome.meets_latency; }

std::optional<std::string> plan_nearest_miss(const PlanSpec& plan,
                                             const std::vector<PlanOutcome>& outcomes) {
  if (outcomes.empty() || std::any_of(outcomes.begin(), outcomes.end(), plan_feasible))
    return std::nullopt;
  // Overshoot as a ratio to the target: 1.25 = 25 % over. Too slow beats does-not-fit: it runs.
  const PlanOutcome* slow = nullptr;
  const PlanOutcome* big = nullptr;
  for (const auto& o : outcomes) {
    if (o.fits && (!slow || o.report.step_time_s < slow->report.step_time_s)) slow = &o;
    if (o.memory_capacity_bytes > 0 &&
        (!big || o.memory_needed_bytes / o.memory_capacity_bytes <
                     big->memory_needed_bytes / big->memory_capacity_bytes))
      big = &o;
  }
  if (slow != nullptr) {
    const double step_ms = slow->report.step_time_s * 1e3;
    return fmt::format("{}: {:.2f} ms per step against max_latency_ms {} ({:.1f}% over)",
                       slow->candidate.label, step_ms, *plan.max_latency_ms,
                       100 * (step_ms / *plan.max_latency_ms - 1));
  }
  if (big != nullptr) {
    constexpr double kGiBytes = 1024.0 * 1024.0 * 1024.0;
    return fmt::format("{}: needs {:.1f} GiB per GPU of the {:.1f} GiB it has ({:.1f}% over)",
                       big->candidate.label, big->memory_needed_bytes / kGiBytes,
                       big->memory_capacity_bytes / kGiBytes,
                       100 * (big->memory_needed_bytes / big->memory_capacity_bytes - 1));
  }
  return fmt::format("{}: {}", outcomes.front().candidate.label, outcomes.front().rejection);
}

}  // namespace moesim::sim
