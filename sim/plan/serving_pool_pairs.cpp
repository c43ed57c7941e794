#include "sim/plan/serving_pool_pairs.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "sim/serving/serving_run.hpp"

namespace moesim::sim {
namespace {

struct PoolPrice {
  int instances = 0;
  int gpus = 0;
  double usd_per_hour = 0;
};

PoolPrice pool_price(const PoolShape& shape, double rate, double capacity) {
  PoolPrice p;
  p.instances = pool_instances(rate, capacity);
  p.gpus = p.instances * shape.gpus_per_instance;
  p.usd_per_hour = p.gpus * shape.usd_per_gpu_hour;
  return p;
}

// Shape indices by what their pool costs in one role, cheapest first (ties by index).
std::vector<std::size_t> by_price(const std::vector<PoolPrice>& prices) {
  std::vector<std::size_t> order(prices.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return prices[a].usd_per_hour < prices[b].usd_per_hour;
  });
  return order;
}

}  // namespace

std::vector<PoolPair> pair_pool_shapes(const std::vector<PoolShape>& shapes, double rate,
                                       std::size_t max_pairs) {
  const std::size_t n = shapes.size();
  std::vector<PoolPrice> prefill(n), decode(n);
  for (std::size_t i = 0; i < n; ++i) {
    prefill[i] = pool_price(shapes[i], rate, shapes[i].prefill_requests_per_s);
    decode[i] = pool_price(shapes[i], rate, shapes[i].decode_requests_per_s);
  }
  // k cheapest of each role cross (k^2 pairs); the others keep their own pairing.
  const auto k =
      std::min(n, static_cast<std::size_t>(std::floor(std::sqrt(static_cast<double>(max_pairs)))));
  std::vector<bool> crossed_prefill(n, n * n <= max_pairs), crossed_decode(n, n * n <= max_pairs);
  if (n * n > max_pairs) {
    const auto cheap_prefill = by_price(prefill), cheap_decode = by_price(decode);
    for (std::size_t i = 0; i < k; ++i) {
      crossed_prefill[cheap_prefill[i]] = true;
      crossed_decode[cheap_decode[i]] = true;
    }
  }
  std::vector<PoolPair> pairs;
  for (std::size_t p = 0; p < n; ++p)
    for (std::size_t d = 0; d < n; ++d) {
      if (p != d && !(crossed_prefill[p] && crossed_decode[d])) continue;
      pairs.push_back({p, d, prefill[p].instances, decode[d].instances,
                       prefill[p].gpus + decode[d].gpus,
                       prefill[p].usd_per_hour + decode[d].usd_per_hour});
    }
  return pairs;
}

}  // namespace moesim::sim
