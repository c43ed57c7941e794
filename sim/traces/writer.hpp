#pragma once
// Streams a routing trace to disk block by block (docs/trace-format.md): memory holds one encoded
// block plus 16 bytes of index per block written.
#include <cstdint>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "base/interrupt_cleanup.hpp"
#include "sim/traces/format.hpp"

namespace moesim::sim {

class TraceWriter {
 public:
  // Writes the header to a temporary file beside `path`; throws std::runtime_error when it cannot
  // be created. `path` itself is replaced only by finish(), so a failed run leaves it untouched.
  TraceWriter(std::string path, TraceShape shape);
  TraceWriter(const TraceWriter&) = delete;
  TraceWriter& operator=(const TraceWriter&) = delete;
  // Without finish() the temporary file is removed and `path` keeps what it held before.
  ~TraceWriter();

  // Blocks come in order: step 0 layer 0, step 0 layer 1, ..., step 1 layer 0, ... Ids must be
  // valid (< experts, distinct per token); std::invalid_argument otherwise.
  void write_block(const TraceBlock& block);
  // Writes the index and footer, closes the file and renames it over `path`. No block may follow.
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
  void discard();  // closes and removes the temporary file

  std::string path_;
  std::string temporary_;  // where the blocks go until finish(); == path_ for a device or pipe
  // Removes temporary_ if SIGINT/SIGTERM ends a long trace gen or convert before finish().
  std::unique_ptr<TemporaryFileGuard> interrupt_guard_;
  TraceShape shape_;
  std::ofstream out_;
  std::uint64_t offset_ = 0;
  std::vector<IndexEntry> index_;
  std::vector<std::byte> buffer_;
  bool finished_ = false;
};

// The 32-byte file header for `shape` (shared with tests that craft files by hand).
std::vector<std::byte> encode_trace_header(const TraceShape& shape);

}  // namespace moesim::sim
