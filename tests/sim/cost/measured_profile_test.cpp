#include "sim/cost/measured_profile.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "base/config_error.hpp"
#include "tests/sim/cost/profile_problems.hpp"

namespace moesim::sim {
namespace {

using nlohmann::json;

json timed(double tokens, double median_us) {
  return {{"tokens", tokens}, {"time", {{"median_us", median_us}}}};
}
json per_expert(double tokens, double us) {
  return {{"tokens_per_expert", tokens}, {"per_expert_us", us}};
}

// The smallest profile the reader accepts, with one model "toy" whose curves are easy to follow:
//   gate      5 us at 100 tokens,  9 us at 300     permute  2 us at 100, 4 at 300
//   unpermute 1 us at 100,         3 us at 300
//   experts, per expert: loop 4 us at 10 tokens, 8 at 30; grouped 6 us at 10, 7 at 30
json toy_profile() {
  return {{"schema_version", 1},
          {"provenance", {{"gpu_name", "Test GPU"}}},
          {"ceilings", {{"dense_bf16_flops_per_s", 5e14}, {"copy", {{"bytes_per_s", 2e12}}}}},
          {"overheads", {{"count_copy_and_sync", {{"median_us", 12}}}}},
          {"models",
           {{{"name", "toy"},
             {"hidden", 10},
             {"expert_ffn", 20},
             {"gate", {timed(100, 5), timed(300, 9)}},
             {"permute", {timed(100, 2), timed(300, 4)}},
             {"combine", {timed(100, 1), timed(300, 3)}},
             {"experts",
              {{"balanced",
                {{"loop", {per_expert(10, 4), per_expert(30, 8)}},
                 {"grouped", {per_expert(10, 6), per_expert(30, 7)}}}}}}}}}};
}

TEST(Interpolate, IsLinearBetweenPoints) {
  const Curve curve{{100, 5}, {300, 9}};
  // Halfway from 100 to 300: halfway from 5 to 9.
  EXPECT_DOUBLE_EQ(interpolate(curve, 200), 7);
  // A quarter of the way: 5 + 4 / 4 = 6.
  EXPECT_DOUBLE_EQ(interpolate(curve, 150), 6);
  EXPECT_DOUBLE_EQ(interpolate(curve, 300), 9);
}

TEST(Interpolate, HitsInteriorPointsExactly) {
  const Curve curve{{1, 10}, {2, 20}, {4, 25}};
  EXPECT_DOUBLE_EQ(interpolate(curve, 2), 20);
  // Between 2 and 4 the slope is (25 - 20) / 2 = 2.5: at 3, 22.5.
  EXPECT_DOUBLE_EQ(interpolate(curve, 3), 22.5);
}

TEST(Interpolate, BelowTheFirstPointHoldsItsValue) {
  // A launch-bound kernel costs at least what the smallest measurement cost.
  const Curve curve{{100, 5}, {300, 9}};
  EXPECT_DOUBLE_EQ(interpolate(curve, 1), 5);
  EXPECT_DOUBLE_EQ(interpolate(curve, 0), 5);
}

TEST(Interpolate, BeyondTheLastPointExtendsTheLastSegment) {
  const Curve curve{{100, 5}, {300, 9}, {500, 17}};
  // Last segment slope (17 - 9) / 200 = 0.04 per token; at 700: 17 + 200 x 0.04 = 25.
  EXPECT_DOUBLE_EQ(interpolate(curve, 700), 25);
}

TEST(Interpolate, DegenerateCurves) {
  EXPECT_DOUBLE_EQ(interpolate({}, 42), 0);
  // One point: a constant.
  EXPECT_DOUBLE_EQ(interpolate({{10, 3}}, 1000), 3);
}

TEST(MeasuredProfile, ReadsCeilingsOverheadAndName) {
  const MeasuredProfile profile(toy_profile(), "p.json");
  EXPECT_EQ(profile.source(), "p.json");
  EXPECT_EQ(profile.gpu_name(), "Test GPU");
  EXPECT_DOUBLE_EQ(profile.dense_flops(), 5e14);
  EXPECT_DOUBLE_EQ(profile.copy_bandwidth(), 2e12);
  EXPECT_DOUBLE_EQ(profile.collective_overhead_us(), 12);
  EXPECT_EQ(profile.model_names(), std::vector<std::string>{"toy"});
  EXPECT_EQ(profile.model("other"), nullptr);
  // Profiles from one GPU carry no all-to-all.
  EXPECT_EQ(profile.all_to_all_curve(8), nullptr);
}

TEST(MeasuredProfile, MissingGpuNameIsUnknown) {
  json document = toy_profile();
  document.erase("provenance");
  EXPECT_EQ(MeasuredProfile(document, "p.json").gpu_name(), "unknown GPU");
}

TEST(MeasuredProfile, CurvesKeepTheirSizes) {
  const MeasuredProfile profile(toy_profile(), "p.json");
  const ModelCurves* toy = profile.model("toy");
  ASSERT_NE(toy, nullptr);
  EXPECT_EQ(toy->hidden, 10);
  EXPECT_EQ(toy->expert_ffn, 20);
  ASSERT_EQ(toy->permute_us.size(), 2u);
  EXPECT_DOUBLE_EQ(toy->permute_us[0].x, 100);
  // Permute at 200 tokens: halfway from 2 to 4 us.
  EXPECT_DOUBLE_EQ(interpolate(toy->permute_us, 200), 3);
}

TEST(MeasuredProfile, ExpertsTakeTheFasterBackEndForTheWholeHistogram) {
  const MeasuredProfile profile(toy_profile(), "p.json");
  const ModelCurves& toy = *profile.model("toy");
  // {10, 30, 0}: loop 4 + 8 = 12 us, grouped 6 + 7 = 13 us; the idle expert costs nothing.
  EXPECT_DOUBLE_EQ(profile.experts_us(toy, {10, 30, 0}, "loop"), 12);
  EXPECT_DOUBLE_EQ(profile.experts_us(toy, {10, 30, 0}, "grouped"), 13);
  EXPECT_DOUBLE_EQ(profile.experts_us(toy, {10, 30, 0}), 12);
  // {30, 30}: loop 16 us, grouped 14 us: now grouped wins.
  EXPECT_DOUBLE_EQ(profile.experts_us(toy, {30, 30}), 14);
}

TEST(MeasuredProfile, PredictEpOneAddsThePhasesAtTheirSizes) {
  const MeasuredProfile profile(toy_profile(), "p.json");
  const LayerPrediction p = profile.predict_ep1("toy", 200, {10, 30}, "grouped");
  // At 200 tokens: gate 7 + permute 3 = 10; unpermute 2. Dispatch at EP 1 is the 12 us count
  // copy; experts grouped 6 + 7 = 13; no combine. Layer: 10 + 12 + 13 + 0 + 2 = 37.
  EXPECT_DOUBLE_EQ(p.gate_permute, 10);
  EXPECT_DOUBLE_EQ(p.dispatch, 12);
  EXPECT_DOUBLE_EQ(p.experts, 13);
  EXPECT_DOUBLE_EQ(p.combine, 0);
  EXPECT_DOUBLE_EQ(p.unpermute, 2);
  EXPECT_DOUBLE_EQ(p.layer, 37);
}

TEST(MeasuredProfile, PredictForAnUnmeasuredModelNamesTheProfile) {
  const MeasuredProfile profile(toy_profile(), "p.json");
  try {
    profile.predict_ep1("mixtral-8x7b", 100, {}, "loop");
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& error) {
    EXPECT_EQ(std::string(error.what()), "p.json: /models: no measurements for model mixtral-8x7b");
  }
}

TEST(MeasuredProfile, AllToAllCurveIsTheNearestRankCountTiesGoingUp) {
  json document = toy_profile();
  document["collectives"]["all_to_all"] = {
      {{"ranks", 4}, {"bytes", 1024}, {"busbw_bytes_per_s", 1e9}},
      {{"ranks", 8}, {"bytes", 2048}, {"busbw_bytes_per_s", 3e9}},
      {{"ranks", 8}, {"bytes", 1024}, {"busbw_bytes_per_s", 2e9}}};
  const MeasuredProfile profile(document, "p.json");
  ASSERT_NE(profile.all_to_all_curve(8), nullptr);
  EXPECT_EQ(profile.all_to_all_curve(8)->ranks, 8);
  // Points of one rank count are gathered and sorted by size.
  ASSERT_EQ(profile.all_to_all_curve(8)->busbw.size(), 2u);
  EXPECT_DOUBLE_EQ(profile.all_to_all_curve(8)->busbw[0].x, 1024);
  EXPECT_EQ(profile.all_to_all_curve(2)->ranks, 4);  // 4 is 2 away, 8 is 6
  EXPECT_EQ(profile.all_to_all_curve(6)->ranks, 8);  // 2 away from both: the larger
  EXPECT_EQ(profile.all_to_all_curve(72)->ranks, 8);
}

TEST(MeasuredProfile, MissingSectionsAreListedTogetherWithTheirPaths) {
  const json document = {{"schema_version", 2}, {"models", "none"}};
  EXPECT_EQ(profile_problems_of(document),
            (std::vector<std::string>{
                "/schema_version: expected 1",
                "/ceilings/dense_bf16_flops_per_s: missing required field (expected a number in "
                "(0, 1e+18])",
                "/ceilings/copy/bytes_per_s: missing required field (expected a number in (0, "
                "1e+18])",
                "/overheads/count_copy_and_sync/median_us: missing required field (expected a "
                "number in (0, 1000000000])",
                "/models: expected an array of per-model measurements"}));
}

TEST(MeasuredProfile, BadCurvePointsNameTheirIndex) {
  json document = toy_profile();
  document["models"][0]["gate"][1]["time"]["median_us"] = -1;
  document["models"][0]["combine"] = json::array();
  document["models"][0]["permute"][0]["tokens"] = 300;  // now both points are at 300 tokens
  EXPECT_EQ(profile_problems_of(document),
            (std::vector<std::string>{
                "/models/0/gate/1/time/median_us: expected a number in (0, 1000000000], got -1",
                "/models/0/permute/1/tokens: expected tokens increasing along the array, got 300 "
                "after 300",
                "/models/0/combine: expected a non-empty array of measurements"}));
}

TEST(MeasuredProfile, NonObjectDocumentIsOneProblem) {
  EXPECT_EQ(profile_problems_of(json::array()),
            std::vector<std::string>{": expected a moesim profile object, got an array"});
}

// A field of the wrong type is a ConfigError naming the file and the field, never
// nlohmann::json::type_error escaping from a value() lookup.
TEST(MeasuredProfile, WronglyTypedFieldsAreConfigErrorsNotLibraryExceptions) {
  json version_as_text = toy_profile();
  version_as_text["schema_version"] = "1";
  EXPECT_THROW(MeasuredProfile(version_as_text, "p.json"), ConfigError);
  json model_as_number = toy_profile();
  model_as_number["models"][0] = 5;
  EXPECT_THROW(MeasuredProfile(model_as_number, "p.json"), ConfigError);
  json name_as_number = toy_profile();
  name_as_number["models"][0]["name"] = 7;
  EXPECT_THROW(MeasuredProfile(name_as_number, "p.json"), ConfigError);
  // Each names its field.
  EXPECT_EQ(profile_problems_of(version_as_text),
            std::vector<std::string>{"/schema_version: expected 1"});
  EXPECT_EQ(
      profile_problems_of(model_as_number),
      std::vector<std::string>{"/models/0: expected an object of one model's measurements, got 5"});
  EXPECT_EQ(profile_problems_of(name_as_number),
            std::vector<std::string>{"/models/0/name: expected a model preset name, got 7"});
}

// Issue 16: a time of 1e308 us was accepted and gave a 3.2e306 ms step. Bounds: a phase under
// 1e9 us (1000 s), a rate under 1e18 per second.
TEST(MeasuredProfile, AbsurdTimesAndRatesAreRefusedWithTheirPointers) {
  json document = toy_profile();
  document["models"][0]["gate"][0]["time"]["median_us"] = 1e308;
  document["ceilings"]["copy"]["bytes_per_s"] = 1e300;
  EXPECT_EQ(
      profile_problems_of(document),
      (std::vector<std::string>{
          "/ceilings/copy/bytes_per_s: expected a number in (0, 1e+18], got 1e+300",
          "/models/0/gate/0/time/median_us: expected a number in (0, 1000000000], got 1e+308"}));
}

TEST(MeasuredProfile, ZeroRunsIsRefused) {
  // A median over no runs measured nothing.
  json document = toy_profile();
  document["models"][0]["combine"][1]["time"]["runs"] = 0;
  document["overheads"]["count_copy_and_sync"]["runs"] = 30;  // a real count passes
  EXPECT_EQ(profile_problems_of(document),
            std::vector<std::string>{
                "/models/0/combine/1/time/runs: expected an integer in [1, 1000000], got 0"});
}

TEST(MeasuredProfile, UnknownFieldsAreRefusedWithALikelyTypo) {
  json document = toy_profile();
  document["celings"] = json::object();
  document["models"][0]["permutes"] = json::array();
  EXPECT_EQ(
      profile_problems_of(document),
      (std::vector<std::string>{"/celings: unknown field; did you mean 'ceilings'?",
                                "/models/0/permutes: unknown field; did you mean 'permute'?"}));
}

TEST(MeasuredProfile, SizesOutOfOrderAreRefusedNotSorted) {
  // 300 then 100 tokens: interpolation would have reordered a hand edit silently.
  json document = toy_profile();
  document["models"][0]["gate"] = {timed(300, 9), timed(100, 5)};
  EXPECT_EQ(profile_problems_of(document),
            std::vector<std::string>{"/models/0/gate/1/tokens: expected tokens increasing along "
                                     "the array, got 100 after 300"});
}

TEST(MeasuredProfile, ShippedProfilesPassTheStricterChecks) {
  for (const char* name : {"h100", "h200"}) EXPECT_NO_THROW(load_profile(name)) << name;
}

TEST(LoadProfile, BuiltinNameLoadsTheShippedProfile) {
  const MeasuredProfile h100 = load_profile("h100");
  EXPECT_EQ(h100.source(), "h100");
  // scenarios/profiles/h100.json: provenance.gpu_name and the measured 8192^3 bf16 GEMM.
  EXPECT_EQ(h100.gpu_name(), "NVIDIA H100 80GB HBM3");
  EXPECT_NEAR(h100.dense_flops(), 796.1e12, 0.1e12);
  EXPECT_NE(h100.model("mixtral-8x7b"), nullptr);
}

TEST(LoadProfile, UnknownNameListsTheBuiltins) {
  const std::string missing =
      (std::filesystem::temp_directory_path() / ("moesim-no-profile-" + std::to_string(::getpid())))
          .string();
  try {
    load_profile(missing);
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& error) {
    // In the order of the sorted file names: '-' sorts before '.', so h200-torch-loop.json comes
    // before h200-torch.json and both before h200.json.
    EXPECT_EQ(std::string(error.what()),
              missing +
                  ": /: no such profile file, and no built-in profile of that name (built-in: "
                  "h100, h200-torch-loop, h200-torch, h200)");
  }
}

TEST(LoadProfile, FileIsReadAndCheckedUnderItsPath) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("moesim-profile-" + std::to_string(::getpid()) + ".json");
  json document = toy_profile();
  std::ofstream(path) << document.dump();
  EXPECT_EQ(load_profile(path.string()).source(), path.string());
  document["ceilings"]["copy"]["bytes_per_s"] = 0;
  std::ofstream(path) << document.dump();
  try {
    load_profile(path.string());
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& error) {
    EXPECT_EQ(
        std::string(error.what()),
        path.string() + ": /ceilings/copy/bytes_per_s: expected a number in (0, 1e+18], got 0");
  }
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace moesim::sim

namespace moesim::sim {
namespace {

TEST(MeasuredProfile, Fp8RatioIsSummedPerShapeAndFlatOutsideTheMeasuredRows) {
  // One shape (4096 x 4096, no model named). Rows 16: FP8 30 + 20 + 45 = 95 us against BF16
  // 40 + 20 + 50 = 110 us -> 95 / 110. Rows 1024: 120 / 200 = 0.6. Linear in rows between them,
  // flat outside.
  auto gemm = [](int m, double bf16, double fp8) {
    return nlohmann::json{{"m", m}, {"n", 4096}, {"k", 4096}, {"bf16_us", bf16}, {"fp8_us", fp8}};
  };
  nlohmann::json document = nlohmann::json::parse(R"({"schema_version": 1,
      "ceilings": {"dense_bf16_flops_per_s": 5e14, "copy": {"bytes_per_s": 2e12}},
      "overheads": {"count_copy_and_sync": {"median_us": 12}}, "models": []})");
  document["fp8_gemm"] = {gemm(16, 40, 30), gemm(16, 20, 20), gemm(16, 50, 45), gemm(1024, 100, 50),
                          gemm(1024, 100, 70)};
  const MeasuredProfile profile(document, "fp8.json");
  const double weights = 4096.0 * 4096;
  EXPECT_DOUBLE_EQ(*profile.fp8_over_bf16(16, weights), 95.0 / 110);
  EXPECT_DOUBLE_EQ(*profile.fp8_over_bf16(1024, weights), 0.6);
  EXPECT_DOUBLE_EQ(*profile.fp8_over_bf16(520, weights), (95.0 / 110 + 0.6) / 2);  // halfway
  EXPECT_DOUBLE_EQ(*profile.fp8_over_bf16(1, weights), 95.0 / 110);
  EXPECT_DOUBLE_EQ(*profile.fp8_over_bf16(1e6, weights), 0.6);
  // A profile without FP8 GEMMs says so.
  document.erase("fp8_gemm");
  EXPECT_FALSE(MeasuredProfile(document, "bf16.json").fp8_over_bf16(16, weights).has_value());
}

TEST(MeasuredProfile, Fp8RatioComesFromTheMeasuredShapeNearestInWeights) {
  // "small": gate_up 1536 x 2048 + down 2048 x 768 = 4,718,592 weights, ratio 8 / 10 = 0.8.
  // "large": gate_up 4096 x 7168 + down 7168 x 2048 = 44,040,192 weights, (30 + 15) / (50 + 25)
  // = 0.6. DeepSeek-V3's expert (3 x 7168 x 2048 = 44,040,192) is "large"; 3 x 2048 x 768 =
  // 4,718,592 is "small"; 1.4e7 is nearer "small" in log (ln(14e6 / 4.72e6) = 1.09 against
  // ln(44.0e6 / 14e6) = 1.15).
  auto gemm = [](const char* model, int n, int k, double bf16, double fp8) {
    return nlohmann::json{{"model", model}, {"m", 16},         {"n", n},
                          {"k", k},         {"bf16_us", bf16}, {"fp8_us", fp8}};
  };
  nlohmann::json document = nlohmann::json::parse(R"({"schema_version": 1,
      "ceilings": {"dense_bf16_flops_per_s": 5e14, "copy": {"bytes_per_s": 2e12}},
      "overheads": {"count_copy_and_sync": {"median_us": 12}}, "models": []})");
  document["fp8_gemm"] = {gemm("small", 1536, 2048, 6, 5), gemm("small", 2048, 768, 4, 3),
                          gemm("large", 4096, 7168, 50, 30), gemm("large", 7168, 2048, 25, 15)};
  const MeasuredProfile profile(document, "fp8.json");
  EXPECT_DOUBLE_EQ(*profile.fp8_over_bf16(16, 3.0 * 7168 * 2048), 0.6);
  EXPECT_DOUBLE_EQ(*profile.fp8_over_bf16(16, 3.0 * 2048 * 768), 0.8);
  EXPECT_DOUBLE_EQ(*profile.fp8_over_bf16(16, 14e6), 0.8);
}

}  // namespace
}  // namespace moesim::sim
