#include "sim/routing/load_variation.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <numeric>
#include <vector>

namespace moesim::sim {
namespace {

constexpr double kTail = 8;        // Phi(-8) = 6e-16: below it a GPU cannot be the maximum
constexpr int kSimpsonSteps = 64;  // even; 16 sd wide, a quarter sd a step: 1e-5 sd at 72 GPUs
constexpr double kCertain = 8.5;   // Phi(8.5) = 1 - 1e-17: the factor is 1 in double precision
constexpr double kNever = 1e-18;   // P(every X_g <= x) below it: 1 - F is 1 in double precision

// Phi on a grid 1/128 apart over [-8.5, 8.5] with its density, interpolated by cubic Hermite: the
// error is under h^4 / 384 x max|Phi''''| = 1e-11, at a few times erfc's speed (the integral takes
// 65 points x GPUs of it per layer).
class NormalCdf {
 public:
  NormalCdf() : cdf_(kPoints), pdf_(kPoints) {
    for (std::size_t i = 0; i < kPoints; ++i) {
      const double z = -kCertain + static_cast<double>(i) * kStep;
      cdf_[i] = 0.5 * std::erfc(-z / std::sqrt(2.0));
      pdf_[i] = std::exp(-0.5 * z * z) / std::sqrt(2 * std::numbers::pi);
    }
  }
  double operator()(double z) const {
    if (z <= -kCertain) return 0.5 * std::erfc(-z / std::sqrt(2.0));
    const double u = std::min((z + kCertain) / kStep, static_cast<double>(kPoints - 1));
    const auto i = std::min(static_cast<std::size_t>(u), kPoints - 2);
    const double t = u - static_cast<double>(i), r = 1 - t;
    return (1 + 2 * t) * r * r * cdf_[i] + t * r * r * kStep * pdf_[i] +
           t * t * (3 - 2 * t) * cdf_[i + 1] - t * t * r * kStep * pdf_[i + 1];
  }

 private:
  static constexpr double kStep = 1.0 / 128;
  static constexpr std::size_t kPoints = 17 * 128 + 1;  // [-8.5, 8.5] in steps of 1/128
  std::vector<double> cdf_, pdf_;
};

double normal_cdf(double z) {
  static const NormalCdf table;  // built once, read-only after
  return table(z);
}

// P(every X_g <= x); the loop stops once the product no longer changes 1 - F.
double all_below(const GpuLoadSpread& s, double x) {
  double product = 1;
  for (std::size_t g = 0; g < s.mean.size() && product > kNever; ++g) {
    const double z = s.sd[g] > 0 ? (x - s.mean[g]) / s.sd[g] : kCertain;
    if (z < kCertain) product *= normal_cdf(z);
  }
  return product > kNever ? product : 0.0;
}

}  // namespace

GpuLoadSpread gpu_load_spread(const Placement& placement, const std::vector<double>& load,
                              const LoadVariation& variation) {
  const auto gpus = static_cast<std::size_t>(placement.gpus);
  GpuLoadSpread spread{std::vector<double>(gpus, 0.0), std::vector<double>(gpus, 0.0)};
  const double share_variance = std::expm1(variation.sigma * variation.sigma);
  std::vector<double> variance(gpus, 0.0);
  for (std::size_t e = 0; e < placement.replicas.size(); ++e) {
    const double w = 1.0 / static_cast<double>(placement.replicas[e].size());
    for (int gpu : placement.replicas[e]) {
      spread.mean[gpu] += w * load[e];
      variance[gpu] += share_variance * (w * load[e]) * (w * load[e]);
      if (variation.sampling) variance[gpu] += w * w * load[e] / variation.copies_per_load;
    }
  }
  for (std::size_t g = 0; g < gpus; ++g) spread.sd[g] = std::sqrt(variance[g]);
  return spread;
}

double expected_maximum(const GpuLoadSpread& s) {
  // Below `low` some GPU is above x with certainty (to 6e-16); above `high` none is below.
  double low = -std::numeric_limits<double>::infinity();
  double high = low;
  for (std::size_t g = 0; g < s.mean.size(); ++g) {
    low = std::max(low, s.mean[g] - kTail * s.sd[g]);
    high = std::max(high, s.mean[g] + kTail * s.sd[g]);
  }
  if (!(high > low)) return low;  // no spread: the largest mean
  // E[max] = low + integral from low of P(max > x) dx.
  const double step = (high - low) / kSimpsonSteps;
  double sum = 0;
  for (int i = 0; i <= kSimpsonSteps; ++i) {
    const double weight = (i == 0 || i == kSimpsonSteps) ? 1 : (i % 2 == 1 ? 4 : 2);
    sum += weight * (1 - all_below(s, low + i * step));
  }
  return low + sum * step / 3;
}

BusiestBatch busiest_batch(const Placement& placement, const std::vector<double>& load,
                           const LoadVariation& variation) {
  BusiestBatch batch;
  batch.load = load;
  const GpuLoadSpread spread = gpu_load_spread(placement, load, variation);
  const double total = std::accumulate(load.begin(), load.end(), 0.0);
  const auto busiest = std::max_element(spread.mean.begin(), spread.mean.end());
  if (busiest == spread.mean.end() || total <= 0) return batch;
  batch.gpu = static_cast<int>(busiest - spread.mean.begin());
  batch.expected_loads_max = *busiest;
  batch.mean = total / placement.gpus;
  batch.expected_max = *busiest;
  if (!variation.active() || placement.gpus < 2 || *busiest <= 0) return batch;
  // The experts of the busiest GPU carry the load of every replica they have.
  std::vector<bool> on_busiest(load.size(), false);
  double busiest_experts = 0;
  for (int e : placement.slots[batch.gpu])
    if (!on_busiest[e]) on_busiest[e] = true, busiest_experts += load[e];
  const double scale = std::min(expected_maximum(spread) / *busiest, total / busiest_experts);
  const double rest = total - busiest_experts;
  const double others = rest > 0 ? (total - scale * busiest_experts) / rest : 1.0;
  for (std::size_t e = 0; e < load.size(); ++e) batch.load[e] *= on_busiest[e] ? scale : others;
  batch.expected_max = scale * *busiest;
  return batch;
}

}  // namespace moesim::sim
