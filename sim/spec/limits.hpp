#pragma once
// The largest model, cluster and trace moesim accepts, in one place for every input kind
// (scenarios, traces, importers, generators, CLI options). docs/limits.md gives the reasons and the
// timings: the largest valid input finishes in seconds and allocates well under 2 GB.
#include <cstdint>

#include "topology/topology_limits.hpp"

namespace moesim::sim {

// Transformer blocks of a model, and MoE layers of a model or a trace (largest real: ~126).
inline constexpr std::int64_t kMaxLayers = 1024;
// Routed experts per MoE layer (largest real: 384); ids fit 2 bytes in a trace.
inline constexpr std::int64_t kMaxExperts = 8192;
// Experts each token chooses.
inline constexpr std::int64_t kMaxTopK = 256;
// Physical expert slots per MoE layer: placement costs grow with the square of this.
inline constexpr std::int64_t kMaxExpertSlots = 8192;
// Redundant expert slots across the EP group; experts + redundant <= kMaxExpertSlots, so no more
// than the slots themselves.
inline constexpr std::int64_t kMaxRedundantExperts = kMaxExpertSlots;
// MoE layers x expert slots (x experts for a trace): per-layer, per-expert tables are this long.
inline constexpr std::int64_t kMaxLayerExpertCells = std::int64_t{1} << 18;
// GPUs in a cluster (nodes x GPUs per node), and in a topology file.
inline constexpr std::int64_t kMaxGpus = std::int64_t{1} << 17;
static_assert(topology::kMaxTopologyGpus == static_cast<std::size_t>(kMaxGpus),
              "topology files and scenarios share one GPU limit");
// Tokens per step and layer in a generated or imported block (and tokens per GPU per step).
inline constexpr std::int64_t kMaxTokensPerBlock = std::int64_t{1} << 24;
// Expert choices (tokens x top_k) held at once for one block: 256 MiB of ids.
inline constexpr std::int64_t kMaxChoicesPerBlock = std::int64_t{1} << 26;
// Files an .npy manifest names over all its steps, layers and ranks: each is opened and read, so
// a few lines of pattern must not stand for days of reading.
inline constexpr std::int64_t kMaxManifestFiles = std::int64_t{1} << 18;
// Expert choices of a whole generated trace (steps x layers x tokens x top_k): a GiB of ids at one
// byte each, a file that takes minutes to write, not hours or the disk.
inline constexpr std::int64_t kMaxTraceChoices = std::int64_t{1} << 30;

// Input or output tokens of one serving request: no model's context reaches a million today.
inline constexpr std::int64_t kMaxRequestTokens = 1'000'000;
// Draft tokens a multi-token-prediction step verifies per sequence.
inline constexpr std::int64_t kMaxDraftTokens = 16;
// Candidates one `moesim plan` grid may make: each is a simulation (docs/limits.md has timings).
inline constexpr std::int64_t kMaxPlanCandidates = 4096;
// Calibration records `moesim calibrate` reads over all its files: the fit tries 672 expert curves,
// each left out one shape or record at a time, in time linear in the records (about 4 s at the
// limit, docs/limits.md); real recordings hold a few hundred.
inline constexpr std::int64_t kMaxCalibrationRecords = 10'000;
// `calibrate --cross-check`: rounds x records, each round a fit to half the records.
inline constexpr std::int64_t kMaxCrossCheckWork = 16'000;

// Model widths and sizes: products of these (parameter counts, bytes) stay far inside int64.
inline constexpr std::int64_t kMaxHidden = std::int64_t{1} << 16;
inline constexpr std::int64_t kMaxFfnWidth = std::int64_t{1} << 18;
// Attention (query and key-value) heads of a block (largest real: 128); head widths and latent
// ranks are bounded by kMaxHidden.
inline constexpr std::int64_t kMaxAttentionHeads = 1024;
inline constexpr std::int64_t kMaxVocab = std::int64_t{1} << 22;
inline constexpr std::int64_t kMaxAttentionParamsPerLayer = std::int64_t{1} << 40;
inline constexpr std::int64_t kMaxKvBytesPerTokenPerLayer = std::int64_t{1} << 24;
// The width of one attention head or of MLA's latent.
inline constexpr std::int64_t kMaxHeadWidth = std::int64_t{1} << 16;

}  // namespace moesim::sim
