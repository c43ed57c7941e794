#pragma once
// A scratch directory of small .npy files for the manifest fuzz targets: a.npy [3, 2], b.npy
// [2, 2], c.npy [4] and empty.npy [0, 2], ids < 4, so a manifest's files really load.
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>

namespace moesim::fuzz {

// A |u1 .npy (v1.0) of `tokens` rows of `top_k` ids < 4; top_k 0 writes a 1-D [tokens] array.
inline void write_npy(const std::filesystem::path& path, int tokens, int top_k) {
  const std::string rows = std::to_string(tokens);
  const std::string shape = top_k == 0 ? rows + "," : rows + ", " + std::to_string(top_k);
  std::string header = "{'descr': '|u1', 'fortran_order': False, 'shape': (" + shape + "), }";
  header.resize(64 - 10 - 1, ' ');  // magic 6 + version 2 + length 2: the data starts at byte 64
  header += '\n';
  std::string bytes = "\x93NUMPY\x01";
  bytes += '\0';
  bytes += static_cast<char>(header.size());
  bytes += '\0';
  bytes += header;
  for (int t = 0; t < tokens; ++t)
    for (int k = 0; k < std::max(top_k, 1); ++k) bytes += static_cast<char>((t + k) % 4);
  std::ofstream(path, std::ios::binary) << bytes;
}

inline std::filesystem::path npy_scratch_dir(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("moesim-" + name + "-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  write_npy(dir / "a.npy", 3, 2);
  write_npy(dir / "b.npy", 2, 2);
  write_npy(dir / "c.npy", 4, 0);      // [4]: top-1
  write_npy(dir / "empty.npy", 0, 2);  // [0, 2]: no tokens
  return dir;
}

}  // namespace moesim::fuzz
