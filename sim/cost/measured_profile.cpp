#include "sim/cost/measured_profile.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <map>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "base/config_error.hpp"
#include "base/json_fields.hpp"
#include "base/strict_json.hpp"
#include "sim/cost/grouped_expert_curves.hpp"
#include "sim/cost/measurement_bounds.hpp"
#include "sim/cost/tile_steps.hpp"
#include "sim/spec/builtin_profiles.hpp"
#include "sim/spec/model_presets.hpp"

namespace moesim::sim {
namespace {

using Json = nlohmann::json;

// The sections a profile holds (docs/profile-format.md); any other top-level key is refused.
constexpr std::string_view kProfileSections[] = {"schema_version",
                                                 "kind",
                                                 "mode",
                                                 "provenance",
                                                 "method",
                                                 "overheads",
                                                 "ceilings",
                                                 "models",
                                                 "collectives",
                                                 "dense_gemm",
                                                 "wide_spread_measurements",
                                                 "fp8_gemm",
                                                 "fp8_block_gemm",
                                                 "attention_core",
                                                 "calibrated_phases"};
// The fields of one /models entry.
constexpr std::string_view kModelFields[] = {"name",  "hidden",  "expert_ffn",    "experts",
                                             "top_k", "gating",  "expert_groups", "topk_groups",
                                             "gate",  "permute", "combine"};

// Reads a finite, positive number at `pointer` under `root`, or records what was expected.
double positive(const Json& root, const std::string& pointer, ProblemList& problems,
                double max = kMaxPerSecond) {
  return positive_number_at(root, pointer, problems, max).value_or(0);
}

// Every key of the object at `pointer` not in `known`: "unknown field", with a likely typo named.
void refuse_unknown_fields(const Json& object, const std::string& pointer,
                           std::span<const std::string_view> known, ProblemList& problems) {
  const std::vector<std::string> names(known.begin(), known.end());
  for (const auto& [key, value] : object.items()) {
    if (std::find(known.begin(), known.end(), key) != known.end()) continue;
    const auto suggestion = did_you_mean(key, names);
    problems.add(
        pointer + "/" + key,
        "unknown field" + (suggestion ? fmt::format("; did you mean '{}'?", *suggestion) : ""));
  }
}

// A `time` object's `runs`, when given, counts the timed runs behind the median: at least one.
void check_runs(const Json& root, const std::string& time_pointer, ProblemList& problems) {
  const Json::json_pointer where(time_pointer + "/runs");
  if (!root.contains(where)) return;
  const Json& runs = root.at(where);
  if (!runs.is_number_integer() || runs.get<std::int64_t>() < 1 ||
      runs.get<std::int64_t>() > 1'000'000)
    problems.add(where.to_string(),
                 "expected an integer in [1, 1000000], got " + describe_json_value(runs));
}

// A curve from an array of points: x from `x_key`, y from `y_pointer` inside each point.
Curve read_curve(const Json& root, const std::string& pointer, const char* x_key,
                 const std::string& y_pointer, ProblemList& problems) {
  Curve curve;
  const Json::json_pointer where(pointer);
  if (!root.contains(where) || !root.at(where).is_array() || root.at(where).empty()) {
    problems.add(pointer, "expected a non-empty array of measurements");
    return curve;
  }
  const Json& points = root.at(where);
  for (std::size_t i = 0; i < points.size(); ++i) {
    const std::string base = fmt::format("{}/{}", pointer, i);
    const double x = positive(root, base + "/" + x_key, problems, kMaxSize);
    const double y = positive(root, base + y_pointer, problems, kMaxMicroseconds);
    check_runs(root, base + "/time", problems);
    // Sizes grow along the array, as moesim-profile writes them: anything else is a hand edit
    // that interpolation would silently reorder.
    if (x > 0 && x < 1)  // tokens and bytes count whole things: a slope over 1e-300 is infinite
      problems.add(base + "/" + x_key, fmt::format("expected {} >= 1, got {}", x_key, x));
    else if (!curve.empty() && x > 0 && !(x > curve.back().x))
      problems.add(base + "/" + x_key, fmt::format("expected {} increasing along the array, got "
                                                   "{} after {}",
                                                   x_key, x, curve.back().x));
    curve.push_back({x, y});
  }
  return curve;
}

// /models/i: a model preset's name, sizes and measured curves; nullopt when the entry is not an
// object (recorded in `problems`).
std::optional<ModelCurves> read_model_curves(const Json& document, std::size_t i,
                                             ProblemList& problems) {
  const std::string base = fmt::format("/models/{}", i);
  const Json& entry = document["models"][i];
  if (!entry.is_object()) {
    problems.add(
        base, "expected an object of one model's measurements, got " + describe_json_value(entry));
    return std::nullopt;
  }
  refuse_unknown_fields(entry, base, kModelFields, problems);
  ModelCurves curves;
  const auto name = entry.find("name");
  if (name != entry.end() && name->is_string()) curves.name = name->get<std::string>();
  if (name != entry.end() && !name->is_string())
    problems.add(base + "/name", "expected a model preset name, got " + describe_json_value(*name));
  else if (curves.name.empty())
    problems.add(base + "/name", "expected a model preset name");
  curves.hidden =
      static_cast<std::int64_t>(positive(document, base + "/hidden", problems, kMaxSize));
  // The profiler measures a preset's shape: its router width and top-k are the preset's, unless
  // the entry says otherwise.
  if (const ModelSpec* preset = find_model(curves.name)) {
    curves.experts = preset->experts;
    curves.top_k = preset->top_k;
  }
  if (entry.contains("top_k"))
    curves.top_k = static_cast<int>(positive(document, base + "/top_k", problems, kMaxSize));
  curves.expert_ffn =
      static_cast<std::int64_t>(positive(document, base + "/expert_ffn", problems, kMaxSize));
  curves.gate_us = read_curve(document, base + "/gate", "tokens", "/time/median_us", problems);
  curves.permute_us =
      read_curve(document, base + "/permute", "tokens", "/time/median_us", problems);
  curves.unpermute_us =
      read_curve(document, base + "/combine", "tokens", "/time/median_us", problems);
  curves.expert_loop_us = read_curve(document, base + "/experts/balanced/loop", "tokens_per_expert",
                                     "/per_expert_us", problems);
  curves.expert_grouped_us = read_curve(document, base + "/experts/balanced/grouped",
                                        "tokens_per_expert", "/per_expert_us", problems);
  curves.expert_grouped_fewer = read_fewer_active_curves(document, base, curves.experts, problems);
  curves.grouped_tile_rows = detect_tile_rows(curves.expert_grouped_us);
  return curves;
}

// A ratio of two GEMM times at the same shapes: /fp8_gemm (optional; FP8 over BF16) or
// /fp8_block_gemm (optional; block-scaled FP8 over per-tensor FP8), grouped by the entries' `model`
// (moesim-profile measures each model's gate_up and down GEMMs) or else by n x k.
std::vector<Fp8RatioCurve> read_ratio_curves(const Json& document, const char* section,
                                             const char* over, const char* under,
                                             ProblemList& problems) {
  const auto it = document.find(section);
  if (it == document.end()) return {};
  if (!it->is_array() || it->empty()) {
    problems.add(fmt::format("/{}", section),
                 fmt::format("expected a non-empty array of {{m, n, k, {}, {}}}", under, over));
    return {};
  }
  struct Sums {
    std::map<std::pair<double, double>, bool> gemms;   // distinct (n, k)
    std::map<double, std::pair<double, double>> rows;  // rows -> (under us, over us) summed
  };
  std::map<std::string, Sums> shapes;
  for (std::size_t i = 0; i < it->size(); ++i) {
    const std::string base = fmt::format("/{}/{}", section, i);
    const double rows = positive(document, base + "/m", problems);
    const double n = positive(document, base + "/n", problems);
    const double k = positive(document, base + "/k", problems);
    const double denominator = positive(document, base + "/" + under, problems);
    const double numerator = positive(document, base + "/" + over, problems);
    const Json& entry = (*it)[i];
    const std::string shape =
        entry.is_object() && entry.contains("model") && entry["model"].is_string()
            ? entry["model"].get<std::string>()
            : fmt::format("{} x {}", n, k);
    Sums& sums = shapes[shape];
    sums.gemms[{n, k}] = true;
    sums.rows[rows].first += denominator;
    sums.rows[rows].second += numerator;
  }
  std::vector<Fp8RatioCurve> curves;
  for (const auto& [shape, sums] : shapes) {
    Fp8RatioCurve curve{shape, 0, {}};
    for (const auto& [nk, unused] : sums.gemms) curve.weight_elements += nk.first * nk.second;
    for (const auto& [rows, times] : sums.rows)
      if (times.first > 0 && times.second > 0)
        curve.ratio.push_back({rows, times.second / times.first});
    if (!curve.ratio.empty()) curves.push_back(std::move(curve));
  }
  return curves;
}

// The ratio at `rows` of the shape whose weights are nearest `weight_elements` in log (the first of
// equally near shapes: they are sorted by name), linear between measured rows and held flat
// outside them (no trend is extrapolated); nullopt without curves.
std::optional<double> nearest_ratio(const std::vector<Fp8RatioCurve>& curves, double rows,
                                    double weight_elements) {
  if (curves.empty()) return std::nullopt;
  const auto distance = [&](const Fp8RatioCurve& c) {
    return std::abs(std::log(c.weight_elements / std::max(weight_elements, 1.0)));
  };
  const Fp8RatioCurve* nearest = &curves.front();
  for (const Fp8RatioCurve& c : curves)
    if (distance(c) < distance(*nearest)) nearest = &c;
  const Curve& r = nearest->ratio;
  return interpolate(r, std::clamp(rows, r.front().x, r.back().x));
}

// Only the number 1; a string "1" or another type is as wrong as 2 (and never a library error).
bool is_schema_version_1(const Json& document) {
  const auto version = document.find("schema_version");
  return version != document.end() && version->is_number() && version->get<double>() == 1.0;
}

}  // namespace

double interpolate(const Curve& curve, double x) {
  if (curve.empty()) return 0;
  if (curve.size() == 1 || x <= curve.front().x) return curve.front().y;
  auto upper = std::upper_bound(curve.begin(), curve.end(), x,
                                [](double value, const CurvePoint& p) { return value < p.x; });
  if (upper == curve.end()) upper = curve.end() - 1;
  const CurvePoint& hi = *upper;
  const CurvePoint& lo = *(upper - 1);
  return lo.y + (x - lo.x) * (hi.y - lo.y) / (hi.x - lo.x);
}

MeasuredProfile::MeasuredProfile(const Json& document, const std::string& source)
    : source_(source) {
  ProblemList problems;
  if (!document.is_object()) {
    problems.add("", "expected a moesim profile object, got " + describe_json_value(document));
    problems.throw_if_any(source);
  }
  if (!is_schema_version_1(document)) problems.add("/schema_version", "expected 1");
  refuse_unknown_fields(document, "", kProfileSections, problems);
  const Json::json_pointer gpu("/provenance/gpu_name");
  gpu_name_ = document.contains(gpu) && document.at(gpu).is_string()
                  ? document.at(gpu).get<std::string>()
                  : "unknown GPU";
  const Json::json_pointer sms("/provenance/sm_count");
  if (document.contains(sms) && document.at(sms).is_number_integer() &&
      document.at(sms).get<std::int64_t>() > 0 && document.at(sms).get<std::int64_t>() < 100000)
    sm_count_ = document.at(sms).get<int>();
  dense_flops_ = positive(document, "/ceilings/dense_bf16_flops_per_s", problems);
  copy_bandwidth_ = positive(document, "/ceilings/copy/bytes_per_s", problems);
  count_copy_us_ =
      positive(document, "/overheads/count_copy_and_sync/median_us", problems, kMaxMicroseconds);
  check_runs(document, "/overheads/count_copy_and_sync", problems);
  const Json::json_pointer empty_kernel("/overheads/empty_kernel_gpu/median_us");
  if (document.contains(empty_kernel))
    empty_kernel_us_ = positive(document, empty_kernel.to_string(), problems, kMaxMicroseconds);
  fp8_ratios_ = read_ratio_curves(document, "fp8_gemm", "fp8_us", "bf16_us", problems);
  fp8_block_ratios_ =
      read_ratio_curves(document, "fp8_block_gemm", "fp8_block_us", "fp8_us", problems);
  attention_core_ = read_attention_core(document, problems);
  collectives_ = read_measured_collectives(document, problems);
  for (const auto& measured : collectives_.all_to_all) {  // the busbw view of the same entries
    CollectiveCurve& curve = all_to_all_.emplace_back(CollectiveCurve{measured.ranks, {}});
    for (const auto& point : measured.busbw) curve.busbw.push_back({point.bytes, point.busbw});
  }
  if (document.contains("calibrated_phases"))
    calibrated_ = read_calibrated_phases(document, "/calibrated_phases", problems);
  if (!document.contains("models") || !document["models"].is_array()) {
    problems.add("/models", "expected an array of per-model measurements");
  } else {
    for (std::size_t i = 0; i < document["models"].size(); ++i)
      if (auto curves = read_model_curves(document, i, problems))
        models_.push_back(std::move(*curves));
  }
  problems.throw_if_any(source);
}

const CollectiveCurve* MeasuredProfile::all_to_all_curve(int ranks) const {
  const CollectiveCurve* best = nullptr;
  for (const auto& curve : all_to_all_) {
    const int distance = std::abs(curve.ranks - ranks);
    if (best == nullptr || distance < std::abs(best->ranks - ranks) ||
        (distance == std::abs(best->ranks - ranks) && curve.ranks > best->ranks))
      best = &curve;
  }
  return best;
}

const ModelCurves* MeasuredProfile::model(const std::string& name) const {
  for (const auto& curves : models_)
    if (curves.name == name) return &curves;
  return nullptr;
}

const ModelCurves* MeasuredProfile::curves_for_shape(const ModelSpec& m) const {
  for (const auto& curves : models_)
    // Router width and top-k are compared where the profile knows them (a preset's measurements).
    if (curves.hidden == m.hidden && curves.expert_ffn == m.expert_ffn &&
        (curves.experts == 0 || curves.experts == m.experts) &&
        (curves.top_k == 0 || curves.top_k == m.top_k))
      return &curves;
  return nullptr;
}

std::string MeasuredProfile::device_preset() const {
  std::string name = gpu_name_;
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  // Longest names first: "gb200" contains "b200".
  for (const auto& [key, preset] : {std::pair{"gb200", "gb200"},
                                    {"b200", "b200"},
                                    {"h200", "h200"},
                                    {"h100", "h100-sxm"},
                                    {"mi300x", "mi300x"}})
    if (name.find(key) != std::string::npos) return preset;
  return "";
}

void MeasuredProfile::adopt_fp8_ratios(const MeasuredProfile& other) {
  const bool adopt_tensor = !has_fp8_gemm() && other.has_fp8_gemm();
  const bool adopt_block = fp8_block_ratios_.empty() && !other.fp8_block_ratios_.empty();
  if (adopt_tensor) fp8_ratios_ = other.fp8_ratios_;
  if (adopt_block) fp8_block_ratios_ = other.fp8_block_ratios_;
  if (adopt_tensor || adopt_block) fp8_ratios_from_ = other.gpu_name_;
}

void MeasuredProfile::adopt_attention_core(const MeasuredProfile& other) {
  if (attention_core_ || !other.attention_core_) return;
  attention_core_ = other.attention_core_;
  attention_core_from_ = other.gpu_name_;
}

std::optional<double> MeasuredProfile::fp8_over_bf16(double rows, double weight_elements) const {
  return nearest_ratio(fp8_ratios_, rows, weight_elements);
}

std::optional<double> MeasuredProfile::fp8_block_over_tensor(double rows,
                                                             double weight_elements) const {
  return nearest_ratio(fp8_block_ratios_, rows, weight_elements);
}

std::vector<std::string> MeasuredProfile::model_names() const {
  std::vector<std::string> names;
  for (const auto& curves : models_) names.push_back(curves.name);
  return names;
}

double MeasuredProfile::experts_us(const ModelCurves& curves, const std::vector<double>& tokens,
                                   const std::string& method) const {
  const double active = static_cast<double>(
      std::count_if(tokens.begin(), tokens.end(), [](double t) { return t > 0; }));
  double total = 0;
  for (double t : tokens) {
    if (t <= 0) continue;
    total += method == "grouped" ? grouped_per_expert_us(curves, t, active)
                                 : interpolate(curves.expert_loop_us, t);
  }
  return total;
}

double MeasuredProfile::experts_us(const ModelCurves& curves,
                                   const std::vector<double>& tokens) const {
  return std::min(experts_us(curves, tokens, "loop"), experts_us(curves, tokens, "grouped"));
}

LayerPrediction MeasuredProfile::predict_ep1(const std::string& model_name, double tokens,
                                             const std::vector<double>& histogram,
                                             const std::string& method) const {
  const ModelCurves* curves = model(model_name);
  if (curves == nullptr)
    throw ConfigError(source_, {{"/models", "no measurements for model " + model_name}});
  LayerPrediction p;
  p.gate_permute = interpolate(curves->gate_us, tokens) + interpolate(curves->permute_us, tokens);
  p.dispatch = count_copy_us_;  // at EP = 1 only the count copy-and-sync remains
  p.experts = experts_us(*curves, histogram, method);
  p.unpermute = interpolate(curves->unpermute_us, tokens);
  p.layer = p.gate_permute + p.dispatch + p.experts + p.combine + p.unpermute;
  return p;
}

MeasuredProfile load_profile(const std::string& name_or_path) {
  if (const auto text = builtin_profile_text(name_or_path))
    return MeasuredProfile(parse_strict_json(*text, name_or_path), name_or_path);
  if (!std::filesystem::exists(name_or_path))
    throw ConfigError(
        name_or_path,
        {{"", fmt::format("no such profile file, and no built-in profile of that name "
                          "(built-in: {})",
                          fmt::join(builtin_profile_names(), ", "))}});
  return MeasuredProfile(parse_strict_json(read_text_file(name_or_path), name_or_path),
                         name_or_path);
}

}  // namespace moesim::sim
