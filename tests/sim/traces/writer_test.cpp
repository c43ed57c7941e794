#include "sim/traces/writer.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

#include "sim/traces/reader.hpp"
#include "tests/sim/traces/trace_test_files.hpp"

namespace moesim::sim {
namespace {

namespace fs = std::filesystem;

fs::path writer_temp_path(const std::string& name) {
  return test::temp_trace_path("trace-writer", name);
}

// One layer, 4 experts (1-byte ids), top-1, no scores: a choice is 1 byte, a block of 2 tokens is
// 28 + 2 = 30 bytes.
constexpr TraceShape kTinyWriterShape{1, 4, 1, ScoreType::None};
// Two layers, 300 experts (2-byte ids), top-2, bf16 scores: a choice is 2 + 2 = 4 bytes.
constexpr TraceShape kWide{2, 300, 2, ScoreType::Bf16};

TraceBlock wide_block(std::uint32_t step, std::uint32_t layer) {
  // Two tokens; ids spread over the 2-byte range.
  return {step, layer, 2, {299, step, 256 + layer, 1}, {0.1F, 0.9F, 0.5F, 0.25F}};
}

TEST(TraceWriter, HeaderHoldsTheShapeAtItsDocumentedOffsets) {
  const auto header = encode_trace_header(kWide);
  ASSERT_EQ(header.size(), kTraceHeaderBytes);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(header.data()), 8), "MOETRACE");
  EXPECT_EQ(load_le(&header[8], 2), 1u);     // version
  EXPECT_EQ(load_le(&header[10], 1), 2u);    // 300 experts need 2-byte ids
  EXPECT_EQ(load_le(&header[11], 1), 2u);    // ScoreType::Bf16
  EXPECT_EQ(load_le(&header[12], 4), 2u);    // layers
  EXPECT_EQ(load_le(&header[16], 4), 300u);  // experts
  EXPECT_EQ(load_le(&header[20], 4), 2u);    // top_k
  EXPECT_EQ(load_le(&header[24], 4), 0u);    // reserved
  EXPECT_EQ(load_le(&header[28], 4), crc32c(std::span(header).first(28)));
}

TEST(TraceWriter, FileSizeFollowsTheLayout) {
  const auto path = writer_temp_path("layout");
  TraceWriter writer(path.string(), kTinyWriterShape);
  EXPECT_EQ(writer.shape(), kTinyWriterShape);
  writer.write_block({0, 0, 2, {3, 0}, {}});
  writer.write_block({1, 0, 2, {1, 2}, {}});
  EXPECT_EQ(writer.blocks_written(), 2u);
  writer.finish();
  // header 32 + 2 blocks x 30 + index (16 + 2 x 16 + 4 CRC = 52) + footer 16 = 160.
  EXPECT_EQ(fs::file_size(path), 160u);
}

TEST(TraceWriter, RoundTripThroughTheReaderKeepsIdsAndQuantisedScores) {
  const auto path = writer_temp_path("roundtrip");
  {
    TraceWriter writer(path.string(), kWide);
    for (std::uint32_t step = 0; step < 3; ++step)
      for (std::uint32_t layer = 0; layer < 2; ++layer) writer.write_block(wide_block(step, layer));
    writer.finish();
  }
  TraceReader reader(path.string());
  EXPECT_EQ(reader.shape(), kWide);
  TraceBlock block;
  for (std::uint32_t step = 0; step < 3; ++step)
    for (std::uint32_t layer = 0; layer < 2; ++layer) {
      ASSERT_TRUE(reader.next(block));
      const TraceBlock expected = wide_block(step, layer);
      EXPECT_EQ(block.step, step);
      EXPECT_EQ(block.layer, layer);
      EXPECT_EQ(block.tokens, 2u);
      EXPECT_EQ(block.expert_ids, expected.expert_ids);
      ASSERT_EQ(block.scores.size(), 4u);
      // bf16 keeps 7 fraction bits: 0.1 = 1.6 x 2^-4 and 1.6 x 128 = 204.8 rounds to 205, so 0.1
      // comes back as 205 / 128 / 16 = 0.10009765625. 0.5 and 0.25 are exact.
      EXPECT_EQ(block.scores[0], 0.10009765625F);
      EXPECT_EQ(block.scores[2], 0.5F);
      EXPECT_EQ(block.scores[3], 0.25F);
    }
  EXPECT_FALSE(reader.next(block));
  EXPECT_EQ(reader.steps(), 3u);  // 6 blocks / 2 layers
}

TEST(TraceWriter, ShapeOutsideItsRangeIsRefused) {
  // top_k 5 of 4 experts; no layers; no experts.
  EXPECT_THROW(TraceWriter(writer_temp_path("shape").string(), {1, 4, 5, ScoreType::None}),
               std::invalid_argument);
  EXPECT_THROW(TraceWriter(writer_temp_path("shape").string(), {0, 4, 1, ScoreType::None}),
               std::invalid_argument);
  EXPECT_THROW(TraceWriter(writer_temp_path("shape").string(), {1, 0, 1, ScoreType::None}),
               std::invalid_argument);
}

TEST(TraceWriter, RefusedShapeLeavesNoFileBehind) {
  // top_k 5 of 4 experts is refused before the output is opened, so nothing is created.
  const auto path = writer_temp_path("refused-shape");
  fs::remove(path);
  EXPECT_THROW(TraceWriter(path.string(), {1, 4, 5, ScoreType::None}), std::invalid_argument);
  EXPECT_FALSE(fs::exists(path));
}

TEST(TraceWriter, UncreatableFileIsARuntimeErrorNamingIt) {
  const std::string path = (writer_temp_path("no-such-dir") / "trace.bin").string();
  try {
    TraceWriter writer(path, kTinyWriterShape);
    FAIL() << "expected std::runtime_error";
  } catch (const std::runtime_error& error) {
    EXPECT_EQ(std::string(error.what()), "cannot create " + path);
  }
}

TEST(TraceWriter, CountsThatDisagreeWithTheShapeAreRefused) {
  TraceWriter writer(writer_temp_path("counts").string(), kWide);
  // 2 tokens x top_k 2 = 4 ids, 3 given.
  try {
    writer.write_block({0, 0, 2, {1, 2, 3}, {0.1F, 0.2F, 0.3F, 0.4F}});
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& error) {
    EXPECT_STREQ(error.what(), "block has 3 expert ids, expected tokens 2 x top_k 2");
  }
  // A bf16 trace needs one score per choice.
  try {
    writer.write_block({0, 0, 2, {1, 2, 3, 4}, {}});
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& error) {
    EXPECT_STREQ(error.what(), "block has 0 scores, expected 4");
  }
  // Ids run 0..299.
  try {
    writer.write_block({0, 0, 2, {1, 2, 300, 4}, {0.1F, 0.2F, 0.3F, 0.4F}});
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& error) {
    EXPECT_STREQ(error.what(), "step 0 layer 0 token 1: expert id 300 >= experts 300");
  }
  // Nothing refused was written.
  EXPECT_EQ(writer.blocks_written(), 0u);
}

TEST(TraceWriter, NoBlockMayFollowFinishAndFinishingTwiceIsHarmless) {
  const auto path = writer_temp_path("finished");
  TraceWriter writer(path.string(), kTinyWriterShape);
  writer.write_block({0, 0, 2, {3, 0}, {}});
  writer.finish();
  const auto size = fs::file_size(path);
  EXPECT_THROW(writer.write_block({1, 0, 2, {1, 2}, {}}), std::logic_error);
  EXPECT_NO_THROW(writer.finish());
  EXPECT_EQ(fs::file_size(path), size);
}

TEST(TraceWriter, EmptyTraceIsValid) {
  const auto path = writer_temp_path("empty");
  TraceWriter(path.string(), kTinyWriterShape).finish();
  // header 32 + index (16 + 0 entries + 4) + footer 16 = 68.
  EXPECT_EQ(fs::file_size(path), 68u);
  TraceReader reader(path.string());
  TraceBlock block;
  EXPECT_FALSE(reader.next(block));
  EXPECT_EQ(reader.steps(), 0u);
}

TEST(TraceWriter, WithoutFinishThePathKeepsWhatItHeldAndNoTemporaryIsLeft) {
  // Issue 16: a failed command left a truncated trace that looked complete. The blocks go to a
  // temporary file that only finish() renames over the path.
  const auto path = writer_temp_path("unfinished");
  std::ofstream(path, std::ios::binary) << "previous contents";
  {
    TraceWriter writer(path.string(), kTinyWriterShape);
    writer.write_block({0, 0, 2, {3, 0}, {}});
    writer.write_block({1, 0, 2, {1, 2}, {}});
  }
  std::ifstream in(path, std::ios::binary);
  const std::string contents((std::istreambuf_iterator<char>(in)),
                             std::istreambuf_iterator<char>());
  EXPECT_EQ(contents, "previous contents");
  EXPECT_FALSE(fs::exists(path.string() + ".tmp" + std::to_string(::getpid())));
}

TEST(TraceWriter, FinishReplacesThePathWhole) {
  const auto path = writer_temp_path("replaced");
  std::ofstream(path, std::ios::binary) << "previous contents";
  TraceWriter writer(path.string(), kTinyWriterShape);
  writer.write_block({0, 0, 2, {3, 0}, {}});
  // Until finish() the old file is untouched: 17 bytes of "previous contents".
  EXPECT_EQ(fs::file_size(path), 17u);
  writer.finish();
  // header 32 + one 30-byte block + index (16 + 16 + 4) + footer 16 = 114.
  EXPECT_EQ(fs::file_size(path), 114u);
  EXPECT_FALSE(fs::exists(path.string() + ".tmp" + std::to_string(::getpid())));
}

}  // namespace
}  // namespace moesim::sim
