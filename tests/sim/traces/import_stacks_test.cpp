#include "sim/traces/import_stacks.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "base/strict_json.hpp"
#include "sim/placement/strategies.hpp"
#include "sim/traces/stats.hpp"
#include "tests/sim/traces/trace_test_files.hpp"

namespace moesim::sim {
namespace {

namespace fs = std::filesystem;

// Fixtures made with torch on an H200 by tests/data/importers/make_fixtures.py; expected.json holds
// the per-layer, per-expert counts torch.bincount gave for each.
const fs::path kFixtures = fs::path(MOESIM_SOURCE_DIR) / "tests/data/importers";

nlohmann::json expected() {
  return parse_strict_json(read_text_file((kFixtures / "expected.json").string()), "expected");
}

void expect_counts_match(const std::string& file, const ImportOptions& options) {
  SCOPED_TRACE(file);
  const auto want = expected()[file];
  auto source = open_routing((kFixtures / file).string(), options);
  const auto stats = compute_trace_stats(*source);
  // SGLang's records are counts: statistics take them as one count matrix summed over the steps
  EXPECT_EQ(stats.steps, file.starts_with("sglang") ? 1U : want["steps"].get<std::uint64_t>());
  EXPECT_EQ(stats.shape.top_k, want["top_k"].get<std::uint32_t>());
  ASSERT_EQ(stats.layers.size(), want["tokens_per_expert"].size());
  for (std::size_t l = 0; l < stats.layers.size(); ++l)
    EXPECT_EQ(stats.layers[l].tokens_per_expert,
              want["tokens_per_expert"][l].get<std::vector<std::uint64_t>>())
        << "layer " << l;
}

TEST(ImportStacks, SglangStatRecordGivesTorchsCounts) {
  expect_counts_match("sglang_stat.pt", {.top_k = 2});
}

TEST(ImportStacks, SglangPerPassRecordMapsPhysicalCountsToLogical) {
  expect_counts_match("sglang_per_pass.pt", {.top_k = 2});
}

TEST(ImportStacks, VllmRoutedExpertsOneRequestAndSavez) {
  expect_counts_match("vllm_routed_experts.npy", {.experts = 8});
  expect_counts_match("vllm_routed_experts.npz", {.experts = 8});
}

TEST(ImportStacks, MegatronRouterTraceLeavesOutTheMtpHead) {
  expect_counts_match("router_trace_rank0.jsonl", {.experts = 8});
}

TEST(ImportStacks, SglangStepsSurviveConversionToBlocks) {
  // 3 steps x 2 layers; each block's tokens reproduce that step's counts (6 tokens x top-2).
  auto source = open_routing((kFixtures / "sglang_stat.pt").string(), {.top_k = 2});
  TraceBlock block;
  std::uint32_t blocks = 0;
  while (source->next(block)) {
    EXPECT_EQ(block.step, blocks / 2);
    EXPECT_EQ(block.layer, blocks % 2);
    EXPECT_EQ(block.tokens, 6U);
    ++blocks;
  }
  EXPECT_EQ(blocks, 6U);
}

TEST(ImportStacks, SglangCountsNeedTopK) {
  try {
    auto source = open_routing((kFixtures / "sglang_stat.pt").string(), {});
    compute_trace_stats(*source);
    FAIL() << "no error";
  } catch (const ConfigError& error) {
    EXPECT_NE(std::string(error.what()).find("--top-k"), std::string::npos) << error.what();
  }
}

TEST(ImportStacks, ExpertMapsReadAlikeFromEveryFile) {
  const auto want =
      expected()["maps"]["physical_to_logical_map"].get<std::vector<std::vector<std::int64_t>>>();
  for (const char* file :
       {"sglang_expert_location.pt", "sglang_expert_location.json", "vllm_physical_to_logical.pt",
        "vllm_physical_to_logical.npy", "sglang_per_pass.pt"}) {
    SCOPED_TRACE(file);
    EXPECT_TRUE(is_expert_map_file((kFixtures / file).string()));
    EXPECT_EQ(read_expert_map((kFixtures / file).string()).physical_to_logical, want);
  }
}

TEST(ImportStacks, ExpertMapRoutingIsRefusedAsRouting) {
  EXPECT_THROW(open_routing((kFixtures / "vllm_physical_to_logical.pt").string()), ConfigError);
}

TEST(ImportStacks, ExpertMapPlacesOneLayerByEpRank) {
  // Row 1 is [0..7, 0, 5]: 10 slots over 2 GPUs, 5 each (slot p on GPU p / 5), so GPU 1 holds
  // slots 5..9 = experts 5, 6, 7, 0, 5: expert 5 twice, as the deployed map has it.
  PlacementInputs in{.experts = 8, .gpus = 2, .expert_load = std::vector<double>(8, 1.0)};
  in.placement_file = (kFixtures / "sglang_expert_location.pt").string();
  in.map_layer = 1;
  const auto placement = place_experts(PlacementStrategy::Explicit, in);
  EXPECT_EQ(placement.slots, (std::vector<std::vector<int>>{{0, 1, 2, 3, 4}, {5, 6, 7, 0, 5}}));
  EXPECT_EQ(placement.replicas[0], (std::vector<int>{0, 1}));
  EXPECT_EQ(placement.replicas[5], (std::vector<int>{1, 1}));
}

TEST(ImportStacks, ExpertMapWithDifferingLayersNeedsALayer) {
  PlacementInputs in{.experts = 8, .gpus = 2, .expert_load = std::vector<double>(8, 1.0)};
  in.placement_file = (kFixtures / "sglang_expert_location.json").string();
  try {
    place_experts(PlacementStrategy::Explicit, in);
    FAIL() << "no error";
  } catch (const ConfigError& error) {
    EXPECT_NE(std::string(error.what()).find("layer 1 differs"), std::string::npos) << error.what();
  }
  in.gpus = 3;  // 10 slots do not split over 3 GPUs
  in.map_layer = 0;
  EXPECT_THROW(place_experts(PlacementStrategy::Explicit, in), ConfigError);
}

std::vector<std::byte> stacks_bytes_of(std::string_view text) {
  const auto* begin = reinterpret_cast<const std::byte*>(text.data());
  return {begin, begin + text.size()};
}

// Pickle bytes from opcode characters and byte values, free of C's greedy hex escapes.
std::vector<std::byte> pickle_bytes(std::initializer_list<int> values) {
  std::vector<std::byte> bytes;
  for (const int value : values) bytes.push_back(static_cast<std::byte>(value));
  return bytes;
}

TEST(PickleReader, ReadsADictOfAListAndALong) {
  // PROTO 2; EMPTY_DICT, BINPUT 0; MARK; 'a' -> EMPTY_LIST with MARK 1, 2 APPENDS; 'b' -> LONG1
  // of 2 bytes 00 80, little-endian two's complement = -32768; SETITEMS; STOP.
  const auto pickle = pickle_bytes({0x80, 2,   '}', 'q', 0,   '(',  'X', 1,    0,    0,   0,
                                    'a',  'q', 1,   ']', '(', 'K',  1,   'K',  2,    'e', 'X',
                                    1,    0,   0,   0,   'b', 0x8a, 2,   0x00, 0x80, 'u', '.'});
  const auto document = parse_pickle(pickle, "test.pkl");
  const auto& root = document.root_value();
  ASSERT_EQ(root.kind, PickleKind::Dict);
  const auto* a = document.find(root, "a");
  ASSERT_NE(a, nullptr);
  ASSERT_EQ(a->items.size(), 2U);
  EXPECT_EQ(document[a->items[0]].integer, 1);
  EXPECT_EQ(document[a->items[1]].integer, 2);
  EXPECT_EQ(document.find(root, "b")->integer, -32768);
}

TEST(PickleReader, ErrorsNameTheOpcodesByte) {
  // BINUNICODE at byte 2 claims 5 bytes; 2 follow.
  try {
    parse_pickle(pickle_bytes({0x80, 2, 'X', 5, 0, 0, 0, 'a', 'b'}), "cut.pkl");
    FAIL() << "no error";
  } catch (const TraceError& error) {
    EXPECT_EQ(error.offset(), 2U);
  }
  // APPEND (byte 6) onto an int is not something torch.save writes.
  try {
    parse_pickle(pickle_bytes({0x80, 2, 'K', 1, 'K', 2, 'a', '.'}), "bad.pkl");
    FAIL() << "no error";
  } catch (const TraceError& error) {
    EXPECT_EQ(error.offset(), 6U);
  }
}

TEST(PickleReader, AListThatHoldsItselfNeitherLeaksNorRecurses) {
  // EMPTY_LIST, BINPUT 0, BINGET 0, APPEND, STOP: a list whose one item is itself.
  const auto document = parse_pickle(pickle_bytes({']', 'q', 0, 'h', 0, 'a', '.'}), "cycle.pkl");
  EXPECT_EQ(document.root_value().items, std::vector<std::uint32_t>{document.root});
}

TEST(ImportStacks, TruncatedArchiveIsATraceError) {
  const auto bytes = test::read_all(kFixtures / "sglang_stat.pt");
  const std::vector<std::byte> cut(bytes.begin(), bytes.begin() + 100);
  EXPECT_THROW(parse_torch_archive(cut, "cut.pt"), TraceError);
}

TEST(ImportStacks, VllmIdOutOfRangeNamesItsByte) {
  // [2, 1, 2] <i4 with ids 0 1 / 2 9. Preamble 10 bytes + the 62-character dict + '\n' = 73,
  // padded to 128 where the data starts; id 9 is element 3, at 128 + 3 x 4 = 140.
  std::string header = "{'descr': '<i4', 'fortran_order': False, 'shape': (2, 1, 2), }";
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  std::string image = std::string("\x93NUMPY\x01\x00", 8) + static_cast<char>(header.size() + 1) +
                      '\0' + header + '\n';
  for (const int id : {0, 1, 2, 9}) image += std::string(reinterpret_cast<const char*>(&id), 4);
  const auto array = parse_npy(stacks_bytes_of(image), "ids.npy");
  try {
    auto source = open_vllm_routed_experts(array, "ids.npy", {.experts = 8});
    FAIL() << "no error";
  } catch (const TraceError& error) {
    EXPECT_EQ(error.offset(), 140U) << error.what();
  }
}

TEST(ImportStacks, MegatronStepWithoutALayerIsNamed) {
  const std::string rows = R"("num_tokens": 1, "topk": 1, "top_indices": [[0]]})";
  const std::string text = R"({"step": 0, "layer": 1, )" + rows + "\n" +
                           R"({"step": 0, "layer": 3, )" + rows + "\n" +
                           R"({"step": 1, "layer": 1, )" + rows + "\n";
  try {
    open_megatron_router_trace("trace.jsonl", text, {});
    FAIL() << "no error";
  } catch (const ConfigError& error) {
    EXPECT_NE(std::string(error.what())
                  .find("step 1: expected a record for every MoE layer (1, "
                        "3) in each step; layer 3 has none"),
              std::string::npos)
        << error.what();
  }
  const std::string bad =
      R"({"step": 0, "layer": 1, "num_tokens": 1, "topk": 2, "top_indices": [[0]]})";
  try {
    open_megatron_router_trace("trace.jsonl", text.substr(0, text.find('\n') + 1) + bad, {});
    FAIL() << "no error";
  } catch (const ConfigError& error) {
    EXPECT_NE(std::string(error.what()).find("line 2 /top_indices/0"), std::string::npos)
        << error.what();
  }
}

}  // namespace
}  // namespace moesim::sim
