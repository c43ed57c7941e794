#include "base/progress_bar.hpp"

#include <fmt/core.h>
#include <unistd.h>

namespace moesim {

ProgressBar::ProgressBar(std::string label)
    : label_(std::move(label)), start_(std::chrono::steady_clock::now()), terminal_(isatty(2) != 0) {}

ProgressBar::~ProgressBar() {
  if (shown_) fmt::print(stderr, "\n");
}

void ProgressBar::update(long done, long total) {
  if (!terminal_ || total <= 0) return;
  const auto elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  if (elapsed < 1.0 && !shown_) return;
  shown_ = true;
  constexpr int kWidth = 30;
  const int filled = static_cast<int>(kWidth * done / total);
  const double eta = done > 0 ? elapsed * static_cast<double>(total - done) / static_cast<double>(done) : 0;
  fmt::print(stderr, "\r{} [{}{}] {}/{}  {:.0f}s left ", label_, std::string(filled, '#'),
             std::string(kWidth - filled, '.'), done, total, eta);
}

}  // namespace moesim
