// The causal attention core priced at the share of the GEMM rate a profile measured for it, by
// prompt length (sim/cost/attention_core_rate.hpp).
#include "sim/cost/attention_core_rate.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sim/cost/attention_cost.hpp"
#include "sim/cost/device_scaled_profile.hpp"
#include "sim/cost/fp8_ratio_source.hpp"
#include "sim/cost/layer_cost_model.hpp"
#include "sim/spec/builtin_profiles.hpp"
#include "sim/spec/scenario.hpp"
#include "tests/sim/cost/profile_problems.hpp"

namespace moesim::sim {
namespace {

using nlohmann::json;

json entry(const char* shape, int prompt, double flops_per_s) {
  return {{"shape", shape}, {"prompt_tokens", prompt}, {"flops_per_s", flops_per_s}};
}

// Reference GEMM 8e14 FLOP/s. At 256-token prompts three shapes reach 2e14, 2.4e14 and 3e14
// (shares 0.25, 0.30, 0.375: median 0.30); at 4,096 two reach 6e14 and 5.6e14 (0.75 and 0.70:
// median 0.725).
json measured_section() {
  return {{"reference_gemm_flops_per_s", 8e14},
          {"causal_prefill",
           {entry("a", 256, 2e14), entry("b", 256, 2.4e14), entry("c", 256, 3e14),
            entry("a", 4096, 6e14), entry("b", 4096, 5.6e14)}}};
}

// The smallest profile the reader accepts (BF16 GEMMs at 6e14 FLOP/s), with `section` as its
// attention_core when it is not null.
json profile_with(const json& section) {
  json document = json::parse(R"({"schema_version": 1, "provenance": {"gpu_name": "Test GPU"},
      "ceilings": {"dense_bf16_flops_per_s": 6e14, "copy": {"bytes_per_s": 4e12}},
      "overheads": {"count_copy_and_sync": {"median_us": 12}}, "models": []})");
  if (!section.is_null()) document["attention_core"] = section;
  return document;
}

std::vector<std::string> problems_of(const json& section) {
  return profile_problems_of(profile_with(section));
}

TEST(AttentionCoreRate, EachPromptLengthTakesTheMedianShareOverItsShapes) {
  const MeasuredProfile profile(profile_with(measured_section()), "p.json");
  ASSERT_NE(profile.attention_core(), nullptr);
  const auto& points = profile.attention_core()->points;
  ASSERT_EQ(points.size(), 2u);
  EXPECT_DOUBLE_EQ(points[0].log2_prompt, 8);  // 256 tokens
  EXPECT_DOUBLE_EQ(points[0].of_gemm_rate, 0.30);
  EXPECT_DOUBLE_EQ(points[1].log2_prompt, 12);  // 4,096 tokens
  EXPECT_DOUBLE_EQ(points[1].of_gemm_rate, 0.725);
  EXPECT_EQ(profile.attention_core()->smallest_prompt(), 256);
  EXPECT_EQ(profile.attention_core()->largest_prompt(), 4096);
}

TEST(AttentionCoreRate, ExactAtMeasuredPromptsLinearInLogBetweenAndFlatOutside) {
  const MeasuredProfile profile(profile_with(measured_section()), "p.json");
  const AttentionCoreCurve& curve = *profile.attention_core();
  EXPECT_DOUBLE_EQ(attention_core_share(curve, 256), 0.30);
  EXPECT_DOUBLE_EQ(attention_core_share(curve, 4096), 0.725);
  // 1,024 is halfway from 256 to 4,096 in log2 (10 of 8..12): halfway from 0.30 to 0.725.
  EXPECT_DOUBLE_EQ(attention_core_share(curve, 1024), 0.5125);
  // Outside the measured prompts: the nearest measured share, not a line run past it.
  EXPECT_DOUBLE_EQ(attention_core_share(curve, 16), 0.30);
  EXPECT_DOUBLE_EQ(attention_core_share(curve, 1e6), 0.725);
  double previous = 0;
  for (double prompt = 256; prompt <= 4096; prompt *= 1.1) {
    const double share = attention_core_share(curve, prompt);
    EXPECT_GE(share, previous) << prompt;
    previous = share;
  }
}

TEST(AttentionCoreRate, ABadSectionIsRefusedWithItsPointer) {
  json section = measured_section();
  section["causal_prefill"][1]["flops_per_s"] = 2e15;  // 2.5 x the reference GEMM
  section["causal_prefill"][2].erase("prompt_tokens");
  section["causal_prefill"][2]["promt_tokens"] = 512;
  section.erase("reference_gemm_flops_per_s");
  EXPECT_EQ(problems_of(section),
            (std::vector<std::string>{
                "/attention_core/reference_gemm_flops_per_s: missing required field (expected a "
                "number in (0, 1e+18])",
                "/attention_core/causal_prefill/2/prompt_tokens: missing required field (expected "
                "an integer in [1, 16777216])",
                "/attention_core/causal_prefill/2/promt_tokens: unknown field; did you mean "
                "\"prompt_tokens\"?"}));
  // With the reference back, the share is checked: 2.5 is above 2, and 1e3 FLOP/s over 8e14 (a
  // unit slip) below 0.01, which would price the core at almost no rate; 2^24 + 1 tokens is past
  // the prompt bound.
  section["reference_gemm_flops_per_s"] = 8e14;
  section["causal_prefill"][2] = entry("c", 512, 1e3);
  section["causal_prefill"][3]["prompt_tokens"] = (1 << 24) + 1;
  EXPECT_EQ(problems_of(section),
            (std::vector<std::string>{
                "/attention_core/causal_prefill/1/flops_per_s: expected 0.01 to 2 x "
                "reference_gemm_flops_per_s, got 2.5 x",
                "/attention_core/causal_prefill/2/flops_per_s: expected 0.01 to 2 x "
                "reference_gemm_flops_per_s, got 1.25e-12 x",
                "/attention_core/causal_prefill/3/prompt_tokens: expected an integer in [1, "
                "16777216], got 16777217"}));
  EXPECT_EQ(problems_of({{"reference_gemm_flops_per_s", 8e14}, {"causal_prefill", json::array()}}),
            (std::vector<std::string>{"/attention_core/causal_prefill: expected a non-empty array "
                                      "of {prompt_tokens, flops_per_s, ...}"}));
}

// A flat curve: the core reaches `share` of the GEMM rate at every prompt length.
json flat_section(double share) {
  return {{"reference_gemm_flops_per_s", 8e14},
          {"causal_prefill", {entry("a", 256, 8e14 * share), entry("a", 8192, 8e14 * share)}}};
}

ScenarioSpec bf16_scenario(const char* workload) {
  return parse_scenario(fmt::format(R"({{"schema_version": 1,
      "model": {{"preset": "deepseek-v3", "weight_bytes": 2}}, "cluster": "h200x8",
      "parallelism": {{"expert_parallel": 8}}, "workload": {}}})",
                                    workload),
                        "core.json");
}

TEST(AttentionCoreRate, APrefillsCoreRunsAtTheMeasuredShare) {
  // BF16 weights price every FLOP at the profile's 6e14. A prefill of 16,384 tokens at 2,048-token
  // prompts has no KV read to bound its core, so halving the core's rate adds exactly its FLOPs /
  // 6e14 to the block, the core's FLOPs from dense_work.
  const ScenarioSpec prefill =
      bf16_scenario(R"({"kind": "prefill", "tokens_per_gpu": 16384, "context_tokens": 2048})");
  const MeasuredProfile plain(profile_with(nullptr), "p.json");
  const MeasuredProfile half(profile_with(flat_section(0.5)), "p.json");
  const double core_flops =
      dense_work(prefill.model, {.tokens = 16384, .context = 2048, .moe_layer = false})
          .attention_flops;
  ASSERT_GT(core_flops, 0);
  EXPECT_NEAR(LayerCostModel(prefill, &half).dense_time(16384, false) -
                  LayerCostModel(prefill, &plain).dense_time(16384, false),
              core_flops / 6e14, 1e-9 * core_flops / 6e14);
  const auto notes = LayerCostModel(prefill, &half).pricing_notes();
  EXPECT_NE(std::find(notes.begin(), notes.end(),
                      "causal attention core at 2048-token prompts: 0.50 x the GEMM rate, the "
                      "profile's measured fused-attention rate (measured 256-8192)"),
            notes.end());
}

TEST(AttentionCoreRate, ADecodeStepPaysItOnItsPromptChunkAlone) {
  // 64 sequences decoding at 2,048 tokens of context with a 512-token chunk of a 2,048-token prompt
  // in the step (the step mixed_prefill prices; step_prompt_tokens is what it sets). The decode
  // core (64 x 2,048 x 128 heads x 2,176 = 3.65e10 FLOPs, 61 us) and the chunk's causal core
  // (512 x 1,024 x 128 x 640 = 4.29e10, 72 us) outrun the 151 MB cache read (38 us at 4e12 B/s),
  // so halving the causal share adds exactly the chunk's core FLOPs / 6e14, and nothing of the
  // decode's own.
  ScenarioSpec decode = bf16_scenario(
      R"({"kind": "decode", "tokens_per_gpu": 64, "context_tokens": 2048,
          "mixed_prefill": {"input_tokens": 2048, "output_tokens": 256}})");
  const MeasuredProfile plain(profile_with(nullptr), "p.json");
  const MeasuredProfile half(profile_with(flat_section(0.5)), "p.json");
  EXPECT_TRUE(LayerCostModel(decode, &half).attention_core_note());
  EXPECT_DOUBLE_EQ(LayerCostModel(decode, &half).dense_time(64, false),
                   LayerCostModel(decode, &plain).dense_time(64, false));
  decode.workload.step_prompt_tokens = 512;
  const double chunk_core = dense_work(decode.model, {.tokens = 64,
                                                      .decode = true,
                                                      .context = 2048,
                                                      .moe_layer = false,
                                                      .prefill_tokens = 512,
                                                      .prefill_context = 2048})
                                .causal_attention_flops;
  EXPECT_DOUBLE_EQ(chunk_core, 512.0 * 1024 * 128 * 640);
  const double added = LayerCostModel(decode, &half).dense_time(576, false) -
                       LayerCostModel(decode, &plain).dense_time(576, false);
  EXPECT_NEAR(added, chunk_core / 6e14, 1e-9 * added);
}

TEST(AttentionCoreRate, ADeviceScaledProfileKeepsTheShareAndSaysWhere) {
  // GB200 priced from the H200 profile: the share is a kernel's fraction of the GEMM rate, so it
  // is kept while the GEMM rate itself scales; the note names the H200.
  const MeasuredProfile h200 = load_profile("h200");
  const MeasuredProfile gb200 =
      scale_profile_to_device(h200, *find_device("h200"), *find_device("gb200"));
  ASSERT_NE(gb200.attention_core(), nullptr);
  EXPECT_DOUBLE_EQ(attention_core_share(*gb200.attention_core(), 2000),
                   attention_core_share(*h200.attention_core(), 2000));
  const ScenarioSpec prefill = parse_scenario(
      R"({"schema_version": 1, "model": "deepseek-v3", "cluster": "gb200x72",
          "parallelism": {"expert_parallel": 8},
          "workload": {"kind": "prefill", "tokens_per_gpu": 8192, "context_tokens": 2000}})",
      "gb200.json");
  const auto note = LayerCostModel(prefill, &gb200).attention_core_note();
  ASSERT_TRUE(note);
  EXPECT_NE(note->find("; measured on h200, kept as a share of the scaled GEMM rate"),
            std::string::npos)
      << *note;
}

TEST(AttentionCoreRate, AnH200ProfileMeasuredWithoutItBorrowsTheShippedOne) {
  // moesim-profile does not measure the attention core (a script of its own does): a new H200
  // profile without the section takes the shipped H200's curve, and says so.
  json document = json::parse(*builtin_profile_text("h200"));
  document.erase("attention_core");
  MeasuredProfile fresh(document, "fresh-h200.json");
  ASSERT_EQ(fresh.attention_core(), nullptr);
  adopt_same_chip_ratios(*find_device("h200"), fresh);
  ASSERT_NE(fresh.attention_core(), nullptr);
  EXPECT_EQ(fresh.attention_core_from(), "NVIDIA H200");
}

TEST(AttentionCoreRate, AnH100ProfileBorrowsTheH200sCurve) {
  // One GH100 chip under both (docs/decode-model.md): the fused kernel's share is the chip's.
  MeasuredProfile h100 = load_profile("h100");
  ASSERT_EQ(h100.attention_core(), nullptr);
  adopt_same_chip_ratios(*find_device("h100-sxm"), h100);
  ASSERT_NE(h100.attention_core(), nullptr);
  EXPECT_EQ(h100.attention_core_from(), "NVIDIA H200");
  const MeasuredProfile h200 = load_profile("h200");
  EXPECT_DOUBLE_EQ(attention_core_share(*h100.attention_core(), 2000),
                   attention_core_share(*h200.attention_core(), 2000));
}

}  // namespace
}  // namespace moesim::sim
