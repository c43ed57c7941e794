#include "sim/plan/plan.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <mutex>
#include <numeric>
#include <thread>

#include "base/config_error.hpp"
#include "base/json_fields.hpp"
#include "base/strict_json.hpp"
#include "sim/cost/memory_model.hpp"
#include "sim/spec/scenario.hpp"
#include "topology/node_system.hpp"

namespace moesim::sim {
namespace {

using Json = nlohmann::json;

constexpr std::string_view kPlanFields[] = {"schema_version", "name",   "description",
                                            "base",           "target", "search"};
constexpr std::string_view kTargetFields[] = {"tokens_per_s", "max_latency_ms"};
constexpr std::string_view kSearchFields[] = {"clusters",
                                              "expert_parallel",
                                              "attention_tensor_parallel",
                                              "placement_strategies",
                                              "redundant_experts",
                                              "overlaps",
                                              "dispatch"};
constexpr std::string_view kClusterFields[] = {
    "system",           "nodes",     "device", "nic", "fabric", "oversubscription",
    "usd_per_gpu_hour", "price_date"};
constexpr std::string_view kBaseSections[] = {"model", "policy", "workload", "profile", "network"};

// An array of positive integers at `path`, or `fallback` when absent.
std::vector<int> int_list(const Json* value, const std::string& path, std::vector<int> fallback,
                          ProblemList& problems) {
  if (value == nullptr) return fallback;
  std::vector<int> numbers;
  if (!value->is_array() || value->empty()) {
    problems.add(path,
                 "expected a non-empty array of integers, got " + describe_json_value(*value));
    return fallback;
  }
  for (std::size_t i = 0; i < value->size(); ++i) {
    const Json& item = (*value)[i];
    if (!item.is_number_integer() || item.get<std::int64_t>() < 0 ||
        item.get<std::int64_t>() > 1'000'000)
      problems.add(path + "/" + std::to_string(i),
                   "expected an integer in [0, 1000000], got " + describe_json_value(item));
    else
      numbers.push_back(item.get<int>());
  }
  return numbers;
}

std::vector<std::string> string_list(const Json* value, const std::string& path,
                                     std::vector<std::string> fallback, ProblemList& problems) {
  if (value == nullptr) return fallback;
  if (!value->is_array() || value->empty()) {
    problems.add(path, "expected a non-empty array of strings, got " + describe_json_value(*value));
    return fallback;
  }
  std::vector<std::string> items;
  for (std::size_t i = 0; i < value->size(); ++i) {
    if ((*value)[i].is_string())
      items.push_back((*value)[i].get<std::string>());
    else
      problems.add(path + "/" + std::to_string(i),
                   "expected a string, got " + describe_json_value((*value)[i]));
  }
  return items;
}

// Every (a, b) pair of the two lists, a outermost.
std::vector<std::pair<std::string, std::string>> combinations(const std::vector<std::string>& as,
                                                              const std::vector<std::string>& bs) {
  std::vector<std::pair<std::string, std::string>> pairs;
  for (const auto& a : as)
    for (const auto& b : bs) pairs.emplace_back(a, b);
  return pairs;
}

struct ClusterOption {
  Json cluster;  // scenario "cluster" object without the node count
  std::vector<int> nodes;
  int gpus_per_node = 8;
  int gpus_per_domain = 8;  // scale-up domain: hierarchical dispatch needs EP over whole ones
  double usd_per_gpu_hour = 0;
  std::string price_date;
};

}  // namespace

double PlanOutcome::usd_per_hour() const { return candidate.usd_per_gpu_hour * report.gpus; }

std::optional<double> PlanOutcome::usd_per_million_tokens() const {
  if (!fits || report.tokens_per_s() <= 0) return std::nullopt;
  return usd_per_hour() / 3600.0 / report.tokens_per_s() * 1e6;
}

PlanSpec parse_plan(const std::string& text, const std::string& source) {
  const Json document = parse_strict_json(text, source);
  ProblemList problems;
  FieldReader root(document, "", problems, kPlanFields);
  problems.throw_if_any(source);
  root.integer("schema_version", 1, 1);
  PlanSpec plan;
  plan.name = root.string("name", "plan");
  root.string("description", "");

  Json base = Json::object();
  if (const Json* value = root.child("base", true)) {
    if (!value->is_object()) {
      problems.add("/base",
                   "expected an object holding model, policy, workload, profile and network, got " +
                       describe_json_value(*value));
    } else {
      for (const auto& [key, section] : value->items()) {
        if (std::find(std::begin(kBaseSections), std::end(kBaseSections), key) ==
            std::end(kBaseSections))
          problems.add("/base/" + key,
                       "unknown field; the search decides cluster, parallelism and placement "
                       "(expected model, policy, workload, profile or network)");
        else
          base[key] = section;
      }
    }
  }
  if (const Json* target = root.child("target")) {
    FieldReader t(*target, "/target", problems, kTargetFields);
    plan.target_tokens_per_s = t.optional_number("tokens_per_s", 0, 1e15, true);
    plan.max_latency_ms = t.optional_number("max_latency_ms", 0, 1e9, true);
    t.finish();
  }

  std::vector<ClusterOption> clusters;
  std::vector<int> ep_list, tp_list{1}, redundant_list{0};
  std::vector<std::string> strategies{"contiguous"}, overlaps{"none"}, dispatches{"direct"};
  bool ep_auto = true;
  if (const Json* search = root.child("search", true)) {
    FieldReader s(*search, "/search", problems, kSearchFields);
    if (const Json* list = s.child("clusters", true)) {
      if (!list->is_array() || list->empty())
        problems.add("/search/clusters", "expected a non-empty array of cluster options");
      for (std::size_t i = 0; list->is_array() && i < list->size(); ++i) {
        const std::string path = "/search/clusters/" + std::to_string(i);
        FieldReader c((*list)[i], path, problems, kClusterFields);
        ClusterOption option;
        const auto system_name = c.string("system");
        const auto* system = topology::find_node_system(system_name);
        if (c.has("system") && system == nullptr)
          problems.add(path + "/system", fmt::format("unknown node system \"{}\"", system_name));
        option.gpus_per_node = system ? system->gpus_per_node : 8;
        option.gpus_per_domain = system ? system->gpus_per_scale_up_domain : 8;
        option.cluster = Json{{"system", system_name}};
        for (const char* key : {"device", "nic", "fabric"})
          if (c.has(key)) option.cluster[key] = c.string(key);
        if (c.has("oversubscription"))
          option.cluster["oversubscription"] = c.number("oversubscription", 1, 64);
        option.nodes = int_list(c.child("nodes", true), path + "/nodes", {}, problems);
        option.usd_per_gpu_hour = c.number("usd_per_gpu_hour", 0, 10'000, std::nullopt, true);
        option.price_date = c.string("price_date");
        c.finish();
        clusters.push_back(std::move(option));
      }
    }
    if (const Json* ep = s.child("expert_parallel");
        ep != nullptr && !(ep->is_string() && ep->get<std::string>() == "auto")) {
      ep_auto = false;
      ep_list = int_list(ep, "/search/expert_parallel", {}, problems);
    }
    tp_list = int_list(s.child("attention_tensor_parallel"), "/search/attention_tensor_parallel",
                       tp_list, problems);
    redundant_list = int_list(s.child("redundant_experts"), "/search/redundant_experts",
                              redundant_list, problems);
    strategies = string_list(s.child("placement_strategies"), "/search/placement_strategies",
                             strategies, problems);
    overlaps = string_list(s.child("overlaps"), "/search/overlaps", overlaps, problems);
    dispatches = string_list(s.child("dispatch"), "/search/dispatch", dispatches, problems);
    for (std::size_t i = 0; i < dispatches.size(); ++i)
      if (dispatches[i] != "direct" && dispatches[i] != "hierarchical")
        problems.add(
            fmt::format("/search/dispatch/{}", i),
            fmt::format("expected \"direct\" or \"hierarchical\", got \"{}\"", dispatches[i]));
    s.finish();
  }
  root.finish();
  problems.throw_if_any(source);

  // The grid: only combinations whose sizes divide evenly become candidates.
  const int experts = [&] {
    try {
      Json probe = base;
      probe["schema_version"] = 1;
      probe["cluster"] = "h100x8";
      return parse_scenario(probe.dump(), source + " /base").model.experts;
    } catch (const ConfigError& error) {
      std::vector<Problem> moved;
      for (const auto& p : error.problems())
        if (p.where.rfind("/cluster", 0) != 0 && p.where.rfind("/parallelism", 0) != 0)
          moved.push_back({"/base" + p.where, p.message});
      if (!moved.empty()) throw ConfigError(source, moved);
      return 0;
    }
  }();
  for (const auto& option : clusters) {
    for (int nodes : option.nodes) {
      const int gpus = nodes * option.gpus_per_node;
      for (int tp : tp_list) {
        if (tp < 1 || gpus % tp != 0) continue;
        for (int redundant : redundant_list) {
          std::vector<int> eps = ep_list;
          if (ep_auto) {
            eps.clear();
            for (int d = 1; d <= gpus; ++d)
              if (gpus % d == 0 && (experts + redundant) % d == 0) eps.push_back(d);
          }
          for (int ep : eps) {
            if (ep < 1 || gpus % ep != 0 || (experts + redundant) % ep != 0) continue;
            for (const auto& strategy : strategies) {
              for (const auto& [overlap, dispatch] : combinations(overlaps, dispatches)) {
                // Hierarchical differs from direct only when the group spans scale-up domains.
                const bool hierarchical = dispatch == "hierarchical";
                if (hierarchical &&
                    (ep <= option.gpus_per_domain || ep % option.gpus_per_domain != 0))
                  continue;
                PlanCandidate candidate;
                Json cluster = option.cluster;
                cluster["nodes"] = nodes;
                Json scenario = base;
                scenario["schema_version"] = 1;
                scenario["name"] = plan.name;
                scenario["cluster"] = cluster;
                scenario["parallelism"] = {{"expert_parallel", ep},
                                           {"attention_tensor_parallel", tp},
                                           {"attention_data_parallel", gpus / tp},
                                           {"overlap", overlap},
                                           {"micro_batches", overlap == "two-micro-batch" ? 2 : 1}};
                scenario["placement"] = {{"strategy", strategy}, {"redundant_experts", redundant}};
                scenario["price"] = {{"usd_per_gpu_hour", option.usd_per_gpu_hour},
                                     {"date", option.price_date}};
                // Sweeps price all-to-alls analytically; `moesim run` the chosen one for flow-level
                // figures. The base's other network options (dedup) stay.
                scenario["network"]["model"] = "analytic";
                scenario["network"]["dispatch"] = dispatch;
                candidate.label =
                    fmt::format("{} x{}, EP {}, TP {}, {}, +{}, {}{}",
                                option.cluster["system"].get<std::string>(), nodes, ep, tp,
                                strategy, redundant, overlap, hierarchical ? ", hierarchical" : "");
                candidate.scenario = std::move(scenario);
                candidate.usd_per_gpu_hour = option.usd_per_gpu_hour;
                candidate.price_date = option.price_date;
                plan.candidates.push_back(std::move(candidate));
              }
            }
          }
        }
      }
    }
  }
  if (plan.candidates.empty())
    throw ConfigError(source, {{"/search",
                                "expected at least one candidate whose EP size divides both its "
                                "GPUs and the expert slots"}});
  return plan;
}

PlanSpec load_plan(const std::string& path) { return parse_plan(read_text_file(path), path); }

namespace {

// One candidate: rejected (with the reason) when it does not fit or cannot be placed, else
// simulated and held against the plan's latency and throughput targets.
PlanOutcome evaluate_candidate(const PlanSpec& plan, const PlanCandidate& candidate) {
  PlanOutcome outcome;
  outcome.candidate = candidate;
  try {
    const auto scenario = parse_scenario(candidate.scenario.dump(), candidate.label);
    if (auto fit = check_memory_fit(scenario); !fit.fits()) {
      outcome.rejection = std::move(fit.shortfall);
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

}  // namespace

std::vector<PlanOutcome> run_plan(const PlanSpec& plan, int threads,
                                  const ProgressCallback& progress) {
  std::vector<PlanOutcome> outcomes(plan.candidates.size());
  std::atomic<std::size_t> next{0};
  std::atomic<int> done{0};
  std::mutex progress_mutex;
  auto worker = [&] {
    for (std::size_t i = next++; i < outcomes.size(); i = next++) {
      outcomes[i] = evaluate_candidate(plan, plan.candidates[i]);
      const int finished = ++done;
      if (progress) {
        std::lock_guard lock(progress_mutex);
        progress(finished, static_cast<int>(outcomes.size()));
      }
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < std::max(1, threads); ++t) pool.emplace_back(worker);
  worker();
  for (auto& thread : pool) thread.join();

  // Pareto front over feasible candidates: no other is better on both axes.
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
  std::stable_sort(
      outcomes.begin(), outcomes.end(), [](const PlanOutcome& a, const PlanOutcome& b) {
        auto rank = [](const PlanOutcome& o) { return !o.fits ? 2 : (o.meets_latency ? 0 : 1); };
        if (rank(a) != rank(b)) return rank(a) < rank(b);
        if (!a.fits) return false;
        return a.usd_per_million_tokens().value_or(0) < b.usd_per_million_tokens().value_or(0);
      });
  return outcomes;
}

}  // namespace moesim::sim
