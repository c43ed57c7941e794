#include "sim/traces/import.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "base/strict_json.hpp"

namespace moesim::sim {
namespace {

namespace fs = std::filesystem;

fs::path temp_dir() {
  const auto dir =
      fs::temp_directory_path() / ("moesim-trace-import-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  return dir;
}

// An .npy v1.0 image: 10-byte preamble + header padded with spaces to a multiple of 64, + data.
std::string import_npy_image(const std::string& descr, const std::string& shape,
                             const std::string& data) {
  std::string header =
      "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::string image = "\x93NUMPY";
  image += '\x01';
  image += '\x00';
  image += static_cast<char>(header.size() & 0xFF);
  image += static_cast<char>(header.size() >> 8);
  return image + header + data;
}

std::string int64s(std::initializer_list<std::int64_t> values) {
  std::string bytes;
  for (auto v : values)
    for (int i = 0; i < 8; ++i)
      bytes += static_cast<char>((static_cast<std::uint64_t>(v) >> (8 * i)) & 0xFF);
  return bytes;
}

fs::path write_file(const std::string& name, const std::string& contents) {
  const auto path = temp_dir() / name;
  std::ofstream(path, std::ios::binary) << contents;
  return path;
}

std::string import_error_of(const fs::path& path, ImportOptions options = {}) {
  try {
    auto source = open_routing(path.string(), options);
    TraceBlock block;
    while (source->next(block)) {
    }
  } catch (const ConfigError& error) {
    return error.what();
  }
  return "";
}

TEST(NpyImport, Int64TokensByTopKBecomeOneBlock) {
  const auto path =
      write_file("ids.npy", import_npy_image("<i8", "(3, 2)", int64s({0, 3, 2, 1, 3, 0})));
  auto source = open_routing(path.string(), {.experts = 4});
  EXPECT_EQ(source->shape(), (TraceShape{1, 4, 2, ScoreType::None}));
  TraceBlock block;
  ASSERT_TRUE(source->next(block));
  EXPECT_EQ(block.tokens, 3U);
  EXPECT_EQ(block.expert_ids, (std::vector<std::uint32_t>{0, 3, 2, 1, 3, 0}));
  EXPECT_FALSE(source->next(block));
}

TEST(NpyImport, ExpertCountDefaultsToTheLargestIdPlusOne) {
  // ids up to 6 -> 7 experts; int32 little-endian
  const std::string data("\x06\0\0\0\x01\0\0\0", 8);
  const auto path = write_file("ids32.npy", import_npy_image("<i4", "(1, 2)", data));
  EXPECT_EQ(open_routing(path.string())->shape().experts, 7U);
}

TEST(NpyImport, MalformedFilesNameTheByteAndTheExpectation) {
  // The dict "{'descr': '<i8', 'fortran_order': False, 'shape': (2, 2), }" is 59 characters; with
  // the 10-byte preamble and a newline that is 70, padded to 128: data starts at byte 128, element
  // i at 128 + 8i. Element 3 (token 1, choice 1) is at 152; element 2 (token 1's first) at 144.
  const auto range =
      write_file("range.npy", import_npy_image("<i8", "(2, 2)", int64s({0, 1, 2, 9})));
  EXPECT_EQ(
      import_error_of(range, {.experts = 4}),
      range.string() + ": byte 152: token 1 choice 1: expected an expert id in [0, 4), got 9");
  const auto twice =
      write_file("twice.npy", import_npy_image("<i8", "(2, 2)", int64s({0, 1, 2, 2})));
  EXPECT_EQ(
      import_error_of(twice, {.experts = 4}),
      twice.string() + ": byte 144: token 1: expert 2 chosen twice (top-k is without replacement)");
  // 2 x 2 int64 = 32 bytes expected, 3 x 8 = 24 present: the file ends at 128 + 24 = 152
  const auto short_data =
      write_file("short.npy", import_npy_image("<i8", "(2, 2)", int64s({0, 1, 2})));
  EXPECT_EQ(import_error_of(short_data, {.experts = 4}),
            short_data.string() +
                ": byte 128: expected 32 bytes of array data, but the file ends at byte 152");
  const auto big_endian = write_file("big.npy", import_npy_image(">i8", "(1, 1)", int64s({0})));
  EXPECT_EQ(
      import_error_of(big_endian),
      big_endian.string() +
          ": byte 10: expected a little-endian integer dtype (<i4, <i8, <u2, |u1 ...), got '>i8'");
  const auto floats = write_file("float.npy", import_npy_image("<f4", "(1, 1)", "abcd"));
  EXPECT_NE(import_error_of(floats).find("got '<f4'"), std::string::npos);
  std::string bad_shape = import_npy_image("<i8", "(2, x)", int64s({0, 1}));
  const auto shape = write_file("shape.npy", bad_shape);
  // "{'descr': '<i8', 'fortran_order': False, 'shape': (2, " is 54 characters, so 'x' is at 10 + 54
  EXPECT_EQ(import_error_of(shape),
            shape.string() +
                ": byte 64: expected a non-negative integer dimension in the shape, got 'x'");
}

TEST(NpyImport, ManifestAssemblesOneFilePerLayerAndRank) {
  write_file("l0.npy", import_npy_image("<i8", "(2, 1)", int64s({0, 1})));
  write_file("l1r0.npy", import_npy_image("<i8", "(1, 1)", int64s({2})));
  write_file("l1r1.npy", import_npy_image("<i8", "(1, 1)", int64s({3})));
  const auto manifest = write_file(
      "manifest.json", R"({"experts": 4, "files": [["l0.npy", ["l1r0.npy", "l1r1.npy"]]]})");
  auto source = open_routing(manifest.string());
  EXPECT_EQ(source->shape(), (TraceShape{2, 4, 1, ScoreType::None}));
  TraceBlock block;
  ASSERT_TRUE(source->next(block));
  EXPECT_EQ(block.expert_ids, (std::vector<std::uint32_t>{0, 1}));
  ASSERT_TRUE(source->next(block));
  EXPECT_EQ(block.layer, 1U);
  EXPECT_EQ(block.expert_ids,
            (std::vector<std::uint32_t>{2, 3}));  // rank 0's tokens, then rank 1's
  EXPECT_FALSE(source->next(block));
}

TEST(NpyImport, ADirectoryNamedAsAnArrayIsAConfigError) {
  // Found by manifest_npy_fuzz: "" resolves to the manifest's own directory, which opens as a
  // stream and then threw std::ios_failure from inside the read.
  const auto manifest = write_file("dir-manifest.json", R"({"experts": 4, "files": [[""]]})");
  try {
    open_routing(manifest.string());
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& error) {
    EXPECT_NE(std::string(error.what()).find("is a directory; expected a file"), std::string::npos)
        << error.what();
  }
}

TEST(NpyImport, AnExpertIdPastTheLimitIsRefusedBeforeAnythingIsSizedByIt) {
  // Issue 16: id 2^31 - 1 passed the range check, then 2^31 experts were allocated.
  const auto path =
      write_file("huge-id.npy", import_npy_image("<i8", "(1, 2)", int64s({0, 2147483647})));
  // element 1 sits at data offset 128 (10 + 118-byte header) + 8.
  EXPECT_EQ(import_error_of(path),
            path.string() +
                ": byte 136: expected an expert id in [0, 8192) (docs/limits.md), got 2147483647");
}

TEST(CsvImport, AnExpertIdPastTheLimitIsRefused) {
  const auto csv =
      write_file("huge-id.csv", "step,layer,token,expert_0,expert_1\n0,0,0,1,2147483647\n");
  EXPECT_EQ(
      import_error_of(csv),
      csv.string() + ": line 2 column 5: expected an integer in [0, 8191], got \"2147483647\"");
}

TEST(NpyImport, AFlatFilesListIsAConfigErrorWithItsPath) {
  // Issue 16: "files" as a flat list crashed (front() on an empty step table) instead of saying
  // that files is [step][layer]. Every step is reported, each with what it holds.
  const auto manifest =
      write_file("flat-manifest.json", R"({"experts": 4, "files": ["a.npy", "b.npy"]})");
  EXPECT_EQ(import_error_of(manifest),
            manifest.string() +
                ": /files/0: expected an array with one entry per layer (files "
                "is [step][layer]), got \"a.npy\"\n" +
                manifest.string() +
                ": /files/1: expected an array with one entry per layer (files "
                "is [step][layer]), got \"b.npy\"");
}

TEST(NpyImport, AStepWithAnotherLayerCountThanStepZeroIsNamed) {
  // Step 0 holds 2 layers, step 1 holds 1: step 1 is the one reported.
  const auto manifest = write_file("ragged-manifest.json",
                                   R"({"experts": 4, "files": [["a.npy", "b.npy"], ["c.npy"]]})");
  EXPECT_EQ(import_error_of(manifest),
            manifest.string() +
                ": /files/1: expected an array with one entry per layer (2, as in step 0) "
                "(files is [step][layer]), got an array");
}

TEST(NpyImport, ManifestTakesTopKFromTheArrayShapeEvenWithoutTokens) {
  // layer 0 is [0, 2] (no tokens, top-2 by its shape); layer 1 is [1, 2]: the trace is top-2.
  write_file("none.npy", import_npy_image("<i8", "(0, 2)", ""));
  write_file("one.npy", import_npy_image("<i8", "(1, 2)", int64s({0, 3})));
  write_file("wide.npy", import_npy_image("<i8", "(0, 3)", ""));
  const auto manifest =
      write_file("empty-first.json", R"({"experts": 4, "files": [["none.npy", "one.npy"]]})");
  auto source = open_routing(manifest.string());
  EXPECT_EQ(source->shape(), (TraceShape{2, 4, 2, ScoreType::None}));
  TraceBlock block;
  ASSERT_TRUE(source->next(block));
  ASSERT_TRUE(source->next(block));
  EXPECT_EQ(block.expert_ids, (std::vector<std::uint32_t>{0, 3}));
  // an empty [0, 3] file after top-2 ones is still a different top_k
  const auto wide =
      write_file("wide-second.json", R"({"experts": 4, "files": [["one.npy", "wide.npy"]]})");
  EXPECT_EQ(import_error_of(wide),
            (temp_dir() / "wide.npy").string() +
                ": byte 0: expected top_k 2 like the manifest's first file, got 3");
}

TEST(NpyImport, PatternManifestNamesItsFilesOnDemand) {
  // 256 steps x 1024 layers = 2^18 file names, the limit: made one block at a time, never all held
  write_file("p.npy", import_npy_image("<i8", "(1, 2)", int64s({1, 2})));
  const auto manifest =
      write_file("big.json", R"({"experts": 4, "pattern": "p.npy", "steps": 256, "layers": 1024})");
  auto source = open_routing(manifest.string());
  EXPECT_EQ(source->shape(), (TraceShape{1024, 4, 2, ScoreType::None}));
  TraceBlock block;
  ASSERT_TRUE(source->next(block));
  EXPECT_EQ(block.expert_ids, (std::vector<std::uint32_t>{1, 2}));
  // Session 12: 2^24 steps x 1024 layers named 1.7e10 reads of one file, days of work.
  const auto huge = write_file(
      "huge.json", R"({"experts": 4, "pattern": "p.npy", "steps": 16777216, "layers": 1024})");
  EXPECT_EQ(import_error_of(huge), huge.string() +
                                       ": /steps: expected steps x layers x ranks <= 262144 files "
                                       "(docs/limits.md), got 16777216 x 1024 x 1");
}

TEST(CountImport, TokensFromCountsReproduceTheCountsExactly) {
  // counts [2, 1, 1], top-2: T = 4 / 2 = 2 tokens; the list 0,0,1,2 is dealt position p -> token
  // p % 2, slot p / 2: token 0 gets {0, 1}, token 1 gets {0, 2}.
  CountMatrix counts{3, 2, {0}, {{2, 1, 1}}};
  const auto block = tokens_from_counts(counts, 0, 2, "m.json");
  EXPECT_EQ(block.tokens, 2U);
  EXPECT_EQ(block.expert_ids, (std::vector<std::uint32_t>{0, 1, 0, 2}));
  // an expert with more copies than tokens cannot be routed without replacement: 3 > T = 2
  CountMatrix impossible{2, 2, {0}, {{3, 1}}};
  EXPECT_THROW(tokens_from_counts(impossible, 0, 2, "m.json"), ConfigError);
}

TEST(CountImport, JsonCsvAndNpyMatricesAgree) {
  const auto json = write_file("m.json", R"({"top_k": 1, "tokens_per_expert": [[3, 1], [0, 4]]})");
  const auto csv = write_file("m.csv", "layer,e0,e1\n0,3,1\n1,0,4\n");
  const auto npy = write_file("m.npy", import_npy_image("<i8", "(2, 2)", int64s({3, 1, 0, 4})));
  const auto from_json = open_routing(json.string());
  const auto from_csv = open_routing(csv.string(), {.top_k = 1});
  const auto from_npy = open_routing(npy.string(), {.top_k = 1, .counts = true});
  const std::vector<std::vector<std::uint64_t>> expected{{3, 1}, {0, 4}};
  EXPECT_EQ(from_json->counts()->tokens_per_expert, expected);
  EXPECT_EQ(from_csv->counts()->tokens_per_expert, expected);
  EXPECT_EQ(from_npy->counts()->tokens_per_expert, expected);
  EXPECT_EQ(
      import_error_of(write_file("bad.json", R"({"top_k": 2, "tokens_per_expert": [[3, -1]]})")),
      (temp_dir() / "bad.json").string() +
          ": /tokens_per_expert/0/1: expected a count >= 0, got -1");
}

TEST(CsvImport, PerTokenRowsBecomeBlocks) {
  const auto csv =
      write_file("t.csv", "step,layer,token,expert_0,expert_1\n0,0,0,1,2\n0,0,1,0,3\n0,1,0,2,3\n");
  auto source = open_routing(csv.string());
  // layers 0-1; largest id 3 -> 4 experts; 2 expert columns -> top-2
  EXPECT_EQ(source->shape(), (TraceShape{2, 4, 2, ScoreType::None}));
  TraceBlock block;
  ASSERT_TRUE(source->next(block));
  EXPECT_EQ(block.expert_ids, (std::vector<std::uint32_t>{1, 2, 0, 3}));
  const auto bad = write_file("bad.csv", "step,layer,token,expert_0\n0,0,0,x\n");
  EXPECT_EQ(import_error_of(bad),
            bad.string() + ": line 2 column 4: expected an integer in [0, 8191], got \"x\"");
}

TEST(RealRoutingImport, SharedCountsImportAndReplayExactly) {
  const fs::path dir = fs::path(MOESIM_SHARED_DIR) / "data" / "real-routing";
  if (!fs::exists(dir)) GTEST_SKIP() << dir << " is absent";
  int files = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".json") continue;
    const auto json =
        parse_strict_json(read_text_file(entry.path().string()), entry.path().string());
    auto source = open_routing(entry.path().string());
    ASSERT_NE(source->counts(), nullptr);
    const auto expected = json["tokens_per_expert"].get<std::vector<std::vector<std::uint64_t>>>();
    EXPECT_EQ(source->counts()->tokens_per_expert, expected) << entry.path();
    EXPECT_EQ(source->counts()->layer_ids, json["layers"].get<std::vector<std::int64_t>>());
    // replaying the synthesised tokens gives back every count, and each layer the recorded tokens
    TraceBlock block;
    std::size_t row = 0;
    while (source->next(block)) {
      std::vector<std::uint64_t> replayed(source->shape().experts, 0);
      for (auto e : block.expert_ids) ++replayed[e];
      EXPECT_EQ(replayed, expected[row]);
      EXPECT_EQ(block.tokens, json["tokens"].get<std::uint32_t>());
      ++row;
    }
    EXPECT_EQ(row, expected.size());
    ++files;
  }
  EXPECT_EQ(files, 11);  // 5 Mixtral + 6 OLMoE domains
}

}  // namespace
}  // namespace moesim::sim
