#include "sim/report/provenance.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>

#include "base/config_error.hpp"
#include "sim/routing/trace_replay.hpp"
#include "sim/spec/builtin_profiles.hpp"
#include "sim/spec/builtin_scenarios.hpp"
#include "sim/traces/format.hpp"

#ifndef MOESIM_VERSION
#define MOESIM_VERSION "unknown"
#endif

namespace moesim::sim {
namespace {

using Json = nlohmann::json;

std::string hex(std::uint32_t crc) { return fmt::format("{:08x}", crc); }

std::string text_crc(std::string_view text) {
  return hex(crc32c(std::as_bytes(std::span(text.data(), text.size()))));
}

// Streams the file in 1 MiB blocks: traces may be larger than memory.
std::string file_crc(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(path, {{"/", "cannot open the file to hash it"}});
  std::vector<char> buffer(1 << 20);
  std::uint32_t crc = 0;
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    const auto got = static_cast<std::size_t>(in.gcount());
    crc = crc32c(std::as_bytes(std::span(buffer.data(), got)), crc);
  }
  return hex(crc);
}

InputRecord scenario_record(const std::string& arg) {
  if (std::filesystem::is_regular_file(arg)) return {"scenario", arg, file_crc(arg), false};
  const BuiltinScenario* builtin = find_builtin_scenario(arg);
  return {"scenario", arg, builtin ? text_crc(builtin->json) : "", true};
}

InputRecord profile_record(const RunInputs& inputs) {
  if (!inputs.profile) return {"profile", "roofline", "", true};
  const std::string& source = inputs.profile->source();
  // A device-scaled profile's bytes are the shipped profile of the device it was measured on.
  if (const auto& scaling = inputs.profile->device_scaling())
    if (const auto shipped = builtin_profile_for_device(scaling->measured_on))
      if (const auto text = builtin_profile_text(*shipped))
        return {"profile", source, text_crc(*text), true};
  if (std::filesystem::is_regular_file(source)) return {"profile", source, file_crc(source), false};
  const auto text = builtin_profile_text(source);
  return {"profile", source, text ? text_crc(*text) : "", true};
}

// What replaying the trace changed: its tokens scaled to the scenario's, its layers tiled.
std::vector<std::string> trace_adjustments(const RunInputs& inputs, const std::string& path) {
  const ScenarioSpec& s = inputs.scenario;
  const ModelSpec& m = s.model;
  const auto trace_layers = open_trace_for(path, m)->shape().layers;
  const auto popularity = trace_expert_popularity(path, m, {.repeat_layers = true});
  double copies = 0;
  for (double c : popularity.front()) copies += c;
  const double trace_tokens = m.top_k > 0 ? copies / m.top_k : 0;
  const double scenario_tokens = static_cast<double>(s.workload.tokens_per_gpu) *
                                 s.workload.queries_per_sequence() *
                                 s.parallelism.weight_replicas();  // CP x DP TP groups
  std::vector<std::string> notes;
  notes.push_back(fmt::format(
      "trace: {:.0f} tokens in its first layer (all steps) scaled to the scenario's {:.0f} tokens "
      "per MoE layer per step (x{:.3g}); only its expert shares are replayed",
      trace_tokens, scenario_tokens, trace_tokens > 0 ? scenario_tokens / trace_tokens : 0.0));
  if (trace_layers != static_cast<std::uint32_t>(m.moe_layers))
    notes.push_back(fmt::format("trace: its {} layers tiled over the model's {} MoE layers",
                                trace_layers, m.moe_layers));
  return notes;
}

std::string string_or(const Json& record, const char* key, const char* fallback) {
  return record.contains(key) && record[key].is_string() ? record[key].get<std::string>()
                                                         : fallback;
}

std::string record_text(const Json& record) {
  return fmt::format("{}{} (crc32c {})", string_or(record, "path", "?"),
                     record.value("builtin", false) ? " [built-in]" : "",
                     string_or(record, "crc32c", "none"));
}

// Same bytes is the same input wherever it lay; without a hash, the same path.
bool same_input(const Json& x, const Json& y) {
  const std::string a = string_or(x, "crc32c", ""), b = string_or(y, "crc32c", "");
  if (!a.empty() || !b.empty()) return a == b;
  return string_or(x, "path", "") == string_or(y, "path", "");
}

}  // namespace

std::string moesim_version() { return MOESIM_VERSION; }

Provenance describe_inputs(const RunInputs& inputs, const std::string& scenario_arg,
                           const std::string& trace_path) {
  Provenance p;
  p.moesim_version = moesim_version();
  p.inputs.push_back(scenario_record(scenario_arg));
  if (const std::string& config = inputs.scenario.model.hf_config; !config.empty())
    p.inputs.push_back({"hf_config", config, file_crc(config), false});
  if (!trace_path.empty()) {
    p.inputs.push_back({"trace", trace_path, file_crc(trace_path), false});
    p.adjustments = trace_adjustments(inputs, trace_path);
  }
  p.inputs.push_back(profile_record(inputs));
  return p;
}

Json provenance_to_json(const Provenance& p) {
  Json inputs = Json::object();
  for (const auto& input : p.inputs)
    inputs[input.role] = {{"path", input.path},
                          {"crc32c", input.crc32c.empty() ? Json(nullptr) : Json(input.crc32c)},
                          {"builtin", input.builtin}};
  return Json{
      {"moesim_version", p.moesim_version}, {"inputs", inputs}, {"adjustments", p.adjustments}};
}

std::string provenance_text(const Provenance& p) {
  std::string text;
  for (const auto& input : p.inputs)
    if (input.role == "trace")
      text += fmt::format("trace     {} (crc32c {})\n", input.path, input.crc32c);
  for (const auto& note : p.adjustments) text += fmt::format("          {}\n", note);
  return text;
}

std::vector<std::string> provenance_differences(const Json& baseline, const Json& candidate) {
  const bool old_has = baseline.contains("provenance") && baseline["provenance"].is_object();
  const bool new_has = candidate.contains("provenance") && candidate["provenance"].is_object();
  if (!old_has || !new_has)
    return {
        fmt::format("the {} has no provenance (written by an older moesim); its inputs are "
                    "unknown",
                    !old_has ? "baseline" : "candidate")};
  const Json& a = baseline["provenance"];
  const Json& b = candidate["provenance"];
  std::vector<std::string> differences;
  if (string_or(a, "moesim_version", "?") != string_or(b, "moesim_version", "?"))
    differences.push_back(fmt::format("moesim version {} vs {}",
                                      string_or(a, "moesim_version", "?"),
                                      string_or(b, "moesim_version", "?")));
  for (const char* role : {"scenario", "hf_config", "profile"}) {
    const Json none = Json::object();
    const Json& x = a.contains("inputs") && a["inputs"].contains(role) ? a["inputs"][role] : none;
    const Json& y = b.contains("inputs") && b["inputs"].contains(role) ? b["inputs"][role] : none;
    if (!same_input(x, y))
      differences.push_back(fmt::format("{}: {} vs {}", role, record_text(x), record_text(y)));
  }
  return differences;
}

}  // namespace moesim::sim
