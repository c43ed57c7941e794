#include "sim/cost/device_scaled_profile.hpp"

#include <algorithm>
#include <cmath>
#include <span>

#include "sim/cost/tile_steps.hpp"
#include "sim/spec/builtin_profiles.hpp"

namespace moesim::sim {
namespace {

// The executor's back ends (kernels/expert_ffn.cpp, grouped_gemm.cpp): the loop launches a
// gate_up and a down GEMM per expert; the grouped back end launches two grouped GEMMs and one
// SwiGLU for all the experts of the launch.
constexpr double kLoopLaunchesPerExpert = 2;
constexpr double kGroupedLaunches = 3;

// FLOPs and bytes of the work a curve point measured.
struct PointWork {
  double flops = 0;
  double bytes = 0;
};

// The two devices and what the measured one's kernels reached of its HBM.
struct Carry {
  const DeviceSpec& from;
  const DeviceSpec& to;
  double measured_copy_bandwidth = 0;  // bytes/s, read + write; 0 when the profile has none
};

// Scales each point of `curve` above `floor` (scaled_point_time).
template <typename WorkAt>
void scale_curve(Curve& curve, double floor, const Carry& carry, WorkAt&& work_at) {
  for (CurvePoint& point : curve) {
    const PointWork work = work_at(point.x);
    point.y = scaled_point_time(point.y, floor, work.flops, work.bytes, carry.from, carry.to,
                                carry.measured_copy_bandwidth);
  }
}

// A measured op whose smallest point is its launches (gate, permute, unpermute).
template <typename WorkAt>
void scale_op_curve(Curve& curve, const Carry& carry, WorkAt&& work_at) {
  if (!curve.empty()) scale_curve(curve, curve.front().y, carry, work_at);
}

void scale_model_curves(ModelCurves& c, double empty_kernel_us, const Carry& carry) {
  const double hidden = static_cast<double>(c.hidden);
  const double ffn = static_cast<double>(c.expert_ffn);
  const double experts = std::max(1, c.experts);
  const double top_k = std::max(1, c.top_k);
  // Gate: a BF16 [tokens x hidden] x [hidden x experts] GEMM writing FP32 logits.
  scale_op_curve(c.gate_us, carry, [&](double tokens) {
    return PointWork{2 * hidden * experts * tokens,
                     2 * hidden * (experts + tokens) + 4 * experts * tokens};
  });
  // Permute and unpermute: each BF16 token copy read and written once.
  const auto copies = [&](double tokens) { return PointWork{0, 4 * hidden * top_k * tokens}; };
  scale_op_curve(c.permute_us, carry, copies);
  scale_op_curve(c.unpermute_us, carry, copies);
  // One expert at `rows` rows: gate_up (hidden -> 2 ffn) and down (ffn -> hidden) in BF16, the
  // weights read once, each row's activations in and out of both GEMMs.
  const auto expert = [&](double rows) {
    return PointWork{6 * hidden * ffn * rows, 6 * hidden * ffn + 2 * rows * (2 * hidden + 3 * ffn)};
  };
  scale_curve(c.expert_loop_us, kLoopLaunchesPerExpert * empty_kernel_us, carry, expert);
  scale_curve(c.expert_grouped_us, kGroupedLaunches * empty_kernel_us / experts, carry, expert);
  for (ActiveExpertsCurve& fewer : c.expert_grouped_fewer)
    scale_curve(fewer.per_expert_us,
                kGroupedLaunches * empty_kernel_us / std::max(1, fewer.active_experts), carry,
                expert);
  c.grouped_tile_rows = detect_tile_rows(c.expert_grouped_us);
}

std::string vendor_of(const DeviceSpec& device) {
  return device.description.substr(0, device.description.find(' '));
}

}  // namespace

double roofline_ratio(double flops, double bytes, const DeviceSpec& from, const DeviceSpec& to) {
  const double on_from = std::max(flops / from.bf16_flops, bytes / from.hbm_bandwidth);
  const double on_to = std::max(flops / to.bf16_flops, bytes / to.hbm_bandwidth);
  return on_from > 0 ? on_to / on_from : 1.0;
}

double scaled_time(double measured, double floor, double ratio) {
  return std::min(measured, floor) + std::max(0.0, measured - floor) * ratio;
}

double scaled_point_time(double measured, double floor, double flops, double bytes,
                         const DeviceSpec& from, const DeviceSpec& to,
                         double measured_copy_bandwidth) {
  const double ratio = roofline_ratio(flops, bytes, from, to);
  const bool memory_bound = flops / from.bf16_flops <= bytes / from.hbm_bandwidth;
  if (!memory_bound || measured_copy_bandwidth <= 0) return scaled_time(measured, floor, ratio);
  // Above the floor: the bytes at the rate a streaming copy reached on the measured device scale
  // with HBM; what the point took beyond that waited on memory latency and stays.
  const double above_floor = std::max(0.0, measured - floor);
  const double streaming = std::min(above_floor, bytes / measured_copy_bandwidth * 1e6);
  return std::min(measured, floor) + streaming * ratio + (above_floor - streaming);
}

MeasuredProfile scale_profile_to_device(const MeasuredProfile& measured,
                                        const DeviceSpec& measured_on, const DeviceSpec& to) {
  MeasuredProfile scaled = measured;
  scaled.source_ = measured.source_ + " scaled to " + to.name;
  scaled.dense_flops_ *= to.bf16_flops / measured_on.bf16_flops;
  scaled.copy_bandwidth_ *= to.hbm_bandwidth / measured_on.hbm_bandwidth;
  const Carry carry{measured_on, to, measured.copy_bandwidth_};
  for (ModelCurves& curves : scaled.models_)
    scale_model_curves(curves, measured.empty_kernel_us_, carry);
  scaled.count_copy_us_ = 0;
  scaled.collectives_ = {};
  scaled.all_to_all_.clear();
  scaled.calibrated_.reset();
  scaled.scaling_ = DeviceScaling{.measured_on = measured_on.name,
                                  .device = to.name,
                                  .memory_ratio = to.hbm_bandwidth / measured_on.hbm_bandwidth,
                                  .compute_ratio = to.bf16_flops / measured_on.bf16_flops};
  return scaled;
}

std::optional<std::string> nearest_measured_device(const DeviceSpec& device) {
  if (builtin_profile_for_device(device.name)) return std::nullopt;
  const DeviceSpec* nearest = nullptr;
  const auto distance = [&](const DeviceSpec& d) {
    return std::abs(std::log(d.hbm_bandwidth / device.hbm_bandwidth));
  };
  for (const DeviceSpec& candidate : device_presets())
    if (builtin_profile_for_device(candidate.name) && vendor_of(candidate) == vendor_of(device) &&
        (nearest == nullptr || distance(candidate) < distance(*nearest)))
      nearest = &candidate;
  return nearest ? std::optional<std::string>(nearest->name) : std::nullopt;
}

}  // namespace moesim::sim
