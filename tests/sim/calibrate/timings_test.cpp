#include "sim/calibrate/timings.hpp"

#include <gtest/gtest.h>

#include "base/config_error.hpp"

namespace moesim::sim {
namespace {

using Json = nlohmann::json;

Json valid_document() {
  return Json::parse(R"({
    "format": "moesim-calibration", "schema_version": 1, "device": "NVIDIA H200",
    "stack": "my-stack",
    "records": [
      {"case": "a", "ranks": 2, "rank": 1,
       "shape": {"hidden": 4096, "expert_ffn": 14336, "experts": 8, "top_k": 2},
       "dtypes": {"activation": "fp8", "weight": "bf16"},
       "tokens": 512, "tokens_per_local_expert": [300, 0, 250, 474],
       "phases_ms": {"gate": 0.2, "experts": 1.5}, "layer_ms": 2.0},
      {"tokens": 64, "active_experts": 4,
       "shape": {"hidden": 2048, "expert_ffn": 768, "experts": 128, "top_k": 8, "gated": false},
       "phases_ms": {"permute": 0.1, "unpermute": 0.3}}
    ]})");
}

TEST(Timings, ReadsEveryFieldAndFillsTheDefaults) {
  const auto records = read_timings(valid_document(), "t.json");
  ASSERT_EQ(records.size(), 2u);
  const TimingRecord& a = records[0];
  EXPECT_EQ(a.stack, "my-stack");  // from the top level
  EXPECT_EQ(a.device, "NVIDIA H200");
  EXPECT_EQ(a.work.ranks, 2);
  EXPECT_EQ(a.rank, 1);
  EXPECT_EQ(a.shape.activation_bytes, 1);  // fp8
  EXPECT_EQ(a.shape.weight_bytes, 2);      // bf16
  EXPECT_EQ(a.work.tokens_per_local_expert.size(), 4u);
  EXPECT_EQ(*a.phase_ms[0], 0.2);
  EXPECT_EQ(a.measured_layer_ms(), 2.0);
  const TimingRecord& b = records[1];
  EXPECT_FALSE(b.shape.gated);
  EXPECT_EQ(b.work.ranks, 1);
  // 4 active experts share the rank's 64 x 8 = 512 copies: 128 each.
  EXPECT_EQ(b.work.tokens_per_local_expert, std::vector<double>(4, 128.0));
  // No layer_ms: the phases recorded, 0.1 + 0.3.
  EXPECT_DOUBLE_EQ(b.measured_layer_ms(), 0.4);
  EXPECT_NE(a.shape_key(), b.shape_key());
}

TEST(Timings, NamesThePointerOfEveryProblem) {
  Json doc = valid_document();
  doc["records"][0]["phases_ms"]["gate"] = -1;
  doc["records"][0]["phases_ms"]["attention"] = 1;
  doc["records"][0]["rank"] = 2;
  doc["records"][1]["shape"]["top_k"] = 200;
  doc["records"][1]["tokens_per_local_expert"] = {1};
  try {
    read_timings(doc, "bad.json");
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& error) {
    const std::string text = error.what();
    for (const char* pointer :
         {"bad.json", "/records/0/phases_ms/gate", "/records/0/phases_ms/attention",
          "/records/0/rank", "/records/1/shape/top_k", "/records/1: expected exactly one of"})
      EXPECT_NE(text.find(pointer), std::string::npos) << pointer << " in " << text;
  }
}

TEST(Timings, RefusesAnotherFormat) {
  Json doc = valid_document();
  doc["format"] = "something-else";
  EXPECT_THROW(read_timings(doc, "t.json"), ConfigError);
  EXPECT_THROW(read_timings(Json::array(), "t.json"), ConfigError);
}

}  // namespace
}  // namespace moesim::sim
