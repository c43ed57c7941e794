#pragma once
// A profile measured by moesim-profile (docs/profile-format.md), read as data: piecewise-linear
// cost curves per model shape plus the device's measured ceilings. The simulator prices phases from
// it; moesim-profile --validate compares the executor against exactly these predictions.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "sim/cost/attention_core_rate.hpp"
#include "sim/cost/collective_model.hpp"
#include "sim/cost/phase_curves.hpp"
#include "sim/spec/model_spec.hpp"

namespace moesim {
class ProblemList;
}

namespace moesim::sim {

struct CurvePoint {
  double x;
  double y;
};
using Curve = std::vector<CurvePoint>;

// Linear between points; beyond the last point along the last segment; below the first, the first
// value (a fixed launch cost).
double interpolate(const Curve& curve, double x);

// FP8 / BF16 GEMM time of one measured weight shape (a model's expert GEMMs, or one n x k), by
// row count: the summed FP8 time over the summed BF16 time of the shape's GEMMs.
struct Fp8RatioCurve {
  std::string shape;           // the entries' `model`, else "N x K"
  double weight_elements = 0;  // n x k summed over the shape's distinct GEMMs
  Curve ratio;                 // x: rows, y: FP8 time / BF16 time
};

// Grouped expert GEMMs measured with `active_experts` experts sharing the launch (fewer than the
// model has): per expert, by tokens per expert (grouped_expert_curves.hpp).
struct ActiveExpertsCurve {
  int active_experts = 0;
  Curve per_expert_us;
};

struct ModelCurves {
  std::string name;  // the model preset it was measured for
  std::int64_t hidden = 0;
  std::int64_t expert_ffn = 0;
  int experts = 0;                          // the gate's width
  int top_k = 0;                            // copies permute moves per token
  Curve gate_us, permute_us, unpermute_us;  // by tokens on the GPU
  Curve expert_loop_us, expert_grouped_us;  // per expert, by tokens per expert
  // The grouped back end at fewer active experts, ascending; empty in older profiles.
  std::vector<ActiveExpertsCurve> expert_grouped_fewer;
  // The tile height the grouped curve steps at (tile_steps.hpp); 0 when it shows no step.
  double grouped_tile_rows = 0;
};

// NCCL all-to-all measured on `ranks` GPUs of one node: bus bandwidth (nccl-tests' busbw) by the
// bytes each rank sends in total.
struct CollectiveCurve {
  int ranks = 0;
  Curve busbw;  // x: bytes per rank, y: bytes/s
};

struct DeviceSpec;

// How a profile measured on one device was carried to another (device_scaled_profile.hpp).
struct DeviceScaling {
  std::string measured_on;   // device preset the curves were measured on
  std::string device;        // the device they now price
  double memory_ratio = 0;   // HBM bandwidth, datasheet: device / measured_on
  double compute_ratio = 0;  // dense BF16 rate, datasheet: device / measured_on
};

struct LayerPrediction {  // microseconds
  double gate_permute = 0;
  double dispatch = 0;
  double experts = 0;
  double combine = 0;
  double unpermute = 0;
  double layer = 0;
};

class MeasuredProfile {
 public:
  // Throws ConfigError naming `source` and the JSON path of anything malformed.
  MeasuredProfile(const nlohmann::json& document, const std::string& source);

  const std::string& source() const { return source_; }
  const std::string& gpu_name() const { return gpu_name_; }
  double dense_flops() const { return dense_flops_; }        // measured bf16 GEMM rate
  double copy_bandwidth() const { return copy_bandwidth_; }  // bytes/s, read + write
  // Added to every collective when the profile has no measured count exchange (older profiles).
  double collective_overhead_us() const {
    return collectives_.count_exchange.empty() ? count_copy_us_ : 0.0;
  }
  // An empty kernel timed as every curve point is (CUDA events around one eager launch): the
  // floor a measured op pays for each of its launches; 0 when the profile has none.
  double empty_kernel_us() const { return empty_kernel_us_; }
  // The GPU's streaming multiprocessors (provenance.sm_count); 0 when the profile does not say.
  int sm_count() const { return sm_count_; }
  // The timed NCCL collectives and the count exchange (collective_model.hpp).
  const MeasuredCollectives& collectives() const { return collectives_; }
  const ModelCurves* model(const std::string& name) const;
  // The curves measured at this model's shape (hidden, expert FFN, and experts and top-k where the
  // profile knows them), whatever the model is called; null when no measured shape matches.
  const ModelCurves* curves_for_shape(const ModelSpec& model) const;
  // The device preset the profile was measured on ("h200", "h100-sxm", ...), from its GPU name;
  // empty when the name is not one moesim knows.
  std::string device_preset() const;
  // FP8 / BF16 GEMM time at `rows` rows, from the measured shape whose weights are nearest
  // `weight_elements` (in log: small GEMMs are launch-bound and gain less from FP8 than large,
  // weight-bound ones); linear between measured row counts, flat outside them. nullopt when the
  // profile measured no FP8 GEMMs.
  std::optional<double> fp8_over_bf16(double rows, double weight_elements) const;
  bool has_fp8_gemm() const { return !fp8_ratios_.empty(); }
  // Block-scaled FP8 over per-tensor FP8 GEMM time (/fp8_block_gemm), by the same nearest-shape
  // rule; nullopt when the profile measured none.
  std::optional<double> fp8_block_over_tensor(double rows, double weight_elements) const;
  bool has_fp8_block_gemm() const { return !fp8_block_ratios_.empty(); }
  // For a profile that measured no FP8 GEMMs (or no block-scaled ones): those ratios of `other`,
  // measured on a GPU with the same tensor cores (fp8_ratio_source.hpp). fp8_ratios_from() names
  // that GPU; empty when the ratios were measured with this profile (or there are none).
  void adopt_fp8_ratios(const MeasuredProfile& other);
  const std::string& fp8_ratios_from() const { return fp8_ratios_from_; }
  // The causal attention core's share of the GEMM rate by prompt length (attention_core_rate.hpp);
  // null when the profile measured none. A profile without one adopts that of a profile measured on
  // the same tensor cores, as the FP8 ratios; attention_core_from() then names that GPU.
  const AttentionCoreCurve* attention_core() const {
    return attention_core_ ? &*attention_core_ : nullptr;
  }
  void adopt_attention_core(const MeasuredProfile& other);
  const std::string& attention_core_from() const { return attention_core_from_; }
  // The all-to-all measured on the ranks count nearest `ranks` (ties: the larger); null if none.
  const CollectiveCurve* all_to_all_curve(int ranks) const;
  std::vector<std::string> model_names() const;
  // Phase curves fitted by `moesim calibrate` (phase_curves.hpp); null when the profile has none.
  const CalibratedPhases* calibrated_phases() const {
    return calibrated_ ? &*calibrated_ : nullptr;
  }
  // Set when the profile was scaled from the device it was measured on to another.
  const std::optional<DeviceScaling>& device_scaling() const { return scaling_; }
  friend MeasuredProfile scale_profile_to_device(const MeasuredProfile& measured,
                                                 const DeviceSpec& measured_on,
                                                 const DeviceSpec& to);

  // Expert GEMMs of one GPU: the faster of the two measured back ends for this histogram.
  double experts_us(const ModelCurves& curves, const std::vector<double>& tokens_per_expert) const;
  double experts_us(const ModelCurves& curves, const std::vector<double>& tokens_per_expert,
                    const std::string& method) const;
  // A whole layer on one GPU (EP = 1), as moesim-profile --validate predicts it.
  LayerPrediction predict_ep1(const std::string& model, double tokens,
                              const std::vector<double>& histogram,
                              const std::string& method) const;

 private:
  std::string source_;
  std::string gpu_name_;
  double dense_flops_ = 0;
  double copy_bandwidth_ = 0;
  double count_copy_us_ = 0;
  double empty_kernel_us_ = 0;
  int sm_count_ = 0;
  std::vector<ModelCurves> models_;
  std::vector<Fp8RatioCurve> fp8_ratios_;
  std::vector<Fp8RatioCurve> fp8_block_ratios_;
  std::string fp8_ratios_from_;
  std::optional<AttentionCoreCurve> attention_core_;
  std::string attention_core_from_;
  std::vector<CollectiveCurve> all_to_all_;
  MeasuredCollectives collectives_;
  std::optional<CalibratedPhases> calibrated_;
  std::optional<DeviceScaling> scaling_;
};

// "h100" / "h200" (compiled in from scenarios/profiles/) or a file; throws ConfigError.
MeasuredProfile load_profile(const std::string& name_or_path);

}  // namespace moesim::sim
