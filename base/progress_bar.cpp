#include "base/progress_bar.hpp"

#include <fmt/core.h>
#include <unistd.h>

#include <algorithm>

namespace moesim {
namespace {

constexpr long kWidth = 30;

std::string bar(long done, long total) {
  const long filled = std::clamp(kWidth * done / total, 0L, kWidth);
  return std::string(filled, '#') + std::string(kWidth - filled, '.');
}

}  // namespace

ProgressBar::ProgressBar(std::string label, Lines lines)
    : label_(std::move(label)),
      start_(std::chrono::steady_clock::now()),
      terminal_(isatty(2) != 0),
      lines_(lines),
      last_log_line_(start_) {}

ProgressBar::~ProgressBar() {
  if (shown_) fmt::print(stderr, "\n");
}

void ProgressBar::update(long done, long total, std::string_view note) {
  if (total <= 0) return;
  if (!terminal_) {
    if (lines_ == Lines::OnTerminalOnly) return;
    const auto now = std::chrono::steady_clock::now();
    // Every 10 s, and the last update once any line was written (a short run writes none).
    const bool due = lines_ == Lines::InLogs || now - last_log_line_ >= std::chrono::seconds(10) ||
                     (logged_ && done >= total);
    if (!due) return;
    last_log_line_ = now;
    logged_ = true;
    fmt::print(stderr, "{} [{}] {}/{} {}\n", label_, bar(done, total), done, total, note);
    return;
  }
  const auto elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  if (elapsed < 1.0 && !shown_) return;
  shown_ = true;
  const double eta =
      done > 0 ? elapsed * static_cast<double>(total - done) / static_cast<double>(done) : 0;
  fmt::print(stderr, "\r{} [{}] {}/{}  {:.0f}s left {}", label_, bar(done, total), done, total, eta,
             note);
}

}  // namespace moesim
