#include "sim/traces/writer.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <stdexcept>

#include "base/text_file.hpp"

namespace moesim::sim {

std::vector<std::byte> encode_trace_header(const TraceShape& shape) {
  std::vector<std::byte> header(kTraceHeaderBytes, std::byte{0});
  for (std::size_t i = 0; i < kTraceMagic.size(); ++i)
    header[i] = static_cast<std::byte>(kTraceMagic[i]);
  store_le(&header[8], kTraceVersion, 2);
  store_le(&header[10], static_cast<std::uint64_t>(shape.id_bytes()), 1);
  store_le(&header[11], static_cast<std::uint64_t>(shape.scores), 1);
  store_le(&header[12], shape.layers, 4);
  store_le(&header[16], shape.experts, 4);
  store_le(&header[20], shape.top_k, 4);
  store_le(&header[28], crc32c(std::span(header).first(28)), 4);
  return header;
}

namespace {

// A device or pipe (/dev/null) is written where it is: renaming over it would replace it.
std::string temporary_path_for(const std::string& path) {
  std::error_code error;
  const auto status = std::filesystem::status(path, error);
  if (std::filesystem::exists(status) && !std::filesystem::is_regular_file(status)) return path;
  return temporary_path(path);
}

}  // namespace

TraceWriter::TraceWriter(std::string path, TraceShape shape)
    : path_(write_target(path)), temporary_(temporary_path_for(path_)), shape_(shape) {
  if (shape_.layers == 0 || shape_.experts == 0 || shape_.top_k == 0 ||
      shape_.top_k > shape_.experts)
    throw std::invalid_argument(fmt::format(
        "trace shape needs layers >= 1, experts >= 1 and top_k in [1, experts]; got {}, {}, {}",
        shape_.layers, shape_.experts, shape_.top_k));
  if (temporary_ != path_) interrupt_guard_ = std::make_unique<TemporaryFileGuard>(temporary_);
  {
    const FifoReaderCheck reader_check(temporary_);  // else a FIFO no one reads blocks the open
    out_.open(temporary_, std::ios::binary | std::ios::trunc);
  }
  if (!out_) throw std::runtime_error(fmt::format("cannot create {}", path_));
  try {
    write_bytes(encode_trace_header(shape_));
  } catch (...) {
    discard();
    throw;
  }
}

TraceWriter::~TraceWriter() {
  if (!finished_) discard();
}

void TraceWriter::discard() {
  out_.close();
  if (temporary_ == path_) return;
  std::error_code ignored;
  std::filesystem::remove(temporary_, ignored);
}

void TraceWriter::write_bytes(const std::vector<std::byte>& bytes) {
  out_.write(reinterpret_cast<const char*>(bytes.data()),
             static_cast<std::streamsize>(bytes.size()));
  if (!out_) throw std::runtime_error(fmt::format("cannot write {} at byte {}", path_, offset_));
  offset_ += bytes.size();
}

void TraceWriter::write_block(const TraceBlock& block) {
  if (finished_) throw std::logic_error("TraceWriter: write_block after finish");
  std::uint32_t step = 0;
  std::uint32_t layer = 0;
  if (!index_.empty()) {
    step = index_.back().step;
    layer = index_.back().layer + 1;
    if (layer == shape_.layers) {
      layer = 0;
      ++step;
    }
  }
  if (block.step != step || block.layer != layer)
    throw std::invalid_argument(
        fmt::format("trace blocks out of order: expected step {} layer {}, got step {} layer {}",
                    step, layer, block.step, block.layer));
  const std::uint64_t choices = std::uint64_t{block.tokens} * shape_.top_k;
  if (block.expert_ids.size() != choices)
    throw std::invalid_argument(
        fmt::format("block has {} expert ids, expected tokens {} x top_k {}",
                    block.expert_ids.size(), block.tokens, shape_.top_k));
  const bool has_scores = shape_.scores != ScoreType::None;
  if (has_scores && block.scores.size() != choices)
    throw std::invalid_argument(
        fmt::format("block has {} scores, expected {}", block.scores.size(), choices));
  const int id_bytes = shape_.id_bytes();
  const std::size_t payload = choices * static_cast<std::size_t>(id_bytes + shape_.score_bytes());
  buffer_.assign(kBlockHeaderBytes + payload, std::byte{0});
  for (std::size_t i = 0; i < kBlockMagic.size(); ++i)
    buffer_[i] = static_cast<std::byte>(kBlockMagic[i]);
  store_le(&buffer_[4], block.step, 4);
  store_le(&buffer_[8], block.layer, 4);
  store_le(&buffer_[12], block.tokens, 4);
  store_le(&buffer_[16], payload, 8);
  std::byte* ids = &buffer_[kBlockHeaderBytes];
  for (std::uint32_t t = 0; t < block.tokens; ++t) {
    const std::span<const std::uint32_t> token(&block.expert_ids[std::size_t{t} * shape_.top_k],
                                               shape_.top_k);
    if (auto problem = check_token_choices(token, shape_.experts); !problem.empty())
      throw std::invalid_argument(
          fmt::format("step {} layer {} token {}: {}", block.step, block.layer, t, problem));
  }
  for (std::size_t i = 0; i < choices; ++i)
    store_le(ids + i * id_bytes, block.expert_ids[i], id_bytes);
  if (has_scores) {
    std::byte* scores = ids + choices * id_bytes;
    for (std::size_t i = 0; i < choices; ++i) {
      const std::uint16_t bits = shape_.scores == ScoreType::Fp16 ? float_to_fp16(block.scores[i])
                                                                  : float_to_bf16(block.scores[i]);
      store_le(scores + 2 * i, bits, 2);
    }
  }
  std::uint32_t crc = crc32c(std::span(buffer_).first(24));
  crc = crc32c(std::span(buffer_).subspan(kBlockHeaderBytes), crc);
  store_le(&buffer_[24], crc, 4);
  index_.push_back({block.step, block.layer, offset_});
  write_bytes(buffer_);
}

void TraceWriter::finish() {
  if (finished_) return;
  if (!index_.empty() && index_.back().layer + 1 != shape_.layers)
    throw std::invalid_argument(
        fmt::format("trace ends inside step {}: layer {} of {} written last", index_.back().step,
                    index_.back().layer, shape_.layers));
  const std::uint64_t index_offset = offset_;
  buffer_.assign(kIndexHeaderBytes + index_.size() * kIndexEntryBytes + 4, std::byte{0});
  for (std::size_t i = 0; i < kIndexMagic.size(); ++i)
    buffer_[i] = static_cast<std::byte>(kIndexMagic[i]);
  store_le(&buffer_[8], index_.size(), 8);
  for (std::size_t i = 0; i < index_.size(); ++i) {
    std::byte* entry = &buffer_[kIndexHeaderBytes + i * kIndexEntryBytes];
    store_le(entry, index_[i].step, 4);
    store_le(entry + 4, index_[i].layer, 4);
    store_le(entry + 8, index_[i].offset, 8);
  }
  const std::size_t body = buffer_.size() - 4;
  store_le(&buffer_[body], crc32c(std::span(buffer_).first(body)), 4);
  write_bytes(buffer_);
  buffer_.assign(kFooterBytes, std::byte{0});
  store_le(&buffer_[0], index_offset, 8);
  store_le(&buffer_[8], crc32c(std::span(buffer_).first(8)), 4);
  for (std::size_t i = 0; i < kFooterMagic.size(); ++i)
    buffer_[12 + i] = static_cast<std::byte>(kFooterMagic[i]);
  write_bytes(buffer_);
  out_.close();
  if (!out_) throw std::runtime_error(fmt::format("cannot close {}", path_));
  if (temporary_ != path_) {
    std::error_code error;
    try {
      refuse_overwriting_an_input(path_);  // an input opened after this writer was made
    } catch (...) {
      std::filesystem::remove(temporary_, error);
      throw;
    }
    std::filesystem::rename(temporary_, path_, error);
    if (error) throw std::runtime_error(fmt::format("cannot write {}: {}", path_, error.message()));
  }
  interrupt_guard_.reset();
  finished_ = true;
  buffer_.clear();
  buffer_.shrink_to_fit();
}

}  // namespace moesim::sim
