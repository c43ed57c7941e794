// The parallel groups of a scenario: validated against the cluster, the model and the workload
// with the field's path (issue 22), and placed on the topology TP-first unless overridden.
#include <gtest/gtest.h>

#include <string>

#include "base/config_error.hpp"
#include "sim/spec/parallel_groups.hpp"
#include "sim/spec/scenario.hpp"

namespace moesim::sim {
namespace {

// Mixtral-8x7B (32 layers, 32 heads, expert_ffn 14336) on 64 H100s (8 nodes of 8).
std::string scenario_text(const std::string& parallelism, const std::string& kind = "training") {
  return R"({"schema_version": 1, "model": "mixtral-8x7b", "cluster": "h100x64",
             "parallelism": )" +
         parallelism + R"(, "workload": {"kind": ")" + kind + R"("}})";
}

std::string parallel_error_of(const std::string& parallelism,
                              const std::string& kind = "training") {
  try {
    parse_scenario(scenario_text(parallelism, kind), "p.json");
  } catch (const ConfigError& error) {
    return error.what();
  }
  return "(no error)";
}

TEST(ScenarioParallel, ReadsEveryGroup) {
  const ScenarioSpec s =
      parse_scenario(scenario_text(R"({"attention_tensor_parallel": 2, "expert_parallel": 4,
          "moe_tensor_parallel": 2, "pipeline_parallel": {"size": 4, "schedule": "interleaved",
          "micro_batches": 8, "virtual_stages": 2}, "data_parallel": {"size": 8,
          "zero_stage": 0}})"),
                     "p.json");
  const ParallelismSpec& p = s.parallelism;
  // 64 GPUs / (TP 2 x PP 4) = DP 8; a stage's 16 GPUs / (MoE TP 2 x EP 4) = expert DP 2.
  EXPECT_EQ(p.attention_data_parallel, 8);
  EXPECT_EQ(p.pipeline.schedule, PipelineSchedule::Interleaved);
  EXPECT_EQ(p.pipeline.virtual_stages, 2);
  EXPECT_EQ(p.data.zero_stage, 0);
  EXPECT_EQ(p.moe_group(), 8);
  EXPECT_EQ(group_layout(s, GroupKind::ExpertData).size, 2);
}

TEST(ScenarioParallel, NamesTheFieldOfEachMismatch) {
  // 8 x 3 = 24 does not divide a 16-GPU stage.
  EXPECT_NE(parallel_error_of(R"({"expert_parallel": 8, "moe_tensor_parallel": 3,
                        "pipeline_parallel": {"size": 4}})")
                .find("/parallelism/expert_parallel: expected moe_tensor_parallel x "
                      "expert_parallel to divide the 16 GPUs of a pipeline stage, got 3 x 8"),
            std::string::npos);
  // 32 layers do not split into 3 stages (and 64 GPUs do not either).
  const std::string three = parallel_error_of(R"({"pipeline_parallel": {"size": 3}})");
  EXPECT_NE(three.find("/parallelism/pipeline_parallel/size: expected a divisor of the cluster's "
                       "64 GPUs, got 3"),
            std::string::npos)
      << three;
  EXPECT_NE(three.find("to divide the model's 32 layers"), std::string::npos) << three;
  // Interleaving needs virtual stages and whole rounds of micro-batches.
  const std::string interleaved =
      parallel_error_of(R"({"pipeline_parallel": {"size": 4, "schedule": "interleaved",
                                          "micro_batches": 6}})");
  EXPECT_NE(interleaved.find("/parallelism/pipeline_parallel/virtual_stages: expected >= 2"),
            std::string::npos)
      << interleaved;
  EXPECT_NE(interleaved.find("/parallelism/pipeline_parallel/micro_batches: expected a multiple "
                             "of size 4"),
            std::string::npos)
      << interleaved;
  // data_parallel.size must be the attention DP: 64 / TP 2 = 32, not 16.
  EXPECT_NE(
      parallel_error_of(R"({"attention_tensor_parallel": 2, "data_parallel": {"size": 16}})")
          .find("/parallelism/attention_data_parallel: expected attention_data_parallel x "
                "attention_tensor_parallel x pipeline_parallel.size = 64 GPUs, got 16 x 2 x 1"),
      std::string::npos);
  // MoE TP must split the expert's FFN: 14336 = 2^11 x 7, so 3 does not.
  EXPECT_NE(parallel_error_of(R"({"expert_parallel": 1, "moe_tensor_parallel": 3})")
                .find("/parallelism/moe_tensor_parallel: expected a divisor of the model's "
                      "expert_ffn 14336, got 3"),
            std::string::npos);
  // TP must split the 32 attention heads.
  EXPECT_NE(parallel_error_of(R"({"attention_tensor_parallel": 64, "expert_parallel": 8})")
                .find("/parallelism/attention_tensor_parallel: expected a divisor of the model's "
                      "32 attention heads, got 64"),
            std::string::npos);
  EXPECT_NE(parallel_error_of(R"({"zero": 1})").find("/parallelism/zero"), std::string::npos);
}

TEST(ScenarioParallel, PipelinesAreForTrainingOnly) {
  EXPECT_NE(parallel_error_of(R"({"pipeline_parallel": {"size": 2}})", "prefill")
                .find("/parallelism/pipeline_parallel: expected pipeline parallelism only with "
                      "workload.kind \"training\""),
            std::string::npos);
}

TEST(ScenarioParallel, ZeroStagesAreRefusedWhereNoStackRunsThem) {
  // The same combinations plan refuses: ZeRO other than 1 without training, ZeRO 2-3 under a
  // pipeline. ZeRO 0 and 1 pipeline; ZeRO 3 trains without one.
  const std::string path = "/parallelism/data_parallel/zero_stage: expected ";
  EXPECT_NE(parallel_error_of(R"({"data_parallel": {"zero_stage": 0}})", "decode")
                .find(path + "1 (the default) without workload.kind \"training\""),
            std::string::npos);
  EXPECT_NE(parallel_error_of(R"({"pipeline_parallel": {"size": 4, "micro_batches": 8},
                                  "data_parallel": {"zero_stage": 3}})")
                .find(path + "0 or 1 with pipeline parallel"),
            std::string::npos);
  EXPECT_EQ(parallel_error_of(R"({"pipeline_parallel": {"size": 4, "micro_batches": 8},
                                  "data_parallel": {"zero_stage": 0}})"),
            "(no error)");
  EXPECT_EQ(parallel_error_of(R"({"data_parallel": {"zero_stage": 3}})"), "(no error)");
}

TEST(ScenarioParallel, TensorParallelStaysInsideANodeUnlessTheRankOrderSaysOtherwise) {
  const std::string layout = R"({"attention_tensor_parallel": 8, "expert_parallel": 8)";
  ScenarioSpec s = parse_scenario(scenario_text(layout + "}"), "p.json");
  // tp-dp-pp: TP ranks 0-7, one HGX node; DP ranks 0, 8, ..., 56: 8 nodes.
  EXPECT_EQ(group_layout(s, GroupKind::AttentionTensor).domains, 1);
  EXPECT_EQ(group_layout(s, GroupKind::Data).domains, 8);
  s = parse_scenario(scenario_text(layout + R"(, "rank_order": "dp-tp-pp"})"), "p.json");
  // dp-tp-pp: TP ranks 0, 8, ..., 56, one per node; DP ranks 0-7 in one node.
  EXPECT_EQ(group_layout(s, GroupKind::AttentionTensor).domains, 8);
  EXPECT_EQ(group_layout(s, GroupKind::Data).domains, 1);
}

TEST(ScenarioParallel, MoeGroupsStrideOverTheirShards) {
  const ScenarioSpec s = parse_scenario(
      scenario_text(R"({"expert_parallel": 4, "moe_tensor_parallel": 2})", "prefill"), "p.json");
  // MoE TP innermost: shards on ranks 0-1; EP ranks 0, 2, 4, 6; expert DP 64 / 8 = 8 replicas at
  // 0, 8, ..., 56.
  EXPECT_EQ(group_members(s, GroupKind::MoeTensor), (std::vector<int>{0, 1}));
  EXPECT_EQ(group_members(s, GroupKind::Expert), (std::vector<int>{0, 2, 4, 6}));
  EXPECT_EQ(group_layout(s, GroupKind::ExpertData).size, 8);
}

}  // namespace
}  // namespace moesim::sim
