#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "sim/traces/reader.hpp"
#include "sim/traces/writer.hpp"
#include "tests/sim/traces/trace_test_files.hpp"

namespace moesim::sim {
namespace {

namespace fs = std::filesystem;

fs::path format_temp_path(const std::string& name) {
  return test::temp_trace_path("trace-format", name);
}

using test::read_all;
using test::write_all;

// Layout of the sample: header 32 bytes; 4 blocks of 28 + 3 tokens x 2 choices x (1 id byte + 2
// score bytes) = 46 bytes at 32, 78, 124, 170; index at 216 of 16 + 4 x 16 + 4 = 84 bytes; footer
// at 300; 316 bytes in all.
constexpr TraceShape kShape{2, 4, 2, ScoreType::Fp16};

TraceBlock sample_block(std::uint32_t step, std::uint32_t layer) {
  TraceBlock block{step, layer, 3, {}, {}};
  for (std::uint32_t t = 0; t < 3; ++t) {
    block.expert_ids.push_back((t + step + layer) % 4);
    block.expert_ids.push_back((t + step + layer + 1) % 4);
    block.scores.push_back(0.1F * static_cast<float>(t + 1));
    block.scores.push_back(0.3F);
  }
  return block;
}

fs::path write_sample(const std::string& name) {
  const auto path = format_temp_path(name);
  TraceWriter writer(path.string(), kShape);
  for (std::uint32_t step = 0; step < 2; ++step)
    for (std::uint32_t layer = 0; layer < 2; ++layer) writer.write_block(sample_block(step, layer));
  writer.finish();
  return path;
}

// Reads every block; returns the TraceError message, or "" when the file is valid.
std::string read_error(const fs::path& path) {
  try {
    TraceReader reader(path.string());
    TraceBlock block;
    while (reader.next(block)) {
    }
  } catch (const TraceError& error) {
    return error.what();
  }
  return "";
}

// A sample with one byte changed, or cut to `size` bytes.
fs::path corrupt(const std::string& name, std::size_t offset, std::byte value) {
  auto bytes = read_all(write_sample(name));
  bytes[offset] = value;
  const auto path = format_temp_path(name);
  write_all(path, bytes);
  return path;
}

fs::path truncated(const std::string& name, std::size_t size) {
  auto bytes = read_all(write_sample(name));
  bytes.resize(size);
  const auto path = format_temp_path(name);
  write_all(path, bytes);
  return path;
}

// Rewrites block 0's CRC after an edit, so the checks behind the checksum are reached.
void refresh_block0_crc(std::vector<std::byte>& bytes) {
  std::uint32_t crc = crc32c(std::span(bytes).subspan(32, 24));
  crc = crc32c(std::span(bytes).subspan(60, 18), crc);
  store_le(&bytes[56], crc, 4);
}

TEST(TraceFormat, Crc32cMatchesTheStandardCheckValue) {
  // RFC 3720 appendix B.4 / the CRC catalogue: CRC-32C("123456789") = 0xE3069283.
  const std::string text = "123456789";
  EXPECT_EQ(crc32c(std::as_bytes(std::span(text))), 0xE3069283U);
}

TEST(TraceFormat, Crc32cHardwareAndPortablePathsAgree) {
  const std::string text = "123456789";
  EXPECT_EQ(crc32c_portable(std::as_bytes(std::span(text))), 0xE3069283U);
  if (!crc32c_hardware_supported()) GTEST_SKIP() << "no SSE4.2 crc32 instruction on this CPU";
  EXPECT_EQ(crc32c_hardware(std::as_bytes(std::span(text))), 0xE3069283U);
  // Every length 0..70 at every alignment 0..7 covers the 8-byte loop, the byte tail and
  // unaligned starts; chaining from a non-zero CRC covers the seed's inversion.
  std::vector<std::byte> bytes(80);
  for (std::size_t i = 0; i < bytes.size(); ++i)
    bytes[i] = static_cast<std::byte>((i * 167 + 13) & 0xFFU);
  for (std::size_t start = 0; start < 8; ++start)
    for (std::size_t length = 0; length <= 70; ++length) {  // start + 70 < 80 bytes
      const auto span = std::span<const std::byte>(bytes).subspan(start, length);
      ASSERT_EQ(crc32c_hardware(span), crc32c_portable(span))
          << "start " << start << " length " << length;
      ASSERT_EQ(crc32c_hardware(span, 0xDEADBEEFU), crc32c_portable(span, 0xDEADBEEFU));
    }
}

TEST(TraceFormat, ChoiceCheckerFindsTheFirstInvalidToken) {
  // 4 tokens x top-2 over 4 experts; check_token_choices() is the reference for each token.
  ChoiceChecker checker;
  const std::vector<std::uint32_t> valid = {0, 1, 1, 2, 2, 3, 3, 0};
  EXPECT_EQ(checker.first_invalid_token(valid, 2, 4), 4U);  // all valid: the token count
  const std::vector<std::uint32_t> repeated = {0, 1, 1, 2, 2, 2, 3, 3};  // token 2 = (2, 2)
  EXPECT_EQ(checker.first_invalid_token(repeated, 2, 4), 2U);
  const std::vector<std::uint32_t> out_of_range = {0, 1, 1, 4, 2, 2, 3, 0};  // token 1 has id 4
  EXPECT_EQ(checker.first_invalid_token(out_of_range, 2, 4), 1U);
  // the same expert in different tokens is fine, after a block that failed (stamps reset)
  EXPECT_EQ(checker.first_invalid_token(valid, 2, 4), 4U);
  // 2^17 experts take the pairwise path: token 1 = (70000, 70000) repeats
  const std::vector<std::uint32_t> wide = {70000, 5, 70000, 70000};
  EXPECT_EQ(checker.first_invalid_token(wide, 2, 1U << 17), 1U);
}

TEST(TraceFormat, DecodeIdsReadsEachWidthLittleEndian) {
  // bytes 01 02 03 04 05 06 07 08: as 1-byte ids 1..8; 2-byte 0x0201, ...; 4-byte 0x04030201, ...
  std::vector<std::byte> bytes;
  for (int i = 1; i <= 8; ++i) bytes.push_back(static_cast<std::byte>(i));
  std::vector<std::uint32_t> ids(8);
  decode_ids(bytes.data(), 1, ids);
  EXPECT_EQ(ids, (std::vector<std::uint32_t>{1, 2, 3, 4, 5, 6, 7, 8}));
  ids.resize(4);
  decode_ids(bytes.data(), 2, ids);
  EXPECT_EQ(ids, (std::vector<std::uint32_t>{0x0201, 0x0403, 0x0605, 0x0807}));
  ids.resize(2);
  decode_ids(bytes.data(), 4, ids);
  EXPECT_EQ(ids, (std::vector<std::uint32_t>{0x04030201, 0x08070605}));
}

TEST(TraceFormat, HalfPrecisionConversionsRoundToNearestEven) {
  // 1.0 = sign 0, exponent 15 (0b01111), mantissa 0 -> 0x3C00; bf16 keeps float's top half 0x3F80.
  EXPECT_EQ(float_to_fp16(1.0F), 0x3C00);
  EXPECT_EQ(float_to_bf16(1.0F), 0x3F80);
  // 65504 is the largest binary16 (0x7BFF); 65520 is halfway to 2^16 and rounds up to inf 0x7C00.
  EXPECT_EQ(float_to_fp16(65504.0F), 0x7BFF);
  EXPECT_EQ(float_to_fp16(65520.0F), 0x7C00);
  // 2^-24 is the smallest subnormal (mantissa 1); 2^-25 ties to even, i.e. to 0.
  EXPECT_EQ(float_to_fp16(0x1p-24F), 0x0001);
  EXPECT_EQ(float_to_fp16(0x1p-25F), 0x0000);
  EXPECT_EQ(fp16_to_float(0x0001), 0x1p-24F);
  EXPECT_EQ(fp16_to_float(0xC000), -2.0F);  // sign 1, exponent 16: -2^1
}

TEST(TraceFormat, IdWidthIsTheSmallestThatHoldsEveryExpert) {
  // 256 experts have ids 0..255: one byte; 257 need two; 65537 need four.
  EXPECT_EQ(id_bytes_for(256), 1);
  EXPECT_EQ(id_bytes_for(257), 2);
  EXPECT_EQ(id_bytes_for(65536), 2);
  EXPECT_EQ(id_bytes_for(65537), 4);
}

TEST(TraceFormat, RoundTripKeepsEveryIdAndQuantisedScore) {
  const auto path = write_sample("roundtrip");
  EXPECT_EQ(fs::file_size(path), 316U);  // see the layout above
  TraceReader reader(path.string());
  EXPECT_EQ(reader.shape(), kShape);
  TraceBlock block;
  int blocks = 0;
  for (std::uint32_t step = 0; step < 2; ++step)
    for (std::uint32_t layer = 0; layer < 2; ++layer) {
      ASSERT_TRUE(reader.next(block));
      const auto expected = sample_block(step, layer);
      EXPECT_EQ(block.step, step);
      EXPECT_EQ(block.layer, layer);
      EXPECT_EQ(block.tokens, 3U);
      EXPECT_EQ(block.expert_ids, expected.expert_ids);
      for (std::size_t i = 0; i < expected.scores.size(); ++i)
        EXPECT_EQ(block.scores[i], quantise_score(expected.scores[i], ScoreType::Fp16));
      ++blocks;
    }
  EXPECT_FALSE(reader.next(block));
  EXPECT_EQ(blocks, 4);  // 2 steps x 2 layers
}

TEST(TraceFormat, ShapesPastTheLimitsAreNamedByField) {
  // docs/limits.md: layers <= 1024, experts <= 8192, top_k <= 256, layers x experts <= 2^18.
  EXPECT_FALSE(shape_limit_problem({1024, 256, 8, ScoreType::None}).has_value());
  const auto layers = shape_limit_problem({0xFFFFFFFFU, 8, 2, ScoreType::None});
  ASSERT_TRUE(layers.has_value());
  EXPECT_EQ(layers->field, "layers");
  EXPECT_EQ(layers->message, "expected layers <= 1024 (docs/limits.md), got 4294967295");
  // 70000 experts would need four-byte ids: the format has them, moesim's limits do not.
  EXPECT_EQ(shape_limit_problem({1, 70000, 2, ScoreType::None})->message,
            "expected experts <= 8192 (docs/limits.md), got 70000");
  EXPECT_EQ(shape_limit_problem({1, 8, 300, ScoreType::None})->field, "top_k");
  // 64 x 8192 = 524288 cells > 262144.
  EXPECT_EQ(shape_limit_problem({64, 8192, 2, ScoreType::None})->message,
            "expected layers x experts <= 262144 (docs/limits.md), got 64 x 8192 = 524288");
}

TEST(TraceFormat, SeekJumpsToAStepThroughTheIndex) {
  const auto path = write_sample("seek");
  TraceReader reader(path.string());
  EXPECT_EQ(reader.steps(), 2U);  // 4 blocks / 2 layers
  reader.seek_step(1);
  TraceBlock block;
  ASSERT_TRUE(reader.next(block));
  EXPECT_EQ(block.step, 1U);
  EXPECT_EQ(block.expert_ids, sample_block(1, 0).expert_ids);
  ASSERT_TRUE(reader.next(block));
  EXPECT_FALSE(reader.next(block));
}

TEST(TraceFormat, ShortFileReportsTheMissingHeader) {
  EXPECT_EQ(
      read_error(truncated("short", 10)),
      fmt::format("{}: byte 0: expected a trace header (32 bytes), but the file ends at byte 10",
                  format_temp_path("short").string()));
}

TEST(TraceFormat, CorruptHeaderFieldsAreNamedByOffset) {
  const auto magic = corrupt("magic", 0, std::byte{'X'});
  EXPECT_EQ(read_error(magic),
            magic.string() + ": byte 0: expected magic \"MOETRACE\", got 0x584f455452414345");
  const auto version = corrupt("version", 8, std::byte{2});
  EXPECT_EQ(read_error(version), version.string() + ": byte 8: expected version 1, got 2");
  // layers 2 -> 3 leaves the stored CRC stale.
  const auto layers = corrupt("layers", 12, std::byte{3});
  auto header = read_all(layers);
  header.resize(28);
  EXPECT_EQ(
      read_error(layers),
      fmt::format("{}: byte 28: header checksum mismatch: stored 0x{:08x}, computed 0x{:08x}",
                  layers.string(), crc32c(std::span(read_all(write_sample("clean")).data(), 28)),
                  crc32c(header)));
}

TEST(TraceFormat, FlippedPayloadByteFailsTheBlockChecksum) {
  // Block 0's payload starts at 32 + 28 = 60; its CRC is stored at 32 + 24 = 56.
  const auto path = corrupt("payload", 61, std::byte{0x03});
  const auto bytes = read_all(path);
  std::uint32_t computed = crc32c(std::span(bytes).subspan(32, 24));
  computed = crc32c(std::span(bytes).subspan(60, 18), computed);
  EXPECT_EQ(
      read_error(path),
      fmt::format(
          "{}: byte 56: checksum mismatch in step 0 layer 0: stored 0x{:08x}, computed 0x{:08x}",
          path.string(), load_le(&bytes[56], 4), computed));
}

TEST(TraceFormat, NothingIsReplayedFromACorruptBlock) {
  // Block 1 (step 0 layer 1) sits at 78; its payload at 106 is flipped.
  const auto path = corrupt("second", 107, std::byte{0x7F});
  TraceReader reader(path.string());
  TraceBlock block;
  ASSERT_TRUE(reader.next(block));
  EXPECT_THROW(reader.next(block), TraceError);
  EXPECT_EQ(block.layer, 0U);  // still the last good block
}

TEST(TraceFormat, TruncationInsideABlockNamesWhatIsMissing) {
  const auto cut_header = truncated("cut-header", 100);
  EXPECT_EQ(read_error(cut_header),
            cut_header.string() +
                ": byte 78: expected a block header (28 bytes), but the file ends at byte 100");
  // block 1's header ends at 78 + 28 = 106; its 18-byte payload is cut at 110
  const auto cut_payload = truncated("cut-payload", 110);
  EXPECT_EQ(read_error(cut_payload),
            cut_payload.string() +
                ": byte 106: expected the block payload (18 bytes), but the file ends at "
                "byte 110");
  // a writer that never finished leaves no index after the last block (ends at 216)
  const auto no_index = truncated("no-index", 216);
  EXPECT_EQ(read_error(no_index),
            no_index.string() +
                ": byte 216: expected block magic \"TBLK\" or index magic \"TIDX\" (4 bytes), "
                "but the file ends at byte 216");
}

TEST(TraceFormat, BlockHeaderFieldsAreChecked) {
  // block 1's layer field at 78 + 8 = 86 set to 0: a repeated layer
  const auto order = corrupt("order", 86, std::byte{0});
  EXPECT_EQ(read_error(order),
            order.string() + ": byte 82: expected step 0 layer 1, got step 0 layer 0");
  // block 0's payload size at 32 + 16 = 48: 3 tokens x 2 x 3 bytes = 18, set to 19
  const auto size = corrupt("size", 48, std::byte{19});
  EXPECT_EQ(read_error(size),
            size.string() + ": byte 48: expected payload size 3 x top_k 2 x 3 bytes, got 19");
  // a huge token count with a matching size is refused against the limit (docs/limits.md: 2^26
  // choices per block) before allocating; the tokens field of block 0 is at 32 + 12 = 44
  auto bytes = read_all(write_sample("huge"));
  store_le(&bytes[44], 0xFFFFFFFFU, 4);
  store_le(&bytes[48], 0xFFFFFFFFULL * 6, 8);  // 2 choices x 3 bytes per token
  write_all(format_temp_path("huge"), bytes);
  EXPECT_EQ(
      read_error(format_temp_path("huge")),
      format_temp_path("huge").string() +
          ": byte 44: expected tokens x top_k <= 67108864 (docs/limits.md), got 4294967295 x 2");
  // within the limit (2^20 tokens x 2), a size past the end of the file is refused against it
  store_le(&bytes[44], 1U << 20, 4);
  store_le(&bytes[48], (1ULL << 20) * 6, 8);
  write_all(format_temp_path("huge"), bytes);
  EXPECT_EQ(
      read_error(format_temp_path("huge")),
      format_temp_path("huge").string() +
          ": byte 60: expected the block payload (6291456 bytes), but the file ends at byte 316");
}

TEST(TraceFormat, InvalidExpertIdsBehindAGoodChecksumAreRefused) {
  // token 1's ids sit at 60 + 1 x 2 = 62 and 63
  auto bytes = read_all(write_sample("range"));
  bytes[62] = std::byte{9};
  refresh_block0_crc(bytes);
  write_all(format_temp_path("range"), bytes);
  EXPECT_EQ(read_error(format_temp_path("range")),
            format_temp_path("range").string() +
                ": byte 62: step 0 layer 0 token 1: expert id 9 >= experts 4");
  bytes[62] = bytes[63];
  refresh_block0_crc(bytes);
  write_all(format_temp_path("range"), bytes);
  EXPECT_EQ(
      read_error(format_temp_path("range")),
      fmt::format("{}: byte 62: step 0 layer 0 token 1: expert {} chosen twice (top-k is without "
                  "replacement)",
                  format_temp_path("range").string(), std::to_integer<int>(bytes[63])));
}

TEST(TraceFormat, CorruptIndexAndFooterAreRefused) {
  // the index count at 216 + 8 = 224 says 5 blocks, 4 were read
  const auto count = corrupt("count", 224, std::byte{5});
  EXPECT_EQ(read_error(count), count.string() + ": byte 224: expected an index of 4 blocks, got 5");
  // an entry's offset (216 + 16 + 8 = 240) flipped: the index checksum at 216 + 16 + 64 = 296 fails
  const auto entry = corrupt("entry", 240, std::byte{0x21});
  EXPECT_NE(read_error(entry).find(entry.string() + ": byte 296: index checksum mismatch"),
            std::string::npos);
  // footer magic at 300 + 12 = 312
  const auto magic = corrupt("footer", 312, std::byte{'X'});
  EXPECT_EQ(read_error(magic),
            magic.string() + ": byte 312: expected footer magic \"TEND\", got 0x58454e44");
  // trailing garbage after the footer
  auto bytes = read_all(write_sample("trailing"));
  bytes.push_back(std::byte{0});
  write_all(format_temp_path("trailing"), bytes);
  EXPECT_EQ(read_error(format_temp_path("trailing")),
            format_temp_path("trailing").string() +
                ": byte 316: expected the end of the file, got 1 more bytes");
}

TEST(TraceFormat, WriterRefusesOutOfOrderAndInvalidBlocks) {
  TraceWriter writer(format_temp_path("writer").string(), kShape);
  EXPECT_THROW(writer.write_block(sample_block(0, 1)),
               std::invalid_argument);  // layer 0 comes first
  auto block = sample_block(0, 0);
  block.expert_ids[1] = block.expert_ids[0];
  EXPECT_THROW(writer.write_block(block), std::invalid_argument);
  writer.write_block(sample_block(0, 0));
  EXPECT_THROW(writer.finish(), std::invalid_argument);  // step 0 lacks layer 1
}

}  // namespace
}  // namespace moesim::sim
