#include "profiler/profile_model.hpp"

#include <algorithm>
#include <stdexcept>

namespace moesim::profiler {

double interpolate(const std::vector<CurvePoint>& curve, double x) {
  if (curve.empty()) throw std::invalid_argument("interpolate: empty curve");
  if (curve.size() == 1 || x <= curve.front().x) return curve.front().y;
  auto upper = std::upper_bound(curve.begin(), curve.end(), x,
                                [](double value, const CurvePoint& p) { return value < p.x; });
  if (upper == curve.end()) upper = curve.end() - 1;
  const CurvePoint& hi = *upper;
  const CurvePoint& lo = *(upper - 1);
  return lo.y + (x - lo.x) * (hi.y - lo.y) / (hi.x - lo.x);
}

ProfileModel::ProfileModel(const nlohmann::json& profile) : profile_(profile) {}

const nlohmann::json& ProfileModel::model_section(const std::string& model) const {
  for (const auto& section : profile_.at("models"))
    if (section.at("name") == model) return section;
  throw std::invalid_argument("profile has no measurements for model " + model);
}

std::vector<CurvePoint> ProfileModel::token_curve(const std::string& model, const char* op) const {
  std::vector<CurvePoint> curve;
  for (const auto& p : model_section(model).at(op))
    curve.push_back({p.at("tokens").get<double>(), p.at("time").at("median_us").get<double>()});
  std::sort(curve.begin(), curve.end(), [](auto a, auto b) { return a.x < b.x; });
  return curve;
}

std::vector<CurvePoint> ProfileModel::expert_curve(const std::string& model,
                                                   const std::string& method) const {
  std::vector<CurvePoint> curve;
  for (const auto& p : model_section(model).at("experts").at("balanced").at(method))
    curve.push_back({p.at("tokens_per_expert").get<double>(), p.at("per_expert_us").get<double>()});
  std::sort(curve.begin(), curve.end(), [](auto a, auto b) { return a.x < b.x; });
  return curve;
}

LayerPrediction ProfileModel::predict_ep1(const std::string& model, int tokens,
                                          const std::vector<int>& histogram,
                                          const std::string& gemm_method) const {
  LayerPrediction p;
  p.gate_permute_us = interpolate(token_curve(model, "gate"), tokens) +
                      interpolate(token_curve(model, "permute"), tokens);
  p.dispatch_us = profile_.at("overheads").at("count_copy_and_sync").at("median_us").get<double>();
  const auto curve = expert_curve(model, gemm_method);
  for (int t : histogram)
    if (t > 0) p.experts_us += interpolate(curve, t);
  p.combine_us = 0;  // nothing leaves the GPU at EP=1
  p.unpermute_us = interpolate(token_curve(model, "combine"), tokens);
  p.layer_us = p.gate_permute_us + p.dispatch_us + p.experts_us + p.combine_us + p.unpermute_us;
  return p;
}

}  // namespace moesim::profiler
