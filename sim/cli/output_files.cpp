#include "sim/cli/output_files.hpp"

#include <fmt/core.h>

#include <fstream>
#include <stdexcept>

namespace moesim::cli {
namespace {

void write(const std::string& path, const std::string& text, std::ios::openmode mode) {
  std::ofstream out(path, mode);
  out << text;
  if (!out) throw std::runtime_error(fmt::format("cannot write {}", path));
}

}  // namespace

void write_text_file(const std::string& path, const std::string& text) {
  write(path, text, std::ios::binary | std::ios::trunc);
}

void append_text_file(const std::string& path, const std::string& text) {
  write(path, text, std::ios::binary | std::ios::app);
}

}  // namespace moesim::cli
