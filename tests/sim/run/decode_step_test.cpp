// The decode step as serving stacks run it: profiles matched by shape and device, the LM head,
// MTP and the launch floor (issue: the decode model).
#include <gtest/gtest.h>

#include <string>

#include "base/config_error.hpp"
#include "sim/run/inputs.hpp"
#include "sim/run/simulate.hpp"
#include "sim/spec/scenario.hpp"

namespace moesim::sim {
namespace {

ScenarioSpec scenario(const std::string& model, const std::string& cluster,
                      const std::string& extra = "") {
  return parse_scenario(R"({"schema_version": 1, "model": )" + model + R"(, "cluster": ")" +
                            cluster + R"(", "parallelism": {"expert_parallel": 8}, )" +
                            R"("workload": {"kind": "decode", "tokens_per_gpu": 16,
                                 "context_tokens": 1024)" +
                            extra + "}}",
                        "decode.json");
}

TEST(DecodeStep, ProfileCurvesFollowTheShapeNotTheName) {
  // A Mixtral-shaped model called deepseek-v3 is priced from the Mixtral measurements of the H200
  // profile, and gives exactly the expert time of Mixtral itself.
  const std::string mixtral_shape = R"({"preset": "mixtral-8x7b", "name": "deepseek-v3"})";
  ScenarioSpec renamed = scenario(mixtral_shape, "h200x8");
  renamed.profile.source = "h200";
  ScenarioSpec mixtral = scenario(R"("mixtral-8x7b")", "h200x8");
  mixtral.profile.source = "h200";
  const Report a = simulate(resolve_inputs(renamed, {}));
  const Report b = simulate(resolve_inputs(mixtral, {}));
  EXPECT_EQ(a.profile_source, "measured");
  EXPECT_DOUBLE_EQ(a.layers[0].phases.experts, b.layers[0].phases.experts);
  ASSERT_FALSE(a.pricing_notes.empty());
  EXPECT_NE(a.pricing_notes[0].find("mixtral-8x7b"), std::string::npos);
}

TEST(DecodeStep, AProfileOfAnotherDeviceIsRefusedUnlessAllowed) {
  ScenarioSpec s = scenario(R"("mixtral-8x7b")", "h100x8");
  s.profile.source = "h200";
  try {
    resolve_inputs(s, {});
    FAIL() << "an H200 profile priced an H100 cluster";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("allow_other_device"), std::string::npos) << e.what();
  }
  s.profile.allow_other_device = true;
  const Report forced = simulate(resolve_inputs(s, {}));
  EXPECT_EQ(forced.profile_source, "measured");
  // ... and the report says so.
  ASSERT_FALSE(forced.pricing_notes.empty());
  EXPECT_NE(forced.pricing_notes[0].find("measured on NVIDIA H200 prices a h100-sxm"),
            std::string::npos)
      << forced.pricing_notes[0];
}

TEST(DecodeStep, MtpVerifiesTheDraftsAndYieldsTheAcceptedTokens) {
  // 2 drafts accepted with 0.5 each: 1 + 0.5 + 0.25 = 1.75 tokens per sequence per step. The
  // verify pass routes 16 x 3 = 48 query tokens per GPU instead of 16.
  const std::string mtp = R"(, "mtp_draft_tokens": 2, "mtp_acceptance_rate": 0.5)";
  ScenarioSpec s = scenario(R"("mixtral-8x7b")", "h200x8", mtp);
  s.profile.source = "roofline";
  const Report r = simulate(s);
  EXPECT_DOUBLE_EQ(r.extras.accepted_tokens_per_sequence, 1.75);
  EXPECT_DOUBLE_EQ(r.tokens_per_step, 16 * 8 * 1.75);  // 8 attention-DP ranks
  EXPECT_DOUBLE_EQ(r.time_per_output_token_s(), r.step_time_s / 1.75);
  EXPECT_GT(r.extras.mtp_drafts, 0);
  // Without MTP each step yields one token per sequence and has no drafts.
  ScenarioSpec plain = scenario(R"("mixtral-8x7b")", "h200x8");
  plain.profile.source = "roofline";
  const Report p = simulate(plain);
  EXPECT_DOUBLE_EQ(p.extras.accepted_tokens_per_sequence, 1);
  EXPECT_DOUBLE_EQ(p.extras.mtp_drafts, 0);
}

TEST(DecodeStep, MtpNeedsAnAcceptanceRate) {
  EXPECT_THROW(scenario(R"("mixtral-8x7b")", "h200x8", R"(, "mtp_draft_tokens": 2)"), ConfigError);
}

TEST(DecodeStep, EagerLaunchesSetAFloorThatCudaGraphsLower) {
  // Mixtral: 32 MoE blocks x 18 kernels + 5 per step = 581 kernels. Eager: 581 x 6.7 us =
  // 3.8927 ms; a CUDA graph: 581 x 1.2 us = 0.6972 ms, plus 9.6 us to replay the graph.
  ScenarioSpec graphs = scenario(R"("mixtral-8x7b")", "h200x8");
  graphs.profile.source = "roofline";
  const Report g = simulate(graphs);
  EXPECT_TRUE(g.extras.cuda_graphs);  // the decode default
  EXPECT_EQ(g.extras.kernels, 581);
  EXPECT_NEAR(g.extras.launch_floor, 581 * 1.2e-6, 1e-12);
  EXPECT_NEAR(g.extras.launch_fixed, 9.6e-6, 1e-15);
  // Priced by the roofline, every one of those kernels pays the 3.4 us a small kernel takes
  // beyond its roofline time: 581 x 3.4 us = 1.9754 ms.
  EXPECT_NEAR(g.extras.kernel_overhead, 581 * 3.4e-6, 1e-12);
  ScenarioSpec eager = graphs;
  eager.workload.cuda_graphs = false;
  const Report e = simulate(eager);
  EXPECT_NEAR(e.extras.launch_floor, 581 * 6.7e-6, 1e-12);
  EXPECT_DOUBLE_EQ(e.extras.launch_fixed, 0);
  // The step takes at least the floor.
  EXPECT_GE(e.step_time_s, e.extras.launch_floor);
}

}  // namespace
}  // namespace moesim::sim
