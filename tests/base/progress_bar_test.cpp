#include "base/progress_bar.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

namespace moesim {
namespace {

namespace fs = std::filesystem;

// Points file descriptor 2 at `target` for the lifetime of the object.
class StderrRedirect {
 public:
  explicit StderrRedirect(int target) : saved_(::dup(2)) {
    std::fflush(stderr);
    ::dup2(target, 2);
  }
  ~StderrRedirect() {
    std::fflush(stderr);
    ::dup2(saved_, 2);
    ::close(saved_);
  }
  StderrRedirect(const StderrRedirect&) = delete;
  StderrRedirect& operator=(const StderrRedirect&) = delete;

 private:
  int saved_;
};

// The bar stays hidden for its first second on any stream; wait past that so only the terminal
// check can keep it quiet.
void wait_past_the_first_second() { std::this_thread::sleep_for(std::chrono::milliseconds(1100)); }

void run_bar() {
  ProgressBar bar("placing");
  wait_past_the_first_second();
  bar.update(5, 10);
  bar.update(10, 10);
}

TEST(ProgressBar, StaysSilentWhenStderrIsAFile) {
  const fs::path path =
      fs::temp_directory_path() / ("moesim-progress-" + std::to_string(::getpid()) + ".txt");
  const int file = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  ASSERT_GE(file, 0);
  {
    const StderrRedirect redirect(file);
    run_bar();
  }
  ::close(file);
  EXPECT_EQ(fs::file_size(path), 0u);
  fs::remove(path);
}

// The counterpart that keeps the test above honest: on a terminal the same calls do draw.
TEST(ProgressBar, DrawsOnATerminal) {
  const int master = ::posix_openpt(O_RDWR | O_NOCTTY);
  if (master < 0 || ::grantpt(master) != 0 || ::unlockpt(master) != 0)
    GTEST_SKIP() << "no pseudo-terminal available";
  const int terminal = ::open(::ptsname(master), O_RDWR | O_NOCTTY);
  ASSERT_GE(terminal, 0);
  {
    const StderrRedirect redirect(terminal);
    run_bar();
  }
  ::close(terminal);
  std::string drawn;
  char buffer[512];
  pollfd ready{master, POLLIN, 0};
  while (::poll(&ready, 1, 200) > 0 && (ready.revents & POLLIN) != 0) {
    const auto count = ::read(master, buffer, sizeof buffer);
    if (count <= 0) break;
    drawn.append(buffer, static_cast<std::size_t>(count));
  }
  ::close(master);
  // 5 of 10 fills 30 x 5 / 10 = 15 of the 30 cells.
  EXPECT_NE(drawn.find("placing [" + std::string(15, '#') + std::string(15, '.') + "] 5/10"),
            std::string::npos)
      << drawn;
}

}  // namespace
}  // namespace moesim

namespace moesim {
namespace {

// In logs (Lines::InLogs) each update is one line naming its step, with no delay and no redraw.
TEST(ProgressBar, InLogsWritesOneLinePerUpdateToAFile) {
  const fs::path path =
      fs::temp_directory_path() / ("moesim-progress-lines-" + std::to_string(::getpid()) + ".txt");
  const int file = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  ASSERT_GE(file, 0);
  {
    const StderrRedirect redirect(file);
    ProgressBar bar("measuring", ProgressBar::Lines::InLogs);
    bar.update(1, 4, "gate");
    bar.update(4, 4, "combine");
  }
  ::close(file);
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  fs::remove(path);
  // 1 of 4 fills 30 * 1 / 4 = 7 of the 30 cells; 4 of 4 fills all 30.
  EXPECT_EQ(text.str(), "measuring [" + std::string(7, '#') + std::string(23, '.') +
                            "] 1/4 gate\n" + "measuring [" + std::string(30, '#') +
                            "] 4/4 combine\n");
}

// Lines::InLogsEvery10s (run, plan): a run shorter than ten seconds writes nothing to a log, not
// one line per update and never a carriage return.
TEST(ProgressBar, EveryTenSecondsStaysQuietInALogForAShortRun) {
  const fs::path path =
      fs::temp_directory_path() / ("moesim-progress-10s-" + std::to_string(::getpid()) + ".txt");
  const int file = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  ASSERT_GE(file, 0);
  {
    const StderrRedirect redirect(file);
    ProgressBar bar("simulating", ProgressBar::Lines::InLogsEvery10s);
    for (int done = 1; done <= 1000; ++done) bar.update(done, 1000);
  }
  ::close(file);
  EXPECT_EQ(fs::file_size(path), 0u);
  fs::remove(path);
}

}  // namespace
}  // namespace moesim
