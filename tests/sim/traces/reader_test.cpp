#include "sim/traces/reader.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "sim/traces/writer.hpp"
#include "tests/sim/traces/trace_test_files.hpp"

namespace moesim::sim {
namespace {

namespace fs = std::filesystem;

fs::path reader_temp_path(const std::string& name) {
  return test::temp_trace_path("trace-reader", name);
}

using test::read_all;
using test::write_all;

// One layer, 4 experts (1-byte ids), top-1, no scores. Each block holds 2 tokens: 28 + 2 = 30
// bytes. Three steps put blocks at 32, 62 and 92, the index at 122 (16 + 3 x 16 + 4 = 68 bytes)
// and the footer at 190; 206 bytes in all.
constexpr TraceShape kTinyReaderShape{1, 4, 1, ScoreType::None};

TraceBlock tiny_block(std::uint32_t step) { return {step, 0, 2, {step % 4, (step + 1) % 4}, {}}; }

fs::path write_tiny(const std::string& name, std::uint32_t steps = 3) {
  const auto path = reader_temp_path(name);
  TraceWriter writer(path.string(), kTinyReaderShape);
  for (std::uint32_t step = 0; step < steps; ++step) writer.write_block(tiny_block(step));
  writer.finish();
  return path;
}

TEST(TraceReader, HeaderPastTheLayerLimitIsRefusedBeforeAnythingIsSized) {
  // Issue 16: an empty trace (68 bytes, valid CRCs) whose header declares 2^32 - 1 layers passed
  // validate, then `trace stats` allocated per-layer tables and died of std::bad_alloc.
  const auto path = write_tiny("huge-layers", 0);
  auto bytes = read_all(path);
  const auto header = encode_trace_header({0xFFFFFFFFU, 4, 1, ScoreType::None});
  std::copy(header.begin(), header.end(), bytes.begin());
  write_all(path, bytes);
  try {
    TraceReader reader(path.string());
    FAIL() << "expected a TraceError";
  } catch (const TraceError& error) {
    EXPECT_EQ(
        std::string(error.what()),
        path.string() + ": byte 12: expected layers <= 1024 (docs/limits.md), got 4294967295");
  }
}

TEST(TraceReader, MissingFileIsAConfigErrorNotATraceError) {
  const auto path = reader_temp_path("absent");
  try {
    TraceReader reader(path.string());
    FAIL() << "expected a ConfigError";
  } catch (const TraceError&) {
    FAIL() << "a file that cannot be opened has no byte offset to name";
  } catch (const ConfigError& error) {
    EXPECT_EQ(std::string(error.what()), path.string() + ": /: cannot open the file");
  }
}

TEST(TraceReader, ShapeAndPathAreKnownAfterOpening) {
  const auto path = write_tiny("shape");
  EXPECT_EQ(fs::file_size(path), 206u);  // see the layout above
  TraceReader reader(path.string());
  EXPECT_EQ(reader.shape(), kTinyReaderShape);
  EXPECT_EQ(reader.path(), path.string());
}

TEST(TraceReader, BytesInMemoryReadAsTheFileDoes) {
  // The fuzz targets' overload: the tiny trace's 206 bytes give the same shape, steps and blocks.
  const auto bytes = read_all(write_tiny("memory"));
  TraceReader reader("in-memory.mtrace",
                     std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
  EXPECT_EQ(reader.shape(), kTinyReaderShape);
  EXPECT_EQ(reader.steps(), 3u);
  TraceBlock block;
  for (std::uint32_t step = 0; step < 3; ++step) {
    ASSERT_TRUE(reader.next(block));
    EXPECT_EQ(block.expert_ids, tiny_block(step).expert_ids);
  }
  EXPECT_FALSE(reader.next(block));
}

TEST(TraceReader, BytesInMemoryNameTheirSourceAndOffset) {
  // The first 31 of the 206 bytes: the header (32 bytes) itself is cut, found at byte 0.
  const auto bytes = read_all(write_tiny("memory-cut"));
  try {
    TraceReader reader("cut.mtrace", std::string(reinterpret_cast<const char*>(bytes.data()), 31));
    FAIL() << "expected a TraceError";
  } catch (const TraceError& error) {
    EXPECT_EQ(std::string(error.what()),
              "cut.mtrace: byte 0: expected a trace header (32 bytes), but the file ends at byte "
              "31");
  }
}

TEST(TraceReader, StepsComeFromTheIndexWithoutReadingBlocks) {
  TraceReader reader(write_tiny("steps").string());
  // 3 blocks / 1 layer.
  EXPECT_EQ(reader.steps(), 3u);
  // Asking does not move the sequential cursor: the first block is still step 0.
  TraceBlock block;
  ASSERT_TRUE(reader.next(block));
  EXPECT_EQ(block.step, 0u);
}

TEST(TraceReader, SeekBackwardsReplaysAnEarlierStep) {
  TraceReader reader(write_tiny("rewind").string());
  TraceBlock block;
  while (reader.next(block)) {
  }
  EXPECT_EQ(block.step, 2u);  // the last block read
  reader.seek_step(0);
  for (std::uint32_t step = 0; step < 3; ++step) {
    ASSERT_TRUE(reader.next(block));
    EXPECT_EQ(block.step, step);
    EXPECT_EQ(block.expert_ids, tiny_block(step).expert_ids);
  }
  EXPECT_FALSE(reader.next(block));
}

TEST(TraceReader, SeekPastTheLastStepIsOutOfRange) {
  const auto path = write_tiny("past");
  TraceReader reader(path.string());
  try {
    reader.seek_step(3);  // steps are 0, 1, 2
    FAIL() << "expected std::out_of_range";
  } catch (const std::out_of_range& error) {
    EXPECT_EQ(std::string(error.what()).rfind(path.string() + ": step 3 is past the last step", 0),
              0u)
        << error.what();
  }
  EXPECT_NO_THROW(reader.seek_step(2));
}

// A 3-step trace holds steps 0, 1 and 2: step 3 is past the last step, 2.
TEST(TraceReader, SeekPastTheEndNamesTheRealLastStep) {
  const auto path = write_tiny("past-message");
  TraceReader reader(path.string());
  try {
    reader.seek_step(3);
    FAIL() << "expected std::out_of_range";
  } catch (const std::out_of_range& error) {
    EXPECT_EQ(std::string(error.what()), path.string() + ": step 3 is past the last step 2");
  }
}

TEST(TraceReader, SeekInATraceWithNoStepsSaysItHasNone) {
  // No blocks, so no last step to name (steps() - 1 would wrap around to 2^64 - 1).
  const auto path = write_tiny("no-steps", 0);
  TraceReader reader(path.string());
  EXPECT_EQ(reader.steps(), 0u);
  try {
    reader.seek_step(0);
    FAIL() << "expected std::out_of_range";
  } catch (const std::out_of_range& error) {
    EXPECT_EQ(std::string(error.what()),
              path.string() + ": step 0 is past the end of a trace with no steps");
  }
}

TEST(TraceReader, ZeroTokenBlockRoundTrips) {
  const auto path = reader_temp_path("zero");
  {
    TraceWriter writer(path.string(), kTinyReaderShape);
    writer.write_block({0, 0, 0, {}, {}});
    writer.finish();
  }
  TraceReader reader(path.string());
  TraceBlock block{9, 9, 9, {1}, {}};
  ASSERT_TRUE(reader.next(block));
  EXPECT_EQ(block.step, 0u);
  EXPECT_EQ(block.tokens, 0u);
  EXPECT_TRUE(block.expert_ids.empty());
  EXPECT_FALSE(reader.next(block));
}

TEST(TraceReader, NonFiniteScoreBehindAGoodChecksumIsNamedAtItsByte) {
  // One layer, 300 experts (2-byte ids), top-2, bf16: one block of 2 tokens at 32, header to 60,
  // ids 4 x 2 = 8 bytes at 60..67, scores 4 x 2 bytes at 68..75. Token 1's second score is at
  // 68 + 3 x 2 = 74.
  const auto path = reader_temp_path("nan");
  {
    TraceWriter writer(path.string(), {1, 300, 2, ScoreType::Bf16});
    writer.write_block({0, 0, 2, {0, 1, 2, 3}, {0.5F, 0.5F, 0.5F, 0.5F}});
    writer.finish();
  }
  auto bytes = read_all(path);
  store_le(&bytes[74], 0x7FC0, 2);  // a bf16 quiet NaN
  // Re-sign the block (header bytes 32..55, payload 60..75) so only the score check can object.
  std::uint32_t crc = crc32c(std::span(bytes).subspan(32, 24));
  crc = crc32c(std::span(bytes).subspan(60, 16), crc);
  store_le(&bytes[56], crc, 4);
  write_all(path, bytes);
  TraceReader reader(path.string());
  TraceBlock block;
  try {
    reader.next(block);
    FAIL() << "expected a TraceError";
  } catch (const TraceError& error) {
    EXPECT_EQ(error.offset(), 74u);
    EXPECT_EQ(
        std::string(error.what()),
        path.string() + ": byte 74: step 0 layer 0 token 1: expected a finite gate score, got nan");
  }
}

TEST(TraceReader, CorruptFooterIsFoundWhenTheIndexIsLoaded) {
  // The footer's magic "TEND" sits at 190 + 12 = 202; steps() reads the footer first.
  const auto path = write_tiny("footer");
  auto bytes = read_all(path);
  bytes[202] = std::byte{'X'};
  write_all(path, bytes);
  TraceReader reader(path.string());
  try {
    reader.steps();
    FAIL() << "expected a TraceError";
  } catch (const TraceError& error) {
    EXPECT_EQ(error.offset(), 202u);
    // "XEND" = 0x58 0x45 0x4e 0x44.
    EXPECT_EQ(std::string(error.what()),
              path.string() + ": byte 202: expected footer magic \"TEND\", got 0x58454e44");
  }
}

TEST(TraceReader, FileTooShortForAnIndexIsRefusedBeforeSeeking) {
  // A one-step trace cut after its 30-byte block leaves 62 bytes; header 32 + index header 16 +
  // CRC 4 + footer 16 = 68 is the least a finished trace holds. (The writer itself never leaves
  // such a file: it renames only finished traces into place.)
  const auto path = write_tiny("no-index", 1);
  auto bytes = read_all(path);
  bytes.resize(62);
  write_all(path, bytes);
  TraceReader reader(path.string());
  try {
    reader.seek_step(0);
    FAIL() << "expected a TraceError";
  } catch (const TraceError& error) {
    EXPECT_EQ(
        std::string(error.what()),
        path.string() +
            ": byte 62: expected an index and footer after the header (68 bytes at least), but "
            "the file ends at byte 62");
  }
}

TEST(TraceReader, IndexEntryPointingAtTheWrongBlockIsNamed) {
  // Index entries start at 122 + 16 = 138; entry 1's offset field is at 138 + 16 + 8 = 162 and
  // holds 62. Pointing it at 92 (entry 2's block) breaks the rising order; the index CRC at
  // 122 + 16 + 48 = 186 is recomputed so the entry check itself must object.
  const auto path = write_tiny("entry");
  auto bytes = read_all(path);
  ASSERT_EQ(load_le(&bytes[162], 8), 62u);
  store_le(&bytes[162], 92, 8);
  store_le(&bytes[186], crc32c(std::span(bytes).subspan(122, 64)), 4);
  write_all(path, bytes);
  TraceReader reader(path.string());
  try {
    reader.steps();
    FAIL() << "expected a TraceError";
  } catch (const TraceError& error) {
    // Entry 2 now holds 92 again after entry 1's 92: not rising, named at entry 2 (138 + 32 = 170).
    EXPECT_EQ(error.offset(), 170u);
    EXPECT_EQ(
        std::string(error.what()),
        path.string() +
            ": byte 170: expected index entry 2 for step 2 layer 0 at a rising offset below 122");
  }
}

}  // namespace
}  // namespace moesim::sim
