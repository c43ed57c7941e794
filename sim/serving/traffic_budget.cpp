#include "sim/serving/traffic_budget.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <span>

namespace moesim::sim {
namespace {

struct ExpectedWork {
  double requests = 0, decoded = 0, prompt = 0;
  std::string requests_from;  // how the request count was reckoned, for the message
};

ExpectedWork expected_work(const TrafficSpec& t) {
  ExpectedWork w;
  const double cap = t.max_requests > 0 ? static_cast<double>(t.max_requests) : 1e300;
  if (t.arrival == ArrivalKind::Log) {
    const auto n = std::min(static_cast<double>(t.log_requests.size()), cap);
    const auto sums = work_of(std::span(t.log_requests).first(static_cast<std::size_t>(n)));
    w.requests = sums.requests;
    w.decoded = sums.decoded;
    w.prompt = sums.prompt;
    w.requests_from = "the log's lines";
    return w;
  }
  w.requests = std::min(t.rate_per_s * t.duration_s, cap);
  w.requests_from = t.rate_per_s * t.duration_s <= cap ? "rate_per_s x duration_s" : "max_requests";
  w.decoded = w.requests * t.output.mean();
  w.prompt = w.requests * t.input.mean();
  return w;
}

}  // namespace

void check_traffic_budget(const TrafficSpec& t, const std::string& path, ProblemList& problems,
                          double share) {
  if (t.arrival == ArrivalKind::Concurrency) return;  // counted as it runs
  const ExpectedWork w = expected_work(t);
  const char* scope = share < 1 ? "a plan's traffic (simulated once per candidate)" : "a run";
  const auto over = [&](double value, double limit, const char* what) {
    if (value > limit * share)
      problems.add(path,
                   fmt::format("expected at most {:.3g} {} in {} (docs/limits.md), got "
                               "about {:.3g} ({:.0f} requests from {})",
                               limit * share, what, scope, value, w.requests, w.requests_from));
  };
  over(w.requests, kMaxServedRequests, "requests");
  over(w.decoded, kMaxDecodedTokens, "decoded tokens");
  over(w.prompt, kMaxPromptTokens, "prompt tokens");
}

}  // namespace moesim::sim
