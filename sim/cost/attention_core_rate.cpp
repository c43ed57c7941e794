#include "sim/cost/attention_core_rate.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <string_view>

#include "base/json_fields.hpp"
#include "sim/cost/measurement_bounds.hpp"

namespace moesim::sim {
namespace {

constexpr std::string_view kSectionFields[] = {"reference_gemm_flops_per_s", "causal_prefill"};
constexpr std::string_view kEntryFields[] = {"shape",     "prompt_tokens", "batch", "heads",
                                             "kv_heads",  "d_qk",          "d_v",   "backend",
                                             "median_us", "flops_per_s"};
// A fused attention kernel below a hundredth or past twice the large GEMM's rate is a mistyped
// measurement (the H200 measured 0.26-0.81), and a share near 0 would price the core at no rate.
constexpr double kMinShareOfGemm = 0.01;
constexpr double kMaxShareOfGemm = 2.0;
constexpr std::int64_t kMaxPromptTokens = std::int64_t{1} << 24;

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

}  // namespace

double AttentionCoreCurve::smallest_prompt() const {
  return points.empty() ? 0.0 : std::exp2(points.front().log2_prompt);
}

double AttentionCoreCurve::largest_prompt() const {
  return points.empty() ? 0.0 : std::exp2(points.back().log2_prompt);
}

std::optional<AttentionCoreCurve> read_attention_core(const nlohmann::json& document,
                                                      ProblemList& problems) {
  const auto section = document.find("attention_core");
  if (section == document.end()) return std::nullopt;
  FieldReader reader(*section, "/attention_core", problems, kSectionFields);
  const double reference = reader.number("reference_gemm_flops_per_s", 0, kMaxPerSecond,
                                         std::nullopt, /*min_exclusive=*/true);
  const nlohmann::json* entries = reader.child("causal_prefill", /*required=*/true);
  reader.finish();
  if (entries == nullptr) return std::nullopt;
  if (!entries->is_array() || entries->empty()) {
    problems.add("/attention_core/causal_prefill",
                 "expected a non-empty array of {prompt_tokens, flops_per_s, ...}");
    return std::nullopt;
  }
  std::map<std::int64_t, std::vector<double>> shares;  // prompt tokens -> share of each shape
  for (std::size_t i = 0; i < entries->size(); ++i) {
    FieldReader entry((*entries)[i], fmt::format("/attention_core/causal_prefill/{}", i), problems,
                      kEntryFields);
    const std::int64_t prompt = entry.integer("prompt_tokens", 1, kMaxPromptTokens);
    const double rate = entry.number("flops_per_s", 0, kMaxPerSecond, std::nullopt, true);
    for (const std::string_view key : {"batch", "heads", "kv_heads", "d_qk", "d_v"})
      if (entry.has(key)) entry.integer(key, 1, static_cast<std::int64_t>(kMaxSize));
    for (const std::string_view key : {"shape", "backend"})
      if (entry.has(key)) entry.string(key);
    if (entry.has("median_us")) entry.number("median_us", 0, kMaxMicroseconds, std::nullopt, true);
    entry.finish();
    if (reference <= 0 || rate <= 0) continue;
    if (const double share = rate / reference;
        !(share >= kMinShareOfGemm && share <= kMaxShareOfGemm)) {
      problems.add(entry.path_of("flops_per_s"),
                   fmt::format("expected {} to {} x reference_gemm_flops_per_s, got {:.3g} x",
                               kMinShareOfGemm, kMaxShareOfGemm, share));
      continue;
    }
    shares[prompt].push_back(rate / reference);
  }
  if (!problems.empty() || shares.empty()) return std::nullopt;
  AttentionCoreCurve curve;
  for (const auto& [prompt, of_gemm] : shares)
    curve.points.push_back({std::log2(static_cast<double>(prompt)), median(of_gemm)});
  return curve;
}

double attention_core_share(const AttentionCoreCurve& curve, double prompt_tokens) {
  const auto& p = curve.points;
  const double x = std::log2(std::max(prompt_tokens, 1.0));
  if (x <= p.front().log2_prompt) return p.front().of_gemm_rate;
  if (x >= p.back().log2_prompt) return p.back().of_gemm_rate;
  const auto upper = std::upper_bound(p.begin(), p.end(), x, [](double value, const auto& point) {
    return value < point.log2_prompt;
  });
  const auto lower = upper - 1;
  const double t = (x - lower->log2_prompt) / (upper->log2_prompt - lower->log2_prompt);
  return lower->of_gemm_rate + t * (upper->of_gemm_rate - lower->of_gemm_rate);
}

}  // namespace moesim::sim
