#pragma once
// Streams a routing trace to disk block by block (docs/trace-format.md): memory holds one encoded
// block plus 16 bytes of index per block written.
#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include "sim/traces/format.hpp"

namespace moesim::sim {

class TraceWriter {
 public:
  // Writes the header; throws std::runtime_error when the file cannot be created.
  TraceWriter(std::string path, TraceShape shape);
  TraceWriter(const TraceWriter&) = delete;
  TraceWriter& operator=(const TraceWriter&) = delete;
  // Without finish() the file has no index, and readers report it as truncated.
  ~TraceWriter() = default;

  // Blocks come in order: step 0 layer 0, step 0 layer 1, ..., step 1 layer 0, ... Ids must be
  // valid (< experts, distinct per token); std::invalid_argument otherwise.
  void write_block(const TraceBlock& block);
  // Writes the index and footer and closes the file. No block may follow.
  void finish();

  const TraceShape& shape() const { return shape_; }
  std::uint64_t blocks_written() const { return index_.size(); }

 private:
  struct IndexEntry {
    std::uint32_t step;
    std::uint32_t layer;
    std::uint64_t offset;
  };
  void write_bytes(const std::vector<std::byte>& bytes);

  std::string path_;
  TraceShape shape_;  // before out_: the shape is checked before the file is created
  std::ofstream out_;
  std::uint64_t offset_ = 0;
  std::vector<IndexEntry> index_;
  std::vector<std::byte> buffer_;
  bool finished_ = false;
};

// The 32-byte file header for `shape` (shared with tests that craft files by hand).
std::vector<std::byte> encode_trace_header(const TraceShape& shape);

}  // namespace moesim::sim
