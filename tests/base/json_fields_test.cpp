#include "base/json_fields.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace moesim {
namespace {

using nlohmann::json;

// "where: message" for each problem, in the order they were found.
std::vector<std::string> listed(const ProblemList& problems) {
  std::vector<std::string> lines;
  for (const auto& problem : problems.problems())
    lines.push_back(problem.where + ": " + problem.message);
  return lines;
}

TEST(FieldReader, ReadsValidFieldsWithoutProblems) {
  const json object = {{"nodes", 4}, {"ratio", 0.5}, {"fp8", true}, {"name", "dgx"}};
  ProblemList problems;
  FieldReader reader(object, "/cluster", problems);
  EXPECT_EQ(reader.integer("nodes", 1), 4);
  EXPECT_DOUBLE_EQ(reader.number("ratio", 0.0, 1.0), 0.5);
  EXPECT_TRUE(reader.boolean("fp8"));
  EXPECT_EQ(reader.string("name"), "dgx");
  reader.finish();
  EXPECT_TRUE(problems.empty());
}

TEST(FieldReader, MissingRequiredFieldNamesItsPathAndWhatWasExpected) {
  const json object = json::object();
  ProblemList problems;
  FieldReader reader(object, "/cluster", problems);
  // No fallback: the getter reports the problem and returns the minimum.
  EXPECT_EQ(reader.integer("nodes", 1), 1);
  EXPECT_EQ(listed(problems),
            std::vector<std::string>{
                "/cluster/nodes: missing required field (expected an integer >= 1)"});
}

TEST(FieldReader, MissingOptionalFieldTakesItsFallbackSilently) {
  const json object = json::object();
  ProblemList problems;
  FieldReader reader(object, "", problems);
  EXPECT_EQ(reader.integer("nodes", 1, 64, 8), 8);
  EXPECT_DOUBLE_EQ(reader.number("ratio", 0.0, 1.0, 0.25), 0.25);
  EXPECT_FALSE(reader.boolean("fp8", false));
  EXPECT_EQ(reader.string("name", "h100"), "h100");
  EXPECT_FALSE(reader.optional_number("budget", 0.0).has_value());
  EXPECT_TRUE(problems.empty());
}

TEST(FieldReader, OutOfRangeIntegerReportsRangeAndValue) {
  const json object = {{"top_k", 0}, {"experts", 300}};
  ProblemList problems;
  FieldReader reader(object, "/layers/3", problems);
  reader.integer("top_k", 1);
  reader.integer("experts", 1, 256);
  EXPECT_EQ(listed(problems), (std::vector<std::string>{
                                  "/layers/3/top_k: expected an integer >= 1, got 0",
                                  "/layers/3/experts: expected an integer in [1, 256], got 300"}));
}

TEST(FieldReader, IntegerRejectsFractionsStringsAndValuesBeyondInt64) {
  // 2^64 - 1 = 18446744073709551615 parses as unsigned and lies above int64's max.
  const json object = json::parse(R"({"a": 2.5, "b": "4", "c": 18446744073709551615})");
  ProblemList problems;
  FieldReader reader(object, "", problems);
  reader.integer("a", 0);
  reader.integer("b", 0);
  reader.integer("c", 0);
  EXPECT_EQ(listed(problems),
            (std::vector<std::string>{"/a: expected an integer >= 0, got 2.5",
                                      "/b: expected an integer >= 0, got \"4\"",
                                      "/c: expected an integer >= 0, got 18446744073709551615"}));
}

TEST(FieldReader, ExclusiveMinimumRejectsTheBoundItself) {
  const json object = {{"bandwidth", 0.0}};
  ProblemList problems;
  FieldReader reader(object, "", problems);
  reader.number("bandwidth", 0.0, std::numeric_limits<double>::max(), std::nullopt, true);
  EXPECT_EQ(listed(problems),
            std::vector<std::string>{"/bandwidth: expected a number > 0, got 0.0"});
}

TEST(FieldReader, OptionalNumberTreatsNullAsAbsentAndChecksAValue) {
  const json object = {{"budget", nullptr}, {"ratio", 2.0}, {"share", 0.5}};
  ProblemList problems;
  FieldReader reader(object, "", problems);
  EXPECT_FALSE(reader.optional_number("budget", 0.0).has_value());
  EXPECT_EQ(reader.optional_number("share", 0.0, 1.0), 0.5);
  reader.optional_number("ratio", 0.0, 1.0);
  EXPECT_EQ(listed(problems),
            std::vector<std::string>{"/ratio: expected a number in [0, 1], got 2.0"});
}

TEST(FieldReader, WrongTypesNameTheTypeFound) {
  const json object = {{"fp8", 1}, {"name", json::array()}};
  ProblemList problems;
  FieldReader reader(object, "", problems);
  reader.boolean("fp8");
  reader.string("name");
  EXPECT_EQ(listed(problems), (std::vector<std::string>{"/fp8: expected true or false, got 1",
                                                        "/name: expected a string, got an array"}));
}

TEST(FieldReader, UnknownChoiceListsTheChoicesAndSuggestsTheClosest) {
  constexpr std::array<std::string_view, 3> kPolicies{"drop", "reroute", "pad"};
  const json object = {{"policy", "rerote"}};
  ProblemList problems;
  FieldReader reader(object, "/routing", problems);
  // An unknown name is an error, never silently index 0 (STYLE.md), though index 0 is returned
  // so the validator can go on collecting problems.
  EXPECT_EQ(reader.choice("policy", kPolicies), "drop");
  EXPECT_EQ(listed(problems),
            std::vector<std::string>{"/routing/policy: expected one of \"drop\", \"reroute\", "
                                     "\"pad\", got \"rerote\" (did you mean \"reroute\"?)"});
}

TEST(FieldReader, KnownChoiceIsReturned) {
  constexpr std::array<std::string_view, 2> kScores{"fp16", "fp32"};
  const json object = {{"scores", "fp32"}};
  ProblemList problems;
  FieldReader reader(object, "", problems);
  EXPECT_EQ(reader.choice("scores", kScores), "fp32");
  EXPECT_TRUE(problems.empty());
}

TEST(FieldReader, FinishReportsUnreadKeysWithASuggestion) {
  const json object = {{"experts", 8}, {"expertz", 8}, {"colour", "red"}};
  ProblemList problems;
  FieldReader reader(object, "/model", problems);
  reader.integer("experts", 1);
  reader.finish();
  // "expertz" is one edit from the known "experts"; "colour" is far from every known key.
  // nlohmann's object keeps keys sorted, so "colour" comes first.
  EXPECT_EQ(listed(problems),
            (std::vector<std::string>{"/model/colour: unknown field",
                                      "/model/expertz: unknown field; did you mean \"experts\"?"}));
}

TEST(FieldReader, NonObjectIsOneProblemAndGettersReturnFallbacks) {
  const json array = json::array({1, 2});
  ProblemList problems;
  FieldReader reader(array, "/cluster", problems);
  EXPECT_FALSE(reader.is_object());
  EXPECT_FALSE(reader.has("nodes"));
  // No further "missing field" problem: one wrong container is reported once.
  EXPECT_EQ(reader.integer("nodes", 1, 64, 2), 2);
  EXPECT_EQ(reader.integer("gpus", 1), 1);
  reader.finish();
  EXPECT_EQ(listed(problems),
            std::vector<std::string>{"/cluster: expected an object, got an array"});
}

TEST(FieldReader, ReadingAnUndeclaredKeyIsAProgrammingError) {
  constexpr std::array<std::string_view, 1> kDeclared{"nodes"};
  const json object = {{"nodes", 2}};
  ProblemList problems;
  FieldReader reader(object, "/cluster", problems, kDeclared);
  EXPECT_EQ(reader.integer("nodes", 1), 2);
  EXPECT_THROW(reader.integer("gpus", 1), std::logic_error);
}

TEST(FieldReader, ChildIsNullWhenAbsentAndAProblemOnlyIfRequired) {
  const json object = {{"cluster", {{"nodes", 2}}}};
  ProblemList problems;
  FieldReader reader(object, "", problems);
  const json* cluster = reader.child("cluster");
  ASSERT_NE(cluster, nullptr);
  EXPECT_EQ((*cluster)["nodes"], 2);
  EXPECT_EQ(reader.child("model"), nullptr);
  EXPECT_TRUE(problems.empty());
  EXPECT_EQ(reader.child("device", true), nullptr);
  EXPECT_EQ(listed(problems),
            std::vector<std::string>{"/device: missing required field (expected a value)"});
}

TEST(FieldReader, PathOfEscapesKeysAsJsonPointer) {
  const json object = json::object();
  ProblemList problems;
  FieldReader reader(object, "/traces", problems);
  // RFC 6901: '/' becomes ~1.
  EXPECT_EQ(reader.path_of("a/b"), "/traces/a~1b");
}

TEST(DidYouMean, SuggestsTheClosestCandidateWithinTheTypoDistance) {
  const std::vector<std::string> names{"experts", "layers", "top_k"};
  // "layer" is one deletion from "layers".
  EXPECT_EQ(did_you_mean("layer", names), "layers");
  // "topk" is one insertion from "top_k".
  EXPECT_EQ(did_you_mean("topk", names), "top_k");
}

TEST(DidYouMean, AFieldWrittenWithoutItsUnitIsRecognised) {
  // "ttft_p90" is 3 edits from "ttft_p90_ms", past the 2 its 8 letters tolerate, but it and an
  // underscore start it; "ttf" is too short to be taken for a prefix.
  const std::vector<std::string> names{"ttft_p90_ms", "tpot_p90_ms", "e2e_p90_ms"};
  EXPECT_EQ(did_you_mean("ttft_p90", names), "ttft_p90_ms");
  EXPECT_EQ(did_you_mean("ttf", names), std::nullopt);
}

TEST(DidYouMean, StaysQuietWhenNothingIsClose) {
  const std::vector<std::string> names{"experts", "layers"};
  // "gpu" is at least 5 edits from either; a 3-letter word tolerates at most max(2, 3/3) = 2.
  EXPECT_EQ(did_you_mean("gpu", names), std::nullopt);
  EXPECT_EQ(did_you_mean("x", {}), std::nullopt);
}

TEST(DidYouMean, AllowsMoreEditsForLongerWords) {
  // Both words lack the same 4 trailing letters "wxyz" (distance 4). The tolerance is
  // max(2, letters / 3): 12 letters tolerate 4 edits, 4 letters only 2.
  const std::vector<std::string> names{"abcdefghijklwxyz", "abcdwxyz"};
  EXPECT_EQ(did_you_mean("abcdefghijkl", names), "abcdefghijklwxyz");
  const std::vector<std::string> short_names{"abcdwxyz"};
  EXPECT_EQ(did_you_mean("abcd", short_names), std::nullopt);
}

TEST(DescribeRange, WordsEachKindOfBound) {
  constexpr double kHuge = std::numeric_limits<double>::max();
  EXPECT_EQ(describe_range("an integer", 1, 256, false), "expected an integer in [1, 256]");
  EXPECT_EQ(describe_range("a number", 0, 1, true), "expected a number in (0, 1]");
  EXPECT_EQ(describe_range("a number", 0, kHuge, true), "expected a number > 0");
  EXPECT_EQ(describe_range("an integer", 1, kHuge, false), "expected an integer >= 1");
  EXPECT_EQ(describe_range("a number", std::numeric_limits<double>::lowest(), 10, false),
            "expected a number <= 10");
  EXPECT_EQ(describe_range("a number", std::numeric_limits<double>::lowest(), kHuge, false),
            "expected a number");
  // Equal bounds leave a single admissible value.
  EXPECT_EQ(describe_range("an integer", 2, 2, false), "expected 2");
  EXPECT_EQ(describe_range("a number", 0.5, 1.5, false), "expected a number in [0.5, 1.5]");
}

}  // namespace
}  // namespace moesim
