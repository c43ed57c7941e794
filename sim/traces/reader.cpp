#include "sim/traces/reader.hpp"

#include <fmt/format.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "base/text_file.hpp"
#include "sim/spec/limits.hpp"

namespace moesim::sim {
namespace {

constexpr std::uint64_t kIndexCrcBytes = 4;

std::string hex_bytes(const std::byte* bytes, std::size_t count) {
  std::string text = "0x";
  for (std::size_t i = 0; i < count; ++i)
    text += fmt::format("{:02x}", std::to_integer<unsigned>(bytes[i]));
  return text;
}

bool has_magic(const std::byte* bytes, std::string_view magic) {
  return std::memcmp(bytes, magic.data(), magic.size()) == 0;
}

std::uint32_t chain_offset(std::uint32_t crc, std::uint64_t offset) {
  std::byte bytes[8];
  store_le(bytes, offset, 8);
  return crc32c(bytes, crc);
}

std::unique_ptr<std::istream> open_trace_file(const std::string& path) {
  auto in = std::make_unique<std::ifstream>(path, std::ios::binary);
  if (!*in) throw ConfigError(path, {{"/", "cannot open the file"}});
  note_input_file(path);
  return in;
}

}  // namespace

TraceReader::TraceReader(std::string path) : TraceReader(path, open_trace_file(path)) {}

TraceReader::TraceReader(std::string source, std::string bytes)
    : TraceReader(std::move(source),
                  std::make_unique<std::istringstream>(std::move(bytes), std::ios::binary)) {}

TraceReader::TraceReader(std::string source, std::unique_ptr<std::istream> in)
    : path_(std::move(source)), in_(std::move(in)) {
  in_->seekg(0, std::ios::end);
  const auto end = in_->tellg();
  if (!*in_ || end < 0) throw std::runtime_error(fmt::format("cannot read the size of {}", path_));
  size_ = static_cast<std::uint64_t>(end);
  read_header();
}

void TraceReader::fail(std::uint64_t offset, const std::string& message) const {
  throw TraceError(path_, offset, message);
}

void TraceReader::read_at(std::uint64_t offset, std::byte* out, std::size_t bytes,
                          const char* what) {
  if (offset > size_ || bytes > size_ - offset)
    fail(offset,
         fmt::format("expected {} ({} bytes), but the file ends at byte {}", what, bytes, size_));
  in_->seekg(static_cast<std::streamoff>(offset));
  in_->read(reinterpret_cast<char*>(out), static_cast<std::streamsize>(bytes));
  if (!*in_) throw std::runtime_error(fmt::format("cannot read {} at byte {}", path_, offset));
}

void TraceReader::read_header() {
  std::byte header[kTraceHeaderBytes];
  read_at(0, header, kTraceHeaderBytes, "a trace header");
  if (!has_magic(header, kTraceMagic))
    fail(0, fmt::format("expected magic \"MOETRACE\", got {}", hex_bytes(header, 8)));
  const auto version = load_le(header + 8, 2);
  if (version != kTraceVersion)
    fail(8, fmt::format("expected version {}, got {}", kTraceVersion, version));
  const auto stored_crc = load_le(header + 28, 4);
  const auto computed_crc = crc32c(std::span<const std::byte>(header, 28));
  if (stored_crc != computed_crc)
    fail(28, fmt::format("header checksum mismatch: stored 0x{:08x}, computed 0x{:08x}", stored_crc,
                         computed_crc));
  shape_.layers = static_cast<std::uint32_t>(load_le(header + 12, 4));
  shape_.experts = static_cast<std::uint32_t>(load_le(header + 16, 4));
  shape_.top_k = static_cast<std::uint32_t>(load_le(header + 20, 4));
  if (shape_.layers == 0) fail(12, "expected layers >= 1, got 0");
  if (shape_.experts == 0) fail(16, "expected experts >= 1, got 0");
  if (shape_.top_k == 0 || shape_.top_k > shape_.experts)
    fail(20, fmt::format("expected top_k in [1, {}], got {}", shape_.experts, shape_.top_k));
  // before anything is sized by the shape: a valid header CRC says nothing about sane sizes
  if (const auto problem = shape_limit_problem(shape_))
    fail(problem->field == "layers" ? 12 : problem->field == "experts" ? 16 : 20, problem->message);
  const auto id_bytes = load_le(header + 10, 1);
  if (id_bytes != static_cast<std::uint64_t>(shape_.id_bytes()))
    fail(10, fmt::format("expected id width {} for {} experts, got {}", shape_.id_bytes(),
                         shape_.experts, id_bytes));
  const auto scores = load_le(header + 11, 1);
  if (scores > 2)
    fail(11, fmt::format("expected score type 0 (none), 1 (fp16) or 2 (bf16), got {}", scores));
  shape_.scores = static_cast<ScoreType>(scores);
  const auto reserved = load_le(header + 24, 4);
  if (reserved != 0) fail(24, fmt::format("expected reserved 0, got {}", reserved));
}

bool TraceReader::next(TraceBlock& block) {
  if (done_) return false;
  std::byte magic[4];
  read_at(position_, magic, 4, "block magic \"TBLK\" or index magic \"TIDX\"");
  if (has_magic(magic, kIndexMagic)) {
    if (next_layer_ != 0)
      fail(position_,
           fmt::format("expected step {} layer {} (a step holds all {} layers), got the index",
                       next_step_, next_layer_, shape_.layers));
    read_trailer(position_);
    done_ = true;
    return false;
  }
  if (!has_magic(magic, kBlockMagic))
    fail(position_, fmt::format("expected block magic \"TBLK\" or index magic \"TIDX\", got {}",
                                hex_bytes(magic, 4)));
  read_block(position_, block);
  return true;
}

// A block's header fields, checked against the reader's position and the file's size.
struct TraceReader::BlockHeader {
  std::uint64_t at = 0;  // file offset of the block
  std::byte bytes[kBlockHeaderBytes];
  std::uint64_t step = 0;
  std::uint64_t layer = 0;
  std::uint64_t tokens = 0;
  std::uint64_t payload = 0;  // bytes after the header
  std::uint64_t choices = 0;  // tokens x top_k expert ids
};

TraceReader::BlockHeader TraceReader::read_block_header(std::uint64_t at) {
  BlockHeader block;
  block.at = at;
  read_at(at, block.bytes, kBlockHeaderBytes, "a block header");
  block.step = load_le(block.bytes + 4, 4);
  block.layer = load_le(block.bytes + 8, 4);
  if (block.step != next_step_ || block.layer != next_layer_)
    fail(at + 4, fmt::format("expected step {} layer {}, got step {} layer {}", next_step_,
                             next_layer_, block.step, block.layer));
  block.tokens = load_le(block.bytes + 12, 4);
  block.payload = load_le(block.bytes + 16, 8);
  block.choices = block.tokens * shape_.top_k;  // < 2^64: both factors < 2^32
  const auto bytes_per_choice = static_cast<std::uint64_t>(shape_.id_bytes()) +
                                static_cast<std::uint64_t>(shape_.score_bytes());
  if (block.choices > UINT64_MAX / bytes_per_choice ||
      block.payload != block.choices * bytes_per_choice)
    fail(at + 16, fmt::format("expected payload size {} x top_k {} x {} bytes, got {}",
                              block.tokens, shape_.top_k, bytes_per_choice, block.payload));
  if (block.choices > static_cast<std::uint64_t>(kMaxChoicesPerBlock))  // docs/limits.md
    fail(at + 12, fmt::format("expected tokens x top_k <= {} (docs/limits.md), got {} x {}",
                              kMaxChoicesPerBlock, block.tokens, shape_.top_k));
  // checked against the file size before allocating: a corrupt size cannot exhaust memory
  if (block.payload > size_ - (at + kBlockHeaderBytes))
    fail(at + kBlockHeaderBytes,
         fmt::format("expected the block payload ({} bytes), but the file ends at byte {}",
                     block.payload, size_));
  return block;
}

// The header and payload into buffer_, checksummed together.
void TraceReader::read_block_payload(const BlockHeader& block) {
  buffer_.resize(kBlockHeaderBytes + block.payload);
  std::memcpy(buffer_.data(), block.bytes, kBlockHeaderBytes);
  read_at(block.at + kBlockHeaderBytes, buffer_.data() + kBlockHeaderBytes, block.payload,
          "the block payload");
  const auto stored_crc = load_le(block.bytes + 24, 4);
  std::uint32_t crc = crc32c(std::span(buffer_).first(24));
  crc = crc32c(std::span(buffer_).subspan(kBlockHeaderBytes), crc);
  if (stored_crc != crc)
    fail(block.at + 24,
         fmt::format("checksum mismatch in step {} layer {}: stored 0x{:08x}, computed 0x{:08x}",
                     block.step, block.layer, stored_crc, crc));
}

// The expert ids from buffer_, each token's checked (in range, no repeats).
void TraceReader::decode_block_ids(const BlockHeader& block, TraceBlock& out) {
  const auto id_bytes = static_cast<std::uint64_t>(shape_.id_bytes());
  out.expert_ids.resize(block.choices);
  decode_ids(buffer_.data() + kBlockHeaderBytes, shape_.id_bytes(), out.expert_ids);
  const auto t = checker_.first_invalid_token(out.expert_ids, shape_.top_k, shape_.experts);
  if (t >= block.tokens) return;
  const std::span<const std::uint32_t> token(&out.expert_ids[t * shape_.top_k], shape_.top_k);
  fail(block.at + kBlockHeaderBytes + t * shape_.top_k * id_bytes,
       fmt::format("step {} layer {} token {}: {}", block.step, block.layer, t,
                   check_token_choices(token, shape_.experts)));
}

// The gate scores after the ids, when the trace has them; each must be finite.
void TraceReader::decode_block_scores(const BlockHeader& block, TraceBlock& out) {
  out.scores.clear();
  if (shape_.scores == ScoreType::None) return;
  const std::uint64_t scores_at =
      kBlockHeaderBytes + block.choices * static_cast<std::uint64_t>(shape_.id_bytes());
  const std::byte* scores = buffer_.data() + scores_at;
  out.scores.resize(block.choices);
  for (std::uint64_t i = 0; i < block.choices; ++i) {
    const auto bits = static_cast<std::uint16_t>(load_le(scores + 2 * i, 2));
    out.scores[i] = shape_.scores == ScoreType::Fp16 ? fp16_to_float(bits) : bf16_to_float(bits);
    if (!std::isfinite(out.scores[i]))
      fail(block.at + scores_at + 2 * i,
           fmt::format("step {} layer {} token {}: expected a finite gate score, got {}",
                       block.step, block.layer, i / shape_.top_k, out.scores[i]));
  }
}

void TraceReader::read_block(std::uint64_t at, TraceBlock& out) {
  const BlockHeader block = read_block_header(at);
  read_block_payload(block);
  out.step = static_cast<std::uint32_t>(block.step);
  out.layer = static_cast<std::uint32_t>(block.layer);
  out.tokens = static_cast<std::uint32_t>(block.tokens);
  decode_block_ids(block, out);
  decode_block_scores(block, out);
  offsets_crc_ = chain_offset(offsets_crc_, at);
  position_ = at + kBlockHeaderBytes + block.payload;
  ++blocks_read_;
  if (++next_layer_ == shape_.layers) {
    next_layer_ = 0;
    ++next_step_;
  }
}

void TraceReader::read_trailer(std::uint64_t at) {
  std::byte header[kIndexHeaderBytes];
  read_at(at, header, kIndexHeaderBytes, "an index header");
  const auto reserved = load_le(header + 4, 4);
  if (reserved != 0) fail(at + 4, fmt::format("expected reserved 0, got {}", reserved));
  const auto count = load_le(header + 8, 8);
  if (count != blocks_read_)
    fail(at + 8, fmt::format("expected an index of {} blocks, got {}", blocks_read_, count));
  const std::uint64_t entries_end = at + kIndexHeaderBytes + count * kIndexEntryBytes;
  const std::uint64_t end = entries_end + kIndexCrcBytes + kFooterBytes;
  if (end > size_)
    fail(at,
         fmt::format(
             "expected an index of {} blocks and a footer ({} bytes), but the file ends at byte {}",
             count, end - at, size_));
  if (end < size_)
    fail(end, fmt::format("expected the end of the file, got {} more bytes", size_ - end));
  // stream the entries in chunks: the index is verified without holding it whole
  std::uint32_t crc = crc32c(header);
  std::uint32_t offsets_crc = 0;
  std::byte chunk[4096];
  for (std::uint64_t entry = 0; entry < count;) {
    const std::uint64_t batch =
        std::min<std::uint64_t>(count - entry, sizeof chunk / kIndexEntryBytes);
    const std::uint64_t entry_at = at + kIndexHeaderBytes + entry * kIndexEntryBytes;
    read_at(entry_at, chunk, batch * kIndexEntryBytes, "index entries");
    crc = crc32c(std::span<const std::byte>(chunk, batch * kIndexEntryBytes), crc);
    for (std::uint64_t i = 0; i < batch; ++i)
      offsets_crc = chain_offset(offsets_crc, load_le(chunk + i * kIndexEntryBytes + 8, 8));
    entry += batch;
  }
  std::byte tail[kIndexCrcBytes + kFooterBytes];
  read_at(entries_end, tail, sizeof tail, "the index checksum and footer");
  const auto stored_crc = load_le(tail, 4);
  if (stored_crc != crc)
    fail(entries_end, fmt::format("index checksum mismatch: stored 0x{:08x}, computed 0x{:08x}",
                                  stored_crc, crc));
  if (!skipped_blocks_ && offsets_crc != offsets_crc_)
    fail(at + kIndexHeaderBytes,
         "expected index entries that point at the blocks read, got other offsets");
  const std::byte* footer = tail + kIndexCrcBytes;
  const std::uint64_t footer_at = entries_end + kIndexCrcBytes;
  if (!has_magic(footer + 12, kFooterMagic))
    fail(footer_at + 12,
         fmt::format("expected footer magic \"TEND\", got {}", hex_bytes(footer + 12, 4)));
  const auto footer_crc = load_le(footer + 8, 4);
  if (footer_crc != crc32c(std::span<const std::byte>(footer, 8)))
    fail(footer_at + 8, fmt::format("footer checksum mismatch: stored 0x{:08x}, computed 0x{:08x}",
                                    footer_crc, crc32c(std::span<const std::byte>(footer, 8))));
  const auto index_offset = load_le(footer, 8);
  if (index_offset != at)
    fail(footer_at, fmt::format("expected the footer to point at the index at byte {}, got {}", at,
                                index_offset));
}

void TraceReader::load_index() {
  if (index_loaded_) return;
  const std::uint64_t minimum =
      kTraceHeaderBytes + kIndexHeaderBytes + kIndexCrcBytes + kFooterBytes;
  if (size_ < minimum)
    fail(size_,
         fmt::format(
             "expected an index and footer after the header ({} bytes at least), but the file "
             "ends at byte {}",
             minimum, size_));
  const std::uint64_t footer_at = size_ - kFooterBytes;
  std::byte footer[kFooterBytes];
  read_at(footer_at, footer, kFooterBytes, "a footer");
  if (!has_magic(footer + 12, kFooterMagic))
    fail(footer_at + 12,
         fmt::format("expected footer magic \"TEND\", got {}", hex_bytes(footer + 12, 4)));
  const auto footer_crc = load_le(footer + 8, 4);
  if (footer_crc != crc32c(std::span<const std::byte>(footer, 8)))
    fail(footer_at + 8, "footer checksum mismatch");
  const auto at = load_le(footer, 8);
  if (at < kTraceHeaderBytes || at > footer_at - kIndexHeaderBytes - kIndexCrcBytes)
    fail(footer_at, fmt::format("expected an index offset in [{}, {}], got {}", kTraceHeaderBytes,
                                footer_at - kIndexHeaderBytes - kIndexCrcBytes, at));
  std::byte header[kIndexHeaderBytes];
  read_at(at, header, kIndexHeaderBytes, "an index header");
  if (!has_magic(header, kIndexMagic))
    fail(at, fmt::format("expected index magic \"TIDX\", got {}", hex_bytes(header, 4)));
  const auto count = load_le(header + 8, 8);
  if (count % shape_.layers != 0 ||
      count != (footer_at - kIndexCrcBytes - at - kIndexHeaderBytes) / kIndexEntryBytes ||
      (footer_at - kIndexCrcBytes - at - kIndexHeaderBytes) % kIndexEntryBytes != 0)
    fail(at + 8,
         fmt::format(
             "expected a block count that fills the index up to the footer in whole steps of {} "
             "layers, got {}",
             shape_.layers, count));
  buffer_.resize(count * kIndexEntryBytes);
  read_at(at + kIndexHeaderBytes, buffer_.data(), buffer_.size(), "index entries");
  std::byte stored[kIndexCrcBytes];
  read_at(footer_at - kIndexCrcBytes, stored, kIndexCrcBytes, "the index checksum");
  const std::uint32_t crc = crc32c(buffer_, crc32c(header));
  if (load_le(stored, 4) != crc) fail(footer_at - kIndexCrcBytes, "index checksum mismatch");
  block_offsets_.resize(count);
  for (std::uint64_t i = 0; i < count; ++i) {
    const std::byte* entry = &buffer_[i * kIndexEntryBytes];
    const auto offset = load_le(entry + 8, 8);
    const bool in_order = i == 0 ? offset == kTraceHeaderBytes : offset > block_offsets_[i - 1];
    if (load_le(entry, 4) != i / shape_.layers || load_le(entry + 4, 4) != i % shape_.layers ||
        !in_order || offset >= at)
      fail(at + kIndexHeaderBytes + i * kIndexEntryBytes,
           fmt::format("expected index entry {} for step {} layer {} at a rising offset below {}",
                       i, i / shape_.layers, i % shape_.layers, at));
    block_offsets_[i] = offset;
  }
  index_loaded_ = true;
}

std::uint64_t TraceReader::steps() {
  load_index();
  return block_offsets_.size() / shape_.layers;
}

void TraceReader::seek_step(std::uint64_t step) {
  load_index();
  const std::uint64_t step_count = steps();
  if (step_count == 0)
    throw std::out_of_range(
        fmt::format("{}: step {} is past the end of a trace with no steps", path_, step));
  if (step >= step_count)  // steps count from 0
    throw std::out_of_range(
        fmt::format("{}: step {} is past the last step {}", path_, step, step_count - 1));
  position_ = block_offsets_[step * shape_.layers];
  next_step_ = step;
  next_layer_ = 0;
  blocks_read_ = step * shape_.layers;
  skipped_blocks_ = true;
  done_ = false;
}

}  // namespace moesim::sim
