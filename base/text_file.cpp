#include "base/text_file.hpp"

#include <fcntl.h>
#include <fmt/core.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <utility>
#include <vector>

#include "base/config_error.hpp"
#include "base/interrupt_cleanup.hpp"

namespace moesim {
namespace fs = std::filesystem;

namespace {

struct InputFile {
  dev_t device;
  ino_t inode;
  std::string path;
};

struct InputGuard {
  bool on = false;
  std::vector<InputFile> inputs;
};

InputGuard& input_guard() {
  static InputGuard guard;
  return guard;
}

}  // namespace

void guard_inputs_from_overwrite() { input_guard().on = true; }

void note_input_file(const std::string& path) {
  InputGuard& guard = input_guard();
  struct stat file {};
  if (!guard.on || ::stat(path.c_str(), &file) != 0) return;
  guard.inputs.push_back({file.st_dev, file.st_ino, path});
}

void refuse_overwriting_an_input(const std::string& path) {
  const InputGuard& guard = input_guard();
  struct stat file {};
  if (!guard.on || ::stat(path.c_str(), &file) != 0) return;  // a new file replaces nothing
  for (const InputFile& input : guard.inputs)
    if (input.device == file.st_dev && input.inode == file.st_ino)
      throw ConfigError(path, {{"", fmt::format("is the same file as the input {} this command "
                                                "read; expected another output path (writing it "
                                                "would destroy the input)",
                                                input.path)}});
}

std::string read_text_file(const std::string& path, std::uintmax_t max_bytes) {
  std::error_code error;
  const auto status = fs::status(path, error);
  if (!fs::exists(status)) throw ConfigError(path, {{"", "cannot open file for reading"}});
  // A directory or a FIFO opens as a stream on Linux and fails (or blocks) only when read.
  if (fs::is_directory(status)) throw ConfigError(path, {{"", "is a directory; expected a file"}});
  if (!fs::is_regular_file(status)) throw ConfigError(path, {{"", "expected a regular file"}});
  const auto size = fs::file_size(path, error);
  if (!error && size > max_bytes)
    throw ConfigError(
        path, {{"", fmt::format("file is {} bytes; expected at most {}", size, max_bytes)}});
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(path, {{"", "cannot open file for reading"}});
  note_input_file(path);
  // Read at most one byte past the limit: a file whose size said less (a /proc file, one still
  // growing) is refused all the same, never read without end.
  std::string text;
  char chunk[1 << 16];
  while (text.size() <= max_bytes && in.read(chunk, sizeof chunk).gcount() > 0)
    text.append(chunk, static_cast<std::size_t>(in.gcount()));
  if (in.bad()) throw ConfigError(path, {{"", "read error"}});
  if (text.size() > max_bytes)
    throw ConfigError(path, {{"", fmt::format("file grew past {} bytes while read; expected at "
                                              "most {}",
                                              max_bytes, max_bytes)}});
  return text;
}

namespace {

void write_in_place(const std::string& path, const std::string& text, std::ios::openmode mode) {
  refuse_overwriting_an_input(path);
  const FifoReaderCheck reader_check(path);
  std::ofstream out(path, std::ios::binary | mode);
  out << text;
  out.flush();
  if (!out) throw std::runtime_error(fmt::format("cannot write {}", path));
}

}  // namespace

FifoReaderCheck::FifoReaderCheck(const std::string& path) {
  std::error_code error;
  if (!fs::is_fifo(fs::status(path, error))) return;
  descriptor_ = ::open(path.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  if (descriptor_ < 0 && errno == ENXIO)  // other failures are the caller's own open's to report
    throw std::runtime_error(
        fmt::format("cannot write {}: it is a FIFO that no process reads", path));
}

FifoReaderCheck::~FifoReaderCheck() {
  if (descriptor_ >= 0) ::close(descriptor_);
}

std::string temporary_path(const std::string& path) {
  return fmt::format("{}.tmp{}", path, getpid());  // the process id: two writers never share one
}

std::string write_target(const std::string& path) {
  std::error_code error;
  if (!fs::is_symlink(fs::symlink_status(path, error))) return path;
  const auto target = fs::canonical(path, error);  // a dangling link: its own error on write
  return error ? path : target.string();
}

namespace {

// Writes `text` under a temporary name beside `path` and returns that name, or "" for a device or
// pipe (/dev/stdout), which is written where it is: renaming over it would replace it.
std::string write_beside(const std::string& path, const std::string& text) {
  std::error_code status_error;
  const auto status = fs::status(path, status_error);
  if (fs::exists(status) && !fs::is_regular_file(status)) {
    write_in_place(path, text, std::ios::trunc);
    return "";
  }
  const std::string temporary = temporary_path(path);
  std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
  out << text;
  out.flush();
  if (!out) {
    std::error_code ignored;
    fs::remove(temporary, ignored);
    throw std::runtime_error(fmt::format("cannot write {}", path));
  }
  return temporary;
}

}  // namespace

void write_text_file(const std::string& path, const std::string& text) {
  write_text_files({{path, text}});
}

void write_text_files(const std::vector<std::pair<std::string, std::string>>& files) {
  std::vector<std::string> paths;
  for (const auto& file : files) {
    paths.push_back(write_target(file.first));
    refuse_overwriting_an_input(paths.back());
  }
  std::vector<std::unique_ptr<TemporaryFileGuard>> guards;  // removed if SIGINT/SIGTERM comes
  std::vector<std::string> temporaries;
  const auto remove_temporaries = [&] {
    std::error_code ignored;
    for (const auto& temporary : temporaries)
      if (!temporary.empty()) fs::remove(temporary, ignored);
  };
  try {
    for (std::size_t i = 0; i < files.size(); ++i) {
      guards.push_back(std::make_unique<TemporaryFileGuard>(temporary_path(paths[i])));
      temporaries.push_back(write_beside(paths[i], files[i].second));
    }
  } catch (...) {  // one output failed: none of the set replaces what was there
    remove_temporaries();
    throw;
  }
  for (std::size_t i = 0; i < files.size(); ++i) {
    if (temporaries[i].empty()) continue;
    std::error_code error;
    fs::rename(temporaries[i], paths[i], error);
    if (error) {
      temporaries.erase(temporaries.begin(), temporaries.begin() + static_cast<long>(i));
      remove_temporaries();
      throw std::runtime_error(fmt::format("cannot write {}: {}", paths[i], error.message()));
    }
  }
}

void refuse_output_over_input(const std::string& output, std::span<const std::string> inputs) {
  for (const auto& input : inputs) {
    std::error_code error;  // either missing: not the same file
    if (!fs::equivalent(output, input, error) || error) continue;
    throw ConfigError(
        output, {{"", fmt::format("is the same file as the input {}; expected another output path "
                                  "(writing it would destroy the input)",
                                  input)}});
  }
}

void append_text_file(const std::string& path, const std::string& text) {
  write_in_place(path, text, std::ios::app);
}

}  // namespace moesim
