#pragma once
// Batch-to-batch variation of expert loads. A routing generator gives each expert its long-run
// share of the token copies, and placement (EPLB included) balances those shares. One batch does
// not see them: its shares differ from the long-run ones (a log-normal spread, sigma), and its
// finite copies land at random around them (multinomial). So in every step some GPU is busier
// than its expected load, and the step waits for it. docs/capacity-policy.md, "Batch-to-batch
// load variation", derives what follows.
#include <vector>

#include "sim/placement/placement.hpp"

namespace moesim::sim {

struct LoadVariation {
  double sigma = 0;       // standard deviation of log(batch share / long-run share), per expert
  bool sampling = false;  // add the multinomial spread of a finite batch's copies
  // Token copies one unit of load stands for: under MoE TP k each EP rank's load counts a k-th of
  // the copies its shard group computes (LayerCostModel::gpu_experts_time), so k.
  double copies_per_load = 1;
  bool active() const { return sigma > 0 || sampling; }
};

// One batch's token copies per GPU of the EP group: mean and standard deviation.
struct GpuLoadSpread {
  std::vector<double> mean;
  std::vector<double> sd;
};

// GPU g holds w_ge of expert e's copies (its replicas' even split, as round-robin dispatch sends
// them). Expert e receives L_e X_e copies in expectation over the batch's shares, X_e log-normal
// with mean 1 and Var X = exp(sigma^2) - 1, independent across experts; its copies are Poisson
// around that (the multinomial's independent form). So mean_g = sum_e w_ge L_e and
//   var_g = (exp(sigma^2) - 1) sum_e (w_ge L_e)^2 + sum_e w_ge^2 L_e / c   (the second with
// sampling; c = copies_per_load, the Poisson variance of c L copies in units of load).
GpuLoadSpread gpu_load_spread(const Placement& placement, const std::vector<double>& load,
                              const LoadVariation& variation);

// E[max_g X_g] for independent normal X_g (a zero sd is a constant): the integral of
// 1 - prod_g Phi((x - mean_g) / sd_g) above a point where the product is below Phi(-8), by
// Simpson's rule. For G equal normals it is mean + sd x E[max of G standard normals] (1/sqrt(pi)
// for G = 2, 3/(2 sqrt(pi)) for 3, 2.0697 for 32; Harter, "Expected values of normal order
// statistics", Biometrika 48, 1961).
double expected_maximum(const GpuLoadSpread& spread);

// The batch a step is priced at: the GPU with the largest expected load carries the expected
// maximum over GPUs, the others share what is left in proportion to their loads.
struct BusiestBatch {
  std::vector<double> load;       // copies per logical expert
  int gpu = 0;                    // the GPU at the expected maximum
  double expected_max = 0;        // its copies
  double expected_loads_max = 0;  // the largest expected load (what a step without variation sees)
  double mean = 0;                // copies per GPU
};

// Every expert with a slot on the busiest GPU scales by a = expected_max / mean_busiest, every
// other by b so the total stays: a A + b (N - A) = N (A: those experts' copies, N: all). When A is
// nearly N, a is held at N / A (b = 0). Without an active variation or with one GPU, the loads as
// they are.
BusiestBatch busiest_batch(const Placement& placement, const std::vector<double>& load,
                           const LoadVariation& variation);

}  // namespace moesim::sim
