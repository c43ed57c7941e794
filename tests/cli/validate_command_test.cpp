#include <gtest/gtest.h>

#include "tests/cli/cli_runner.hpp"

namespace moesim::testing {
namespace {

const std::string kBad = std::string(MOESIM_SOURCE_DIR) + "/tests/data/scenarios/bad/";

TEST(ValidateCommand, GoodScenarioFileAndBuiltinPass) {
  const auto result = run_moesim("validate quickstart " + std::string(MOESIM_SOURCE_DIR) +
                                 "/scenarios/quickstart.json");
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("quickstart.json: ok"), std::string::npos);
}

TEST(ValidateCommand, BadFileExitsTwoNamingFileFieldAndExpectation) {
  const auto result = run_moesim("validate " + kBad + "nodes-negative.json");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find(
                "nodes-negative.json: /cluster/nodes: expected an integer in [1, 131072], got -2"),
            std::string::npos)
      << result.err;
}

TEST(ValidateCommand, ChecksEveryFilePastTheFirstBadOne) {
  const auto result = run_moesim("validate quickstart " + kBad + "nan.json " + kBad + "empty.json");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("nan.json"), std::string::npos);
  EXPECT_NE(result.err.find("empty.json"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("2 of 3 files invalid"), std::string::npos) << result.err;
}

TEST(ValidateCommand, EveryMalformedFileExitsTwoWithoutCrashing) {
  for (const char* file :
       {"bad-date.json", "bad-ep.json", "deep-nesting.json", "duplicate-key.json", "empty.json",
        "huge-number.json", "invalid-utf8.json", "many-problems.json", "not-an-object.json",
        "trailing-data.json", "unknown-field.json", "does-not-fit.json", "no-fabric.json"}) {
    const auto result = run_moesim("validate " + kBad + file);
    EXPECT_EQ(result.exit_code, 2) << file;
    EXPECT_NE(result.err.find(file), std::string::npos) << file << ": " << result.err;
  }
}

TEST(ValidateCommand, MissingFileIsInvalidInput) {
  const auto result = run_moesim("validate /nonexistent/x.json");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("/nonexistent/x.json"), std::string::npos);
}

}  // namespace
}  // namespace moesim::testing

namespace moesim::testing {
namespace {

const std::string kRoot = std::string(MOESIM_SOURCE_DIR) + "/";

TEST(ValidateCommand, RecognisesEveryKindOfInput) {
  const auto result = run_moesim("validate " + kRoot + "scenarios/profiles/h100.json " + kRoot +
                                 "scenarios/plans/dsv3-serving.json " + kRoot +
                                 "tests/fuzz/corpus/topology/pair.json " + kRoot +
                                 "tests/fuzz/corpus/trace/small.mtrace " + kRoot +
                                 "tests/fuzz/corpus/npy/ids_i32.npy");
  EXPECT_EQ(result.exit_code, 0) << result.err;
  for (const char* kind : {"(profile of NVIDIA H100", "(plan: ", "(topology: ", "(routing: "})
    EXPECT_NE(result.out.find(kind), std::string::npos) << kind << "\n" << result.out;
}

TEST(ValidateCommand, CorruptTraceAndTopologyExitTwoWithWhere) {
  const auto trace = run_moesim("validate " + kRoot + "tests/fuzz/corpus/trace/truncated.mtrace");
  EXPECT_EQ(trace.exit_code, 2);
  EXPECT_NE(trace.err.find("truncated.mtrace: byte "), std::string::npos) << trace.err;
  const auto topology = run_moesim("validate " + kRoot +
                                   "tests/fuzz/corpus/topology/dangling-and-zero-bandwidth.json");
  EXPECT_EQ(topology.exit_code, 2);
  EXPECT_NE(topology.err.find("/links/0/bandwidth_gb_per_s: expected a number > 0, got 0"),
            std::string::npos);
}

}  // namespace
}  // namespace moesim::testing
