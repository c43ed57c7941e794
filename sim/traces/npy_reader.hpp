#pragma once
// A reader for NumPy .npy files (format versions 1.0-3.0) holding little-endian integer arrays,
// with errors that name the byte offset and what was expected (TraceError).
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "sim/traces/format.hpp"

namespace moesim::sim {

struct NpyArray {
  std::string descr;  // as written: "<i8", "|u1", ...
  int item_bytes = 0;
  bool is_signed = false;
  std::vector<std::uint64_t> shape;
  std::uint64_t data_offset = 0;  // byte offset of the first element in the file
  std::vector<std::byte> data;    // row-major elements, little-endian

  std::uint64_t elements() const;
  std::int64_t at(
      std::uint64_t index) const;  // sign- or zero-extended; u8 values above 2^63 clamp negative
};

// Parses a whole .npy image; `source` names it in errors ("ids.npy: byte 10: expected ...").
NpyArray parse_npy(std::span<const std::byte> bytes, const std::string& source);
// Reads and parses a file; ConfigError when it cannot be opened.
NpyArray read_npy(const std::string& path);

}  // namespace moesim::sim
