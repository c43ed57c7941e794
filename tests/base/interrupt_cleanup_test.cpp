#include "base/interrupt_cleanup.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "base/text_file.hpp"

namespace moesim {
namespace {

namespace fs = std::filesystem;

fs::path scratch(const std::string& name) {
  const auto dir =
      fs::temp_directory_path() / ("moesim-interrupt-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

// Runs `body` in a child process that then raises `signal_number`; returns the wait status.
template <typename Body>
int run_child_then_signal(int signal_number, Body body) {
  const pid_t child = ::fork();
  if (child == 0) {
    install_interrupt_cleanup();
    body();
    ::raise(signal_number);
    ::_exit(0);  // not reached: the signal ends the child
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  return status;
}

TEST(InterruptCleanup, SigtermRemovesARegisteredTemporaryAndStillEndsByTheSignal) {
  const auto dir = scratch("term");
  const std::string temporary = (dir / "report.json.tmp1").string();
  const std::string kept = (dir / "report.json").string();
  const int status = run_child_then_signal(SIGTERM, [&] {
    std::ofstream(kept) << "previous output";
    static TemporaryFileGuard guard(temporary);  // alive when the signal comes
    std::ofstream(temporary) << "half a report";
  });
  // Killed by SIGTERM (what a shell reports as 143), temporary gone, previous output untouched.
  ASSERT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(WTERMSIG(status), SIGTERM);
  EXPECT_FALSE(fs::exists(temporary));
  std::ifstream in(kept);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), "previous output");
}

TEST(InterruptCleanup, SigintAfterTheGuardEndedLeavesTheRenamedOutput) {
  const auto dir = scratch("int");
  const std::string output = (dir / "plan.csv").string();
  const int status = run_child_then_signal(SIGINT, [&] { write_text_file(output, "a,b\n"); });
  ASSERT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(WTERMSIG(status), SIGINT);
  // write_text_file's guard ended with the rename: the finished output stays, alone.
  EXPECT_TRUE(fs::exists(output));
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator{}), 1);
}

TEST(InterruptCleanup, GuardsReleaseTheirSlots) {
  // 16 slots: 100 guards made and ended one after another never run out.
  for (int i = 0; i < 100; ++i) {
    const TemporaryFileGuard guard(fmt::format("/tmp/moesim-guard-{}", i));
    EXPECT_TRUE(guard.registered()) << i;
  }
}

}  // namespace
}  // namespace moesim
