#include "profiler/validate_ep.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "kernels/moe_layer_executor.hpp"
#include "profiler/stats.hpp"
#include "profiler/validation_cases.hpp"

namespace moesim::profiler {
namespace {

constexpr const char* kEpPhases[] = {"gate_permute", "count_exchange", "dispatch", "experts",
                                     "combine",      "unpermute",      "layer"};

std::vector<double> phase_values(const kernels::MoePhaseTimes& t) {
  return {t.gate_permute_ms, t.count_exchange_ms, t.dispatch_ms, t.experts_ms,
          t.combine_ms,      t.unpermute_ms,      t.layer_ms};
}

// Rows each rank's experts receive: every rank routes the same way (same histogram), so rank r
// receives ranks x its experts' share of one histogram.
std::vector<long long> rows_per_rank(const std::vector<int>& histogram, int ranks) {
  std::vector<long long> rows(ranks, 0);
  const std::size_t local = histogram.size() / ranks;
  for (std::size_t e = 0; e < histogram.size(); ++e)
    rows[e / local] += static_cast<long long>(histogram[e]) * ranks;
  return rows;
}

// The back end the profile predicts faster for the busiest rank's experts.
bool prefer_loop(const sim::MeasuredProfile& profile, const ModelShape& shape,
                 const std::vector<int>& histogram, int ranks) {
  const sim::ModelCurves* curves = profile.model(shape.name);
  if (curves == nullptr) return false;
  const std::size_t local = histogram.size() / ranks;
  double loop = 0, grouped = 0;
  for (int r = 0; r < ranks; ++r) {
    std::vector<double> mine;
    for (std::size_t e = r * local; e < (r + 1) * local; ++e) mine.push_back(histogram[e] * ranks);
    loop = std::max(loop, profile.experts_us(*curves, mine, "loop"));
    grouped = std::max(grouped, profile.experts_us(*curves, mine, "grouped"));
  }
  return loop <= grouped;
}

// Warm up by count and by time, with the same number of runs on every rank (each run is a
// collective): rank 0 decides how many more runs reach 300 ms and tells the others.
void warm_up(RankComm& comm, kernels::MoeLayerExecutor& layer) {
  double warm_ms = 0;
  for (int i = 0; i < 10; ++i) {
    comm.barrier();
    warm_ms += layer.run().layer_ms;
  }
  std::string extra = std::to_string(
      warm_ms >= 300 ? 0 : static_cast<int>(std::ceil((300 - warm_ms) / (warm_ms / 10))));
  comm.broadcast_from_root(extra);
  for (int i = 0, n = std::stoi(extra); i < n; ++i) {
    comm.barrier();
    layer.run();
  }
}

nlohmann::json phases_json(RankComm& comm, const std::vector<std::vector<double>>& samples_us) {
  nlohmann::json phases = nlohmann::json::object();
  for (std::size_t p = 0; p < std::size(kEpPhases); ++p) {
    const auto per_rank = gather_samples(comm, samples_us[p]);
    if (comm.rank() != 0) continue;
    nlohmann::json medians = nlohmann::json::array();
    for (const auto& s : per_rank) medians.push_back(summarise(s).median_us);
    nlohmann::json entry = to_json(summarise(max_over_ranks(per_rank)));
    entry["rank_median_us"] = medians;
    phases[kEpPhases[p]] = entry;
  }
  return phases;
}

nlohmann::json run_case(RankComm& comm, kernels::MoeLayerExecutor& layer, const ModelShape& shape,
                        const ValidationCase& c, bool use_loop, int runs) {
  const Routing routing = validation_routing(shape, c);
  layer.set_gemm_method(use_loop ? kernels::GemmMethod::Loop : kernels::GemmMethod::Grouped);
  layer.set_routing(routing.expert_ids, routing.weights, c.tokens);
  warm_up(comm, layer);
  std::vector<std::vector<double>> samples(std::size(kEpPhases));
  for (int i = 0; i < runs; ++i) {
    comm.barrier();  // ranks start each run together, as the layers of a real step do
    const auto values = phase_values(layer.run());
    for (std::size_t p = 0; p < values.size(); ++p) samples[p].push_back(values[p] * 1000);
  }
  nlohmann::json phases = phases_json(comm, samples);
  const auto histogram = expert_histogram(routing.expert_ids, shape.experts);
  return {{"model", shape.name},
          {"batch", c.batch},
          {"tokens_per_rank", c.tokens},
          {"routing", c.routing},
          {"ep", comm.size()},
          {"gemm_method", use_loop ? "loop" : "grouped"},
          {"received_rows_per_rank", rows_per_rank(histogram, comm.size())},
          {"expert_histogram", histogram},  // one rank's copies per expert; every rank routes alike
          {"runs", runs},
          {"timer", "CUDA events per phase; time = per run, the slowest rank"},
          {"phases", phases}};
}

}  // namespace

nlohmann::json run_ep_validation(RankComm& comm, const kernels::NcclComm& world,
                                 const sim::MeasuredProfile& profile, int runs,
                                 const Progress& progress) {
  nlohmann::json cases = nlohmann::json::array();
  kernels::CudaStream stream;
  for (const ModelShape& shape : profiled_models()) {
    kernels::MoeLayerConfig config = validation_config(shape);
    config.rank = comm.rank();
    config.world = comm.size();
    config.comm = world.get();
    kernels::MoeLayerExecutor layer(config, stream.get());
    for (const ValidationCase& c : kValidationCases) {
      const Routing routing = validation_routing(shape, c);
      const bool use_loop = prefer_loop(
          profile, shape, expert_histogram(routing.expert_ids, shape.experts), comm.size());
      progress(fmt::format("validate EP={} {} {} {}", comm.size(), shape.name, c.batch, c.routing));
      nlohmann::json entry = run_case(comm, layer, shape, c, use_loop, runs);
      if (comm.rank() == 0) cases.push_back(std::move(entry));
    }
  }
  return cases;
}

}  // namespace moesim::profiler
