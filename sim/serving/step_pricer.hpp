#pragma once
// What one serving step costs, by its shape. A StepTimeTable prices shapes from the layer and step
// model (sim/run/simulate) on a grid of shapes, each simulated once and cached, and interpolates
// linearly between grid points, so an hour of traffic costs a few hundred simulated steps.
#include <map>
#include <mutex>
#include <utility>

#include "sim/run/inputs.hpp"

namespace moesim::sim {

// One step on one attention data-parallel rank (every rank is taken to hold the same shape).
struct StepShape {
  double prefill_tokens = 0;    // prompt tokens computed this step
  double prefill_context = 0;   // token-weighted mean prompt length of those tokens' requests
  double decode_sequences = 0;  // sequences that each emit a token this step
  double decode_context = 0;    // their mean KV length
};

class StepPricer {
 public:
  virtual ~StepPricer() = default;
  virtual double step_seconds(const StepShape& shape) = 0;
  // The busiest GPU's tokens over the mean that a decode (or prefill) step of about `count` at
  // `context` was priced at (Report::imbalance); 1 where the pricer does not know.
  virtual double imbalance(bool /*decode*/, double /*count*/, double /*context*/) { return 1; }
  // Tokens a decoding sequence gains per step: 1, or 1 + a + ... + a^d under MTP.
  virtual double accepted_tokens_per_sequence() const { return 1; }
};

// The grid: every integer to 16, then 2^(1/8) apart (9%); contexts at powers of two. A decode part
// and a prefill part are priced apart and added: a mixed step pays both (one more weight read and
// launch than a fused step would; docs/serving.md says so).
class StepTimeTable : public StepPricer {
 public:
  // `inputs` is the deployment; its workload's kind, tokens and context are replaced per shape,
  // and memory is not checked per step (the serving scheduler holds the KV budget).
  explicit StepTimeTable(RunInputs inputs);
  double step_seconds(const StepShape& shape) override;
  // At the grid point at or below (count, context).
  double imbalance(bool decode, double count, double context) override;
  double accepted_tokens_per_sequence() const override { return accepted_; }
  // Grid points simulated so far (each one simulate() call).
  int shapes_simulated() {
    std::lock_guard lock(mutex_);
    return static_cast<int>(cache_.size());
  }
  // One grid point: decode (sequences) or prefill (tokens) at a context, simulated or cached.
  double grid_seconds(bool decode, std::int64_t count, std::int64_t context);

 private:
  double interpolated(bool decode, double count, double context);

  RunInputs inputs_;
  double accepted_ = 1;
  struct GridPoint {
    double seconds = 0;
    double imbalance = 1;
  };
  const GridPoint& grid_point(bool decode, std::int64_t count, std::int64_t context);
  std::map<std::tuple<bool, std::int64_t, std::int64_t>, GridPoint> cache_;
  // A grid count's placements: they follow the expected loads, which follow the count and not the
  // context, so the contexts of one count share them (a fifth of serving's time was placing).
  const std::vector<Placement>& placements(const RunInputs& step, bool decode, std::int64_t count);
  std::map<std::pair<bool, std::int64_t>, std::vector<Placement>> placements_;
  // A plan's batch-size variants of one deployment share its table from several threads.
  std::recursive_mutex mutex_;
};

// The grid points around `value` (equal when it is one): counts and contexts.
std::pair<std::int64_t, std::int64_t> count_grid_bracket(double value);
std::pair<std::int64_t, std::int64_t> context_grid_bracket(double value);

}  // namespace moesim::sim
