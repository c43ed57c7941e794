#pragma once
// Prices an MoE layer from a profile JSON: the model the simulator uses, in one place, so that
// --validate compares the executor against exactly what a profile predicts.
//   gate(T), permute(T), combine(T): piecewise-linear in tokens between measured points;
//   experts(histogram) = sum over experts with tokens of per_expert_us(t_e), per_expert_us
//     piecewise-linear in tokens per expert on the balanced curve;
//   dispatch at EP=1 = the count copy-and-sync overhead.
// Beyond the last point a curve extrapolates along its last segment; below the first it holds
// the first value (fixed launch cost).
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace moesim::profiler {

struct CurvePoint {
  double x;
  double y;
};

double interpolate(const std::vector<CurvePoint>& curve, double x);

struct LayerPrediction {
  double gate_permute_us = 0;
  double dispatch_us = 0;
  double experts_us = 0;
  double combine_us = 0;
  double unpermute_us = 0;
  double layer_us = 0;
};

class ProfileModel {
 public:
  explicit ProfileModel(const nlohmann::json& profile);
  // Single-GPU (EP=1) layer: histogram has one count per expert of the model.
  LayerPrediction predict_ep1(const std::string& model, int tokens, const std::vector<int>& histogram,
                              const std::string& gemm_method) const;

 private:
  const nlohmann::json& model_section(const std::string& model) const;
  std::vector<CurvePoint> token_curve(const std::string& model, const char* op) const;
  std::vector<CurvePoint> expert_curve(const std::string& model, const std::string& method) const;
  nlohmann::json profile_;
};

}  // namespace moesim::profiler
