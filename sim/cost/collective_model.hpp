#pragma once
// The measured collective model: what an NCCL all-to-all on `ranks` GPUs of one scale-up domain
// takes, by the bytes each rank sends, read from a profile's `collectives` section
// (docs/profile-format.md). Between measured sizes the time is interpolated in log-log space
// (a power law between neighbours, as latency-bound small messages give way to bandwidth-bound
// large ones); below the smallest size the latency floor holds; above the largest, the last
// measured bandwidth. The count exchange (what an EP layer does to size its receive buffers,
// host synchronisation included) is its own term.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace moesim {
class ProblemList;
}

namespace moesim::sim {

struct TimePoint {
  double bytes = 0;  // per rank, in total over its peers
  double us = 0;     // median time of one collective (the slowest rank)
};

struct BusbwPoint {
  double bytes = 0;  // per rank, in total over its peers
  double busbw = 0;  // bytes/s, nccl-tests' bus bandwidth
};

// The all-to-all measured on `ranks` GPUs, one entry per size.
struct AllToAllTimes {
  int ranks = 0;
  std::vector<TimePoint> points;  // timed sizes, by bytes ascending (empty in older profiles)
  std::vector<BusbwPoint> busbw;  // every size, by bytes ascending
};

// A term measured per (ranks, experts): the count exchange, or the dispatch sequence.
struct CountExchangePoint {
  int ranks = 0;
  int experts = 0;
  double us = 0;
};

// Any collective measured by size on `ranks` GPUs has the same shape (nccl-tests' sizes: the
// all-reduced vector, the all-gather's output, the reduce-scatter's input, send/recv's message).
using CollectiveTimes = AllToAllTimes;

struct MeasuredCollectives {
  std::string link_kind;  // "nvlink", "pcie" or "unknown"
  std::vector<AllToAllTimes> all_to_all;
  // The tensor-, data- and pipeline-parallel collectives (docs/parallelism.md); empty in
  // profiles measured before them.
  std::vector<CollectiveTimes> all_reduce, all_gather, reduce_scatter, send_recv;
  // Host wall time of the counts' all-to-all plus the synchronisation.
  std::vector<CountExchangePoint> count_exchange;
  // The executor's dispatch with one row per (peer, expert): count exchange, host sync, buffer
  // sizing, regroup table upload, the rows' exchange on an idle stream, the regroup kernel.
  std::vector<CountExchangePoint> dispatch_sequence;
  bool empty() const {
    return all_to_all.empty() && count_exchange.empty() && dispatch_sequence.empty() &&
           all_reduce.empty() && all_gather.empty() && reduce_scatter.empty() && send_recv.empty();
  }
};

// Reads /collectives: every all_to_all, all_reduce, all_gather, reduce_scatter and send_recv entry
// once (its busbw, and its time where it has one), count_exchange[] and dispatch_sequence[].
// Problems are added with their JSON paths.
MeasuredCollectives read_measured_collectives(const nlohmann::json& document,
                                              ProblemList& problems);

// y at x on a curve of positive points, interpolated in log-log space; the first point's y below
// it; beyond the last point, y grows in proportion to x (its bandwidth holds).
double loglog_interpolate(const std::vector<TimePoint>& points, double bytes);

// The timed all-to-all measured on the ranks count nearest `ranks` (ties: the larger); null if
// none has times.
const AllToAllTimes* nearest_all_to_all(const MeasuredCollectives& collectives, int ranks);

// The timed curve of any collective on the ranks count nearest `ranks` (ties: the larger).
const CollectiveTimes* nearest_times(const std::vector<CollectiveTimes>& curves, int ranks);

// The count exchange on the nearest measured ranks and expert count; nullopt when none measured.
std::optional<double> count_exchange_us(const MeasuredCollectives& collectives, int ranks,
                                        int experts);
// The dispatch sequence likewise (ranks first, then experts); nullopt when none measured.
std::optional<double> dispatch_sequence_us(const MeasuredCollectives& collectives, int ranks,
                                           int experts);

}  // namespace moesim::sim
