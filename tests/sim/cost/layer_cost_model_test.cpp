#include "sim/cost/layer_cost_model.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace moesim::sim {
namespace {

using nlohmann::json;

// One HGX H100 node (NVLink 450 GB/s per direction, 1 us latency; 8 x 400 Gb/s NICs), with a toy
// model and a round-number device so every price can be worked out by hand:
//   device: bf16 1e15 FLOP/s, fp8 2e15, HBM 2e12 B/s; efficiencies 0.5, 0.5 and network 0.8
//   -> roofline compute 5e14 FLOP/s, memory 1e12 B/s, NVLink 0.8 x 450e9 = 360e9 B/s
//   model: hidden 1000, routed expert 3 x 1000 x 2000 = 6e6 parameters, shared expert
//   3 x 1000 x 1000 = 3e6, dense MLP 3 x 1000 x 4000 = 1.2e7, attention 4e6 per block,
//   8 heads x 128, bf16 weights, KV 1000 bytes per token per block.
ScenarioSpec toy_scenario(const std::string& cluster = "h100x8", int expert_parallel = 8) {
  ScenarioSpec s = parse_scenario(R"({"schema_version": 1, "model": "mixtral-8x7b", "cluster": ")" +
                                      cluster + R"(", "parallelism": {"expert_parallel": )" +
                                      std::to_string(expert_parallel) + R"(}})",
                                  "toy.json");
  ModelSpec& m = s.model;
  m.name = "toy";
  m.layers = 4;
  m.moe_layers = 2;
  m.hidden = 1000;
  m.experts = 8;
  m.top_k = 2;
  m.shared_experts = 1;
  m.expert_ffn = 2000;
  m.shared_expert_ffn = 1000;
  m.dense_ffn = 4000;
  m.attention_params_per_layer = 4'000'000;
  m.attention = {.kind = AttentionKind::Gqa, .heads = 8, .kv_heads = 8, .head_dim = 128};
  m.kv_cache_bytes_per_token_per_layer = 1000;
  m.weight_bytes = 2;
  m.dispatch_bytes = 2;
  m.combine_bytes = 2;
  s.cluster.device.bf16_flops = 1e15;
  s.cluster.device.fp8_flops = 2e15;
  s.cluster.device.hbm_bandwidth = 2e12;
  s.profile.compute_efficiency = 0.5;
  s.profile.memory_efficiency = 0.5;
  s.profile.network_efficiency = 0.8;
  s.workload.kind = WorkloadKind::Prefill;
  s.workload.context_tokens = 2048;
  s.parallelism.attention_tensor_parallel = 1;
  return s;
}

// A profile measured at 5e14 FLOP/s and 2e12 B/s copy bandwidth, with curves for "toy": per
// expert, loop 4 us at 10 tokens and 8 at 30; grouped 6 us at 10 and 7 at 30.
MeasuredProfile cost_toy_profile() {
  auto timed = [](double tokens, double us) {
    return json{{"tokens", tokens}, {"time", {{"median_us", us}}}};
  };
  auto per_expert = [](double tokens, double us) {
    return json{{"tokens_per_expert", tokens}, {"per_expert_us", us}};
  };
  const json document = {
      {"schema_version", 1},
      {"ceilings", {{"dense_bf16_flops_per_s", 5e14}, {"copy", {{"bytes_per_s", 2e12}}}}},
      {"overheads", {{"count_copy_and_sync", {{"median_us", 12}}}}},
      {"models",
       {{{"name", "toy"},
         {"hidden", 1000},
         {"expert_ffn", 2000},
         {"top_k", 2},
         {"gate", {timed(100, 5), timed(300, 9)}},
         {"permute", {timed(100, 2), timed(300, 4)}},
         {"combine", {timed(100, 1), timed(300, 3)}},
         {"experts",
          {{"balanced",
            {{"loop", {per_expert(10, 4), per_expert(30, 8)}},
             {"grouped", {per_expert(10, 6), per_expert(30, 7)}}}}}}}}}};
  return MeasuredProfile(document, "toy-profile.json");
}

TEST(LayerCostModel, ExpertIsMemoryBoundBelowTheRidgeAndComputeBoundAbove) {
  const ScenarioSpec s = toy_scenario();
  const LayerCostModel cost(s, nullptr);
  EXPECT_FALSE(cost.measured());
  // Weights: 6e6 x 2 bytes / 1e12 = 12 us whatever the tokens.
  // 100 tokens: 2 x 6e6 x 100 / 5e14 = 2.4 us of compute < 12 us: memory-bound, 12 us.
  EXPECT_DOUBLE_EQ(cost.expert_time(100), 12e-6);
  // 1000 tokens: 2 x 6e6 x 1000 / 5e14 = 24 us > 12 us: compute-bound.
  EXPECT_DOUBLE_EQ(cost.expert_time(1000), 24e-6);
  // The ridge: 12 us of compute at 500 tokens.
  EXPECT_DOUBLE_EQ(cost.expert_time(500), 12e-6);
}

TEST(LayerCostModel, IdleExpertCostsNothing) {
  const ScenarioSpec s = toy_scenario();
  const LayerCostModel cost(s, nullptr);
  // Its weights are never read.
  EXPECT_DOUBLE_EQ(cost.expert_time(0), 0);
  // A GPU's experts add up: 12 + 24 + 0 us. Out of a million tokens an expert expecting 100 is
  // touched with probability 1 - (1 - 1e-4)^1e6 = 1 - e^-100, which is 1 in a double.
  EXPECT_DOUBLE_EQ(cost.gpu_experts_time({100, 1000, 0}, 1e6), 36e-6);
}

TEST(LayerCostModel, OneByteWeightsRunOnTheFp8Path) {
  ScenarioSpec s = toy_scenario();
  s.model.weight_bytes = 1;
  const LayerCostModel cost(s, nullptr);
  // fp8 2e15 x 0.5 = 1e15 FLOP/s: 2 x 6e6 x 1000 / 1e15 = 12 us; weights 6e6 / 1e12 = 6 us.
  EXPECT_DOUBLE_EQ(cost.expert_time(1000), 12e-6);
  // 100 tokens: 1.2 us of compute, 6 us of weights.
  EXPECT_DOUBLE_EQ(cost.expert_time(100), 6e-6);
}

TEST(LayerCostModel, PrefillDenseTimeCountsWeightsAndHalfTheContext) {
  const ScenarioSpec s = toy_scenario();
  const LayerCostModel cost(s, nullptr);
  // MoE block: attention 4e6 + shared expert 3e6 = 7e6 weights. The projections and the attention
  // core are separate kernels, each on its own roofline. Projections: 2 x 7e6 x 1000 = 1.4e10
  // FLOPs / 5e14 = 28 us against 7e6 x 2 / 1e12 = 14 us of weights: 28 us. Core over half the 2048
  // context (causal): 4 x 1000 x 1024 x 8 heads x 128 = 4.194304e9 FLOPs. The toy's cache (1000
  // bytes over K and V 2 x 8 x 128 = 2048 wide) is under a byte an element, so the core runs at
  // the FP8 rate, 1e15: 4.194304 us. The elementwise kernels move, a token: two add-RMSNorms
  // 2 x 4 x 1000 x 2 = 16,000 bytes, rotary over 8 heads x 128 read and written 4,096, the shared
  // expert's activation 3 x 1000 x 2 = 6,000 (bf16 weights: no quantisation): 26,096 bytes, 1000
  // tokens at 1e12 B/s = 26.096 us. 32.194304 + 26.096 = 58.290304 us.
  EXPECT_DOUBLE_EQ(cost.dense_time(1000, true), 58.290304e-6);
  // Dense block: attention 4e6 + MLP 1.2e7 = 1.6e7 weights: 3.2e10 FLOPs, 64 us, + 4.194304 us;
  // elementwise with the MLP's 3 x 4000 x 2 = 24,000: 44,096 bytes a token, 44.096 us.
  EXPECT_DOUBLE_EQ(cost.dense_time(1000, false), 112.290304e-6);
}

TEST(LayerCostModel, DecodeDenseTimeReadsTheWholeKvCache) {
  ScenarioSpec s = toy_scenario();
  s.workload.kind = WorkloadKind::Decode;
  const LayerCostModel cost(s, nullptr);
  // 10 sequences: FLOPs 2 x 7e6 x 10 + 4 x 10 x 2048 x 8 x 128 = 2.2388608e8 -> 0.448 us.
  // Bytes: weights 1.4e7 + KV 10 x 2048 x 1000 = 2.048e7, 3.448e7 / 1e12 = 34.48 us: memory-bound.
  // Elementwise: 10 x 26,096 bytes (as for prefill) = 0.26096 us. 34.74096 us.
  EXPECT_DOUBLE_EQ(cost.dense_time(10, true), 34.74096e-6);
}

TEST(LayerCostModel, SharedExpertsTimeIsWhatTheyAddToTheBlock) {
  ScenarioSpec s = toy_scenario();
  // Prefill, 1000 tokens (as above, 58.290304 us with them): without the shared expert the
  // projections are 2 x 4e6 x 1000 / 5e14 = 16 us and the elementwise kernels lose its 6,000 bytes
  // a token (20.096 us): 40.290304 us. It adds 12 + 6 = 18 us.
  EXPECT_NEAR(LayerCostModel(s, nullptr).shared_experts_time(1000), 18e-6, 1e-15);
  // Decode, 10 sequences: its 3e6 x 2 bytes of weights (6 us) and 10 x 6,000 bytes (0.06 us).
  s.workload.kind = WorkloadKind::Decode;
  EXPECT_NEAR(LayerCostModel(s, nullptr).shared_experts_time(10), 6.06e-6, 1e-15);
  s.model.shared_experts = 0;
  EXPECT_EQ(LayerCostModel(s, nullptr).shared_experts_time(10), 0);
}

TEST(LayerCostModel, TensorParallelSplitsAttentionOnce) {
  ScenarioSpec s = toy_scenario();
  s.parallelism.attention_tensor_parallel = 2;
  const LayerCostModel cost(s, nullptr);
  // The TP group's 1000 tokens run on both ranks, each with half the weights and half the heads:
  // weights (4e6 + 3e6) / 2 = 3.5e6: 2 x 3.5e6 x 1000 = 7e9 FLOPs / 5e14 = 14 us; attention core
  // 4 x 1000 x 1024 x 4 heads x 128 = 2.097152e9 at 1e15 (as above) = 2.097152 us: 16.097152 us,
  // half the TP 1 time (32.194304 us). The norms do not split (16,000 bytes a token); rotary over
  // 4 heads 2,048 and half the shared expert's activation 3,000: 21,048 bytes, 21.048 us.
  EXPECT_DOUBLE_EQ(cost.dense_time(1000, true), 37.145152e-6);
}

TEST(LayerCostModel, ProfileCeilingsReplaceTheDatasheetTimesEfficiency) {
  ScenarioSpec s = toy_scenario();
  s.model.top_k = 4;  // another shape than the profile measured: ceilings only, no curves
  const MeasuredProfile profile = cost_toy_profile();
  const LayerCostModel cost(s, &profile);
  EXPECT_FALSE(cost.measured());
  // Measured 5e14 FLOP/s and 2e12 B/s, used as they are (no efficiency applied):
  // 1000 tokens: 24 us of compute against 1.2e7 / 2e12 = 6 us of weights.
  EXPECT_DOUBLE_EQ(cost.expert_time(1000), 24e-6);
  // 100 tokens: 2.4 us of compute, 6 us of weights.
  EXPECT_DOUBLE_EQ(cost.expert_time(100), 6e-6);
  // FP8 scales the measured bf16 rate by the datasheet's 2e15 / 1e15 = 2: 12 us.
  s.model.weight_bytes = 1;
  EXPECT_DOUBLE_EQ(LayerCostModel(s, &profile).expert_time(1000), 12e-6);
}

TEST(LayerCostModel, MeasuredCurvesPriceTheExpertsOfAGpu) {
  const ScenarioSpec s = toy_scenario();
  const MeasuredProfile profile = cost_toy_profile();
  const LayerCostModel cost(s, &profile);
  EXPECT_TRUE(cost.measured());
  // {10, 30, 0}: loop 4 + 8 = 12 us beats grouped 6 + 7 = 13 us.
  // Out of 1e6 tokens the 10-token expert is touched with P = 1 - (1 - 1e-5)^1e6 ~ 1 - e^-10; its
  // expected cost P x loop(10 / P) = 4P + 0.2 x (10 - 10P) = 4 - 2(1 - P) us: 9.08e-5 us short.
  EXPECT_NEAR(cost.gpu_experts_time({10, 30, 0}, 1e6), 12e-6 - 2e-6 * std::exp(-10.0), 1e-14);
}

TEST(LayerCostModel, AllReduceInsideOneNodeRunsAtNvlinkRate) {
  const ScenarioSpec s = toy_scenario();
  const LayerCostModel cost(s, nullptr);
  // Ring: 2 x (8 - 1) / 8 = 1.75 of the bytes cross a link; 360e6 x 1.75 / 360e9 = 1.75 ms.
  EXPECT_DOUBLE_EQ(cost.all_reduce_time(360e6, 8), 1.75e-3);
  EXPECT_DOUBLE_EQ(cost.all_reduce_time(360e6, 1), 0);  // nothing to reduce with
  EXPECT_DOUBLE_EQ(cost.all_reduce_time(0, 8), 0);
}

TEST(LayerCostModel, AllReduceAcrossNodesRunsAtTheNicShare) {
  ScenarioSpec s = toy_scenario("h100x64", 8);
  s.cluster.oversubscription = 2;
  const LayerCostModel cost(s, nullptr);
  // Per GPU: 8 NICs x 50e9 B/s (400 Gb/s) / 8 GPUs = 50e9, x 0.8 efficiency / 2 oversubscription
  // = 20e9 B/s. Two ranks: 2 x 1/2 x 40e6 / 20e9 = 2 ms.
  EXPECT_DOUBLE_EQ(cost.all_reduce_time(40e6, 2), 2e-3);
}

TEST(LayerCostModel, LinkEfficienciesOfTheScenarioReplaceTheProfilesPerKind) {
  ScenarioSpec s = toy_scenario("h100x64", 8);
  s.cluster.scale_up_link.efficiency = 0.5;
  s.cluster.nic_link.efficiency = 0.4;
  const LayerCostModel cost(s, nullptr);
  // Across nodes: 50e9 B/s per GPU x 0.4 = 20e9 B/s; two ranks: 2 x 1/2 x 40e6 / 20e9 = 2 ms.
  EXPECT_DOUBLE_EQ(cost.all_reduce_time(40e6, 2), 2e-3);
  // Inside one node: NVLink 450e9 x 0.5 = 225e9 B/s; 2 x 1/2 x 225e6 / 225e9 = 1 ms.
  ScenarioSpec one_node = toy_scenario("h100x8", 8);
  one_node.cluster.scale_up_link.efficiency = 0.5;
  EXPECT_DOUBLE_EQ(LayerCostModel(one_node, nullptr).all_reduce_time(225e6, 2), 1e-3);
}

TEST(LayerCostModel, SingleBatchOverlapSplitsOutTheSharedExpertsAndTheDownProjection) {
  ScenarioSpec s = toy_scenario("h100x8", 2);
  s.model.experts = 2;
  s.model.top_k = 1;
  Placement placement;
  placement.gpus = 2;
  placement.slots = {{0}, {1}};
  placement.replicas = {{0}, {1}};
  const LayerCost none = LayerCostModel(s, nullptr).moe_layer(placement, {1000, 1000}, 1000);
  EXPECT_EQ(none.phases.shared_experts, 0);
  EXPECT_EQ(none.phases.experts_down, 0);
  s.parallelism.overlap = Overlap::SingleBatch;
  const LayerCostModel cost(s, nullptr);
  const LayerCost single = cost.moe_layer(placement, {1000, 1000}, 1000);
  // The same work; the shared expert's 18 us (above) and a third of the gated experts' 24 us.
  EXPECT_DOUBLE_EQ(single.phases.experts, none.phases.experts);
  EXPECT_NEAR(single.phases.shared_experts, 18e-6, 1e-15);
  EXPECT_DOUBLE_EQ(single.phases.experts_down, 8e-6);
}

TEST(LayerCostModel, RoceDeliversItsEfficiencyOfLineRate) {
  ScenarioSpec s = toy_scenario("h100x64", 8);
  s.cluster.fabric = FabricKind::Roce;
  s.cluster.roce_efficiency = 0.5;
  const LayerCostModel cost(s, nullptr);
  // 50e9 x 0.5 RoCE x 0.8 = 20e9 B/s: the same 2 ms for 40 MB over two ranks.
  EXPECT_DOUBLE_EQ(cost.all_reduce_time(40e6, 2), 2e-3);
}

TEST(LayerCostModel, AnalyticLinksAreEachGpusPortAndNicShare) {
  const ScenarioSpec s = toy_scenario();
  const LayerCostModel cost(s, nullptr);
  EXPECT_EQ(cost.collective_source(), "line rate x network_efficiency");
  const auto& links = cost.links();
  // EP 8 GPUs x (scale-up out, in, NIC out, in) = 32.
  ASSERT_EQ(links.size(), 32u);
  EXPECT_EQ(links[0].name, "gpu0 nvlink out");
  EXPECT_EQ(links[0].kind, "nvlink");
  EXPECT_DOUBLE_EQ(links[0].capacity, 450e9);
  EXPECT_EQ(links[3].name, "gpu0 nic in");
  EXPECT_EQ(links[3].kind, "ib");
  // 8 NICs x 50e9 / 8 GPUs.
  EXPECT_DOUBLE_EQ(links[3].capacity, 50e9);
  EXPECT_EQ(links[4].name, "gpu1 nvlink out");
}

TEST(LayerCostModel, MoeLayerOnTwoGpusWithOneExpertEach) {
  ScenarioSpec s = toy_scenario("h100x8", 2);
  s.model.experts = 2;
  s.model.top_k = 1;
  s.model.shared_experts = 0;
  const LayerCostModel cost(s, nullptr);
  Placement placement;
  placement.gpus = 2;
  placement.slots = {{0}, {1}};
  placement.replicas = {{0}, {1}};
  // 1000 tokens per GPU, top-1, an even split: each expert receives 1000 copies, half of them from
  // the other GPU.
  const LayerCost layer = cost.moe_layer(placement, {1000, 1000}, 1000);
  ASSERT_EQ(layer.gpu_tokens.size(), 2u);
  EXPECT_DOUBLE_EQ(layer.gpu_tokens[0], 1000);
  // Experts: 1000 tokens on one expert, 24 us (compute-bound, as above).
  EXPECT_DOUBLE_EQ(layer.phases.experts, 24e-6);
  // Gate: router 2 x 1000 x 2 experts x 1000 tokens = 4e6 FLOPs (8 ns) against reading the
  // router (1000 x 2 x 2 bytes = 4000) plus permuting every copy in and out
  // (2 x 1000 x 1 x 1000 x 2 bytes = 4e6): 4.004e6 / 1e12 = 4.004 us.
  EXPECT_DOUBLE_EQ(layer.phases.gate, 4.004e-6);
  // Dense: attention only (no shared expert): projections 2 x 4e6 x 1000 = 8e9 FLOPs, 16 us; the
  // core 4.194304e9 FLOPs at 1e15, 4.194304 us (as above): 20.194304 us; elementwise norms 16,000
  // and rotary 4,096 bytes a token (no MLP), 20.096 us: 40.290304 us.
  EXPECT_DOUBLE_EQ(layer.phases.dense, 40.290304e-6);
  // Dispatch: 500 copies x 1000 x 2 bytes = 1 MB each way over a 360 GB/s port, 2.777... us, plus
  // the 1 us NVLink latency. The combine mirrors it.
  EXPECT_NEAR(layer.phases.dispatch, 1e6 / 360e9 + 1e-6, 1e-12);
  EXPECT_NEAR(layer.phases.combine, 1e6 / 360e9 + 1e-6, 1e-12);
  // Each GPU sends 1 MB over NVLink in each collective: 2 GPUs x 2 collectives x 1 MB.
  EXPECT_DOUBLE_EQ(layer.nvlink_bytes, 4e6);
  EXPECT_DOUBLE_EQ(layer.network_bytes, 0);
  // A GPU's compute adds its experts, the dense block and the gate: 24 + 40.290304 + 4.004 us.
  EXPECT_NEAR(layer.gpu_compute[0], 24e-6 + 40.290304e-6 + 4.004e-6, 1e-15);
}

// The same layer with the all-to-alls played as flows on the node's graph: the NVLink bytes are the
// same traffic and agree with the analytic 4 MB, though each byte rides GPU -> NVSwitch and
// NVSwitch -> GPU (it was counted on both, 8 MB).
TEST(LayerCostModel, FlowAndAnalyticModelsCountTheSameNvlinkBytes) {
  ScenarioSpec s = toy_scenario("h100x8", 2);
  s.model.experts = 2;
  s.model.top_k = 1;
  s.model.shared_experts = 0;
  const NetworkModel network(s, 0.0);
  Placement placement;
  placement.gpus = 2;
  placement.slots = {{0}, {1}};
  placement.replicas = {{0}, {1}};
  const LayerCost analytic = LayerCostModel(s, nullptr).moe_layer(placement, {1000, 1000}, 1000);
  const LayerCost flow =
      LayerCostModel(s, nullptr, &network).moe_layer(placement, {1000, 1000}, 1000);
  EXPECT_DOUBLE_EQ(analytic.nvlink_bytes, 4e6);
  EXPECT_DOUBLE_EQ(flow.nvlink_bytes, analytic.nvlink_bytes);
}

// The toy profile's ceilings plus NCCL collectives measured on 2 ranks: the all-to-all took 10 us
// at 1000 bytes per rank (its floor) and 40 us at 2 MB; the count exchange 30 us; the dispatch
// sequence (count exchange to the end of the regroup, one row per peer and expert) 50 us.
json profile_with_collectives(bool with_sequence) {
  json document = {
      {"schema_version", 1},
      {"ceilings", {{"dense_bf16_flops_per_s", 5e14}, {"copy", {{"bytes_per_s", 2e12}}}}},
      {"overheads", {{"count_copy_and_sync", {{"median_us", 12}}}}},
      {"models", json::array()}};
  auto entry = [](double bytes, double us) {
    return json{{"ranks", 2},
                {"bytes", bytes},
                {"busbw_bytes_per_s", bytes / 2 / us * 1e6},
                {"time", {{"median_us", us}}}};
  };
  auto at_eight_experts = [](double us) {
    return json::array({{{"ranks", 2}, {"experts", 8}, {"time", {{"median_us", us}}}}});
  };
  document["collectives"] = {{"all_to_all", {entry(1000, 10), entry(2e6, 40)}},
                             {"count_exchange", at_eight_experts(30)}};
  if (with_sequence) document["collectives"]["dispatch_sequence"] = at_eight_experts(50);
  return document;
}

TEST(LayerCostModel, MeasuredDispatchSequenceIsTheFixedPartAndTheRowsAddTheirBytes) {
  ScenarioSpec s = toy_scenario("h100x8", 2);
  s.model.experts = 2;
  s.model.top_k = 1;
  s.model.shared_experts = 0;
  Placement placement;
  placement.gpus = 2;
  placement.slots = {{0}, {1}};
  placement.replicas = {{0}, {1}};
  // Each GPU sends 500 copies x 1000 x 2 bytes = 1 MB to its peer: an even all-to-all of
  // 1 MB x 2 / 1 = 2 MB per rank, measured 40 us; the floor (the smallest size) 10 us.
  const MeasuredProfile without(profile_with_collectives(false), "p.json");
  const LayerCost before = LayerCostModel(s, &without).moe_layer(placement, {1000, 1000}, 1000);
  // Count exchange 30 us, then the all-to-all 40 us; the combine the all-to-all alone.
  EXPECT_NEAR(before.phases.dispatch, 70e-6, 1e-12);
  EXPECT_NEAR(before.phases.combine, 40e-6, 1e-12);
  EXPECT_NEAR(before.phases.dispatch_fixed, 30e-6, 1e-12);
  const MeasuredProfile with(profile_with_collectives(true), "p.json");
  const LayerCost after = LayerCostModel(s, &with).moe_layer(placement, {1000, 1000}, 1000);
  // The sequence 50 us, the rows' all-to-all beyond its floor 40 - 10 = 30 us, and the regroup of
  // the 1000 copies each GPU received (2 MB read and written, 4 MB at 2e12 B/s): 2 us. 82 us.
  EXPECT_NEAR(after.phases.dispatch, 82e-6, 1e-12);
  EXPECT_NEAR(after.phases.dispatch_fixed, 50e-6, 1e-12);
  EXPECT_NEAR(after.phases.count_exchange, 30e-6, 1e-12);  // inside the sequence, not added
  // The combine restores peer order first (2 us) and pays the whole all-to-all: 42 us.
  EXPECT_NEAR(after.phases.combine, 42e-6, 1e-12);
  EXPECT_NEAR(after.gpu_communication[0], 82e-6 + 42e-6, 1e-12);
}

}  // namespace
}  // namespace moesim::sim
