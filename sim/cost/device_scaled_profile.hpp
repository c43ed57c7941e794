#pragma once
// A device with no measured profile (B200, GB200) priced from the nearest measured device's
// profile: each measured time keeps its launch floor, and the rest scales by how much faster the
// target's datasheet roofline runs that point's work (FLOPs and bytes) than the measured device's.
// So the target inherits what real kernels reach of the roofline at each kind and size (skinny
// GEMMs' tails, grouped launches with few experts, launch-bound small ops), which pricing at a flat
// share of the datasheet peaks does not; and a memory-bound point's time beyond streaming its bytes
// (latency-bound) carries over unscaled (docs/decode-model.md, "Devices without a profile").
#include <optional>
#include <string>

#include "sim/cost/measured_profile.hpp"
#include "sim/spec/device_presets.hpp"

namespace moesim::sim {

// Time of work with `flops` (BF16) and `bytes` on `to`'s datasheet roofline over that on `from`'s.
double roofline_ratio(double flops, double bytes, const DeviceSpec& from, const DeviceSpec& to);

// A time measured on one device carried to another: the part up to `floor` (launches, latency)
// stays, the rest scales by `ratio`.
double scaled_time(double measured, double floor, double ratio);

// One curve point (`measured` microseconds of work with `flops` BF16 and `bytes`) carried from
// `from` to `to`. Compute-bound on `from`: scaled_time() with the roofline ratio. Memory-bound: of
// the time above `floor`, only the bytes at the measured streaming-copy rate
// (`measured_copy_bandwidth`, bytes/s) scale with the roofline ratio; the rest is a launch with
// too few bytes in flight to stream (Little's law: bandwidth = bytes in flight / latency), and a
// faster HBM with the same DRAM latency does not shorten it. Without a copy rate, scaled_time().
double scaled_point_time(double measured, double floor, double flops, double bytes,
                         const DeviceSpec& from, const DeviceSpec& to,
                         double measured_copy_bandwidth);

// The measured profile carried from the device it was measured on to `to`: ceilings by the
// datasheet ratios, every curve point as scaled_point_time() at its own work. Floors:
// a measured op's smallest point (gate, permute, unpermute: launch-bound, as
// graph_replayed_op_us assumes), the loop's two GEMM launches an expert, the grouped back end's
// three launches shared by the experts of the launch. FP8/BF16 ratios and the attention core's
// share of the GEMM rate are kept. Collectives, the count copy and calibrated phases are dropped:
// the target's links price communication, as they do without a profile.
MeasuredProfile scale_profile_to_device(const MeasuredProfile& measured,
                                        const DeviceSpec& measured_on, const DeviceSpec& to);

// The device preset whose shipped profile prices `device` by scaling: the same vendor (first word
// of the description) with a shipped profile, nearest in HBM bandwidth (decode is memory-bound);
// nullopt when `device` has a profile of its own or no device of its vendor has one.
std::optional<std::string> nearest_measured_device(const DeviceSpec& device);

}  // namespace moesim::sim
