#pragma once
// DeepEP's dispatch and combine kernels priced as latency + bytes / bandwidth
// (docs/network-model.md, "DeepEP"). Each GPU's time is the kernels' fixed floor plus the slower
// of its two hops, which run at once: its busier NVLink direction and its busier NIC direction.
// Normal kernels carry a token once per node over RDMA and once per GPU over NVLink
// (network.dispatch "hierarchical", dedup true); low-latency kernels send one message per
// (token, expert) copy, straight to the expert's GPU, with no count exchange before it.
#include "sim/spec/scenario.hpp"

namespace moesim::sim {

// Share of line rate DeepEP's kernels move over each kind of link. RDMA: 0.88 x 50 GB/s = 44 GB/s
// a CX7, what its internode normal kernels reach once the local node's tokens (which DeepEP counts
// but which never cross the NIC) are taken out: EP 32 moves 82 MB in 1.885 ms = 43.5 GB/s, EP 64
// 106 MB in 2.375 ms = 44.6 GB/s (docs/accuracy.md derives both). NVLink: 0.67 x 200 GB/s = 134
// GB/s an H800, its intranode row: 153 GB/s counted over the rank's received bytes, of which 7/8
// cross NVLink, 153 x 7/8 = 134. Every other published figure is held out against these two.
inline constexpr double kDeepEpRdmaEfficiency = 0.88;
inline constexpr double kDeepEpNvlinkEfficiency = 0.67;
// What a dispatch or combine costs beyond its bytes: the kernel launch, the per-expert count and
// flag messages its receivers wait on (one RDMA round trip) and the receive pass over the buffer.
// DeepEP's low-latency rows give it as the intercept of time against RDMA bytes: 118 us at EP 16
// less 3.79 MB / 44 GB/s = 86 us leaves 32 us; 194 us at EP 256 less 7.35 MB / 44 GB/s = 167 us
// leaves 27 us; the combine's EP 16 and EP 256 rows leave 28 and 37 us. 30 us, for both kernels.
inline constexpr double kDeepEpFloorSeconds = 30e-6;

// Bytes of one token copy on the wire. FP8 (one byte an element) carries a 4-byte scale per 128
// elements (DeepEP's per-block quantisation); low-latency dispatch messages add 16 bytes of source
// index and layout. DeepSeek-V3 (hidden 7168): an FP8 dispatch copy is 7168 + 224 = 7392 bytes
// normal, 7408 low-latency; a BF16 combine copy 14336 either way.
double deepep_copy_bytes(AllToAllKind kind, int hidden, double element_bytes, bool dispatch);

// Line rates one GPU's hops run at (bytes/s per direction) and the efficiencies that apply.
struct DeepEpRates {
  double nvlink = 0;  // the GPU's scale-up port
  double nic = 0;     // its share of the node's NICs
  double nvlink_efficiency = kDeepEpNvlinkEfficiency;
  double nic_efficiency = kDeepEpRdmaEfficiency;
};

// The scenario's per-GPU line rates: its scale-up port and its share of the node's NICs (over
// the fabric's oversubscription, and RoCE's efficiency on RoCE). A `cluster.links` efficiency the
// scenario sets replaces DeepEP's own for that kind (a box the user measured).
DeepEpRates deepep_rates(const ScenarioSpec& scenario);

// Seconds for one GPU's dispatch or combine: the floor, then `intra_bytes` (its busier NVLink
// direction) and `inter_bytes` (its busier NIC direction) moving at once.
double deepep_transfer_time(const DeepEpRates& rates, double intra_bytes, double inter_bytes);

// SMs DeepEP's normal kernels hold for as long as they run (deep_ep.Buffer.num_sms, 20 unless set;
// SGLang hands DeepGEMM the rest). Low-latency kernels free theirs once their messages are issued.
inline constexpr int kDeepEpNormalSms = 20;

// How much more than the SMs they give up GEMMs lose beside a kernel resident on 20 SMs, measured
// on one H200 (docs/measurements/README.md, "Compute beside a paced copy"): eight GEMMs of a
// DeepSeek-V3 prefill layer (expert gate/up at 2,048, 8,192 and 16,384 rows, expert down, eight
// experts' gate/up and down in one batched call, q up-projection, o projection) beside a copy
// holding 20 SMs took 1.22-1.88 times their time alone on all 132 SMs; over 132 / 112 = 1.179
// from the SMs alone that is 1.03-1.59, median 1.106. Each is the faster of cuBLAS told the 112
// SMs left (as SGLang tells DeepGEMM) and told nothing (its CTAs still run on the SMs left): told
// 112, cuBLAS's pick for this GPU ran up to 1.8x slower still beside the copy (the 8,192-row
// gate/up 1.09 ms, against 0.84 ms told 108 beside a 24-SM copy), a library's choice a tuned
// stack avoids. The 8,192-row gate/up did not move with the copy's rate (25-400 GB/s; the others
// were measured at 100): how tiles fill the SMs left, not bandwidth. FP8 GEMMs of the same layer
// (torch._scaled_mm) lost x1.08 median beyond the SMs' share. Taken for every GPU (only the H200
// was measured).
inline constexpr double kGemmBesideResidentKernelExcess = 1.106;

// How much longer a block's compute takes beside DeepEP's normal kernels on a GPU of `sms` SMs:
// sms / (sms - 20) x kGemmBesideResidentKernelExcess when an overlap (any but none) runs them at
// once and EP > 1, since compute kernels then get the other SMs; 1 otherwise or when `sms` is
// unknown (0).
double deepep_overlapped_compute_factor(const ScenarioSpec& scenario, int sms);

// How much longer DeepEP's normal kernels take while an overlap runs compute beside them than in
// DeepEP's own tests: DeepSeek's published prefill profile (profile-data, EP 32, two micro-batches)
// against DeepEP's unit tests at the same shape, dispatch + combine a layer: (11.6 + 19.3) /
// (7.2 + 14.3) = 1.44 (docs/network-model.md, "Beside compute"). The kernels share HBM and SMs'
// memory pipes with the GEMMs and elementwise kernels beside them (docs/measurements/README.md).
inline constexpr double kDeepEpOverlappedSlowdown = 1.44;

// kDeepEpOverlappedSlowdown when the scenario runs normal kernels under an overlap (any but none)
// at EP > 1; 1 otherwise. Low-latency kernels hold no SMs while compute runs.
double deepep_overlapped_comm_factor(const ScenarioSpec& scenario);

// The count exchange before a dispatch: the normal kernels' notify (a tiny all-to-all of counts,
// one floor); none for the low-latency kernels, whose buffers are sized for the worst case.
double deepep_notify_time(AllToAllKind kind);

}  // namespace moesim::sim
