#pragma once
// Seeded, deterministic synthetic routing: uniform, Zipf(s) and DeepSeek-style group-limited
// popularity, with temporal drift, bursts and cross-layer correlation. Top-k is drawn without
// replacement. Only std::mt19937_64 is used from <random>: its output is fixed by the standard,
// while std:: distributions differ between libraries, so the distributions here are our own.
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "sim/spec/choices.hpp"
#include "sim/traces/format.hpp"

namespace moesim::sim {

struct GeneratorSpec {
  TraceGeneratorKind kind = TraceGeneratorKind::Uniform;
  std::uint32_t layers = 1;
  std::uint32_t experts = 8;
  std::uint32_t top_k = 2;
  std::uint32_t tokens = 4096;  // per step and layer
  std::uint32_t steps = 1;
  double zipf_exponent = 1.0;  // zipf and group-limited: weight of popularity rank r is (r+1)^-s
  std::uint32_t n_group = 1;   // group-limited: experts split into n_group equal groups ...
  std::uint32_t topk_group =
      1;               // ... and each token picks its experts from its best topk_group groups
  double drift = 0.0;  // per step, share of experts whose popularity rank swaps at random
  double burst_probability = 0.0;  // per (step, layer): chance that one random expert runs hot
  double burst_factor = 8.0;       // that expert's weight multiplier during the burst
  double layer_correlation = 0.0;  // chance a token repeats its previous layer's choices (by rank)
  std::uint64_t seed = 1;
};

// Throws ConfigError ("generator: /field: expected ...") listing every invalid field.
void validate_generator_spec(const GeneratorSpec& spec);

// Streams blocks of generated routing; memory holds one block of state.
class TraceGenerator {
 public:
  explicit TraceGenerator(GeneratorSpec spec);
  TraceShape shape() const { return {spec_.layers, spec_.experts, spec_.top_k, ScoreType::None}; }
  // Step 0 layer 0, step 0 layer 1, ...; false after steps × layers blocks.
  bool next(TraceBlock& block);
  // The expert weights (unnormalised) that `layer` draws from at the current step.
  const std::vector<double>& layer_weights(std::uint32_t layer) const { return weights_[layer]; }

 private:
  double uniform01();  // [0, 1) from the top 53 bits
  std::uint32_t uniform_below(std::uint32_t bound);
  void advance_step();
  void draw_token(const std::vector<double>& cumulative, const std::vector<double>& log_weights,
                  std::uint32_t* out);
  void draw_group_limited(const std::vector<double>& log_weights, std::uint32_t* out);

  GeneratorSpec spec_;
  std::mt19937_64 engine_;
  std::vector<std::vector<std::uint32_t>> rank_to_expert_;  // per layer: popularity rank -> expert
  std::vector<std::vector<std::uint32_t>> expert_rank_;     // per layer: expert -> popularity rank
  std::vector<std::vector<double>> weights_;                // per layer, for the current step
  std::vector<std::uint32_t> previous_;                     // last block's ids, for correlation
  std::vector<double> scores_;                              // scratch for group-limited draws
  std::uint32_t step_ = 0;
  std::uint32_t layer_ = 0;
};

}  // namespace moesim::sim
