#pragma once
// The one progress display of every moesim program, on stderr. On a terminal it is a bar redrawn
// in place that appears only once work has run for a second, so short runs stay clean. Elsewhere
// (a log, mpirun's pipes) it is silent, unless made with Lines::InLogs: then each update is one
// line, for long measurements whose logs are the only window onto them; or with
// Lines::InLogsEvery10s (long simulations, plans, trace generation): one line every ten seconds and
// the last one, never a carriage-return redraw, so a CI log shows progress without thousands of
// lines.
#include <chrono>
#include <string>
#include <string_view>

namespace moesim {

class ProgressBar {
 public:
  enum class Lines { OnTerminalOnly, InLogs, InLogsEvery10s };
  explicit ProgressBar(std::string label, Lines lines = Lines::OnTerminalOnly);
  ~ProgressBar();
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;
  // `note` names the step just done ("expert GEMM 4096 tokens").
  void update(long done, long total, std::string_view note = {});

 private:
  std::string label_;
  std::chrono::steady_clock::time_point start_;
  bool shown_ = false;
  bool terminal_ = false;
  Lines lines_;
  std::chrono::steady_clock::time_point last_log_line_;
  bool logged_ = false;
};

}  // namespace moesim
