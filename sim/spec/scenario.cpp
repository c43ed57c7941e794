#include "sim/spec/scenario.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <array>
#include <filesystem>
#include <numeric>
#include <regex>

#include "base/config_error.hpp"
#include "base/json_fields.hpp"
#include "base/strict_json.hpp"
#include "sim/spec/builtin_profiles.hpp"
#include "sim/spec/builtin_scenarios.hpp"
#include "sim/spec/cluster_presets.hpp"
#include "sim/spec/limits.hpp"
#include "sim/spec/model_presets.hpp"
#include "sim/spec/network_work.hpp"
#include "sim/spec/scenario_paths.hpp"
#include "sim/spec/scenario_sections.hpp"

namespace moesim::sim {
namespace {

using namespace scenario_sections;  // the section readers and their field lists

constexpr SectionFields kSections[] = {
    {"", kRootFields},
    {"/model", kModelFields},
    {"/cluster", kClusterFields},
    {"/parallelism", kParallelismFields},
    {"/parallelism/pipeline_parallel", kPipelineFields},
    {"/parallelism/data_parallel", kDataParallelFields},
    {"/placement", kPlacementFields},
    {"/policy", kPolicyFields},
    {"/workload", kWorkloadFields},
    {"/workload/routing", kRoutingFields},
    {"/workload/mixed_prefill", kMixedPrefillFields},
    {"/profile", kProfileFields},
    {"/network", kNetworkFields},
    {"/price", kPriceFields},
};

}  // namespace

ScenarioSpec parse_scenario(std::string_view text, const std::string& source) {
  const Json document = parse_strict_json(text, source);
  ProblemList problems;
  FieldReader root(document, "", problems, kRootFields);
  problems.throw_if_any(source);  // not an object: nothing more to say

  root.integer("schema_version", kScenarioSchemaVersion, kScenarioSchemaVersion);
  ScenarioSpec s;
  s.source = source;
  s.name = root.string("name", std::filesystem::path(source).stem().string());
  s.description = root.string("description", "");
  if (const Json* model = root.child("model", true)) s.model = read_model(*model, problems, source);
  if (const Json* cluster = root.child("cluster", true))
    s.cluster = read_cluster(*cluster, problems, source);
  // Checks that combine sections only make sense once model and cluster are sound.
  const bool sound = problems.empty();

  static const Json kEmpty = Json::object();
  const Json* placement = root.child("placement");
  FieldReader pr(placement ? *placement : kEmpty, "/placement", problems, kPlacementFields);
  s.placement.strategy = read_choice(pr, "strategy", PlacementStrategy::Contiguous);
  s.placement.redundant_experts =
      static_cast<int>(pr.integer("redundant_experts", 0, kMaxRedundantExperts, 0));
  check_expert_slots(s.model, s.placement.redundant_experts, problems);
  s.placement.file = resolve_scenario_path(source, pr.string("file", ""));
  if (s.placement.strategy == PlacementStrategy::Explicit && s.placement.file.empty())
    problems.add(pr.path_of("file"),
                 "missing required field (expected the placement file of strategy \"explicit\")");
  if (s.placement.strategy != PlacementStrategy::Explicit && !s.placement.file.empty())
    problems.add(pr.path_of("file"), "expected only with strategy \"explicit\"");
  pr.finish();

  s.parallelism = read_parallelism(root.child("parallelism"), sound ? s.cluster.gpus() : 0, s.model,
                                   s.placement.redundant_experts, problems);
  s.policy = read_policy(root.child("policy"), s.model, problems);
  s.workload = read_workload(root.child("workload"), s.model, problems);
  s.profile = read_profile(root.child("profile"), source, problems);
  s.price = read_price(root.child("price"), problems);
  if (const Json* network = root.child("network")) {
    FieldReader nr(*network, "/network", problems, kNetworkFields);
    s.network.model = read_choice(nr, "model", NetworkModelKind::Auto);
    s.network.dispatch = read_choice(nr, "dispatch", DispatchKind::Direct);
    s.network.dedup = nr.boolean("dedup", false);
    s.network.all_to_all = read_choice(nr, "all_to_all", AllToAllKind::Nccl);
    apply_all_to_all_kind(*network, nr, s.network, problems);
    const int ep = s.parallelism.expert_parallel,
              domain = s.cluster.system.gpus_per_scale_up_domain;
    if (s.network.dispatch == DispatchKind::Hierarchical && domain > 0 && ep > domain &&
        ep % domain != 0)
      problems.add(
          nr.path_of("dispatch"),
          fmt::format(
              "hierarchical dispatch needs whole scale-up domains: EP {} is not a multiple of {}",
              ep, domain));
    nr.finish();
  }
  if (sound) check_parallel_groups(s, problems);
  if (sound) check_network_work(s, problems);
  root.finish();
  problems.throw_if_any(source);
  return s;
}

ScenarioSpec load_scenario(const std::string& name_or_path) {
  if (const auto* builtin = find_builtin_scenario(name_or_path))
    return parse_scenario(builtin->json, std::string(builtin->name));
  if (!std::filesystem::exists(name_or_path)) {
    std::vector<std::string> names;
    for (const auto& scenario : builtin_scenarios()) names.emplace_back(scenario.name);
    const auto suggestion = did_you_mean(name_or_path, names);
    throw ConfigError(
        name_or_path,
        {{"", fmt::format("no such file, and no built-in scenario of that name{}",
                          suggestion ? fmt::format(" (did you mean \"{}\"?)", *suggestion)
                                     : " (moesim list scenarios)")}});
  }
  return parse_scenario(read_text_file(name_or_path), name_or_path);
}

std::span<const SectionFields> scenario_fields() { return kSections; }

}  // namespace moesim::sim

namespace moesim::sim {

double WorkloadSpec::accepted_tokens_per_sequence() const {
  if (kind != WorkloadKind::Decode) return 1;
  // Draft i counts only when drafts 1..i-1 were accepted: 1 + a + a^2 + ... + a^d.
  double accepted = 1, chance = 1;
  for (int i = 0; i < mtp_draft_tokens; ++i) {
    chance *= mtp_acceptance_rate;
    accepted += chance;
  }
  return accepted;
}

double WorkloadSpec::prefill_tokens_per_step() const {
  if (kind != WorkloadKind::Decode || mixed_prefill.input_tokens <= 0) return 0;
  return static_cast<double>(tokens_per_gpu) * static_cast<double>(mixed_prefill.input_tokens) *
         accepted_tokens_per_sequence() / static_cast<double>(mixed_prefill.output_tokens);
}

}  // namespace moesim::sim
