#pragma once
// Serving traffic: requests with an arrival time, a prompt and an output length. Lengths are fixed,
// uniform or lognormal; arrivals are Poisson at a rate, a fixed number of users each sending the
// next request when the last one ends (closed loop), or a request log (request_log.hpp). Every draw
// comes from one seeded generator, so the same traffic spec gives the same requests bit for bit.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/config_error.hpp"

namespace moesim::sim {

// splitmix64 (Steele et al., "Fast splittable pseudorandom number generators", 2014): its own
// code rather than <random>'s distributions, whose algorithms differ between standard libraries.
class SplitMix64 {
 public:
  explicit SplitMix64(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next();
  double uniform();          // [0, 1), 53 random bits
  double standard_normal();  // Box-Muller, one draw per call

 private:
  std::uint64_t state_;
};

enum class LengthDistributionKind { Fixed, Uniform, Lognormal };

struct LengthDistribution {
  LengthDistributionKind kind = LengthDistributionKind::Fixed;
  std::int64_t value = 1024;          // fixed
  std::int64_t min = 1, max = 1024;   // uniform: both inclusive; lognormal: max (redrawn above)
  double median = 1024, sigma = 0.5;  // lognormal: exp(ln(median) + sigma * N(0, 1))
  std::int64_t sample(SplitMix64& rng) const;
  double mean() const;  // exact for fixed and uniform; lognormal without its cut at max
};

enum class ArrivalKind { Poisson, Concurrency, Log };

struct Request {
  std::int64_t id = 0;
  double arrival_s = 0;  // closed loop: 0 for each user's first request, set when sent later
  std::int64_t input_tokens = 0;
  std::int64_t output_tokens = 0;
  std::int64_t cached_tokens =
      0;          // prompt tokens found in the prefix cache: attended, not computed
  int user = -1;  // closed loop: which user sent it
  std::int64_t prefill_tokens() const { return input_tokens - cached_tokens; }
};

struct TrafficSpec {
  ArrivalKind arrival = ArrivalKind::Poisson;
  double rate_per_s = 1;              // Poisson
  int users = 1;                      // concurrency
  std::string log_path;               // log: arrivals and lengths from the file
  std::vector<Request> log_requests;  // the log, read at the edge (read_traffic)
  double duration_s = 60;             // Poisson and concurrency: requests are sent until then
  std::int64_t max_requests = 0;      // 0: no cap; else stop sending after this many
  LengthDistribution input, output;   // ignored for a log
  double prefix_cache_hit_rate = 0;   // share of each prompt served from the prefix cache
  std::uint64_t seed = 1;
};

// /traffic of a serving or plan file; problems under `path`. A log's file is read here (a relative
// path from `base_dir`, the folder of the file naming it), so a bad log line fails at the edge.
// `budget_share`: the part of a run's work budget the traffic may ask (traffic_budget.hpp).
TrafficSpec read_traffic(const nlohmann::json& object, const std::string& path,
                         const std::string& base_dir, ProblemList& problems,
                         double budget_share = 1.0);

// The requests of a Poisson traffic or a log, sorted by arrival; empty for a closed loop, whose
// requests the simulation draws (draw_request) as its users send them.
std::vector<Request> generate_requests(const TrafficSpec& traffic);
// One request's lengths and cached prefix, drawn from the traffic's distributions; arrival 0.
Request draw_request(const TrafficSpec& traffic, SplitMix64& rng, std::int64_t id);

// Prompt tokens of `input` found in the prefix cache: floor(input x rate), and never the whole
// prompt (the last token is always computed, as in vLLM and SGLang).
std::int64_t cached_prompt_tokens(std::int64_t input_tokens, double hit_rate);

}  // namespace moesim::sim
