// No command replaces a file it read, whatever name the output reaches it by (session 12's hostile
// hunt: run's report.json, a heat map and a converted trace were each written over their input).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "tests/cli/cli_runner.hpp"

namespace moesim::testing {
namespace {

namespace fs = std::filesystem;

TEST(InputGuard, RunKeepsTheScenarioItsReportWouldReplace) {
  // The scenario sits where run writes report.json.
  const auto dir = scratch_dir("guard-run");
  const auto scenario = dir / "report.json";
  fs::copy_file(std::string(MOESIM_SOURCE_DIR) + "/scenarios/quickstart.json", scenario);
  const std::string before = slurp(scenario);
  const auto result = run_moesim("run " + scenario.string() + " -q --out " + dir.string(), "guard");
  EXPECT_EQ(result.exit_code, 2) << result.err;
  EXPECT_NE(result.err.find("is the same file as the input " + scenario.string()),
            std::string::npos)
      << result.err;
  EXPECT_EQ(slurp(scenario), before);
}

TEST(InputGuard, ATraceReachedByAnotherNameIsNotReplaced) {
  const auto dir = scratch_dir("guard-trace");
  const auto trace = dir / "t.mtrace";
  ASSERT_EQ(run_moesim("trace gen --layers 1 --experts 4 --top-k 1 --tokens 8 -o " + trace.string(),
                       "guard")
                .exit_code,
            0);
  const std::string before = slurp(trace);
  // A hard link is the same file under a second name; the heat map's extension does not matter
  // to the reader (it reads the magic), only to the writer.
  const auto link = dir / "t.svg";
  fs::create_hard_link(trace, link);
  auto result = run_moesim("trace convert " + trace.string() + " -o " + link.string(), "guard");
  EXPECT_EQ(result.exit_code, 2) << result.err;
  result = run_moesim("trace stats " + link.string() + " --heatmap " + link.string(), "guard");
  EXPECT_EQ(result.exit_code, 2) << result.err;
  EXPECT_NE(result.err.find("(writing it would destroy the input)"), std::string::npos)
      << result.err;
  EXPECT_EQ(slurp(trace), before);
  for (const auto& entry : fs::directory_iterator(dir))  // no temporary left behind
    EXPECT_TRUE(entry.path() == trace || entry.path() == link) << entry.path();
}

TEST(InputGuard, AnOutputThroughASymbolicLinkLandsInItsTarget) {
  // Session 12: -o /dev/stdout > file renamed over the link, leaving the file empty.
  const auto dir = scratch_dir("guard-link");
  const auto target = dir / "real.mtrace";
  std::ofstream(target) << "old";
  const auto link = dir / "out.mtrace";
  fs::create_symlink(target, link);
  ASSERT_EQ(run_moesim("trace gen --layers 1 --experts 4 --top-k 1 --tokens 8 -o " + link.string(),
                       "guard")
                .exit_code,
            0);
  EXPECT_TRUE(fs::is_symlink(fs::symlink_status(link)));
  EXPECT_EQ(slurp(target).substr(0, 8), "MOETRACE");
}

TEST(InputGuard, AnOutputThatCannotBeWrittenLeavesThePreviousSetWhole) {
  // Session 12: with timeline.json a directory, run wrote report.json and report.csv, then
  // exited 3: a new report beside a stale (or missing) timeline.
  const auto dir = scratch_dir("guard-set");
  fs::create_directory(dir / "timeline.json");
  const auto result = run_moesim("run quickstart -q --out " + dir.string(), "guard");
  EXPECT_EQ(result.exit_code, 3) << result.err;
  EXPECT_FALSE(fs::exists(dir / "report.json"));
  EXPECT_FALSE(fs::exists(dir / "report.csv"));
  for (const auto& entry : fs::directory_iterator(dir))  // no temporary left behind
    EXPECT_EQ(entry.path().filename(), "timeline.json");
}

}  // namespace
}  // namespace moesim::testing
