// The profile reader, structure-aware: the smallest valid profile (one model, two points per
// curve, one all-to-all entry) with fuzzed values put into some of its fields (1e308 us, runs 0,
// sizes out of order, unknown fields, wrong types), then the lookups the simulator makes. Only a
// ConfigError may come out, and an accepted profile must predict finite times.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "base/config_error.hpp"
#include "sim/cost/measured_profile.hpp"
#include "tests/fuzz/fuzz_values.hpp"

namespace {

using Json = nlohmann::json;

Json timed(double tokens, double median_us) {
  return {{"tokens", tokens}, {"time", {{"median_us", median_us}, {"runs", 30}}}};
}
Json per_expert(double tokens, double us) {
  return {{"tokens_per_expert", tokens}, {"per_expert_us", us}};
}

Json valid_profile() {
  return {{"schema_version", 1},
          {"provenance", {{"gpu_name", "Fuzz GPU"}}},
          {"ceilings", {{"dense_bf16_flops_per_s", 5e14}, {"copy", {{"bytes_per_s", 2e12}}}}},
          {"overheads", {{"count_copy_and_sync", {{"median_us", 12}, {"runs", 30}}}}},
          {"collectives",
           {{"all_to_all",
             {{{"ranks", 2}, {"bytes", 1024}, {"busbw_bytes_per_s", 1e9}},
              {{"ranks", 2}, {"bytes", 1 << 20}, {"busbw_bytes_per_s", 1e11}}}}}},
          {"models",
           {{{"name", "mixtral-8x7b"},
             {"hidden", 4096},
             {"expert_ffn", 14336},
             {"gate", {timed(1, 5), timed(300, 9)}},
             {"permute", {timed(1, 2), timed(300, 4)}},
             {"combine", {timed(1, 1), timed(300, 3)}},
             {"experts",
              {{"balanced",
                {{"loop", {per_expert(1, 4), per_expert(30, 8)}},
                 {"grouped", {per_expert(1, 6), per_expert(30, 7)}}}}}}}}}};
}

// The JSON pointers of the profile's leaves: where a fuzzed value goes.
void leaves(const Json& value, const std::string& pointer, std::vector<std::string>& out) {
  if (value.is_object()) {
    for (const auto& [key, child] : value.items()) leaves(child, pointer + "/" + key, out);
  } else if (value.is_array()) {
    for (std::size_t i = 0; i < value.size(); ++i)
      leaves(value[i], pointer + "/" + std::to_string(i), out);
  } else {
    out.push_back(pointer);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const Json kValid = valid_profile();
  static const std::vector<std::string> kLeaves = [] {
    std::vector<std::string> out;
    leaves(kValid, "", out);
    return out;
  }();
  FuzzedDataProvider in(data, size);
  Json profile = kValid;
  const int edits = in.ConsumeIntegralInRange(0, 6);
  for (int i = 0; i < edits; ++i) {
    const auto& pointer = kLeaves[in.ConsumeIntegralInRange<std::size_t>(0, kLeaves.size() - 1)];
    profile[Json::json_pointer(pointer)] = moesim::fuzz::interesting_value(in);
  }
  if (in.ConsumeIntegralInRange(0, 7) == 0) profile[in.ConsumeRandomLengthString(8)] = 1;
  try {
    const moesim::sim::MeasuredProfile measured(profile, "fuzz.json");
    for (const auto& name : measured.model_names())
      if (const auto* curves = measured.model(name)) {
        const double us = measured.experts_us(*curves, {0, 1, 100, 5000});
        if (!std::isfinite(us)) __builtin_trap();  // an accepted profile gave no time at all
      }
    if (const auto* curve = measured.all_to_all_curve(8))
      (void)moesim::sim::interpolate(curve->busbw, 1 << 20);
  } catch (const moesim::ConfigError&) {
  }
  return 0;
}
