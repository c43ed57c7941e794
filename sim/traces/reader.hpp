#pragma once
// Streams a routing trace from disk (docs/trace-format.md). Sequential reading holds one block in
// memory; seeking loads the index (16 bytes per block). Every malformation is a TraceError naming
// the byte offset and what was expected, and no block is returned before its checksum and its
// expert ids are verified.
#include <cstdint>
#include <istream>
#include <memory>
#include <string>
#include <vector>

#include "sim/traces/format.hpp"

namespace moesim::sim {

class TraceReader {
 public:
  // Opens `path` and verifies the header; ConfigError when the file cannot be opened.
  explicit TraceReader(std::string path);
  // A trace held in memory, named `source` in errors: the same checks as a file, without a file
  // (the fuzz targets read thousands of inputs a second this way).
  TraceReader(std::string source, std::string bytes);

  const TraceShape& shape() const { return shape_; }
  const std::string& path() const { return path_; }

  // The next block in (step, layer) order; false after the index and footer check out.
  bool next(TraceBlock& block);
  // Steps in the file, from the index (loaded and verified on first use).
  std::uint64_t steps();
  // Positions the stream so that next() returns layer 0 of `step`.
  void seek_step(std::uint64_t step);

 private:
  TraceReader(std::string source, std::unique_ptr<std::istream> in);
  [[noreturn]] void fail(std::uint64_t offset, const std::string& message) const;
  void read_at(std::uint64_t offset, std::byte* out, std::size_t bytes, const char* what);
  void read_header();
  struct BlockHeader;
  void read_block(std::uint64_t at, TraceBlock& out);
  BlockHeader read_block_header(std::uint64_t at);
  void read_block_payload(const BlockHeader& block);
  void decode_block_ids(const BlockHeader& block, TraceBlock& out);
  void decode_block_scores(const BlockHeader& block, TraceBlock& out);
  void read_trailer(std::uint64_t at);
  void load_index();

  std::string path_;
  std::unique_ptr<std::istream> in_;  // a file, or the bytes given
  std::uint64_t size_ = 0;
  TraceShape shape_;
  std::uint64_t position_ = kTraceHeaderBytes;
  std::uint64_t next_step_ = 0;
  std::uint32_t next_layer_ = 0;
  std::uint64_t blocks_read_ = 0;
  std::uint32_t offsets_crc_ =
      0;  // chained over the offsets of blocks read, checked against the index
  bool skipped_blocks_ = false;  // after a seek the offset check is the index load's job
  bool done_ = false;
  std::vector<std::uint64_t> block_offsets_;  // from the index; empty until loaded
  bool index_loaded_ = false;
  std::vector<std::byte> buffer_;
  ChoiceChecker checker_;
};

}  // namespace moesim::sim
