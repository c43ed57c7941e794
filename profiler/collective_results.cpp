#include "profiler/collective_results.hpp"

#include <algorithm>
#include <numeric>
#include <stdexcept>

#include "profiler/rank_comm.hpp"
#include "profiler/stats.hpp"

namespace moesim::profiler {

std::string collective_name(CollectiveOp op) {
  switch (op) {
    case CollectiveOp::AllToAll:
      return "all_to_all";
    case CollectiveOp::AllToAllv:
      return "all_to_allv";
    case CollectiveOp::SendRecv:
      return "send_recv";
    case CollectiveOp::AllReduce:
      return "all_reduce";
    case CollectiveOp::AllGather:
      return "all_gather";
    case CollectiveOp::ReduceScatter:
      return "reduce_scatter";
  }
  throw std::logic_error("collective_name: unknown op");
}

double bus_bandwidth(CollectiveOp op, double algbw_bytes_per_s, int ranks) {
  if (op == CollectiveOp::SendRecv) return algbw_bytes_per_s;
  if (op == CollectiveOp::AllReduce) return algbw_bytes_per_s * 2 * (ranks - 1) / ranks;
  return algbw_bytes_per_s * (ranks - 1) / ranks;
}

std::vector<std::size_t> collective_message_sizes(bool quick) {
  std::vector<std::size_t> sizes;
  const int step = quick ? 4 : 1;
  for (int power = 10; power <= 30; power += step) sizes.push_back(std::size_t{1} << power);
  return sizes;
}

int collective_ops_per_run(std::size_t bytes) {
  // ~10 us per op below 1 MiB: 50 ops make a run long enough that the ranks' start skew after
  // the barrier (a few us) stays a small part of it.
  if (bytes <= (std::size_t{1} << 20)) return 50;
  if (bytes <= (std::size_t{4} << 20)) return 20;
  if (bytes <= (std::size_t{64} << 20)) return 5;
  return 2;
}

std::vector<std::size_t> split_bytes(std::size_t total, const std::vector<double>& shares,
                                     std::size_t granule) {
  const double sum = std::accumulate(shares.begin(), shares.end(), 0.0);
  if (shares.empty() || sum <= 0 || granule == 0)
    throw std::invalid_argument("split_bytes: needs positive shares and granule");
  std::vector<std::size_t> pieces(shares.size(), 0);
  std::size_t given = 0;
  std::size_t last = 0;
  for (std::size_t i = 0; i < shares.size(); ++i) {
    const double exact = static_cast<double>(total) * shares[i] / sum;
    pieces[i] = static_cast<std::size_t>(exact / static_cast<double>(granule)) * granule;
    given += pieces[i];
    if (shares[i] > 0) last = i;
  }
  pieces[last] += total - given;
  return pieces;
}

nlohmann::json collective_entry(CollectiveOp op, int ranks, std::size_t bytes, int ops_per_run,
                                const std::vector<std::vector<double>>& per_rank_samples_us) {
  std::vector<std::vector<double>> members;
  nlohmann::json rank_medians = nlohmann::json::array();
  for (const auto& samples : per_rank_samples_us) {
    if (samples.empty()) continue;
    members.push_back(samples);
    rank_medians.push_back(summarise(samples).median_us);
  }
  const Stats time = summarise(max_over_ranks(members));
  const double algbw =
      time.median_us > 0 ? static_cast<double>(bytes) / (time.median_us * 1e-6) : 0;
  return {{"ranks", ranks},
          {"bytes", bytes},
          {"algbw_bytes_per_s", algbw},
          {"busbw_bytes_per_s", bus_bandwidth(op, algbw, ranks)},
          {"ops_per_run", ops_per_run},
          {"rank_median_us", rank_medians},
          {"time", to_json(time)}};
}

}  // namespace moesim::profiler
