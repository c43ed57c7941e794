#include <gtest/gtest.h>

#include <fstream>

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

TEST(ValidateCommand, ARequestLogIsCheckedAsOneNotAsARoutingTrace) {
  // The shipped sample (a "#" comment, then the header naming arrival_s): 8 requests, the last
  // at 2.050 s, the first at 0.
  const auto good = run_moesim("validate " + std::string(MOESIM_SOURCE_DIR) +
                               "/scenarios/serving/requests-sample.csv");
  EXPECT_EQ(good.exit_code, 0) << good.err;
  EXPECT_NE(good.out.find("ok (request log: 8 requests over 2.050 s)"), std::string::npos)
      << good.out;
  // A spreadsheet's export: a byte-order mark, a comment, CRLF lines, an upper-case extension.
  const std::string exported = ::testing::TempDir() + "exported-log.CSV";
  std::ofstream(exported)
      << "\xEF\xBB\xBF# from the gateway\r\narrival_s,input_tokens,output_tokens\r\n"
         "0,100,10\r\n";
  const auto spreadsheet = run_moesim("validate " + exported);
  EXPECT_EQ(spreadsheet.exit_code, 0) << spreadsheet.err;
  EXPECT_NE(spreadsheet.out.find("ok (request log: 1 requests"), std::string::npos);
  const std::string bad = ::testing::TempDir() + "bad-log.csv";
  std::ofstream(bad) << "arrival_s,input_tokens,output_tokens\n0.5,100,x\n";
  const auto result = run_moesim("validate " + bad);
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("line 2, field output_tokens: expected an integer"), std::string::npos)
      << result.err;
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

TEST(ValidateCommand, AServingPlanCountsWhatItSweeps) {
  // Session 12: validate said "320 candidates" of a plan that sizes each at every batch limit.
  // mixtral-sla.json: H100 x 1, 2, 4 and H200 x 1, 2 nodes (5 node counts) x attention TP 1, 2, 4,
  // 8 (all divide 8, 16, 32 GPUs) = 20 points, each at auto EP 1, 2, 4, 8 (dividing Mixtral's 8
  // experts) x 2 strategies x 2 overlaps = 320 candidates, x 6 batch limits = 1,920 options.
  const auto result = run_moesim("validate " + kRoot + "scenarios/plans/mixtral-sla.json");
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("ok (plan: 320 candidates x 6 batch limits = 1920 options)"),
            std::string::npos)
      << result.out;
}

TEST(ValidateCommand, CorruptTraceAndTopologyExitTwoWithWhere) {
  const auto trace = run_moesim("validate " + kRoot + "tests/fuzz/corpus/trace/truncated.mtrace");
  EXPECT_EQ(trace.exit_code, 2);
  EXPECT_NE(trace.err.find("truncated.mtrace: byte "), std::string::npos) << trace.err;
  const auto topology = run_moesim("validate " + kRoot +
                                   "tests/fuzz/corpus/topology/dangling-and-zero-bandwidth.json");
  EXPECT_EQ(topology.exit_code, 2);
  EXPECT_NE(topology.err.find("/links/0/bandwidth_gb_per_s: expected a number >= 0.001, got 0"),
            std::string::npos);
}

TEST(ValidateCommand, ScenarioWithStrayCountMatrixFieldsIsCheckedAsAScenario) {
  // Hostile hunt 22: two stray fields made validate take a scenario for a count matrix (exit 0)
  // while run refused it.
  const auto dir = scratch_dir("validate-stray");
  auto text = slurp(kRoot + "scenarios/quickstart.json");
  text.insert(text.rfind('}'), R"(, "tokens_per_expert": [[2, 2, 2, 2]], "top_k": 2)");
  std::ofstream(dir / "s.json") << text;
  const std::string file = (dir / "s.json").string();
  const auto result = run_moesim("validate " + file);
  EXPECT_EQ(result.exit_code, 2) << result.out;
  EXPECT_NE(result.err.find(file + ": /tokens_per_expert: unknown field"), std::string::npos)
      << result.err;
}

TEST(ValidateCommand, ReadsTheFilesAScenarioNamesAndBlamesTheField) {
  // Hostile hunt 08: validate said ok to a missing placement file and a bad profile; run then
  // named only the referenced file.
  const auto dir = scratch_dir("validate-referenced");
  const auto quickstart = slurp(kRoot + "scenarios/quickstart.json");
  const auto write_variant = [&](const std::string& name, const std::string& from,
                                 const std::string& to) {
    auto text = quickstart;
    text.replace(text.find(from), from.size(), to);
    std::ofstream(dir / name) << text;
    return (dir / name).string();
  };
  std::ofstream(dir / "bad.json") << R"({"gpus": [[0, 1]], "x":)";
  const auto placement = write_variant("placement.json", R"("strategy": "contiguous")",
                                       R"("strategy": "explicit", "file": "nothere.json")");
  const auto profile =
      write_variant("profile.json", R"("profile": "auto")",
                    R"("profile": {"source": ")" + (dir / "bad.json").string() + R"("})");
  for (const std::string& command :
       {std::string("validate "), "run -q --out " + (dir / "o").string() + " "}) {
    const auto missing = run_moesim(command + placement);
    EXPECT_EQ(missing.exit_code, 2) << command;
    EXPECT_NE(missing.err.find("error: " + placement +
                               ": /placement/file: " + (dir / "nothere.json").string() +
                               ": /: cannot open file for reading"),
              std::string::npos)
        << command << missing.err;
    const auto bad = run_moesim(command + profile);
    EXPECT_EQ(bad.exit_code, 2) << command;
    EXPECT_NE(bad.err.find("error: " + profile +
                           ": /profile/source: " + (dir / "bad.json").string() + ": byte "),
              std::string::npos)
        << command << bad.err;
  }
}

}  // namespace
}  // namespace moesim::testing
