#pragma once
// Whole-file text input and output for every part of moesim: reading is bounded (a regular file
// of at most a stated size), writing is atomic (a reader never sees half a file).
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace moesim {

// JSON documents, CSV traces and manifests: far above any real input, far below memory.
inline constexpr std::uintmax_t kMaxTextFileBytes = std::uintmax_t{1} << 30;

// Reads a whole regular file of at most `max_bytes`; throws ConfigError naming the file and what
// was expected when it is missing, not a regular file, too large or unreadable.
std::string read_text_file(const std::string& path, std::uintmax_t max_bytes = kMaxTextFileBytes);

// Where a write to `path` lands: the file a symbolic link leads to (renaming over the link would
// replace the link: `-o /dev/stdout > file` left the file empty), else `path`.
std::string write_target(const std::string& path);

// The name an output is written under beside `path` before it is renamed over it: PATH.tmpPID.
std::string temporary_path(const std::string& path);

// Writes `text` to a temporary file beside `write_target(path)`, then renames it over that; throws
// std::runtime_error naming the file when it cannot (the CLI maps it to exit 3).
void write_text_file(const std::string& path, const std::string& text);
// A command's outputs as one set, (path, text) each: every one is written beside its target before
// any replaces what was there, so a failure leaves the previous set whole (no new report.json
// beside a stale timeline.json).
void write_text_files(const std::vector<std::pair<std::string, std::string>>& files);

// Refuses (ConfigError naming `output`, exit 2) an output path that is the same file as one of
// `inputs` (std::filesystem::equivalent: through links and other spellings too), before anything
// is written: writing it would destroy the input.
void refuse_output_over_input(const std::string& output, std::span<const std::string> inputs);

// Opening a FIFO for writing blocks until some process reads it, forever if none will. For a FIFO,
// this opens it without blocking and holds it open while the caller opens it again (which then
// returns at once), or throws std::runtime_error naming it (exit 3) when nothing reads it. Other
// paths are left alone.
class FifoReaderCheck {
 public:
  explicit FifoReaderCheck(const std::string& path);
  ~FifoReaderCheck();
  FifoReaderCheck(const FifoReaderCheck&) = delete;
  FifoReaderCheck& operator=(const FifoReaderCheck&) = delete;

 private:
  int descriptor_ = -1;
};

// Inputs are safe from a command's own outputs under any name: once the CLI calls
// guard_inputs_from_overwrite, every file read (read_text_file; binary readers call
// note_input_file) is remembered by device and inode, and every writer calls
// refuse_overwriting_an_input before it replaces a file, which throws ConfigError (exit 2) naming
// both when the output is one of them. The GUI, which saves a scenario over the one it opened,
// never turns it on.
void guard_inputs_from_overwrite();
void note_input_file(const std::string& path);
void refuse_overwriting_an_input(const std::string& path);

// Appends to a file others write too (a CI job summary): not atomic, by its nature.
void append_text_file(const std::string& path, const std::string& text);

}  // namespace moesim
