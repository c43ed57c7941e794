#pragma once
// The result of one simulated step, as the run stage produces it; report/ serialises it.
#include <optional>
#include <string>
#include <vector>

#include "sim/cost/layer_result.hpp"
#include "sim/cost/memory_model.hpp"
#include "sim/spec/scenario.hpp"

namespace moesim::sim {

inline constexpr std::size_t kBusiestLinks = 10;

struct GpuResult {
  int gpu = 0;
  double compute_s = 0;
  double communication_s = 0;
  double idle_s = 0;
  double expert_tokens = 0;    // per step, summed over layers
  double dropped_tokens = 0;   // copies meant for this GPU's experts that overflowed, per step
  double unrouted_tokens = 0;  // of this GPU's own tokens, those no expert processed, per step
};

struct LinkUse {
  std::string kind;  // "nvlink", "pcie", "ib", "roce"
  double bytes_per_step = 0;
  double utilisation = 0;  // bytes / (capacity x step time), over all links of the kind
};

// One direction of one link, among the most loaded of the step (one EP group).
struct BusyLink {
  std::string name;  // graph link "from -> to" (flow model), or a GPU's port (analytic model)
  std::string kind;
  double bytes_per_step = 0;
  double utilisation = 0;  // bytes / (line rate x step time)
};

// Every link of the step's network (the cost model's links, in its order: graph links under the
// flow model, each GPU's ports under the analytic one), for drawing load over the topology (the
// GUI). Not written to report.json, which keeps busiest_links. A phase's utilisation is the link's
// rate while that phase runs: its bytes over the phase's time on the slowest GPU, both summed over
// the forward pass's MoE layers and micro-batches.
struct LinkLoad {
  std::string name;
  std::string kind;
  double capacity = 0;  // bytes/s, line rate
  double bytes_per_step = 0;
  double utilisation = 0;  // bytes / (capacity x step time), as busiest_links
  double dispatch_utilisation = 0;
  double combine_utilisation = 0;
};

// What a step pays outside its blocks (seconds), and what a decode step yields per sequence.
struct StepExtras {
  double lm_head = 0;          // LM head and sampling
  double mtp_drafts = 0;       // the MTP module's draft passes
  double launch_floor = 0;     // kernels x launch gap: the step takes at least this
  double launch_fixed = 0;     // once per step (a CUDA graph's replay)
  double kernel_overhead = 0;  // small-kernel time above the roofline, over the step's kernels
  int kernels = 0;
  bool cuda_graphs = false;
  double accepted_tokens_per_sequence = 1;  // 1 + a + ... + a^d under MTP
  // Aggregated serving (workload.mixed_prefill): prompt tokens one attention-DP rank prefills per
  // step on average, and what they add to the step on average (seconds): the steps or passes
  // that carry a chunk, times the share of steps that do.
  double prefill_tokens = 0;
  double mixed_prefill = 0;
};

// A training step's parts (run/training_step.hpp; docs/parallelism.md), seconds per step on the
// slowest pipeline stage. The exposed parts sum to the step time exactly: forward + backward +
// pipeline_bubble + pipeline_send_recv + gradient_reduce + param_all_gather + optimizer.
struct TrainingPhases {
  double forward = 0;             // micro_batches x the stage's forward
  double backward = 0;            // micro_batches x the stage's backward
  double pipeline_bubble = 0;     // (p - 1) x (F + B) [/ virtual stages]: warm-up and drain
  double pipeline_send_recv = 0;  // activations forward, gradients back, each micro-batch
  double gradient_reduce = 0;     // exposed after overlap with the last backward
  double param_all_gather = 0;    // exposed (ZeRO: gathers the updated or sharded weights)
  double optimizer = 0;           // the Adam step on this GPU's share of the parameters
  // Before overlap: what the collectives take in all.
  double gradient_reduce_work = 0;
  double param_all_gather_work = 0;
  // Per micro-batch on the slowest stage.
  double stage_forward = 0;
  double stage_backward = 0;
  double send_recv = 0;  // one stage-to-stage message
  int slowest_stage = 0;
  int stages = 1;
  int micro_batches = 1;
  int virtual_stages = 1;
  std::string schedule = "1f1b";
  int zero_stage = 1;
  int data_parallel = 1;         // GPUs of a data-parallel group (the dense gradients')
  int expert_data_parallel = 1;  // GPUs of an expert data-parallel group (the experts')
  std::string gradient_collective = "reduce_scatter";  // or "all_reduce" (ZeRO 0)
  double bubble_fraction = 0;                          // bubble / (forward + backward + bubble)
  std::vector<std::string> assumptions;                // stated in the report and the docs
  std::vector<int> gpu_stage;  // each GPU's pipeline stage (rank_order's pp), for the timeline
  double total() const {
    return forward + backward + pipeline_bubble + pipeline_send_recv + gradient_reduce +
           param_all_gather + optimizer;
  }
};

// Where a report came from (filled at the input edge, report/provenance.hpp): the moesim version,
// each input's path (or built-in name) and CRC-32C, and what the run scaled or tiled.
struct InputRecord {
  std::string role;    // "scenario", "trace", "profile"
  std::string path;    // a file, or a built-in name
  std::string crc32c;  // hex of the bytes read (a built-in's compiled-in text); empty for none
  bool builtin = false;
};
struct Provenance {
  std::string moesim_version;
  std::vector<InputRecord> inputs;
  std::vector<std::string> adjustments;  // "trace: 4096 tokens per layer scaled to 32768 ..."
};

// The batch-to-batch load variation a step was priced under (routing/load_variation.hpp).
struct LoadVariationUse {
  bool applied = false;  // false: a trace, a capacity, or neither sigma nor sampling noise
  double sigma = 0;
  bool sampling_noise = false;
  double expected_imbalance = 1;  // max/mean of the expected loads alone, as `imbalance` sums it
};

struct Report {
  std::string scenario;
  std::string model;
  std::string cluster;
  std::string workload;
  int gpus = 0;
  std::string profile_source = "roofline";
  std::string profile_name;  // which profile, when profile_source is "measured" or "calibrated"
  // With a calibrated profile: its stack, the phases its curves priced, and the step's relative
  // error band from their leave-one-shape-out errors (docs/accuracy.md); band 0 without one.
  std::string calibration_stack;
  std::vector<std::string> calibrated_phases;
  double error_band = 0;
  std::string network_model = "analytic";  // how all-to-alls were priced: "flow" or "analytic"
  Overlap overlap = Overlap::None;         // as the scenario's parallelism
  int micro_batches = 1;
  double step_time_s = 0;
  double tokens_per_step = 0;
  double dropped_tokens = 0;
  double routed_tokens = 0;    // token-expert assignments before drops
  double unrouted_tokens = 0;  // tokens that reached no expert, per step
  bool unrouted_estimated = false;
  std::string routing = "token-choice";  // the policy's routing mode
  double imbalance = 1;  // busiest GPU over the mean, summed over MoE layers, as the step priced it
  LoadVariationUse load_variation;
  MemoryBreakdown memory;
  double device_memory_bytes = 0;
  std::optional<double> usd_per_gpu_hour;
  std::string price_date;
  std::vector<LayerResult> layers;
  std::vector<GpuResult> per_gpu;
  std::vector<LinkUse> links;
  std::vector<BusyLink> busiest_links;     // most utilised first, at most kBusiestLinks
  std::vector<LinkLoad> link_loads;        // every link; in memory only (see LinkLoad)
  int ep_groups_played = 1;                // EP groups whose links busiest_links covers
  std::string dispatch = "direct";         // "direct" or "hierarchical"
  std::string collective_costs;            // where scale-up all-to-all bandwidth came from
  std::vector<std::string> pricing_notes;  // LayerCostModel::pricing_notes
  StepExtras extras;
  std::optional<TrainingPhases> training;  // training workloads only
  bool dedup = false;
  Provenance provenance;

  double tokens_per_s() const { return step_time_s > 0 ? tokens_per_step / step_time_s : 0; }
  // Decode: the time between a sequence's output tokens (TPOT).
  double time_per_output_token_s() const {
    return step_time_s / extras.accepted_tokens_per_sequence;
  }
  std::optional<double> cost_per_million_tokens() const;
};

}  // namespace moesim::sim
