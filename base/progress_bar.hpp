#pragma once
// A progress bar on stderr that appears only once work has run for a second and only on a terminal,
// so short runs and logs stay clean.
#include <chrono>
#include <string>

namespace moesim {

class ProgressBar {
 public:
  explicit ProgressBar(std::string label);
  ~ProgressBar();
  void update(long done, long total);

 private:
  std::string label_;
  std::chrono::steady_clock::time_point start_;
  bool shown_ = false;
  bool terminal_ = false;
};

}  // namespace moesim
