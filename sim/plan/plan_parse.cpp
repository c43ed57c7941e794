// parse_plan: the plan file read into its search lists, then expanded into the candidate grid.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <filesystem>
#include <optional>

#include "base/config_error.hpp"
#include "base/json_fields.hpp"
#include "base/strict_json.hpp"
#include "sim/cost/measured_profile.hpp"
#include "sim/plan/plan.hpp"
#include "sim/plan/plan_lists.hpp"
#include "sim/plan/search_grid.hpp"
#include "sim/spec/choices.hpp"
#include "sim/spec/limits.hpp"
#include "sim/spec/scenario.hpp"
#include "sim/spec/scenario_paths.hpp"
#include "topology/node_system.hpp"

namespace moesim::sim {
namespace {

using Json = nlohmann::json;

constexpr std::string_view kPlanFields[] = {"schema_version", "name",   "description", "base",
                                            "target",         "search", "serving"};
constexpr std::string_view kTargetFields[] = {"tokens_per_s", "max_latency_ms"};
constexpr std::string_view kSearchFields[] = {"clusters",
                                              "expert_parallel",
                                              "attention_tensor_parallel",
                                              "placement_strategies",
                                              "redundant_experts",
                                              "overlaps",
                                              "dispatch",
                                              "tokens_per_gpu",
                                              "moe_tensor_parallel",
                                              "pipeline_parallel",
                                              "pipeline_micro_batches",
                                              "zero_stages",
                                              "context_parallel"};
constexpr std::string_view kClusterFields[] = {
    "system",           "nodes",     "device", "nic", "fabric", "oversubscription",
    "usd_per_gpu_hour", "price_date"};
constexpr std::string_view kBaseSections[] = {"model", "policy", "workload", "profile", "network"};

// The scenario sections every candidate shares; the search decides the rest.
Json read_base(FieldReader& root, ProblemList& problems) {
  Json base = Json::object();
  const Json* value = root.child("base", true);
  if (value == nullptr) return base;
  if (!value->is_object()) {
    problems.add("/base",
                 "expected an object holding model, policy, workload, profile and network, got " +
                     describe_json_value(*value));
    return base;
  }
  for (const auto& [key, section] : value->items()) {
    if (std::find(std::begin(kBaseSections), std::end(kBaseSections), key) ==
        std::end(kBaseSections))
      problems.add("/base/" + key,
                   "unknown field; the search decides cluster, parallelism and placement "
                   "(expected model, policy, workload, profile or network)");
    else
      base[key] = section;
  }
  return base;
}

void read_target(FieldReader& root, PlanSpec& plan, ProblemList& problems) {
  const Json* target = root.child("target");
  if (target == nullptr) return;
  FieldReader t(*target, "/target", problems, kTargetFields);
  plan.target_tokens_per_s = t.optional_number("tokens_per_s", 0, 1e15, true);
  plan.max_latency_ms = t.optional_number("max_latency_ms", 0, 1e9, true);
  t.finish();
}

// One entry of /search/clusters: a node system, its options and price, and the node counts.
ClusterOption read_cluster_option(const Json& entry, const std::string& path,
                                  ProblemList& problems) {
  FieldReader c(entry, path, problems, kClusterFields);
  ClusterOption option;
  const auto system_name = c.string("system");
  const auto* system = topology::find_node_system(system_name);
  if (c.has("system") && system == nullptr) {
    std::vector<std::string> names;
    for (const auto& known : topology::node_systems()) names.emplace_back(known.name);
    const auto suggestion = did_you_mean(system_name, names);
    problems.add(
        path + "/system",
        fmt::format("unknown node system \"{}\"; expected one of {}{}", system_name,
                    fmt::join(names, ", "),
                    suggestion ? fmt::format(" (did you mean \"{}\"?)", *suggestion) : ""));
  }
  option.gpus_per_node = system ? system->gpus_per_node : 8;
  option.gpus_per_domain = system ? system->gpus_per_scale_up_domain : 8;
  option.cluster = Json{{"system", system_name}};
  for (const char* key : {"device", "nic", "fabric"})
    if (c.has(key)) option.cluster[key] = c.string(key);
  if (c.has("oversubscription"))
    option.cluster["oversubscription"] = c.number("oversubscription", 1, 64);
  option.nodes = int_list(c.child("nodes", true), path + "/nodes", {}, 1,
                          kMaxGpus / option.gpus_per_node, problems);
  option.usd_per_gpu_hour = c.number("usd_per_gpu_hour", 0, 10'000, std::nullopt, true);
  option.price_date = c.string("price_date");
  c.finish();
  return option;
}

std::vector<ClusterOption> read_cluster_options(FieldReader& search, ProblemList& problems) {
  std::vector<ClusterOption> clusters;
  const Json* list = search.child("clusters", true);
  if (list == nullptr) return clusters;
  if (!list->is_array() || list->empty())
    problems.add("/search/clusters", "expected a non-empty array of cluster options");
  for (std::size_t i = 0; list->is_array() && i < list->size(); ++i)
    clusters.push_back(
        read_cluster_option((*list)[i], "/search/clusters/" + std::to_string(i), problems));
  return clusters;
}

SearchLists read_search(FieldReader& root, ProblemList& problems) {
  SearchLists lists;
  const Json* search = root.child("search", true);
  if (search == nullptr) return lists;
  FieldReader s(*search, "/search", problems, kSearchFields);
  lists.clusters = read_cluster_options(s, problems);
  if (const Json* ep = s.child("expert_parallel");
      ep != nullptr && !(ep->is_string() && ep->get<std::string>() == "auto")) {
    lists.expert_parallel_auto = false;
    lists.expert_parallel = int_list(ep, "/search/expert_parallel", {}, 1, kMaxGpus, problems);
  }
  lists.attention_tensor_parallel =
      int_list(s.child("attention_tensor_parallel"), "/search/attention_tensor_parallel",
               lists.attention_tensor_parallel, 1, kMaxGpus, problems);
  lists.redundant_experts = int_list(s.child("redundant_experts"), "/search/redundant_experts",
                                     lists.redundant_experts, 0, kMaxRedundantExperts, problems);
  lists.placement_strategies = choice_name_list<PlacementStrategy>(
      s.child("placement_strategies"), "/search/placement_strategies", lists.placement_strategies,
      problems);
  lists.overlaps =
      choice_name_list<Overlap>(s.child("overlaps"), "/search/overlaps", lists.overlaps, problems);
  lists.dispatches = choice_name_list<DispatchKind>(s.child("dispatch"), "/search/dispatch",
                                                    lists.dispatches, problems);
  lists.tokens_per_gpu = int_list(s.child("tokens_per_gpu"), "/search/tokens_per_gpu", {}, 1,
                                  kMaxTokensPerBlock, problems);
  lists.parallel = read_parallel_search(s, problems);
  s.finish();
  return lists;
}

// The base, parsed through a throwaway scenario to learn its expert count and profile; a bad base
// is reported under /base, while the cluster and parallelism the probe made up are not the plan's
// problems (nullopt then: 0 experts, and the grid keeps only EP sizes that divide the slots).
std::optional<ScenarioSpec> probe_base(const Json& base, const std::string& source) {
  try {
    Json probe = base;
    probe["schema_version"] = 1;
    probe["cluster"] = "h100x8";
    return parse_scenario(probe.dump(), source + " /base");
  } catch (const ConfigError& error) {
    std::vector<Problem> moved;
    for (const auto& p : error.problems())
      if (p.where.rfind("/cluster", 0) != 0 && p.where.rfind("/parallelism", 0) != 0)
        moved.push_back({"/base" + p.where, p.message});
    if (!moved.empty()) throw ConfigError(source, moved);
    return std::nullopt;
  }
}

// The base's files (model.hf_config, a profile file) are the plan's, beside it, as the probe read
// them; the candidates are parsed under their labels, so the paths are made absolute for them.
void anchor_base_files(Json& base, const std::string& source) {
  const std::string label = source + " /base";
  const auto anchor = [&](Json& field, bool profile) {
    if (!field.is_string()) return;
    const std::string given = field.get<std::string>();
    const std::string resolved =
        profile ? resolve_profile_path(label, given) : resolve_scenario_path(label, given);
    if (resolved != given) field = std::filesystem::absolute(resolved).lexically_normal().string();
  };
  if (base.contains("model") && base["model"].is_object() && base["model"].contains("hf_config"))
    anchor(base["model"]["hf_config"], false);
  if (!base.contains("profile")) return;
  Json& profile = base["profile"];
  if (profile.is_object() && profile.contains("source"))
    anchor(profile["source"], true);
  else
    anchor(profile, true);
}

// The base's profile file is read once here: a bad one is refused before any candidate runs
// (else every candidate is rejected with its message and the plan ends "no option meets ...").
void check_base_profile(const ProfileSpec& profile, const std::string& source) {
  if (profile.source == "auto" || profile.source == "roofline") return;
  try {
    load_profile(profile.source);
  } catch (const ConfigError& error) {
    throw ConfigError(source, {{"/base" + profile.field, error.what()}});
  }
}

// One point of the grid before the placement, overlap and dispatch lists multiply it.
struct GridPoint {
  const ClusterOption& option;
  int nodes = 0;
  int gpus = 0;
  int tensor_parallel = 1;
  int redundant_experts = 0;
  int expert_parallel = 1;
};

// The scenario document one candidate simulates.
Json candidate_scenario(const std::string& plan_name, const Json& base, const GridPoint& point,
                        const std::string& strategy, const std::string& overlap,
                        const std::string& dispatch) {
  const ClusterOption& option = point.option;
  Json cluster = option.cluster;
  cluster["nodes"] = point.nodes;
  Json scenario = base;
  scenario["schema_version"] = 1;
  scenario["name"] = plan_name;
  scenario["cluster"] = cluster;
  scenario["parallelism"] = {{"expert_parallel", point.expert_parallel},
                             {"attention_tensor_parallel", point.tensor_parallel},
                             {"attention_data_parallel", point.gpus / point.tensor_parallel},
                             {"overlap", overlap},
                             {"micro_batches", overlap == "two-micro-batch" ? 2 : 1}};
  scenario["placement"] = {{"strategy", strategy}, {"redundant_experts", point.redundant_experts}};
  scenario["price"] = {{"usd_per_gpu_hour", option.usd_per_gpu_hour}, {"date", option.price_date}};
  // Sweeps price all-to-alls analytically; `moesim run` the chosen one for flow-level figures.
  // The base's other network options (dedup) stay.
  scenario["network"]["model"] = "analytic";
  scenario["network"]["dispatch"] = dispatch;
  return scenario;
}

// One candidate per batch size of the sweep (`search.tokens_per_gpu`), else the base workload's.
void add_batch_sweep(PlanSpec& plan, const SearchLists& search, const PlanCandidate& candidate) {
  const std::vector<int> batches =
      search.tokens_per_gpu.empty() ? std::vector<int>{0} : search.tokens_per_gpu;
  for (int batch : batches) {
    PlanCandidate copy = candidate;
    if (batch > 0) {
      copy.label += fmt::format(", batch {}", batch);
      copy.scenario["workload"]["tokens_per_gpu"] = batch;
    }
    plan.candidates.push_back(std::move(copy));
  }
}

// The grid point's candidates: every parallel layout, placement strategy, overlap and dispatch
// mode, and batch size.
void add_candidates(PlanSpec& plan, const Json& base, const SearchLists& search,
                    const GridPoint& point) {
  const ClusterOption& option = point.option;
  const bool training = base.contains("workload") && base["workload"].is_object() &&
                        base["workload"].value("kind", "") == "training";
  const bool decode = base.contains("workload") && base["workload"].is_object() &&
                      base["workload"].value("kind", "") == "decode";
  const LayoutShape shape{training, point.gpus, point.tensor_parallel, point.expert_parallel,
                          decode};
  for (const ParallelLayout& layout : parallel_layouts(search.parallel))
    for (const auto& strategy : search.placement_strategies) {
      for (const auto& [overlap, dispatch] : combinations(search.overlaps, search.dispatches)) {
        // Hierarchical differs from direct only when the group spans scale-up domains.
        const bool hierarchical =
            choice_from_name<DispatchKind>(dispatch) == DispatchKind::Hierarchical;
        const int ep = point.expert_parallel;
        if (hierarchical && (ep <= option.gpus_per_domain || ep % option.gpus_per_domain != 0))
          continue;
        PlanCandidate candidate;
        candidate.label = fmt::format("{} x{}, EP {}, TP {}, {}, +{}, {}{}",
                                      option.cluster["system"].get<std::string>(), point.nodes, ep,
                                      point.tensor_parallel, strategy, point.redundant_experts,
                                      overlap, hierarchical ? ", hierarchical" : "");
        candidate.scenario =
            candidate_scenario(plan.name, base, point, strategy, overlap, dispatch);
        candidate.label += parallel_label(layout, search.parallel);
        candidate.rejection = stack_rejection(layout, shape);
        if (candidate.rejection.empty())
          apply_parallel_layout(layout, search.parallel, shape, candidate.scenario["parallelism"]);
        candidate.usd_per_gpu_hour = option.usd_per_gpu_hour;
        candidate.price_date = option.price_date;
        add_batch_sweep(plan, search, candidate);
      }
    }
}

// The grid over one cluster option at one node count: attention TP, redundant experts, EP.
void add_node_count(PlanSpec& plan, const Json& base, const SearchLists& search,
                    const ClusterOption& option, int nodes, int experts) {
  const int gpus = nodes * option.gpus_per_node;
  for (int tp : search.attention_tensor_parallel) {
    if (tp < 1 || gpus % tp != 0) continue;
    for (int redundant : search.redundant_experts)
      for (int ep : expert_parallel_sizes(search, gpus, experts + redundant))
        add_candidates(plan, base, search, GridPoint{option, nodes, gpus, tp, redundant, ep});
  }
}

}  // namespace

PlanSpec parse_plan(const std::string& text, const std::string& source) {
  const Json document = parse_strict_json(text, source);
  ProblemList problems;
  FieldReader root(document, "", problems, kPlanFields);
  problems.throw_if_any(source);
  root.integer("schema_version", 1, 1);
  PlanSpec plan;
  plan.name = root.string("name", "plan");
  root.string("description", "");
  Json base = read_base(root, problems);
  read_target(root, plan, problems);
  SearchLists search = read_search(root, problems);
  plan.serving = read_serving_plan(root.child("serving"),
                                   std::filesystem::path(source).parent_path().string(), problems);
  if (plan.serving) search.batch_limits = plan.serving->max_batch_per_rank;
  if (plan.serving && root.has("target"))
    problems.add("/target",
                 "a plan with /serving takes its load from /serving/traffic and its "
                 "latency limits from /serving/sla; remove /target");
  if (plan.serving && !search.tokens_per_gpu.empty())
    problems.add("/search/tokens_per_gpu",
                 "a plan with /serving sweeps /serving/batching/max_batch_per_rank instead");
  root.finish();
  problems.throw_if_any(source);

  // The grid: only combinations whose sizes divide evenly become candidates.
  const auto probe = probe_base(base, source);
  if (probe) check_base_profile(probe->profile, source);
  anchor_base_files(base, source);
  const int experts = probe ? probe->model.experts : 0;
  check_grid_size(search, experts, source);
  for (const auto& option : search.clusters)
    for (int nodes : option.nodes) add_node_count(plan, base, search, option, nodes, experts);
  if (plan.candidates.empty())
    throw ConfigError(source, {{"/search",
                                "expected at least one candidate whose EP size divides "
                                "both its GPUs and the expert slots"}});
  return plan;
}

PlanSpec load_plan(const std::string& path) { return parse_plan(read_text_file(path), path); }

}  // namespace moesim::sim
