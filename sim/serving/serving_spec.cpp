#include "sim/serving/serving_spec.hpp"

#include <fmt/format.h>

#include <filesystem>

#include "base/json_fields.hpp"
#include "base/strict_json.hpp"

namespace moesim::sim {
namespace {

using Json = nlohmann::json;

constexpr std::string_view kServingFields[] = {
    "schema_version", "name",   "description", "scenario", "instances",
    "prefill",        "decode", "traffic",     "batching", "sla"};
constexpr std::string_view kPoolFields[] = {"scenario", "instances"};
constexpr std::string_view kBatchingFields[] = {"max_batch_per_rank", "token_budget_per_rank",
                                                "chunked_prefill", "memory_fraction"};
constexpr std::string_view kSlaFields[] = {"ttft_p90_ms", "tpot_p90_ms", "e2e_p90_ms"};

// A scenario given inline (an object) or by name or path (a string, relative to the file).
std::optional<ScenarioSpec> read_scenario(const Json* value, const std::string& path,
                                          const std::string& source, const std::string& base_dir,
                                          ProblemList& problems) {
  if (value == nullptr) return std::nullopt;
  try {
    if (value->is_string()) {
      std::filesystem::path file(value->get<std::string>());
      if (!std::filesystem::exists(file) && !base_dir.empty() && file.is_relative() &&
          std::filesystem::exists(std::filesystem::path(base_dir) / file))
        file = std::filesystem::path(base_dir) / file;
      return load_scenario(file.string());
    }
    if (value->is_object()) {
      // Inline, the serving file's own schema_version stands for the scenario's.
      Json scenario = *value;
      if (!scenario.contains("schema_version")) scenario["schema_version"] = 1;
      return parse_scenario(scenario.dump(), source + " " + path);
    }
    problems.add(path, "expected a scenario object, or a built-in scenario name or file, got " +
                           describe_json_value(*value));
  } catch (const ConfigError& error) {
    for (const auto& p : error.problems())
      problems.add(path + p.where, fmt::format("{} ({})", p.message, error.source()));
  }
  return std::nullopt;
}

int read_instances(FieldReader& r, bool allow_auto) {
  const Json* value = r.child("instances");
  if (value == nullptr) return allow_auto ? 0 : 1;
  if (allow_auto && value->is_string() && value->get<std::string>() == "auto") return 0;
  return static_cast<int>(r.integer("instances", 1, kMaxServingInstances));
}

PoolSpec read_pool(FieldReader& root, std::string_view key, const std::string& source,
                   const std::string& base_dir, ProblemList& problems) {
  PoolSpec pool;
  const Json* value = root.child(key, true);
  if (value == nullptr) return pool;
  FieldReader r(*value, root.path_of(key), problems, kPoolFields);
  if (auto scenario = read_scenario(r.child("scenario", true), r.path_of("scenario"), source,
                                    base_dir, problems))
    pool.scenario = std::move(*scenario);
  pool.instances = read_instances(r, true);
  r.finish();
  return pool;
}

}  // namespace

BatchingSpec read_batching(const Json* object, const std::string& path, double& memory_fraction,
                           ProblemList& problems) {
  BatchingSpec b;
  if (object == nullptr) return b;
  FieldReader r(*object, path, problems, kBatchingFields);
  b.max_batch_per_rank = static_cast<int>(r.integer("max_batch_per_rank", 1, 65'536, 256));
  b.token_budget_per_rank = r.integer("token_budget_per_rank", 1, 10'000'000, 8192);
  b.chunked_prefill = r.boolean("chunked_prefill", false);
  memory_fraction = r.number("memory_fraction", 0, 1, 0.9, true);
  r.finish();
  return b;
}

SlaSpec read_sla(const Json* object, const std::string& path, ProblemList& problems) {
  SlaSpec sla;
  if (object == nullptr) return sla;
  FieldReader r(*object, path, problems, kSlaFields);
  const auto seconds = [&](std::string_view key) -> std::optional<double> {
    const auto ms = r.optional_number(key, 0, 1e9, true);
    return ms ? std::optional(*ms * 1e-3) : std::nullopt;
  };
  sla.ttft_p90_s = seconds("ttft_p90_ms");
  sla.tpot_p90_s = seconds("tpot_p90_ms");
  sla.e2e_p90_s = seconds("e2e_p90_ms");
  r.finish();
  if (object->is_object() && sla.empty())
    problems.add(path, "expected at least one of ttft_p90_ms, tpot_p90_ms, e2e_p90_ms");
  return sla;
}

ServingSpec parse_serving(const std::string& text, const std::string& source,
                          const std::string& base_dir) {
  const Json document = parse_strict_json(text, source);
  ProblemList problems;
  FieldReader root(document, "", problems, kServingFields);
  problems.throw_if_any(source);
  ServingSpec s;
  root.integer("schema_version", 1, 1);
  s.name = root.string("name", "serving");
  root.string("description", "");
  s.disaggregated = root.has("prefill") || root.has("decode");
  if (s.disaggregated) {
    for (const char* key : {"scenario", "instances"})  // the aggregated form's fields, named
      if (root.has(key))
        problems.add(std::string("/") + key,
                     "expected either scenario and instances (aggregated) or prefill and decode "
                     "(disaggregated), not both");
    s.prefill = read_pool(root, "prefill", source, base_dir, problems);
    s.decode = read_pool(root, "decode", source, base_dir, problems);
    // The decode pool continues the prefill's sequences from their KV cache: one model.
    const ModelSpec& prefill_model = s.prefill.scenario.model;
    const ModelSpec& decode_model = s.decode.scenario.model;
    if (problems.empty() &&
        (prefill_model.name != decode_model.name || prefill_model.layers != decode_model.layers ||
         prefill_model.hidden != decode_model.hidden))
      problems.add(
          "/decode/scenario/model",
          fmt::format("expected the prefill pool's model {} ({} layers, hidden {}; the decode "
                      "pool continues its sequences from their KV cache), got {} ({} layers, "
                      "hidden {})",
                      prefill_model.name, prefill_model.layers, prefill_model.hidden,
                      decode_model.name, decode_model.layers, decode_model.hidden));
  } else {
    if (auto scenario =
            read_scenario(root.child("scenario", true), "/scenario", source, base_dir, problems))
      s.aggregated.scenario = std::move(*scenario);
    s.aggregated.instances = read_instances(root, false);
  }
  if (const Json* traffic = root.child("traffic", true))
    s.traffic = read_traffic(*traffic, "/traffic", base_dir, problems);
  s.batching = read_batching(root.child("batching"), "/batching", s.memory_fraction, problems);
  s.sla = read_sla(root.child("sla"), "/sla", problems);
  root.finish();
  if (s.disaggregated && s.traffic.arrival == ArrivalKind::Concurrency)
    problems.add("/traffic/arrival",
                 "expected poisson or log for prefill/decode pools (a closed loop's users would "
                 "span both pools; run it aggregated)");
  problems.throw_if_any(source);
  return s;
}

ServingSpec load_serving(const std::string& path) {
  const auto dir = std::filesystem::path(path).parent_path().string();
  return parse_serving(read_text_file(path), path, dir);
}

}  // namespace moesim::sim
