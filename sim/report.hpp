#pragma once
// The result of a run: DESIGN.md's report contract. report.json is the source; CSV, the Perfetto
// timeline and the terminal summary are derived from it.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "sim/scenario.hpp"

namespace moesim::sim {

inline constexpr int kReportSchemaVersion = 1;
inline constexpr std::size_t kBusiestLinks = 10;

struct PhaseTimes {  // seconds, on the slowest GPU (it gates each collective)
  double dense = 0;
  double gate = 0;
  double dispatch = 0;
  double experts = 0;
  double combine = 0;
  double total = 0;  // after overlap
};

struct LayerResult {
  int layer = 0;  // block index in the model
  bool moe = false;
  PhaseTimes phases;
  double imbalance = 1;  // max/mean tokens over GPUs of the EP group
  double dropped_tokens = 0;              // routed copies over capacity, per step
  std::vector<double> dropped_per_expert;  // per logical expert, per step
  std::vector<double> dropped_per_gpu;     // per EP rank: what one GPU of that rank drops per step
  double unrouted_tokens = 0;             // tokens no expert processed (residual only), per step
  std::vector<double> unrouted_per_gpu;   // per EP rank: one source GPU's unrouted tokens per step
  bool unrouted_estimated = false;        // from a sampled estimate (docs/capacity-policy.md)
  std::vector<double> tokens_per_expert;  // global, after drops
  std::vector<double> gpu_experts;        // per EP rank, one micro-batch: its own expert GEMM time
  double scale_up_bytes = 0;              // one EP group, one micro-batch, dispatch + combine
  double scale_out_bytes = 0;
};

struct GpuResult {
  int gpu = 0;
  double compute_s = 0;
  double communication_s = 0;
  double idle_s = 0;
  double expert_tokens = 0;   // per step, summed over layers
  double dropped_tokens = 0;   // copies meant for this GPU's experts that overflowed, per step
  double unrouted_tokens = 0;  // of this GPU's own tokens, those no expert processed, per step
};

struct MemoryBreakdown {  // bytes per GPU
  double weights = 0;
  double optimizer = 0;
  double kv_cache = 0;
  double activations = 0;
  double total() const { return weights + optimizer + kv_cache + activations; }
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

struct Report {
  std::string scenario;
  std::string model;
  std::string cluster;
  std::string workload;
  int gpus = 0;
  std::string profile_source = "roofline";
  std::string profile_name;
  std::string network_model = "analytic";
  Overlap overlap = Overlap::None;  // as the scenario's parallelism
  int micro_batches = 1;  // how all-to-alls were priced: "flow" or "analytic"  // which measured profile, when profile_source is "measured"
  double step_time_s = 0;
  double tokens_per_step = 0;
  double dropped_tokens = 0;
  double routed_tokens = 0;  // token-expert assignments before drops
  double unrouted_tokens = 0;  // tokens that reached no expert, per step
  bool unrouted_estimated = false;
  std::string routing = "token-choice";  // the policy's routing mode
  double imbalance = 1;
  MemoryBreakdown memory;
  double device_memory_bytes = 0;
  std::optional<double> usd_per_gpu_hour;
  std::string price_date;
  std::vector<LayerResult> layers;
  std::vector<GpuResult> per_gpu;
  std::vector<LinkUse> links;
  std::vector<BusyLink> busiest_links;  // most utilised first, at most kBusiestLinks
  int ep_groups_played = 1;             // EP groups whose links busiest_links covers
  std::string dispatch = "direct";      // "direct" or "hierarchical"
  std::string collective_costs;         // where scale-up all-to-all bandwidth came from
  bool dedup = false;

  double tokens_per_s() const { return step_time_s > 0 ? tokens_per_step / step_time_s : 0; }
  std::optional<double> cost_per_million_tokens() const;
};

nlohmann::json report_to_json(const Report& report);
std::string report_to_csv(const Report& report);
// Chrome trace JSON (ui.perfetto.dev): pid = GPU, tid = stream, ts/dur in microseconds; every
// micro-batch laid out under the scenario's overlap; one process of counters for link load.
nlohmann::json report_to_timeline(const Report& report, int max_gpus = 64);
std::string report_summary_text(const Report& report);

}  // namespace moesim::sim
