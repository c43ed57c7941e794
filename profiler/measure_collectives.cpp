// The profile's `collectives` section (docs/profile-format.md): NCCL all-to-all, all-to-allv with
// MoE-like splits, send/recv, all-reduce, all-gather and reduce-scatter from 1 KiB to 1 GiB per
// rank on every rank count, the count
// exchange and host sync of a dropless EP layer, and the latency floor. Every rank runs this;
// rank 0 gathers the samples and writes the section.
#include <cuda_runtime.h>

#include <chrono>

#include "kernels/copy_row_chunks.hpp"
#include "kernels/cuda_resources.hpp"
#include "kernels/fill.hpp"
#include "profiler/collective_ops.hpp"
#include "profiler/collective_results.hpp"
#include "profiler/measurements.hpp"
#include "profiler/routing.hpp"

namespace moesim::profiler {
namespace {

constexpr int kWarmupOps = 5;
constexpr int kRuns = 30;  // the profile contract: at least 20 timed runs per point
constexpr int kCountExchangeRuns = 50;

using Op = std::function<void(cudaStream_t)>;

// Each destination rank's share of a MoE layer's dispatched rows: DeepSeek-V3-shaped routing
// (256 experts, top-8) with Zipf(1.2) expert popularity, experts split contiguously over the ranks
// as the executor splits them. Every sender uses the same popularity: the hot experts are hot
// for everyone, so the rank that holds them receives more.
std::vector<double> moe_destination_shares(int ranks) {
  constexpr int kExperts = 256, kTopK = 8, kTokens = 8192;
  const Routing routing = generate_routing(kTokens, kTopK, kExperts, 1.2, 20261130);
  std::vector<double> shares(ranks, 0.0);
  for (int expert : routing.expert_ids)
    shares[static_cast<std::size_t>(expert) * ranks / kExperts] += 1;
  return shares;
}

class CollectiveBench {
 public:
  CollectiveBench(RankComm& comm, std::size_t max_bytes, int max_ranks)
      : comm_(comm), send_(max_bytes), recv_(max_bytes * max_ranks) {
    // Random bytes, never zeros (METHOD.md); NCCL moves them without looking, but a copy engine
    // or a compressor must not get an easy case.
    kernels::launch_fill_uniform_bf16(reinterpret_cast<__nv_bfloat16*>(send_.data()),
                                      static_cast<long long>(send_.bytes() / 2), 1.0f,
                                      977 + comm.rank(), stream_.get());
    stream_.synchronize();
  }

  // GPU time per op of `ops_per_run` back-to-back ops, one sample per run, runs aligned by a
  // barrier. Every rank calls this; non-members (member = false) only take part in the barriers.
  // `before`, when given, is enqueued ahead of the start event, untimed.
  std::vector<double> time_gpu(bool member, int ops_per_run, const Op& op, const Op& before = {}) {
    if (member) {
      for (int i = 0; i < kWarmupOps; ++i) op(stream_.get());
      stream_.synchronize();
    }
    std::vector<double> samples;
    for (int run = 0; run < kRuns; ++run) {
      comm_.barrier();
      if (!member) continue;
      if (before) before(stream_.get());
      start_.record(stream_.get());
      for (int i = 0; i < ops_per_run; ++i) op(stream_.get());
      stop_.record(stream_.get());
      stop_.synchronize();
      samples.push_back(1000.0 * stop_.elapsed_ms_since(start_) / ops_per_run);
    }
    return samples;
  }

  // Host wall time of one call that ends in a stream synchronisation (`op` syncs or not: this
  // syncs after it), runs aligned by a barrier: what a caller waits for one isolated operation.
  std::vector<double> time_host(bool member, int runs, const Op& op) {
    if (member) {
      for (int i = 0; i < kWarmupOps; ++i) op(stream_.get());
      stream_.synchronize();
    }
    std::vector<double> samples;
    for (int run = 0; run < runs; ++run) {
      comm_.barrier();
      if (!member) continue;
      const auto t0 = std::chrono::steady_clock::now();
      op(stream_.get());
      stream_.synchronize();
      samples.push_back(
          std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
    }
    return samples;
  }

  const char* send() const { return send_.data(); }
  char* recv() const { return recv_.data(); }
  RankComm& comm() { return comm_; }

 private:
  RankComm& comm_;
  kernels::CudaStream stream_;
  kernels::CudaEvent start_, stop_;
  kernels::DeviceBuffer<char> send_, recv_;
};

// The splits of one operation at one size on `ranks` ranks, for this rank.
struct Splits {
  std::vector<std::size_t> send, recv;
};

Splits make_splits(CollectiveOp op, std::size_t bytes, int ranks, int rank) {
  const std::vector<double> shares = op == CollectiveOp::AllToAllv
                                         ? moe_destination_shares(ranks)
                                         : std::vector<double>(ranks, 1.0);
  Splits s;
  s.send = split_bytes(bytes, shares, 16);
  // Every sender splits by the same shares, so each peer sends this rank its piece `rank`.
  s.recv.assign(ranks, s.send[rank]);
  return s;
}

Op make_op(CollectiveOp op, const CollectiveBench& bench, const Splits& splits, std::size_t bytes,
           ncclComm_t comm) {
  using Enqueue = void (*)(const char*, char*, std::size_t, ncclComm_t, cudaStream_t);
  Enqueue whole = nullptr;  // the operations sized by one byte count
  if (op == CollectiveOp::SendRecv) whole = enqueue_send_recv;
  if (op == CollectiveOp::AllReduce) whole = enqueue_all_reduce;
  if (op == CollectiveOp::AllGather) whole = enqueue_all_gather;
  if (op == CollectiveOp::ReduceScatter) whole = enqueue_reduce_scatter;
  if (whole != nullptr)
    return [&bench, bytes, comm, whole](cudaStream_t s) {
      whole(bench.send(), bench.recv(), bytes, comm, s);
    };
  return [&bench, splits, comm](cudaStream_t s) {
    enqueue_all_to_allv(bench.send(), splits.send, bench.recv(), splits.recv, comm, s);
  };
}

// One operation over every size on `ranks` ranks (comm null where this rank is not a member).
nlohmann::json sweep(CollectiveBench& bench, CollectiveOp op, int ranks,
                     const kernels::NcclComm* comm, const std::vector<std::size_t>& sizes,
                     const Progress& progress) {
  const int rank = bench.comm().rank();
  nlohmann::json entries = nlohmann::json::array();
  progress(collective_name(op) + " on " + std::to_string(ranks) + " rank(s)");
  for (std::size_t bytes : sizes) {
    const int ops = collective_ops_per_run(bytes);
    const Splits splits = make_splits(op, bytes, ranks, rank < ranks ? rank : 0);
    const Op run = make_op(op, bench, splits, bytes, comm != nullptr ? comm->get() : nullptr);
    const auto per_rank = gather_samples(bench.comm(), bench.time_gpu(comm != nullptr, ops, run));
    if (rank != 0) continue;
    nlohmann::json entry = collective_entry(op, ranks, bytes, ops, per_rank);
    if (op == CollectiveOp::AllToAllv) entry["send_bytes_per_peer"] = splits.send;
    entries.push_back(entry);
  }
  return entries;
}

}  // namespace

namespace {

// Experts per layer of Mixtral (8), Qwen3-30B-A3B (128) and DeepSeek-V3 (256).
constexpr int kCountExchangeExperts[] = {8, 128, 256};

nlohmann::json count_exchange(CollectiveBench& bench, int ranks, const kernels::NcclComm* comm,
                              const Progress& progress) {
  progress("count exchange + host sync on " + std::to_string(ranks) + " rank(s)");
  const bool member = bench.comm().rank() < ranks;
  nlohmann::json entries = nlohmann::json::array();
  for (int experts : kCountExchangeExperts) {
    if (experts % ranks != 0) continue;
    kernels::DeviceBuffer<int> counts(experts), received(experts);
    kernels::PinnedBuffer<int> host_counts(experts), host_received(experts);
    MOESIM_CUDA_CHECK(cudaMemset(counts.data(), 1, counts.bytes()));
    // One rank exchanges nothing, exactly as the executor at EP=1.
    ncclComm_t nccl = comm != nullptr && ranks > 1 ? comm->get() : nullptr;
    const auto samples = bench.time_host(member, kCountExchangeRuns, [&](cudaStream_t s) {
      run_count_exchange(counts.data(), experts, received.data(), host_counts.data(),
                         host_received.data(), nccl, s);
    });
    std::vector<std::vector<double>> per_rank = gather_samples(bench.comm(), samples);
    if (bench.comm().rank() != 0) continue;
    std::vector<std::vector<double>> members;
    for (auto& s : per_rank)
      if (!s.empty()) members.push_back(s);
    entries.push_back({{"ranks", ranks},
                       {"experts", experts},
                       {"count_bytes_per_peer", static_cast<int>(sizeof(int)) * experts / ranks},
                       {"timer", "host steady_clock around enqueue + cudaStreamSynchronize"},
                       {"time", to_json(summarise(max_over_ranks(members)))}});
  }
  return entries;
}

// The smallest message NCCL moves (one int32 per peer), timed two ways: back to back on the GPU
// (the floor inside a stream of collectives) and as one isolated call waited for on the host
// (what a layer that synchronises after its all-to-all pays).
nlohmann::json latency_floor(CollectiveBench& bench, int ranks, const kernels::NcclComm* comm,
                             const Progress& progress) {
  progress("latency floor on " + std::to_string(ranks) + " rank(s)");
  nlohmann::json entries = nlohmann::json::array();
  const int rank = bench.comm().rank();
  for (CollectiveOp op : {CollectiveOp::AllToAll, CollectiveOp::SendRecv}) {
    const std::size_t bytes =
        op == CollectiveOp::SendRecv ? 4 : 4 * static_cast<std::size_t>(ranks);
    const Splits splits{std::vector<std::size_t>(ranks, 4), std::vector<std::size_t>(ranks, 4)};
    const Op run = make_op(op, bench, splits, bytes, comm != nullptr ? comm->get() : nullptr);
    const auto gpu = gather_samples(bench.comm(), bench.time_gpu(comm != nullptr, 20, run));
    const auto host = gather_samples(bench.comm(), bench.time_host(comm != nullptr, kRuns, run));
    if (rank != 0) continue;
    nlohmann::json entry = collective_entry(op, ranks, bytes, 20, gpu);
    entry["op"] = collective_name(op);
    entry["single_call_host"] = collective_entry(op, ranks, bytes, 1, host)["time"];
    entries.push_back(entry);
  }
  return entries;
}

// The fixed part of a dropless EP layer's dispatch, as the executor runs it (kernels/
// moe_layer_executor.cpp: exchange_counts, plan_regroup, exchange_rows, copy_row_chunks) with one
// 16-byte row per (peer, expert): the count exchange and its host synchronisation, the host sizing
// the receive buffers and planning the regroup, the regroup table's upload, the rows' exchange
// launched on a stream the sync left idle, and the regroup kernel.
class DispatchSequence {
 public:
  static constexpr int kRowHidden = 8;  // bf16 elements: one 16-byte row

  DispatchSequence(int experts, int ranks)
      : experts_(experts),
        ranks_(ranks),
        local_(experts / ranks),
        counts_(experts),
        received_(experts),
        host_counts_(experts),
        host_received_(experts),
        host_chunks_(experts),
        chunks_(experts),
        rows_(static_cast<std::size_t>(experts) * kRowHidden),
        arrived_(rows_.size()),
        grouped_(rows_.size()) {
    const std::vector<int> ones(experts, 1);  // one row for every expert from every peer
    MOESIM_CUDA_CHECK(
        cudaMemcpy(counts_.data(), ones.data(), counts_.bytes(), cudaMemcpyHostToDevice));
  }

  void run(ncclComm_t comm, cudaStream_t stream) {
    run_count_exchange(counts_.data(), experts_, received_.data(), host_counts_.data(),
                       host_received_.data(), comm, stream);
    // Received chunk (peer, expert) goes expert-major; sends and receives sized from the counts.
    std::vector<std::size_t> send_bytes(ranks_, 0), recv_bytes(ranks_, 0);
    long long row = 0;
    for (int e = 0; e < local_; ++e)
      for (int peer = 0; peer < ranks_; ++peer) {
        const int chunk = peer * local_ + e;
        host_chunks_[chunk] = {chunk, row, host_received_[chunk]};
        row += host_received_[chunk];
        recv_bytes[peer] += 16ull * static_cast<std::size_t>(host_received_[chunk]);
        send_bytes[peer] += 16ull * static_cast<std::size_t>(host_counts_[chunk]);
      }
    MOESIM_CUDA_CHECK(cudaMemcpyAsync(chunks_.data(), host_chunks_.data(), chunks_.bytes(),
                                      cudaMemcpyHostToDevice, stream));
    enqueue_all_to_allv(reinterpret_cast<const char*>(rows_.data()), send_bytes,
                        reinterpret_cast<char*>(arrived_.data()), recv_bytes, comm, stream);
    kernels::launch_copy_row_chunks(arrived_.data(), chunks_.data(), experts_, kRowHidden,
                                    grouped_.data(), stream);
  }

 private:
  int experts_, ranks_, local_;
  kernels::DeviceBuffer<int> counts_, received_;
  kernels::PinnedBuffer<int> host_counts_, host_received_;
  kernels::PinnedBuffer<kernels::RowChunk> host_chunks_;
  kernels::DeviceBuffer<kernels::RowChunk> chunks_;
  kernels::DeviceBuffer<__nv_bfloat16> rows_, arrived_, grouped_;
};

// The dispatch sequence timed by CUDA events from the end of a 128 MiB fill (the GPU busy, as
// with gate and permute, while the host enqueues) to the end of the regroup. The simulator adds
// the rows' bytes (their all-to-all beyond its floor, the regroup copy) to this.
nlohmann::json dispatch_sequence(CollectiveBench& bench, int ranks, const kernels::NcclComm* comm,
                                 const Progress& progress) {
  nlohmann::json entries = nlohmann::json::array();
  if (ranks < 2) return entries;  // one rank exchanges and regroups nothing
  progress("dispatch sequence on " + std::to_string(ranks) + " ranks");
  const bool member = bench.comm().rank() < ranks;
  kernels::DeviceBuffer<__nv_bfloat16> busy(64ull << 20);
  const Op keep_busy = [&busy](cudaStream_t s) {
    kernels::launch_fill_uniform_bf16(busy.data(), static_cast<long long>(busy.size()), 1.0f, 7, s);
  };
  for (int experts : kCountExchangeExperts) {
    if (experts % ranks != 0) continue;
    DispatchSequence sequence(experts, ranks);
    ncclComm_t nccl = member ? comm->get() : nullptr;
    const Op run = [&sequence, nccl](cudaStream_t s) { sequence.run(nccl, s); };
    const auto per_rank = gather_samples(bench.comm(), bench.time_gpu(member, 1, run, keep_busy));
    if (bench.comm().rank() != 0) continue;
    std::vector<std::vector<double>> members;
    for (const auto& samples : per_rank)
      if (!samples.empty()) members.push_back(samples);
    entries.push_back({{"ranks", ranks},
                       {"experts", experts},
                       {"row_bytes", 16},
                       {"rows_per_peer", experts / ranks},
                       {"timer", "CUDA events: end of a 128 MiB fill to the end of the regroup"},
                       {"time", to_json(summarise(max_over_ranks(members)))}});
  }
  return entries;
}

// 1, 2, 4, ... up to the world size, and the world size itself.
std::vector<int> rank_counts(int world) {
  std::vector<int> counts;
  for (int n = 1; n < world; n *= 2) counts.push_back(n);
  counts.push_back(world);
  return counts;
}

void append(nlohmann::json& to, const nlohmann::json& entries) {
  for (const auto& e : entries) to.push_back(e);
}

}  // namespace

nlohmann::json measure_collectives(RankComm& comm, const kernels::NcclComm& world,
                                   const CollectiveOptions& options, const Progress& progress) {
  const auto sizes = collective_message_sizes(options.quick);
  CollectiveBench bench(comm, sizes.back(), comm.size());
  nlohmann::json section = {{"link_kind", options.link_kind},
                            {"launcher", comm.launcher()},
                            {"ranks_measured", rank_counts(comm.size())}};
  for (const char* key : {"all_to_all", "all_to_allv", "send_recv", "all_reduce", "all_gather",
                          "reduce_scatter", "count_exchange", "dispatch_sequence", "latency_floor"})
    section[key] = nlohmann::json::array();
  section["one_rank"] = {{"all_to_all", nlohmann::json::array()},
                         {"send_recv", nlohmann::json::array()}};
  for (int ranks : rank_counts(comm.size())) {
    // ncclCommSplit is collective over the world communicator: every rank calls it.
    std::unique_ptr<kernels::NcclComm> part =
        ranks == comm.size()
            ? nullptr
            : world.split(comm.rank() < ranks ? 0 : NCCL_SPLIT_NOCOLOR, comm.rank());
    const kernels::NcclComm* member = ranks == comm.size() ? &world : part.get();
    nlohmann::json& into = ranks == 1 ? section["one_rank"] : section;
    append(into["all_to_all"],
           sweep(bench, CollectiveOp::AllToAll, ranks, member, sizes, progress));
    if (ranks > 1)
      append(into["all_to_allv"],
             sweep(bench, CollectiveOp::AllToAllv, ranks, member, sizes, progress));
    append(into["send_recv"], sweep(bench, CollectiveOp::SendRecv, ranks, member, sizes, progress));
    // The tensor- and data-parallel collectives (docs/parallelism.md); one rank reduces nothing.
    if (ranks > 1)
      for (CollectiveOp reduction :
           {CollectiveOp::AllReduce, CollectiveOp::AllGather, CollectiveOp::ReduceScatter})
        append(section[collective_name(reduction)],
               sweep(bench, reduction, ranks, member, sizes, progress));
    append(section["count_exchange"], count_exchange(bench, ranks, member, progress));
    append(section["dispatch_sequence"], dispatch_sequence(bench, ranks, member, progress));
    append(section["latency_floor"], latency_floor(bench, ranks, member, progress));
  }
  if (comm.size() < 2)
    section["skipped"] =
        "only 1 rank: all_to_all, all_to_allv and send_recv across GPUs need at least 2 "
        "(run one process per GPU: mpirun -np N, or the built-in launcher)";
  section["method"] = {
      {"warmup_ops", kWarmupOps},
      {"runs", kRuns},
      {"timer", "CUDA events around ops_per_run back-to-back operations; one sample per run"},
      {"run_alignment", "host barrier over all ranks before every run"},
      {"time", "per run, the slowest rank's time per operation"}};
  return comm.rank() == 0 ? section : nlohmann::json::object();
}

}  // namespace moesim::profiler
