#include "base/interrupt_cleanup.hpp"

#include <limits.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstring>

namespace moesim {
namespace {

// A signal handler can only reach static storage: the one place this file keeps global state.
constexpr int kSlots = 16;
struct Slot {
  std::atomic<bool> in_use{false};  // claimed by a guard
  std::atomic<bool> filled{false};  // path written; the handler may read it
  char path[PATH_MAX] = {};
};
Slot slots[kSlots];

extern "C" void remove_temporaries_and_reraise(int signal_number) {
  for (auto& slot : slots)
    if (slot.filled.load(std::memory_order_acquire)) ::unlink(slot.path);
  // The default action ends the process with this signal, as if no handler had been installed.
  ::signal(signal_number, SIG_DFL);
  ::raise(signal_number);
}

}  // namespace

void install_interrupt_cleanup() {
  struct sigaction action {};
  action.sa_handler = remove_temporaries_and_reraise;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESETHAND;
  for (const int signal_number : {SIGINT, SIGTERM}) {
    // A signal the parent set to be ignored (a shell's background job and SIGINT, nohup) stays so.
    struct sigaction previous {};
    ::sigaction(signal_number, nullptr, &previous);
    if (previous.sa_handler != SIG_IGN) ::sigaction(signal_number, &action, nullptr);
  }
}

TemporaryFileGuard::TemporaryFileGuard(const std::string& path) {
  if (path.size() >= PATH_MAX) return;
  for (int i = 0; i < kSlots; ++i) {
    bool expected = false;
    if (!slots[i].in_use.compare_exchange_strong(expected, true)) continue;
    std::memcpy(slots[i].path, path.c_str(), path.size() + 1);
    slots[i].filled.store(true, std::memory_order_release);
    slot_ = i;
    return;
  }
}

TemporaryFileGuard::~TemporaryFileGuard() {
  if (slot_ < 0) return;
  slots[slot_].filled.store(false, std::memory_order_release);
  slots[slot_].in_use.store(false, std::memory_order_release);
}

}  // namespace moesim
