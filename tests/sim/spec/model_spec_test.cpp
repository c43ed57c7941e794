#include "sim/spec/model_spec.hpp"

#include <gtest/gtest.h>

namespace moesim::sim {
namespace {

// A toy model small enough to count by hand: 4 blocks, 2 of them MoE.
ModelSpec toy_model() {
  ModelSpec model;
  model.name = "toy";
  model.layers = 4;
  model.moe_layers = 2;
  model.hidden = 10;
  model.vocab = 100;
  model.experts = 8;
  model.top_k = 2;
  model.shared_experts = 1;
  model.expert_ffn = 20;
  model.shared_expert_ffn = 30;
  model.dense_ffn = 40;
  model.attention_params_per_layer = 500;
  return model;
}

TEST(ModelSpec, GatedFfnHasThreeMatricesPlainHasTwo) {
  ModelSpec model = toy_model();
  // SwiGLU: gate, up and down projections.
  EXPECT_EQ(model.matrices_per_ffn(), 3);
  model.gated_ffn = false;
  EXPECT_EQ(model.matrices_per_ffn(), 2);
}

TEST(ModelSpec, PerBlockCountsFollowMatricesTimesHiddenTimesWidth) {
  const ModelSpec model = toy_model();
  // expert 3 x 10 x 20 = 600; shared 3 x 10 x 30 = 900; dense 3 x 10 x 40 = 1200.
  EXPECT_EQ(model.expert_params(), 600);
  EXPECT_EQ(model.shared_expert_params(), 900);
  EXPECT_EQ(model.dense_mlp_params(), 1200);
  // Router: one hidden-wide row per expert, 10 x 8 = 80.
  EXPECT_EQ(model.router_params(), 80);
  // Untied input and output embeddings: 2 x 100 x 10 = 2000.
  EXPECT_EQ(model.embedding_params(), 2000);
}

TEST(ModelSpec, TotalCountsEveryExpertOfEveryMoeBlock) {
  // embeddings 2000 + attention 4 x 500 = 2000 + 2 dense MLPs x 1200 = 2400
  // + 2 MoE blocks x (8 x 600 + 900 + 80 = 5780) = 11560  ->  17960.
  EXPECT_EQ(toy_model().total_params(), 17960);
}

TEST(ModelSpec, ActiveCountsOnlyTopKRoutedExperts) {
  // As the total, but each MoE block holds top_k = 2 routed experts: 2 x 600 + 900 + 80 = 2180;
  // 2000 + 2000 + 2400 + 2 x 2180 = 10760.
  EXPECT_EQ(toy_model().active_params(), 10760);
}

TEST(ModelSpec, TiedEmbeddingsAreCountedOnce) {
  ModelSpec model = toy_model();
  model.tied_embeddings = true;
  // 100 x 10 = 1000, one table instead of two: both counts drop by 1000.
  EXPECT_EQ(model.embedding_params(), 1000);
  EXPECT_EQ(model.total_params(), 17960 - 1000);
  EXPECT_EQ(model.active_params(), 10760 - 1000);
}

TEST(ModelSpec, UngatedFfnShrinksEveryMlpByAThird) {
  ModelSpec model = toy_model();
  model.gated_ffn = false;
  // expert 2 x 10 x 20 = 400, shared 600, dense 800:
  // 2000 + 2000 + 2 x 800 + 2 x (8 x 400 + 600 + 80) = 4000 + 1600 + 7760 = 13360.
  EXPECT_EQ(model.total_params(), 13360);
}

TEST(ModelSpec, AllExpertsActiveMakesActiveEqualTotal) {
  ModelSpec model = toy_model();
  model.top_k = model.experts;
  EXPECT_EQ(model.active_params(), model.total_params());
}

TEST(ModelSpec, DenseModelHasNoRoutedParameters) {
  ModelSpec model = toy_model();
  model.moe_layers = 0;
  // 2000 + 2000 + 4 dense MLPs x 1200 = 8800; no block routes, so active = total.
  EXPECT_EQ(model.total_params(), 8800);
  EXPECT_EQ(model.active_params(), 8800);
}

}  // namespace
}  // namespace moesim::sim
