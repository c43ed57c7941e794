#include "sim/plan/serving_plan.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <mutex>

#include "base/json_fields.hpp"
#include "sim/plan/parallel_for.hpp"
#include "sim/plan/plan.hpp"
#include "sim/plan/plan_lists.hpp"
#include "sim/plan/serving_cross.hpp"
#include "sim/plan/sla_floor.hpp"
#include "sim/serving/traffic_budget.hpp"
#include "sim/spec/limits.hpp"

namespace moesim::sim {
namespace {

using Json = nlohmann::json;

constexpr std::string_view kServingPlanFields[] = {"mode", "pool_shapes", "traffic",
                                                   "sla",  "batching",    "keep"};
constexpr std::string_view kModes[] = {"aggregated", "disaggregated"};
constexpr std::string_view kPoolShapes[] = {"cross", "same"};
constexpr int kSlaRetries = 3;  // instance counts tried above the lower bound before giving up

// One deployment of the grid, parsed once; its step table is shared by its batch limits.
struct Deployment {
  std::optional<ScenarioSpec> scenario;
  std::shared_ptr<StepTimeTable> pricer;
  std::string error;
};

Deployment prepare(const PlanCandidate& candidate) {
  Deployment d;
  try {
    d.scenario = parse_scenario(candidate.scenario.dump(), candidate.label);
    d.pricer = std::make_shared<StepTimeTable>(resolve_inputs(*d.scenario));
  } catch (const ConfigError& error) {  // a placement the candidate's sizes cannot make
    d.error = error.problems().empty() ? error.what() : error.problems().front().message;
    d.scenario.reset();
  }
  return d;
}

// What sizing needs of the traffic: its rate, mean lengths (input, output, cached) and floors.
struct TrafficSummary {
  double rate = 0;
  std::array<double, 3> mean{};
  TrafficFloorInputs floors;
};

// Capacity, the instance counts that keep up at 80% utilisation, and the price those cost: a lower
// bound, since the SLA can only ask for more instances. And the SLA floors of the shape.
void size_outcome(const ServingPlanSpec& s, const PlanCandidate& candidate, const Deployment& d,
                  const TrafficSummary& traffic, ServingPlanOutcome& o, PoolCapacity& capacity) {
  const double rate = traffic.rate;
  const auto& mean = traffic.mean;
  if (!d.scenario) {
    o.verdict = ServingVerdict::Memory;  // sizes that cannot be placed are refused like memory
    o.reason = d.error;
    return;
  }
  BatchingSpec batching = s.batching;
  batching.max_batch_per_rank = o.max_batch_per_rank;
  const PoolCapacity c = pool_capacity(*d.scenario, ServingRole::Aggregated, batching,
                                       s.memory_fraction, mean[0], mean[1], mean[2], *d.pricer);
  capacity = c;
  o.gpus_per_instance = c.gpus_per_instance;
  if (!c.shortfall.empty()) {
    o.verdict = ServingVerdict::Memory;
    o.reason = c.shortfall;
    return;
  }
  const double accepted = d.pricer->accepted_tokens_per_sequence();
  const double step =
      d.pricer->step_seconds({0, 0, c.decode_batch_per_rank, mean[0] + mean[2] / 2});
  o.curve_tokens_per_s_per_user = accepted / step;
  o.curve_tokens_per_s_per_gpu =
      c.decode_batch_per_rank * c.data_parallel_ranks * accepted / step / c.gpus_per_instance;
  if (s.disaggregated) {
    o.prefill_gpus_per_instance = c.gpus_per_instance;
    o.prefill_instances = pool_instances(rate, c.prefill_requests_per_s);
    o.decode_instances = pool_instances(rate, c.decode_requests_per_s);
  } else {
    o.decode_instances = pool_instances(rate, c.requests_per_s);
  }
  o.gpus = (o.prefill_instances + o.decode_instances) * c.gpus_per_instance;
  o.usd_per_hour = o.gpus * candidate.usd_per_gpu_hour;
  o.ttft_floor_s = ttft_floor_s(*d.pricer, c.data_parallel_ranks, s.batching.token_budget_per_rank,
                                traffic.floors);
  o.tpot_floor_s = tpot_floor_s(*d.pricer, traffic.floors);
  if (o.gpus > kMaxGpus) {
    o.verdict = ServingVerdict::Throughput;
    o.reason = fmt::format(
        "throughput: {:.2f} req/s per instance at most; {} req/s needs {} GPUs, "
        "over the {}-GPU limit",
        c.requests_per_s, rate, o.gpus, kMaxGpus);
  }
}

ServingSpec serving_spec_for(const ServingPlanSpec& s, const ServingPlanOutcome& o,
                             const ScenarioSpec& prefill, const ScenarioSpec& decode) {
  ServingSpec spec;
  spec.name = o.label;
  spec.disaggregated = s.disaggregated;
  spec.aggregated = {decode, o.decode_instances};
  spec.prefill = {prefill, o.prefill_instances};
  spec.decode = {decode, o.decode_instances};
  spec.traffic = s.traffic;
  spec.batching = s.batching;
  spec.batching.max_batch_per_rank = o.max_batch_per_rank;
  spec.memory_fraction = s.memory_fraction;
  spec.sla = s.sla;
  return spec;
}

// The largest p90 over its limit, and the sum of them (ServingPlanOutcome::sla_excess, sla_use).
void measure_sla(const SlaSpec& sla, const ServingMetrics& m, ServingPlanOutcome& o) {
  o.sla_excess = o.sla_use = 0;
  const auto term = [&](const std::optional<double>& limit, double value) {
    if (!limit || *limit <= 0) return;
    o.sla_excess = std::max(o.sla_excess, value / *limit);
    o.sla_use += value / *limit;
  };
  term(sla.ttft_p90_s, m.ttft.p90);
  term(sla.tpot_p90_s, m.tpot.p90);
  term(sla.e2e_p90_s, m.e2e.p90);
}

// Options whose floors miss the SLA at any instance count: rejected unsimulated.
void reject_below_floors(const SlaSpec& sla, std::vector<ServingPlanOutcome>& outcomes) {
  for (auto& o : outcomes) {
    if (!o.reason.empty()) continue;
    o.reason = sla_floor_miss(sla, o.ttft_floor_s, o.tpot_floor_s, o.sla_excess);
    if (!o.reason.empty()) o.verdict = ServingVerdict::Sla;
  }
}

// Simulates the traffic at the lower-bound instance counts; on an SLA miss adds instances (the
// pool the missed term points at) up to kSlaRetries times. Returns the work its replays took.
SimulatedWork simulate_outcome(const ServingPlanSpec& s, const PlanSpec& plan,
                               std::vector<Deployment>& deployments,
                               const std::vector<Request>& requests, ServingPlanOutcome& o) {
  const auto d = static_cast<std::size_t>(o.candidate);
  const auto p = o.prefill_candidate >= 0 ? static_cast<std::size_t>(o.prefill_candidate) : d;
  Deployment& decode = deployments[d];
  Deployment& prefill = s.disaggregated ? deployments[p] : decode;
  o.simulated = true;
  SimulatedWork work;
  for (int attempt = 0;; ++attempt) {
    const ServingOutcome run =
        run_serving(serving_spec_for(s, o, *prefill.scenario, *decode.scenario), requests,
                    *prefill.pricer, *decode.pricer);
    work += work_of(run.records);
    o.metrics = run.metrics;
    o.gpus = run.gpus;
    o.usd_per_hour =
        o.decode_instances * o.gpus_per_instance * plan.candidates[d].usd_per_gpu_hour +
        (s.disaggregated ? o.prefill_instances * o.prefill_gpus_per_instance *
                               plan.candidates[p].usd_per_gpu_hour
                         : 0.0);
    if (run.meets_sla()) {
      o.verdict = ServingVerdict::Feasible;
      measure_sla(s.sla, run.metrics, o);
      o.reason.clear();
      return work;
    }
    o.verdict = ServingVerdict::Sla;
    measure_sla(s.sla, run.metrics, o);
    // Requests that never fit an instance: no SLA a planner relaxes brings this one nearer.
    if (run.never_fit > 0) o.sla_excess = std::numeric_limits<double>::infinity();
    o.reason = fmt::format("SLA: {} at {} instances", fmt::join(run.sla_failures, ", "),
                           s.disaggregated
                               ? fmt::format("{}P + {}D", o.prefill_instances, o.decode_instances)
                               : std::to_string(o.decode_instances));
    if (run.never_fit > 0 || attempt == kSlaRetries) return work;
    const auto grow = [](int n) { return std::max(n + 1, static_cast<int>(std::ceil(n * 1.25))); };
    const bool ttft = run.metrics.ttft.p90 > s.sla.ttft_p90_s.value_or(1e300);
    if (s.disaggregated && ttft) o.prefill_instances = grow(o.prefill_instances);
    if (!s.disaggregated || !ttft || run.sla_failures.size() > 1)
      o.decode_instances = grow(o.decode_instances);
  }
}

// By price; at equal price the one farthest inside its SLA (the sum of its p90s over their limits)
// first, then the grid's order (shape, then batch limit as a number).
bool cheaper(const ServingPlanOutcome& a, const ServingPlanOutcome& b) {
  if (a.usd_per_hour != b.usd_per_hour) return a.usd_per_hour < b.usd_per_hour;
  if (a.sla_use != b.sla_use) return a.sla_use < b.sla_use;
  return std::tie(a.candidate, a.prefill_candidate, a.max_batch_per_rank) <
         std::tie(b.candidate, b.prefill_candidate, b.max_batch_per_rank);
}

// A deployment's own curve: a pair whose prefill pool takes another shape repeats its decode
// shape's points.
bool own_curve(const ServingPlanOutcome& o) {
  return o.prefill_candidate < 0 || o.prefill_candidate == o.candidate;
}

void mark_pareto(std::vector<ServingPlanOutcome>& outcomes) {
  for (auto& a : outcomes) {
    if (a.curve_tokens_per_s_per_gpu <= 0 || !own_curve(a)) continue;
    a.pareto = std::none_of(outcomes.begin(), outcomes.end(), [&](const ServingPlanOutcome& b) {
      return own_curve(b) && b.curve_tokens_per_s_per_gpu >= a.curve_tokens_per_s_per_gpu &&
             b.curve_tokens_per_s_per_user >= a.curve_tokens_per_s_per_user &&
             (b.curve_tokens_per_s_per_gpu > a.curve_tokens_per_s_per_gpu ||
              b.curve_tokens_per_s_per_user > a.curve_tokens_per_s_per_user);
    });
  }
}

// Progress of the simulation phase: options simulated or passed over, of those it may simulate.
using Tick = std::function<void(std::size_t done, std::size_t of)>;

// One outcome per candidate and batch limit, in that order (candidate-major).
std::vector<ServingPlanOutcome> grid_outcomes(const PlanSpec& plan) {
  std::vector<ServingPlanOutcome> outcomes;
  for (std::size_t c = 0; c < plan.candidates.size(); ++c)
    for (int batch : plan.serving->max_batch_per_rank) {
      ServingPlanOutcome o;
      o.candidate = static_cast<int>(c);
      o.max_batch_per_rank = batch;
      o.label = fmt::format("{}, batch {}", plan.candidates[c].label, batch);
      outcomes.push_back(std::move(o));
    }
  return outcomes;
}

// Phase 2: the sized options by their lower-bound price, a wave of `threads` at a time, until the
// next lower bound is above the cheapest feasible price (nothing left can be cheaper) and either
// `keep` are feasible or that bound is 1.5x the cheapest, or the sweep's budget is spent
// (sweep_budget.hpp). The rest are marked for price or budget.
void simulate_cheapest_first(const PlanSpec& plan, std::vector<Deployment>& deployments,
                             const std::vector<Request>& requests, int threads, const Tick& tick,
                             const SimulatedWork& budget, ServingPlanResult& result) {
  const ServingPlanSpec& s = *plan.serving;
  auto& outcomes = result.outcomes;
  std::vector<std::size_t> order;
  for (std::size_t i = 0; i < outcomes.size(); ++i)
    if (outcomes[i].reason.empty()) order.push_back(i);
  std::stable_sort(order.begin(), order.end(),
                   [&](auto a, auto b) { return cheaper(outcomes[a], outcomes[b]); });
  const SimulatedWork each = expected_replay(requests);
  SimulatedWork spent;
  std::size_t next = 0;
  double best = 0;
  int feasible = 0;
  bool out_of_budget = false;
  while (next < order.size()) {
    const double bound = outcomes[order[next]].usd_per_hour;
    if (feasible > 0 && bound > best && (feasible >= s.keep || bound > 1.5 * best)) break;
    // Every option of a wave may replay 1 + kSlaRetries times: the wave fits at that.
    const std::size_t wave =
        std::min({order.size() - next, static_cast<std::size_t>(std::max(1, threads)),
                  replays_left(spent, each, budget) / (1 + kSlaRetries)});
    if ((out_of_budget = wave == 0)) break;
    std::vector<SimulatedWork> work(wave);
    parallel_for(wave, threads, [&](std::size_t k) {
      work[k] = simulate_outcome(s, plan, deployments, requests, outcomes[order[next + k]]);
    });
    for (std::size_t k = 0; k < wave; ++k) {
      spent += work[k];
      const auto& o = outcomes[order[next + k]];
      ++result.simulated;
      if (o.verdict != ServingVerdict::Feasible) continue;
      best = feasible == 0 ? o.usd_per_hour : std::min(best, o.usd_per_hour);
      ++feasible;
    }
    next += wave;
    tick(next, order.size());
  }
  for (; next < order.size(); ++next) {
    auto& o = outcomes[order[next]];
    o.verdict = out_of_budget ? ServingVerdict::Budget : ServingVerdict::Price;
    o.reason =
        out_of_budget
            ? fmt::format(
                  "budget: not simulated; the {} options simulated decoded {:.3g} "
                  "tokens, and one more could pass what a plan may simulate "
                  "({:.2g} requests, {:.2g} decoded and {:.2g} prompt tokens; "
                  "docs/limits.md)",
                  result.simulated, spent.decoded, budget.requests, budget.decoded, budget.prompt)
            : fmt::format(
                  "price: not simulated; at least ${:.2f}/hour, above the cheapest "
                  "feasible ${:.2f}/hour",
                  o.usd_per_hour, best);
  }
}

}  // namespace

std::optional<ServingPlanSpec> read_serving_plan(const Json* object, const std::string& base_dir,
                                                 ProblemList& problems) {
  if (object == nullptr) return std::nullopt;
  ServingPlanSpec s;
  FieldReader r(*object, "/serving", problems, kServingPlanFields);
  s.disaggregated = r.choice("mode", kModes, "aggregated") == "disaggregated";
  s.cross_shapes = r.choice("pool_shapes", kPoolShapes, "cross") == "cross";
  if (const Json* traffic = r.child("traffic", true)) {
    s.traffic = read_traffic(*traffic, "/serving/traffic", base_dir, problems, kPlanTrafficShare);
    if (s.traffic.arrival == ArrivalKind::Concurrency)
      problems.add("/serving/traffic/arrival",
                   "expected poisson or log: a plan sizes pools for a request rate");
  }
  s.sla = read_sla(r.child("sla", true), "/serving/sla", problems);
  if (const Json* batching = r.child("batching")) {
    Json copy = *batching;
    if (copy.is_object() && copy.contains("max_batch_per_rank") &&
        copy["max_batch_per_rank"].is_array()) {
      s.max_batch_per_rank =
          int_list(&copy["max_batch_per_rank"], "/serving/batching/max_batch_per_rank", {}, 1,
                   65'536, problems);
      copy.erase("max_batch_per_rank");
    }
    s.batching = read_batching(&copy, "/serving/batching", s.memory_fraction, problems);
    if (!batching->is_array() && batching->contains("max_batch_per_rank") &&
        !(*batching)["max_batch_per_rank"].is_array())
      s.max_batch_per_rank = {s.batching.max_batch_per_rank};
  }
  s.keep = static_cast<int>(r.integer("keep", 1, 1000, 10));
  r.finish();
  return s;
}

ServingPlanResult run_serving_plan(const PlanSpec& plan, int threads, const SweepProgress& progress,
                                   const SimulatedWork& sweep_budget) {
  const ServingPlanSpec& s = *plan.serving;
  ServingPlanResult result;
  const auto requests = generate_requests(s.traffic);
  refuse_no_requests(s.traffic, requests);
  result.offered_requests_per_s = offered_requests_per_s(s.traffic, requests);
  const TrafficSummary traffic{result.offered_requests_per_s,
                               mean_request_lengths(s.traffic, requests),
                               traffic_floor_inputs(requests)};
  result.outcomes = grid_outcomes(plan);
  auto& outcomes = result.outcomes;
  std::mutex progress_mutex;
  // Sizing is the first half of the bar, simulating the second: a phase's share done and its note.
  const auto report = [&](int phase, std::size_t done, std::size_t of, const std::string& note) {
    if (!progress) return;
    std::lock_guard lock(progress_mutex);
    progress(static_cast<int>(50 * phase + 50 * done / std::max<std::size_t>(of, 1)), note);
  };
  // Phase 1: every deployment sized from its capacity (a few steps each), in parallel.
  std::vector<Deployment> deployments(plan.candidates.size());
  std::vector<PoolCapacity> capacities(outcomes.size());
  const std::size_t per = s.max_batch_per_rank.size();
  std::size_t sized = 0;  // under progress_mutex, so the bar never steps back
  parallel_for(plan.candidates.size(), threads, [&](std::size_t c) {
    deployments[c] = prepare(plan.candidates[c]);
    for (std::size_t b = 0; b < per; ++b)
      size_outcome(s, plan.candidates[c], deployments[c], traffic, outcomes[c * per + b],
                   capacities[c * per + b]);
    std::lock_guard lock(progress_mutex);
    ++sized;
    if (progress)
      progress(static_cast<int>(50 * sized / plan.candidates.size()),
               fmt::format("sized {} of {} deployments", sized, plan.candidates.size()));
  });
  if (s.disaggregated && s.cross_shapes)
    outcomes = cross_pool_shapes(plan, outcomes, capacities, traffic.rate);
  reject_below_floors(s.sla, outcomes);
  const Tick tick = [&](std::size_t done, std::size_t of) {
    report(1, done, of,
           fmt::format("{} simulated, cheapest first; {} options to rank", done, outcomes.size()));
  };
  simulate_cheapest_first(plan, deployments, requests, threads, tick, sweep_budget, result);
  report(2, 0, 1, fmt::format("{} options ranked", outcomes.size()));
  mark_pareto(outcomes);
  std::stable_sort(outcomes.begin(), outcomes.end(), [](const auto& a, const auto& b) {
    if (a.verdict != b.verdict) return static_cast<int>(a.verdict) < static_cast<int>(b.verdict);
    if (a.verdict == ServingVerdict::Feasible) return cheaper(a, b);
    // SLA misses nearest first: the one a planner would relax the SLA for.
    return a.verdict == ServingVerdict::Sla && a.sla_excess < b.sla_excess;
  });
  return result;
}

}  // namespace moesim::sim
