// `moesim check`'s report reader and comparison, structure-aware: two reports whose summary
// metrics (the default policy's gated ones among them) take fuzzed values (null, strings, 1e308,
// huge integers), read through load_report and compared with the default policy and a fuzzed
// --fail-on. Only a ConfigError may come out, and a gated metric that cannot be compared must be a
// regression (the verdict that cannot be fooled). The reports are read from memory through
// parse_report, the checks load_report makes after reading a file: no file per input.
#include <cstddef>
#include <cstdint>
#include <string>

#include "base/config_error.hpp"
#include "sim/report/check.hpp"
#include "tests/fuzz/fuzz_values.hpp"

namespace {

constexpr const char* kMetrics[] = {
    "step_time_ms",   "tokens_per_s", "tokens_per_s_per_gpu",    "imbalance_max_over_mean",
    "dropped_tokens", "drop_rate",    "peak_memory_gib_per_gpu", "cost_per_million_tokens_usd",
    "unrouted_tokens"};

nlohmann::json fuzzed_report(FuzzedDataProvider& in) {
  nlohmann::json summary = nlohmann::json::object();
  for (const char* metric : kMetrics)
    if (in.ConsumeIntegralInRange(0, 5) > 0)  // mostly present, so comparisons happen
      summary[metric] = in.ConsumeBool() ? nlohmann::json(in.ConsumeFloatingPointInRange(0.0, 1e6))
                                         : moesim::fuzz::interesting_value(in);
  nlohmann::json report{
      {"schema_version", in.ConsumeIntegralInRange(0, 2) == 0 ? moesim::fuzz::interesting_value(in)
                                                              : nlohmann::json(1)},
      {"summary", summary}};
  if (in.ConsumeBool()) report["scenario"] = {{"name", in.ConsumeRandomLengthString(8)}};
  return report;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // The default policy does not depend on the input: parsed once.
  static const auto kDefaultPolicy = moesim::sim::load_check_policy("");
  FuzzedDataProvider in(data, size);
  try {
    const std::string baseline_path = "a.json";
    const std::string candidate_path = "b.json";
    const std::string baseline_text = moesim::fuzz::dump(fuzzed_report(in));
    const std::string candidate_text = moesim::fuzz::dump(fuzzed_report(in));
    auto tolerances = kDefaultPolicy;
    if (in.ConsumeBool())
      tolerances.push_back(moesim::sim::parse_fail_on(in.ConsumeRandomLengthString(24)));
    const auto baseline = moesim::sim::parse_report(baseline_text, baseline_path);
    const auto candidate = moesim::sim::parse_report(candidate_text, candidate_path);
    const auto result = moesim::sim::compare_reports(baseline, baseline_path, candidate,
                                                     candidate_path, tolerances);
    for (const auto& metric : result.metrics)
      if (metric.tolerance && !metric.tolerance->from_default_policy &&
          !metric.not_compared.empty() && !metric.regression)
        __builtin_trap();  // a gated metric that could not be compared passed
    (void)moesim::sim::check_table_text(result);
    (void)moesim::sim::check_junit_xml(result);
    (void)moesim::sim::check_github_annotations(result);
  } catch (const moesim::ConfigError&) {
  }
  return 0;
}
