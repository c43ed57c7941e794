#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <limits>
#include <regex>

#include "base/config_error.hpp"
#include "base/json_fields.hpp"
#include "sim/spec/builtin_profiles.hpp"
#include "sim/spec/limits.hpp"
#include "sim/spec/scenario_paths.hpp"
#include "sim/spec/scenario_sections.hpp"

// The sections that say what runs and how it is priced: workload, policy, profile and price.
namespace moesim::sim::scenario_sections {

WorkloadSpec read_workload(const Json* value, const ModelSpec& model, ProblemList& problems) {
  static const Json kEmpty = Json::object();
  FieldReader r(value ? *value : kEmpty, "/workload", problems, kWorkloadFields);
  WorkloadSpec w;
  w.kind = read_choice(r, "kind", WorkloadKind::Prefill);
  w.tokens_per_gpu = r.integer("tokens_per_gpu", 1, kMaxTokensPerBlock, 4096);
  w.context_tokens = r.integer("context_tokens", 1, 1LL << 24, 4096);
  w.steps = static_cast<int>(r.integer("steps", 1, 1'000'000, 1));
  w.routing.batch_load_sigma = model.default_batch_load_sigma;
  if (const Json* routing = r.child("routing")) {
    FieldReader rr(*routing, r.path_of("routing"), problems, kRoutingFields);
    w.routing.generator = read_choice(rr, "generator", PopularityKind::Uniform);
    w.routing.zipf_exponent = rr.number("zipf_exponent", 0, 10, 1.0);
    w.routing.seed = static_cast<std::uint64_t>(
        rr.integer("seed", 0, std::numeric_limits<std::int64_t>::max(), 1));
    w.routing.batch_load_sigma = rr.number("batch_load_sigma", 0, 4, w.routing.batch_load_sigma);
    w.routing.sampling_noise = rr.boolean("sampling_noise", true);
    rr.finish();
  }
  w.cuda_graphs = r.boolean("cuda_graphs", w.kind == WorkloadKind::Decode);
  w.mtp_draft_tokens = static_cast<int>(r.integer("mtp_draft_tokens", 0, kMaxDraftTokens, 0));
  const auto acceptance = r.optional_number("mtp_acceptance_rate", 0, 1);
  w.mtp_acceptance_rate = acceptance.value_or(0);
  if (w.mtp_draft_tokens > 0 && w.kind != WorkloadKind::Decode)
    problems.add(r.path_of("mtp_draft_tokens"), "expected 0 outside decode (MTP drafts tokens)");
  if (w.mtp_draft_tokens > 0 && !acceptance)
    problems.add(r.path_of("mtp_acceptance_rate"),
                 "expected the share of drafted tokens accepted (0-1) when mtp_draft_tokens > 0");
  if (const Json* mixed = r.child("mixed_prefill")) {
    FieldReader mr(*mixed, r.path_of("mixed_prefill"), problems, kMixedPrefillFields);
    w.mixed_prefill.input_tokens = mr.integer("input_tokens", 1, 1LL << 24);
    w.mixed_prefill.output_tokens = mr.integer("output_tokens", 1, 1LL << 24);
    w.mixed_prefill.scheduling = read_choice(mr, "scheduling", PrefillScheduling::InFlight);
    w.mixed_prefill.chunk_tokens = mr.integer("chunk_tokens", 1, 1LL << 24, 0);
    mr.finish();
    if (w.kind != WorkloadKind::Decode)
      problems.add(r.path_of("mixed_prefill"),
                   "expected only with kind \"decode\" (prompts mixed into decode steps)");
  }
  r.finish();
  return w;
}

PolicySpec read_policy(const Json* value, const ModelSpec& model, ProblemList& problems) {
  static const Json kEmpty = Json::object();
  FieldReader r(value ? *value : kEmpty, "/policy", problems, kPolicyFields);
  PolicySpec p;
  // null (or 0, Tutel's spelling) means dropless; a model trained with capacity (GShard, Switch)
  // defaults to its own factor.
  const bool explicit_null = value && value->is_object() && value->contains("capacity_factor") &&
                             (*value)["capacity_factor"].is_null();
  const auto factor = r.optional_number("capacity_factor", 0, 64);
  p.capacity_factor = factor ? *factor : (explicit_null ? 0.0 : model.default_capacity_factor);
  p.drop = read_choice(r, "drop", DropPolicy::Probs);
  p.pad_to_capacity = r.boolean("pad_to_capacity", false);
  p.min_capacity = r.integer("min_capacity", 0, 1LL << 31, 0);
  p.routing = read_choice(r, "routing", RoutingMode::TokenChoice);
  p.replica_choice = read_choice(r, "replica_choice", ReplicaChoice::RoundRobin);
  r.finish();
  const bool expert_choice = p.routing == RoutingMode::ExpertChoice;
  if (p.min_capacity > 0 && p.capacity_factor == 0 && !expert_choice)
    problems.add(r.path_of("min_capacity"),
                 "expected a capacity_factor for min_capacity to floor (dropless has no capacity)");
  // Under expert choice every expert takes exactly its capacity: nothing overflows to drop or pad.
  for (const char* key : {"drop", "pad_to_capacity"})
    if (expert_choice && r.has(key))
      problems.add(r.path_of(key),
                   "expected only with routing \"token-choice\" (under \"expert-choice\" every "
                   "expert takes exactly its capacity: nothing overflows)");
  return p;
}

namespace {

// Profile names resolve when the run starts (files may be large); here only their existence.
void check_profile_source(const std::string& source, const std::string& path,
                          ProblemList& problems) {
  if (source == "auto" || source == "roofline") return;
  const auto builtin = builtin_profile_names();
  if (std::find(builtin.begin(), builtin.end(), source) != builtin.end()) return;
  if (!std::filesystem::exists(source))
    problems.add(path, fmt::format("expected \"auto\", \"roofline\", a built-in profile ({}) or a "
                                   "profile file, got \"{}\"",
                                   fmt::join(builtin, ", "), source));
}

}  // namespace

ProfileSpec read_profile(const Json* value, const std::string& scenario_source,
                         ProblemList& problems) {
  ProfileSpec p;
  if (value == nullptr) return p;
  // A profile file is the scenario's, beside it as its other files are (scenario_paths.hpp).
  if (value->is_string()) {
    p.source = resolve_profile_path(scenario_source, value->get<std::string>());
    check_profile_source(p.source, "/profile", problems);
    return p;
  }
  FieldReader r(*value, "/profile", problems, kProfileFields);
  p.source = resolve_profile_path(scenario_source, r.string("source", "auto"));
  p.field = r.path_of("source");
  check_profile_source(p.source, p.field, problems);
  p.compute_efficiency = r.number("compute_efficiency", 0.01, 1, p.compute_efficiency);
  p.memory_efficiency = r.number("memory_efficiency", 0.01, 1, p.memory_efficiency);
  p.network_efficiency = r.number("network_efficiency", 0.01, 1, p.network_efficiency);
  p.allow_other_device = r.boolean("allow_other_device", false);
  r.finish();
  return p;
}

namespace {

// YYYY-MM-DD naming a day that exists (no 2026-02-30), from 1970 on.
bool is_calendar_date(const std::string& text) {
  static const std::regex kDate(R"((\d{4})-(\d{2})-(\d{2}))");
  std::smatch parts;
  if (!std::regex_match(text, parts, kDate)) return false;
  const std::chrono::year_month_day day{
      std::chrono::year{std::stoi(parts[1])},
      std::chrono::month{static_cast<unsigned>(std::stoi(parts[2]))},
      std::chrono::day{static_cast<unsigned>(std::stoi(parts[3]))}};
  return day.ok() && day.year() >= std::chrono::year{1970};
}

}  // namespace

PriceSpec read_price(const Json* value, ProblemList& problems) {
  PriceSpec p;
  if (value == nullptr || value->is_null()) return p;
  FieldReader r(*value, "/price", problems, kPriceFields);
  p.usd_per_gpu_hour = r.number("usd_per_gpu_hour", 0, 10'000, std::nullopt, true);
  p.date = r.string("date");
  if (r.has("date") && !is_calendar_date(p.date))
    problems.add(r.path_of("date"),
                 fmt::format("expected a date YYYY-MM-DD from 1970 on, got \"{}\"", p.date));
  r.finish();
  return p;
}

}  // namespace moesim::sim::scenario_sections
