#pragma once
// Where a profile that measured no FP8 GEMMs (or no attention core) gets its FP8/BF16 GEMM time
// ratios (and its attention core's share of the GEMM rate). The ratio is the
// tensor cores' (how much faster a GEMM runs in FP8 at each size), not the memory's, so it carries
// between parts of one chip: H100 SXM and H200 are one GH100 with different HBM (989 / 1,979
// TFLOP/s dense BF16 / FP8 on both datasheets). Without it, FP8 GEMMs would run at the datasheet's
// 2x, where the H200 measured 1.6-1.8x at 4,096 rows (docs/decode-model.md).
#include "sim/cost/measured_profile.hpp"
#include "sim/spec/device_presets.hpp"

namespace moesim::sim {

// `profile`, measured on `measured_on`, adopts the FP8/BF16 ratios and the attention core curve
// of the shipped profile of a device with the same vendor and the same datasheet BF16 and FP8
// peaks (its own device's included), each when it measured none itself and such a profile
// measured one. Otherwise it is left as it is.
void adopt_same_chip_ratios(const DeviceSpec& measured_on, MeasuredProfile& profile);

}  // namespace moesim::sim
