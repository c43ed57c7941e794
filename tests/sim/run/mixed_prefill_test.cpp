// Aggregated serving: prompts prefilled by the GPUs that decode (workload.mixed_prefill), inside
// the step (in-flight batching) or in passes between steps.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "base/config_error.hpp"
#include "sim/run/inputs.hpp"
#include "sim/run/simulate.hpp"
#include "sim/spec/scenario.hpp"

namespace moesim::sim {
namespace {

// Mixtral on 8 H200 (EP 8, attention DP 8), 16 sequences a rank at 1,024 tokens of context.
ScenarioSpec mixtral_decode(const std::string& workload_extra) {
  ScenarioSpec s = parse_scenario(
      R"({"schema_version": 1, "model": "mixtral-8x7b", "cluster": "h200x8",
          "parallelism": {"expert_parallel": 8},
          "workload": {"kind": "decode", "tokens_per_gpu": 16, "context_tokens": 1024)" +
          workload_extra + "}}",
      "mixed.json");
  s.profile.source = "roofline";
  return s;
}

ScenarioSpec plain_spec() { return mixtral_decode(""); }

double dense_sum(const Report& r) {
  double total = 0;
  for (const auto& layer : r.layers) total += layer.phases.dense;
  return total;
}

TEST(MixedPrefill, PromptTokensPerStepFollowFromInputAndOutputLengths) {
  // 16 sequences that each emit 2,048 tokens and bring 1,024: a step brings 16 x 1,024 / 2,048 =
  // 8 prompt tokens. Under MTP (2 drafts at 0.5: 1.75 tokens a step) sequences finish 1.75 times
  // as fast: 14 a step.
  const std::string io = R"(, "mixed_prefill": {"input_tokens": 1024, "output_tokens": 2048})";
  EXPECT_DOUBLE_EQ(mixtral_decode(io).workload.prefill_tokens_per_step(), 8);
  const ScenarioSpec mtp =
      mixtral_decode(io + R"(, "mtp_draft_tokens": 2, "mtp_acceptance_rate": 0.5)");
  EXPECT_DOUBLE_EQ(mtp.workload.prefill_tokens_per_step(), 14);
  EXPECT_DOUBLE_EQ(mixtral_decode("").workload.prefill_tokens_per_step(), 0);
}

TEST(MixedPrefill, InFlightStepsCarryAWholePromptInAShareOfTheSteps) {
  // In-flight with whole prompts: a rank's step carries a 1,024-token prompt beside its 16
  // sequences once in 1,024 / 8 = 128 steps; that carrier step routes (16 + 1,024) x top-2 x 8
  // ranks = 16,640 copies a MoE layer against 16 x 2 x 8 = 256.
  const Report plain = simulate(mixtral_decode(""));
  const Report mixed = simulate(mixtral_decode(
      R"(, "mixed_prefill": {"input_tokens": 1024, "output_tokens": 2048, "scheduling": "in-flight"})"));
  ScenarioSpec carrier_spec = mixtral_decode("");
  carrier_spec.workload.step_prompt_tokens = 1024;
  carrier_spec.workload.mixed_prefill.input_tokens = 1024;  // the prompt's causal context
  carrier_spec.workload.cuda_graphs = false;  // a step with prompt rows is launched eagerly
  const Report carrier = simulate(carrier_spec);
  EXPECT_DOUBLE_EQ(plain.routed_tokens, 32 * 256.0);  // 32 MoE layers
  EXPECT_DOUBLE_EQ(carrier.routed_tokens, 32 * 16640.0);
  EXPECT_DOUBLE_EQ(mixed.extras.prefill_tokens, 8);
  // Each of the 8 attention-DP ranks carries a prompt in p = 1/128 of the steps, so q = 1 -
  // (127/128)^8 = 0.06065 of the steps wait for some rank's prompt attention: the carrier's
  // added dense time is paid q of the time, the rest of what it adds p of the time.
  EXPECT_EQ(plain_spec().parallelism.attention_data_parallel, 8);
  const double p = 8.0 / 1024, q = 1 - std::pow(127.0 / 128, 8);
  const double dense_added = dense_sum(carrier) - dense_sum(plain);
  EXPECT_GT(dense_added, 0);
  EXPECT_NEAR(mixed.extras.mixed_prefill,
              p * (carrier.step_time_s - plain.step_time_s) + (q - p) * dense_added, 1e-15);
  EXPECT_GT(mixed.extras.mixed_prefill, 0);
  EXPECT_NEAR(mixed.step_time_s, plain.step_time_s + mixed.extras.mixed_prefill, 1e-15);
  // Tokens emitted a step are the decode sequences' alone.
  EXPECT_DOUBLE_EQ(mixed.tokens_per_step, plain.tokens_per_step);
}

TEST(MixedPrefill, ChunkedPrefillCarriesChunksInMoreSteps) {
  // Chunks of 256: a rank carries one in p = 8 / 256 of the steps. A chunk larger than the prompt
  // is the whole prompt.
  const Report plain = simulate(mixtral_decode(""));
  const Report chunked = simulate(mixtral_decode(
      R"(, "mixed_prefill": {"input_tokens": 1024, "output_tokens": 2048, "chunk_tokens": 256})"));
  ScenarioSpec carrier_spec = mixtral_decode("");
  carrier_spec.workload.step_prompt_tokens = 256;
  carrier_spec.workload.mixed_prefill.input_tokens = 1024;
  carrier_spec.workload.cuda_graphs = false;
  const Report carrier = simulate(carrier_spec);
  EXPECT_DOUBLE_EQ(carrier.routed_tokens, 32 * (16 + 256) * 2 * 8.0);
  const double p = 8.0 / 256, q = 1 - std::pow(1 - p, 8);
  EXPECT_NEAR(chunked.extras.mixed_prefill,
              p * (carrier.step_time_s - plain.step_time_s) +
                  (q - p) * (dense_sum(carrier) - dense_sum(plain)),
              1e-15);
  const MixedPrefillSpec oversized{.input_tokens = 1024, .chunk_tokens = 4096};
  EXPECT_DOUBLE_EQ(oversized.chunk(), 1024);
}

TEST(MixedPrefill, SeparatePassesAddAPromptsPrefillPerPromptTokensBrought) {
  // Between steps: one 1,024-token prompt's prefill pass (eager launches) for every 1,024 prompt
  // tokens a rank brings, p = 8 / 1,024 of a pass a step; its dense part q of the time, as above.
  const Report plain = simulate(mixtral_decode(""));
  const Report mixed = simulate(mixtral_decode(
      R"(, "mixed_prefill": {"input_tokens": 1024, "output_tokens": 2048, "scheduling": "separate"})"));
  ScenarioSpec prompt = mixtral_decode("");
  prompt.workload.kind = WorkloadKind::Prefill;
  prompt.workload.tokens_per_gpu = prompt.workload.context_tokens = 1024;
  prompt.workload.cuda_graphs = false;
  const Report pass = simulate(prompt);
  const double p = 8.0 / 1024, q = 1 - std::pow(127.0 / 128, 8);
  const double expected = p * pass.step_time_s + (q - p) * dense_sum(pass);
  EXPECT_NEAR(mixed.extras.mixed_prefill, expected, 1e-15);
  EXPECT_NEAR(mixed.step_time_s, plain.step_time_s + expected, 1e-15);
  EXPECT_DOUBLE_EQ(mixed.routed_tokens, plain.routed_tokens);  // the step itself is unchanged
}

TEST(MixedPrefill, BadFieldsAreRefusedWithTheirPaths) {
  auto error_of = [](const std::string& text) -> std::string {
    try {
      parse_scenario(text, "bad.json");
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "(no error)";
  };
  const std::string head = R"({"schema_version": 1, "model": "mixtral-8x7b", "cluster": "h200x8",
      "workload": {)";
  EXPECT_NE(error_of(head + R"("kind": "prefill", "mixed_prefill": {"input_tokens": 8,
      "output_tokens": 8}}})")
                .find("/workload/mixed_prefill: expected only with kind \"decode\""),
            std::string::npos);
  EXPECT_NE(error_of(head + R"("kind": "decode", "mixed_prefill": {"input_tokens": 8}}})")
                .find("/workload/mixed_prefill/output_tokens"),
            std::string::npos);
  EXPECT_NE(error_of(head + R"("kind": "decode", "mixed_prefill": {"input_tokens": 8,
      "output_tokens": 8, "scheduling": "fused"}}})")
                .find("/workload/mixed_prefill/scheduling"),
            std::string::npos);
}

}  // namespace
}  // namespace moesim::sim
