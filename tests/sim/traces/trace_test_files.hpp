#pragma once
// Scratch files for the trace tests: a per-process temporary path, and whole-file byte I/O for
// tests that craft or corrupt a trace byte by byte.
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace moesim::sim::test {

// <tmp>/moesim-<suite>-<pid>-<name>: tests of one suite running in parallel never share a file.
inline std::filesystem::path temp_trace_path(const std::string& suite, const std::string& name) {
  return std::filesystem::temp_directory_path() /
         ("moesim-" + suite + "-" + std::to_string(::getpid()) + "-" + name);
}

inline std::vector<std::byte> read_all(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<char> chars((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::byte> bytes(chars.size());
  std::memcpy(bytes.data(), chars.data(), chars.size());
  return bytes;
}

inline void write_all(const std::filesystem::path& path, const std::vector<std::byte>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
}

}  // namespace moesim::sim::test
