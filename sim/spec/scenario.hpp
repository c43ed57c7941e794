#pragma once
// The scenario file (schema_version 1) as a typed spec. docs/scenario.schema.json describes the
// same format; tests keep the two in step through the field lists below.
#include <algorithm>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "sim/spec/choices.hpp"
#include "sim/spec/device_presets.hpp"
#include "sim/spec/model_spec.hpp"
#include "topology/nic_presets.hpp"
#include "topology/node_system.hpp"

namespace moesim::sim {

inline constexpr int kScenarioSchemaVersion = 1;

// A scenario's figures for one kind of link (cluster.links), replacing the preset's.
struct LinkOverride {
  double bandwidth = 0;   // bytes/s per direction; 0 keeps the preset's
  double efficiency = 0;  // share of line rate the collectives reach; 0: profile.network_efficiency
};

struct ClusterSpec {
  std::string name;  // preset name, or "custom"
  topology::NodeSystem system;
  int nodes = 1;
  DeviceSpec device;
  topology::NicSpec nic;
  FabricKind fabric = FabricKind::InfinibandFatTree;
  double oversubscription = 1.0;  // leaf uplinks : downlinks
  double roce_efficiency = 0.9;   // share of line rate RoCE delivers
  LinkOverride scale_up_link;     // the system's scale-up links (NVLink, xGMI, PCIe)
  LinkOverride nic_link;          // the NICs onto the fabric (IB or RoCE)
  // A topology file (docs/topology.md) the flow model plays instead of the graph built from the
  // figures above, its GPUs in rank order; empty: built. The analytic model uses the figures.
  std::string topology_file;
  int gpus() const { return nodes * system.gpus_per_node; }
};

// Training's pipeline (docs/parallelism.md): `size` stages of layers/size blocks each, the step's
// tokens cut into `micro_batches`, each stage holding `virtual_stages` chunks when interleaved.
struct PipelineSpec {
  int size = 1;
  PipelineSchedule schedule = PipelineSchedule::OneFOneB;
  int micro_batches = 1;
  int virtual_stages = 1;
};

// Data parallelism of the replicated (non-expert) weights: attention_data_parallel replicas; the
// ZeRO stage says what each shards (0: nothing, 1: optimizer state, 2: + gradients, 3: + weights).
struct DataParallelSpec {
  int zero_stage = 1;
};

struct ParallelismSpec {
  int expert_parallel = 0;  // EP size; 0 before validation = every GPU
  // Each expert's FFN split over this many GPUs (column- then row-parallel, Megatron's expert
  // tensor parallel); MoE TP x EP GPUs form the MoE group.
  int moe_tensor_parallel = 1;
  int attention_data_parallel = 0;
  int attention_tensor_parallel = 1;
  // Each sequence split over this many TP groups (ring attention, Megatron's context parallel):
  // they hold the same weights, so the weights' replicas are attention DP x CP.
  int context_parallel = 1;
  int micro_batches = 1;  // per layer, for overlap (not the pipeline's)
  Overlap overlap = Overlap::None;
  PipelineSpec pipeline;
  DataParallelSpec data;
  int data_parallel_size = 0;  // data_parallel.size as given (0: not given); = attention DP
  RankOrder rank_order = RankOrder::TpDpPp;
  // GPUs of one pipeline stage: attention TP x CP x DP, or MoE TP x EP x expert DP.
  int stage_gpus(int gpus) const { return gpus / pipeline.size; }
  int moe_group() const { return moe_tensor_parallel * expert_parallel; }
  // Replicas of the non-expert weights: the data-parallel group gradients are reduced over.
  int weight_replicas() const { return attention_data_parallel * context_parallel; }
};

struct PlacementSpec {
  PlacementStrategy strategy = PlacementStrategy::Contiguous;
  int redundant_experts = 0;  // extra expert slots across the EP group
  std::string file;           // the placement file of "explicit"
};

// Capacity and routing (docs/capacity-policy.md; sim/routing/policy.hpp applies it).
struct PolicySpec {
  double capacity_factor = 0;  // 0 = dropless (expert choice: factor 1)
  DropPolicy drop = DropPolicy::Probs;
  bool pad_to_capacity = false;   // with capacity_factor 0: Tutel's dynamic capacity
  std::int64_t min_capacity = 0;  // DeepSpeed's floor on the per-rank capacity
  RoutingMode routing = RoutingMode::TokenChoice;
  ReplicaChoice replica_choice = ReplicaChoice::RoundRobin;
};

struct RoutingSpec {
  PopularityKind generator = PopularityKind::Uniform;
  double zipf_exponent = 1.0;
  std::uint64_t seed = 1;
  // Batch-to-batch load variation (routing/load_variation.hpp): the log-normal spread of each
  // expert's share around its long-run share (default: the model's), and whether a finite batch's
  // copies also spread multinomially around those shares.
  double batch_load_sigma = 0;
  bool sampling_noise = true;
};

// Aggregated serving: each decode sequence's prompt is prefilled by the same GPUs, so a decode step
// carries (on average) the prompt tokens of the requests that replace finished ones.
struct MixedPrefillSpec {
  std::int64_t input_tokens = 0;   // prompt length; 0 = the decode steps carry no prefill
  std::int64_t output_tokens = 0;  // tokens each request emits
  PrefillScheduling scheduling = PrefillScheduling::InFlight;
  // Prompt tokens a step (or prefill pass) carries when it carries any: a chunked-prefill size,
  // or 0 for whole prompts (TensorRT-LLM on Hopper cannot chunk MLA context).
  std::int64_t chunk_tokens = 0;
  double chunk() const {
    return static_cast<double>(chunk_tokens > 0 ? std::min(chunk_tokens, input_tokens)
                                                : input_tokens);
  }
};

struct WorkloadSpec {
  WorkloadKind kind = WorkloadKind::Prefill;
  std::int64_t tokens_per_gpu = 4096;  // per step; for decode, sequences in the batch
  std::int64_t context_tokens = 4096;  // KV length each sequence attends over
  int steps = 1;
  RoutingSpec routing;
  // How the step is launched: CUDA graphs replay its kernels with a small gap (default for decode,
  // as serving stacks capture decode steps); without them each kernel pays an eager launch.
  bool cuda_graphs = false;
  // Multi-token prediction (decode): each step verifies `mtp_draft_tokens` drafted tokens per
  // sequence, each accepted with `mtp_acceptance_rate` when the ones before it were.
  int mtp_draft_tokens = 0;
  double mtp_acceptance_rate = 0;
  // Query tokens per sequence in one step: 1, or 1 + the drafts under MTP.
  int queries_per_sequence() const {
    return kind == WorkloadKind::Decode ? 1 + mtp_draft_tokens : 1;
  }
  // Expected tokens a sequence gains per step: 1 + a + a^2 + ... + a^d.
  double accepted_tokens_per_sequence() const;
  MixedPrefillSpec mixed_prefill;  // decode only
  // Prompt tokens the priced step itself carries beside its decode batch (set by simulate to price
  // the in-flight steps that carry a chunk; never read from a scenario file).
  double step_prompt_tokens = 0;
  // Prompt tokens one attention-DP rank prefills per decode step under mixed_prefill, on average:
  // a sequence lives output_tokens / accepted steps and brings input_tokens, so B sequences bring
  // B x input x accepted / output a step (0 without mixed_prefill).
  double prefill_tokens_per_step() const;
};

struct ProfileSpec {
  // "auto" (the profile measured on this device when it holds the model, else roofline),
  // "roofline", a built-in profile name (h100, h200) or a profile file.
  std::string source = "auto";
  // Where the scenario names the source (/profile or /profile/source), for a bad file's error;
  // empty when it came from the command line (the file's own error then names it).
  std::string field = "/profile";
  double compute_efficiency = 0.6;  // share of dense peak a roofline GEMM reaches
  double memory_efficiency = 0.8;   // share of HBM bandwidth
  double network_efficiency = 0.8;  // share of link line rate a collective reaches
  // A profile measured on another device than the cluster's is refused unless this is set.
  bool allow_other_device = false;
};

// "auto" plays flows at every scale in runs. Serving's step tables, which price dozens of shapes,
// keep auto's earlier rule: flows for EP groups of at most this size, analytic above
// (sim/serving/step_pricer.cpp). DeepSeek-V3 prefill at EP 256 costs about 0.4 s of CPU under
// flows against 0.16 s analytic (docs/network-model.md, "Cost and its limits").
inline constexpr int kAutoFlowMaxGpus = 16;

struct NetworkSpec {
  // Flow: every all-to-all played as max-min fair flows over the cluster graph's routes.
  // Analytic: each GPU's busiest direction over its scale-up and NIC bandwidth (fast; for sweeps).
  // Auto: flow at every scale (DeepEP's kernels are priced analytically whatever the model).
  NetworkModelKind model = NetworkModelKind::Auto;
  DispatchKind dispatch = DispatchKind::Direct;
  // A token crosses each hop once per destination (GPU; scale-up domain on the hierarchical
  // RDMA leg) however many of its top-k experts live there, as DeepEP sends it.
  bool dedup = false;
  // The kernels that run dispatch and combine; DeepEP's imply their own dispatch and dedup and are
  // priced analytically (docs/network-model.md, "DeepEP").
  AllToAllKind all_to_all = AllToAllKind::Nccl;
};

struct PriceSpec {
  std::optional<double> usd_per_gpu_hour;
  std::string date;  // YYYY-MM-DD the price was quoted
};

struct ScenarioSpec {
  std::string source;  // the file (or built-in name) it came from, for messages
  std::string name;
  std::string description;
  ModelSpec model;
  ClusterSpec cluster;
  ParallelismSpec parallelism;
  PlacementSpec placement;
  PolicySpec policy;
  WorkloadSpec workload;
  ProfileSpec profile;
  NetworkSpec network;
  PriceSpec price;
};

// Parse → validate → typed spec; throws ConfigError listing every problem.
ScenarioSpec parse_scenario(std::string_view text, const std::string& source);
// A built-in name (see builtin_scenarios.hpp) or a path to a JSON file.
ScenarioSpec load_scenario(const std::string& name_or_path);

// The fields each section accepts; docs/scenario.schema.json must list the same.
struct SectionFields {
  std::string_view section;  // JSON pointer of the object ("" = root)
  std::span<const std::string_view> fields;
};
std::span<const SectionFields> scenario_fields();

}  // namespace moesim::sim
