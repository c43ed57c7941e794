// Session 9 hunt: option values CLI11 used to change without a word, options that hung, and
// option text that reached the terminal unescaped. Each case exits 2 (bad input) or 3 (a path
// that cannot be written) at once, with the message the user sees.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <string>

#include "tests/cli/cli_runner.hpp"

namespace moesim::testing {
namespace {

constexpr const char* kRunWithHelp = "Run with --help for more information.\n";

// The exit code and the whole of stderr of `moesim ARGUMENTS`.
void expect_refused(const std::string& arguments, int exit_code, const std::string& message) {
  const auto result = run_moesim(arguments, "hostile-options");
  EXPECT_EQ(result.exit_code, exit_code) << arguments;
  EXPECT_EQ(result.err, message) << arguments;
}

TEST(HostileOptions, AnEmptyNumberIsRefusedNotReadAsZero) {
  // Was: --zipf-s "" generated a trace with exponent 0, --rows "" printed no row.
  const auto out = (scratch_dir("strict-empty") / "g.mtrace").string();
  expect_refused(
      "trace gen --kind zipf --zipf-s '' -o " + out, 2,
      std::string("error: --zipf-s: expected a value, got an empty string\n") + kRunWithHelp);
  EXPECT_FALSE(std::filesystem::exists(out));
}

TEST(HostileOptions, ClustersAndTimelinesPastTheirLimitsAreRefusedAtOnce) {
  // Session 12: hgx-h200 x 65,536 nodes (524,288 GPUs) ran past 20 s at 3.8 GB; a timeline of a
  // million GPUs ended in std::bad_alloc.
  expect_refused("topology show hgx-h200 --nodes 65536", 2,
                 "error: --nodes: /: expected at most 131072 GPUs (8 a node), got 65536 nodes\n");
  expect_refused(
      "run quickstart -q --timeline-gpus 8193", 2,
      "error: --timeline-gpus: Value 8193 not in range 1 to 8192\n" + std::string(kRunWithHelp));
}

TEST(HostileOptions, APathThatCannotBeLookedAtIsBadInput) {
  // Session 12: a symbolic-link loop exited 3 with std::filesystem's raw text.
  const auto dir = scratch_dir("link-loop");
  const auto loop = (dir / "a.json").string();
  std::filesystem::create_symlink(dir / "b.json", loop);
  std::filesystem::create_symlink(loop, dir / "b.json");
  expect_refused("validate " + loop, 2,
                 "error: " + loop + ": /: cannot access it: Too many levels of symbolic links\n");
}

TEST(HostileOptions, AStandardOutputThatCannotBeWrittenIsAFailure) {
  // Session 12: `moesim list clusters > /dev/full` exited 0 having printed nothing.
  const std::string command = std::string(MOESIM_BINARY) + " list clusters >/dev/full 2>/dev/null";
  const int status = std::system(command.c_str());
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 3);
}

TEST(HostileOptions, AnEmptyPathIsRefusedNotIgnored) {
  // Was: run --profile "" priced with the scenario's profile, check --junit "" wrote nothing.
  expect_refused(
      "run quickstart -q --profile ''", 2,
      std::string("error: --profile: expected a value, got an empty string\n") + kRunWithHelp);
  expect_refused(
      "check --junit '' a.json b.json", 2,
      std::string("error: --junit: expected a value, got an empty string\n") + kRunWithHelp);
}

TEST(HostileOptions, IntegersAreDecimalAndNeverWrapOrClamp) {
  const auto out = (scratch_dir("strict-integers") / "g.mtrace").string();
  // Was: 8 layers (octal), a seed of 2^64 - 1 (clamped), and calibrate's -1 became 2^64 - 1.
  expect_refused("trace gen --layers 010 -o " + out, 2,
                 std::string("error: --layers: expected a decimal integer without leading zeros, "
                             "got '010'\n") +
                     kRunWithHelp);
  expect_refused("trace gen --seed 18446744073709551616 -o " + out, 2,
                 std::string("error: --seed: expected an integer in [0, 18446744073709551615], "
                             "got 18446744073709551616\n") +
                     kRunWithHelp);
  expect_refused("calibrate --cross-check shape --seed -1 x.json", 2,
                 std::string("error: --seed: expected a non-negative decimal integer, got '-1'\n") +
                     kRunWithHelp);
  expect_refused(
      "place x.mtrace --gpus 0x10", 2,
      std::string("error: --gpus: expected a decimal integer, got '0x10'\n") + kRunWithHelp);
  EXPECT_FALSE(std::filesystem::exists(out));
}

TEST(HostileOptions, PlanThreadsAndRowsAreBounded) {
  // Was: -j 100000 started a thread per option and ran past 20 s; --rows 0 printed "no option
  // meets the SLA" above a feasible plan.
  const std::string plan = std::string(MOESIM_SOURCE_DIR) + "/scenarios/plans/mixtral-sla.json";
  expect_refused(
      "plan " + plan + " -j 100000", 2,
      std::string("error: --threads: Value 100000 not in range 1 to 1024\n") + kRunWithHelp);
  expect_refused("plan " + plan + " --rows 0", 2,
                 std::string("error: --rows: Value 0 not in range 1 to 1048576\n") + kRunWithHelp);
}

TEST(HostileOptions, TerminalEscapesInARefusedValueArePrintedEscaped) {
  // Was: CLI11 echoed the value as it came, so ESC [2J cleared the user's screen.
  expect_refused(
      "list \"$(printf '\\033[2Jz')\"", 2,
      std::string("error: what: \\x1b[2Jz not in {models,devices,clusters,scenarios}\n") +
          kRunWithHelp);
  // A path that cannot be written is a runtime failure (exit 3), named escaped all the same.
  expect_refused("trace gen -o \"$(printf '/no/such/dir/\\033]0;t\\007.mtrace')\"", 3,
                 "error: cannot create /no/such/dir/\\x1b]0;t\\x07.mtrace\n");
}

TEST(HostileOptions, AnOutputFifoThatNoOneReadsFailsAtOnce) {
  // Was: compare --csv, check --junit, trace gen -o and run --out all blocked in open() for ever.
  const auto dir = scratch_dir("strict-fifo");
  const auto fifo = (dir / "pipe").string();
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  expect_refused("trace gen -o " + fifo, 3,
                 "error: cannot write " + fifo + ": it is a FIFO that no process reads\n");
  EXPECT_TRUE(std::filesystem::is_fifo(fifo));
}

TEST(HostileOptions, CalibrateOptionsItsModeDoesNotReadAreRefused) {
  // Session 12: a fit took --table, --json, --rounds and --seed and wrote or used none of them;
  // --check took --out and --base. Refused before any file is read.
  expect_refused("calibrate t.json --out p.json --table t.md", 2,
                 "error: --table: /: is only written by calibrate --check or --cross-check; a fit "
                 "writes its profile to --out\n");
  expect_refused("calibrate t.json --out p.json --rounds 5", 2,
                 "error: --rounds: /: applies to calibrate --cross-check only (its random "
                 "splits)\n");
  expect_refused("calibrate --check p.json t.json --out o.json", 2,
                 "error: --out: /: calibrate --check writes no profile; --table and --json take "
                 "its results\n");
  expect_refused("calibrate --check p.json t.json --base h100", 2,
                 "error: --base: /: calibrate --check reads the calibrated profile it is given, "
                 "not a base\n");
  expect_refused("calibrate --cross-check shape t.json --force-device", 2,
                 "error: --force-device: /: calibrate --cross-check reads no profile to compare "
                 "devices with\n");
}

TEST(HostileOptions, OptionsOnlyAnotherModeReadsAreRefused) {
  // Session 12: each of these exited 0 with the option changing nothing.
  expect_refused("topology show h200x32 --nodes 64", 2,
                 "error: --nodes: /: applies when WHAT is a node system (hgx-h200, ...); WHAT is "
                 "a cluster preset, with its own nodes and leaf ratio\n");
  const auto dir = scratch_dir("unread-options");
  const auto topology = (dir / "t.json").string();
  ASSERT_EQ(
      std::system(
          (std::string(MOESIM_BINARY) + " topology show h200x8 --json > " + topology).c_str()),
      0);
  expect_refused("topology show " + topology + " --fabric roce", 2,
                 "error: --fabric: /: applies to a cluster preset or a node system; WHAT is a "
                 "topology file, with its own nodes and links\n");
  expect_refused("place g.mtrace --gpus 2 --placement-file pl8.json", 2,
                 "error: --placement-file: /: applies to --strategy explicit only, not eplb\n");
  expect_refused("import-hf config.json --cluster h100x8", 2,
                 "error: --cluster: /: is the cluster of the scenario --scenario writes; "
                 "expected --scenario FILE with it\n");
  expect_refused("run quickstart -q --repeat-layers", 2,
                 "error: --repeat-layers: /: tiles the layers of the trace --trace replays; "
                 "expected --trace FILE with it\n");
  // Where they apply they are still read: a node system takes --nodes.
  EXPECT_EQ(run_moesim("topology show hgx-h200 --nodes 2", "unread-nodes").exit_code, 0);
}

}  // namespace
}  // namespace moesim::testing
