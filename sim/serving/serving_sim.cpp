#include "sim/serving/serving_sim.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <deque>
#include <functional>

#include "sim/engine/event_queue.hpp"
#include "sim/serving/traffic_budget.hpp"

namespace moesim::sim {
namespace {

// A request the instance has admitted: its KV is reserved until it finishes.
struct Active {
  std::size_t record = 0;
  std::int64_t prefill_left = 0;  // prompt tokens still to compute
  std::int64_t chunk = 0;         // of those, computed in the step under way
  double generated = 0;           // output tokens so far
};

class Instance {
 public:
  using FinishHook = std::function<void(std::size_t record)>;
  Instance(ServingRole role, const BatchingSpec& batching, const InstanceShape& shape,
           StepPricer& pricer, EventQueue& queue, std::vector<RequestRecord>& records)
      : role_(role),
        batching_(batching),
        shape_(shape),
        pricer_(pricer),
        queue_(queue),
        records_(records) {}

  void set_finish_hook(FinishHook hook) { on_finish_ = std::move(hook); }

  // A request (already in records) reaches the instance now.
  void arrive(std::size_t record) {
    count_in_system(+1);
    RequestRecord& r = records_[record];
    if (role_ == ServingRole::DecodeOnly) r.first_token_s = r.arrival_s;
    if (role_ == ServingRole::DecodeOnly && r.output_tokens <= 1) {
      finish(record);  // the prefill's token was the whole answer
      return;
    }
    waiting_.push_back(record);
    // Start after every arrival of this instant has queued: they may share the first step.
    if (!busy_ && !kick_pending_) {
      kick_pending_ = true;
      queue_.schedule_after(SimTime::zero(), [this] {
        kick_pending_ = false;
        if (!busy_) start_step();
      });
    }
  }

  ServingRun result() {
    ServingRun run;
    run.steps = steps_;
    run.busy_s = busy_s_;
    run.end_s = queue_.now().seconds();
    count_in_system(0);
    run.mean_requests_in_system = run.end_s > 0 ? in_system_area_ / run.end_s : 0;
    run.mean_decode_batch = decode_steps_ > 0 ? decode_batch_sum_ / decode_steps_ : 0;
    run.oversized_prompts = oversized_;
    run.never_fit = never_fit_;
    return run;
  }

 private:
  // Time-weighted count of requests between arrival and finish.
  void count_in_system(int change) {
    const double now = queue_.now().seconds();
    in_system_area_ += in_system_ * (now - last_change_s_);
    last_change_s_ = now;
    in_system_ += change;
  }

  // A prefill-only instance holds the prompt's KV until it has been sent; the others the whole
  // sequence.
  std::int64_t kv_need(const RequestRecord& r) const {
    return role_ == ServingRole::PrefillOnly ? r.input_tokens : r.input_tokens + r.output_tokens;
  }

  // Prefill chunks for this step: unfinished prompts first, then new requests in arrival order
  // while the budget, the batch limit and the KV cache allow. Returns the budget left.
  void plan_prefill(std::int64_t budget_left) {
    const std::int64_t full_budget = batching_.token_budget_per_rank * shape_.data_parallel_ranks;
    for (auto& p : prefilling_) {
      p.chunk = std::min(p.prefill_left, budget_left);
      budget_left -= p.chunk;
    }
    const auto max_sequences =
        static_cast<std::size_t>(batching_.max_batch_per_rank) * shape_.data_parallel_ranks;
    bool prefill_in_step = std::any_of(prefilling_.begin(), prefilling_.end(),
                                       [](const Active& a) { return a.chunk > 0; });
    while (!waiting_.empty() && decoding_.size() + prefilling_.size() < max_sequences) {
      const std::size_t record = waiting_.front();
      const RequestRecord& r = records_[record];
      if (static_cast<double>(kv_need(r)) > shape_.kv_capacity_tokens) {
        ++never_fit_;  // it can never be admitted; dropped and counted, never silently
        waiting_.pop_front();
        count_in_system(-1);
        continue;
      }
      if (kv_used_ + static_cast<double>(kv_need(r)) > shape_.kv_capacity_tokens) break;
      Active a{record, role_ == ServingRole::DecodeOnly ? 0 : r.input_tokens - r.cached_tokens, 0,
               role_ == ServingRole::DecodeOnly ? 1.0 : 0.0};
      if (a.prefill_left > 0) {
        const bool oversized = a.prefill_left > full_budget && !prefill_in_step;
        if (!batching_.chunked_prefill && a.prefill_left > budget_left && !oversized) break;
        if (batching_.chunked_prefill && budget_left <= 0) break;
        a.chunk =
            batching_.chunked_prefill ? std::min(a.prefill_left, budget_left) : a.prefill_left;
        if (oversized && !batching_.chunked_prefill) ++oversized_;
        budget_left -= a.chunk;
        prefill_in_step = true;
      }
      waiting_.pop_front();
      kv_used_ += static_cast<double>(kv_need(r));
      (a.prefill_left > 0 ? prefilling_ : decoding_).push_back(a);
    }
  }

  StepShape step_shape() const {
    StepShape shape;
    const double ranks = shape_.data_parallel_ranks;
    double tokens = 0, weighted_context = 0;
    for (const auto& p : prefilling_) {
      tokens += static_cast<double>(p.chunk);
      weighted_context +=
          static_cast<double>(p.chunk) * static_cast<double>(records_[p.record].input_tokens);
    }
    // The busiest rank sets the step: counts are spread evenly and rounded up.
    if (tokens > 0) {
      shape.prefill_tokens = std::ceil(tokens / ranks);
      shape.prefill_context = weighted_context / tokens;
    }
    if (!decoding_.empty()) {
      double context = 0;
      for (const auto& d : decoding_)
        context += static_cast<double>(records_[d.record].input_tokens) + d.generated;
      shape.decode_sequences = std::ceil(static_cast<double>(decoding_.size()) / ranks);
      shape.decode_context = context / static_cast<double>(decoding_.size());
    }
    return shape;
  }

  void start_step() {
    if (steps_ >= kMaxEngineSteps)
      throw ServingBudgetError(fmt::format(
          "the run passed {} engine steps on one instance (docs/limits.md); simulate fewer or "
          "shorter requests, or a larger token budget",
          kMaxEngineSteps));
    const std::int64_t budget = batching_.token_budget_per_rank * shape_.data_parallel_ranks;
    plan_prefill(budget - static_cast<std::int64_t>(decoding_.size()));
    const StepShape shape = step_shape();
    if (shape.prefill_tokens <= 0 && shape.decode_sequences <= 0) {
      busy_ = false;
      return;
    }
    busy_ = true;
    const double now = queue_.now().seconds();
    for (const auto& p : prefilling_)
      if (p.chunk > 0 && records_[p.record].scheduled_s < 0) records_[p.record].scheduled_s = now;
    for (const auto& d : decoding_)
      if (records_[d.record].scheduled_s < 0) records_[d.record].scheduled_s = now;
    if (shape.decode_sequences > 0) decode_batch_sum_ += shape.decode_sequences, ++decode_steps_;
    const double seconds = pricer_.step_seconds(shape);
    const SimTime duration = std::max(SimTime::from_ns(1), SimTime::from_seconds(seconds));
    busy_s_ += duration.seconds();
    ++steps_;
    queue_.schedule_after(duration, [this] { end_step(); });
  }

  void end_step() {
    const double now = queue_.now().seconds();
    const double accepted = pricer_.accepted_tokens_per_sequence();
    std::vector<std::size_t> done;
    std::erase_if(decoding_, [&](Active& d) {
      d.generated += accepted;
      const bool finished = d.generated >= static_cast<double>(records_[d.record].output_tokens);
      if (finished) done.push_back(d.record);
      return finished;
    });
    std::erase_if(prefilling_, [&](Active& p) {
      p.prefill_left -= p.chunk;
      p.chunk = 0;
      if (p.prefill_left > 0) return false;
      records_[p.record].first_token_s = now;
      if (role_ == ServingRole::PrefillOnly || records_[p.record].output_tokens <= 1)
        done.push_back(p.record);
      else
        decoding_.push_back({p.record, 0, 0, 1.0});
      return true;
    });
    for (std::size_t record : done) finish(record);
    start_step();
  }

  void finish(std::size_t record) {
    RequestRecord& r = records_[record];
    r.finish_s = queue_.now().seconds();
    if (r.scheduled_s >= 0) kv_used_ -= static_cast<double>(kv_need(r));
    count_in_system(-1);
    if (on_finish_) on_finish_(record);
  }

  ServingRole role_;
  BatchingSpec batching_;
  InstanceShape shape_;
  StepPricer& pricer_;
  EventQueue& queue_;
  std::vector<RequestRecord>& records_;
  FinishHook on_finish_;
  std::deque<std::size_t> waiting_;
  std::vector<Active> prefilling_, decoding_;
  bool busy_ = false;
  bool kick_pending_ = false;
  double kv_used_ = 0;
  std::int64_t steps_ = 0, oversized_ = 0, never_fit_ = 0;
  double busy_s_ = 0, decode_batch_sum_ = 0, decode_steps_ = 0;
  int in_system_ = 0;
  double in_system_area_ = 0, last_change_s_ = 0;
};

RequestRecord record_of(const Request& r) {
  RequestRecord record;
  record.id = r.id;
  record.arrival_s = r.arrival_s;
  record.input_tokens = r.input_tokens;
  record.output_tokens = r.output_tokens;
  record.cached_tokens = r.cached_tokens;
  return record;
}

}  // namespace

ServingRun simulate_serving(const std::vector<Request>& requests, ServingRole role,
                            const BatchingSpec& batching, const InstanceShape& shape,
                            StepPricer& pricer) {
  std::vector<RequestRecord> records;
  records.reserve(requests.size());
  for (const auto& r : requests) records.push_back(record_of(r));
  EventQueue queue;
  Instance instance(role, batching, shape, pricer, queue, records);
  // One pending arrival at a time: each schedules the next, so the heap stays small.
  std::function<void(std::size_t)> schedule_arrival = [&](std::size_t i) {
    if (i >= records.size()) return;
    queue.schedule_at(std::max(queue.now(), SimTime::from_seconds(records[i].arrival_s)), [&, i] {
      instance.arrive(i);
      schedule_arrival(i + 1);
    });
  };
  schedule_arrival(0);
  queue.run();
  ServingRun run = instance.result();
  std::sort(records.begin(), records.end(),
            [](const RequestRecord& a, const RequestRecord& b) { return a.id < b.id; });
  run.records = std::move(records);
  return run;
}

ServingRun simulate_closed_loop(const TrafficSpec& traffic, const BatchingSpec& batching,
                                const InstanceShape& shape, StepPricer& pricer) {
  std::vector<RequestRecord> records;
  EventQueue queue;
  Instance instance(ServingRole::Aggregated, batching, shape, pricer, queue, records);
  SplitMix64 rng(traffic.seed);
  const auto cap = traffic.max_requests > 0 ? traffic.max_requests : INT64_MAX;
  // Records are only appended (the instance holds indexes): reserve so none moves under it.
  const auto send = [&]() -> bool {
    if (static_cast<std::int64_t>(records.size()) >= cap ||
        queue.now().seconds() >= traffic.duration_s)
      return false;
    if (static_cast<double>(records.size()) >= kMaxServedRequests)
      throw ServingBudgetError(fmt::format(
          "the closed loop passed {:.0f} requests before duration_s (docs/limits.md); set "
          "max_requests or a shorter duration_s",
          kMaxServedRequests));
    Request r = draw_request(traffic, rng, static_cast<std::int64_t>(records.size()));
    r.arrival_s = queue.now().seconds();
    records.push_back(record_of(r));
    instance.arrive(records.size() - 1);
    return true;
  };
  instance.set_finish_hook([&](std::size_t) { send(); });
  queue.schedule_at(SimTime::zero(), [&] {
    for (int user = 0; user < traffic.users && send(); ++user) {
    }
  });
  queue.run();
  ServingRun run = instance.result();
  run.records = std::move(records);
  return run;
}

}  // namespace moesim::sim
