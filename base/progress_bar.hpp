#pragma once
// The one progress display of every moesim program, on stderr. On a terminal it is a bar redrawn
// in place that appears only once work has run for a second, so short runs stay clean. Elsewhere
// (a log, mpirun's pipes) it is silent, unless made with Lines::InLogs: then each update is one
// line, for long measurements whose logs are the only window onto them.
#include <chrono>
#include <string>
#include <string_view>

namespace moesim {

class ProgressBar {
 public:
  enum class Lines { OnTerminalOnly, InLogs };
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
  bool log_lines_ = false;
};

}  // namespace moesim
