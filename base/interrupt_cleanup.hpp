#pragma once
// Temporary output files removed when SIGINT or SIGTERM ends the program: outputs are written to a
// temporary beside the target and renamed, so an interrupted command must not leave the temporary
// behind. The handler only unlinks registered paths (async-signal-safe), then lets the signal end
// the process as it would have (exit status 128 + signal in a shell).
#include <string>

namespace moesim {

// Installs the SIGINT/SIGTERM handlers; the CLI calls it once at start. Without it, guards only
// record their paths.
void install_interrupt_cleanup();

// Registers `path` for removal on SIGINT/SIGTERM while the guard lives. Construct it before the
// file is created and destroy it after the file is renamed or removed. A fixed number of paths can
// be registered at once (a command writes one or two outputs at a time); past that, or for a path
// longer than PATH_MAX, the guard registers nothing.
class TemporaryFileGuard {
 public:
  explicit TemporaryFileGuard(const std::string& path);
  ~TemporaryFileGuard();
  TemporaryFileGuard(const TemporaryFileGuard&) = delete;
  TemporaryFileGuard& operator=(const TemporaryFileGuard&) = delete;

  bool registered() const { return slot_ >= 0; }

 private:
  int slot_ = -1;
};

}  // namespace moesim
