#pragma once
// What one serving run may be asked to simulate. A run costs about 30 ns a decoded token and well
// under a microsecond an engine step on one core (docs/limits.md: 720,000 requests of 100-500
// output tokens, 2.2e8 decoded tokens, in 6.6 s and 178 MB), so these bounds keep the largest valid
// file within about ten seconds and well under 2 GB. Poisson traffic and logs are checked before
// the run from their own figures; a closed loop's requests (they depend on the simulated speed)
// and every run's engine steps are counted as the run goes.
#include <cstdint>
#include <stdexcept>
#include <string>

#include "base/config_error.hpp"
#include "sim/serving/request_workload.hpp"

namespace moesim::sim {

inline constexpr double kMaxServedRequests = 1'000'000;
// Decoded tokens: 3e8 (2.7e8 of P/D DeepSeek-V3 at EP 32) took 13.2 s after session 13's pricing
// speed-up, past the ten seconds; at 1.5e8 the same deployment's largest valid run is about 8 s.
inline constexpr double kMaxDecodedTokens = 1.5e8;
inline constexpr double kMaxPromptTokens = 3e9;
inline constexpr std::int64_t kMaxEngineSteps = 20'000'000;
// A plan simulates its traffic once per candidate it cannot rule out by price (tens in the shipped
// plans), so its traffic may use this share of a run's budget.
inline constexpr double kPlanTrafficShare = 0.1;

struct SimulatedWork {
  double requests = 0, decoded = 0, prompt = 0;
  SimulatedWork& operator+=(const SimulatedWork& other) {
    requests += other.requests;
    decoded += other.decoded;
    prompt += other.prompt;
    return *this;
  }
};

// The requests, decoded and prompt tokens of a list of requests or of a run's records.
template <class Items>
SimulatedWork work_of(const Items& items) {
  SimulatedWork w;
  w.requests = static_cast<double>(items.size());
  for (const auto& item : items) {
    w.decoded += static_cast<double>(item.output_tokens);
    w.prompt += static_cast<double>(item.input_tokens);
  }
  return w;
}

// A problem at `path` when the traffic's expected requests, decoded tokens or prompt tokens pass
// the bounds x `share` (Poisson: rate x duration_s requests, or max_requests if fewer, at the
// lengths' means; a log: its lines and their lengths). A closed loop is checked as it runs.
void check_traffic_budget(const TrafficSpec& traffic, const std::string& path,
                          ProblemList& problems, double share = 1.0);

// Thrown by the simulation when a run passes kMaxServedRequests or kMaxEngineSteps; the command
// that read the file reports it as bad input at the file's traffic (exit 2).
class ServingBudgetError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace moesim::sim
