#include "sim/routing/trace_replay.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "base/config_error.hpp"
#include "sim/traces/writer.hpp"

namespace moesim::sim {
namespace {

namespace fs = std::filesystem;

fs::path replay_temp_path(const std::string& name) {
  return fs::temp_directory_path() /
         ("moesim-trace-replay-" + std::to_string(::getpid()) + "-" + name);
}

ModelSpec model(int experts, int top_k, int moe_layers) {
  ModelSpec spec;
  spec.name = "toy";
  spec.layers = moe_layers;
  spec.moe_layers = moe_layers;
  spec.experts = experts;
  spec.top_k = top_k;
  return spec;
}

// Two layers, 4 experts, top-2, two steps of 2 tokens each.
//   step 0 layer 0: {0,1} {0,2}   step 1 layer 0: {0,3} {1,2}   -> layer 0: 3, 2, 2, 1
//   step 0 layer 1: {3,2} {3,1}   step 1 layer 1: {3,0} {2,1}   -> layer 1: 1, 2, 2, 3
fs::path write_trace(const std::string& name) {
  const auto path = replay_temp_path(name + ".mtrace");
  TraceWriter writer(path.string(), {2, 4, 2, ScoreType::None});
  writer.write_block({0, 0, 2, {0, 1, 0, 2}, {}});
  writer.write_block({0, 1, 2, {3, 2, 3, 1}, {}});
  writer.write_block({1, 0, 2, {0, 3, 1, 2}, {}});
  writer.write_block({1, 1, 2, {3, 0, 2, 1}, {}});
  writer.finish();
  return path;
}

TEST(TraceReplay, CountsTokenCopiesPerExpertSummedOverSteps) {
  const auto popularity = trace_expert_popularity(write_trace("sum").string(), model(4, 2, 2));
  ASSERT_EQ(popularity.size(), 2u);
  EXPECT_EQ(popularity[0], (std::vector<double>{3, 2, 2, 1}));
  EXPECT_EQ(popularity[1], (std::vector<double>{1, 2, 2, 3}));
  // 2 steps x 2 tokens x top-2 = 8 copies per layer.
}

TEST(TraceReplay, RepeatLayersTilesTheRecordedLayersOverTheModel) {
  const auto popularity = trace_expert_popularity(write_trace("tile").string(), model(4, 2, 5),
                                                  {.repeat_layers = true});
  ASSERT_EQ(popularity.size(), 5u);
  // Model layer l replays trace layer l mod 2: 0, 1, 0, 1, 0.
  for (std::size_t layer = 0; layer < 5; ++layer)
    EXPECT_EQ(popularity[layer], popularity[layer % 2]) << layer;
  EXPECT_EQ(popularity[4], (std::vector<double>{3, 2, 2, 1}));
}

TEST(TraceReplay, LayerMismatchWithoutRepeatNamesTheFixAndTheFile) {
  const auto path = write_trace("layers").string();
  try {
    trace_expert_popularity(path, model(4, 2, 5));
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& error) {
    EXPECT_EQ(error.source(), path);
    ASSERT_EQ(error.problems().size(), 1u);
    EXPECT_EQ(error.problems()[0].where, "layers");
    EXPECT_EQ(error.problems()[0].message,
              "expected 5 MoE layers (toy), the trace has 2 (--repeat-layers tiles them)");
  }
}

TEST(TraceReplay, ExpertAndTopKMismatchesAreReportedTogether) {
  const auto path = write_trace("shape").string();
  try {
    trace_expert_popularity(path, model(8, 1, 2));
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& error) {
    EXPECT_EQ(std::string(error.what()),
              path + ": experts: expected 8 experts (toy), the trace has 4\n" + path +
                  ": top_k: expected top-1 (toy), the trace has top-2");
  }
}

TEST(TraceReplay, CountMatrixIsReplayedAsItsCounts) {
  // A count matrix has no per-token order; its rows are the popularity directly. Each row sums to
  // 8 copies: 4 tokens x top-2.
  const auto path = replay_temp_path("counts.json");
  std::ofstream(path) << R"({"top_k": 2, "tokens_per_expert": [[3, 1, 2, 2], [2, 2, 2, 2]]})";
  const auto popularity = trace_expert_popularity(path.string(), model(4, 2, 2));
  ASSERT_EQ(popularity.size(), 2u);
  EXPECT_EQ(popularity[0], (std::vector<double>{3, 1, 2, 2}));
  EXPECT_EQ(popularity[1], (std::vector<double>{2, 2, 2, 2}));
}

TEST(TraceReplay, MissingFileIsAConfigErrorNamingIt) {
  const auto path = replay_temp_path("absent.mtrace").string();
  try {
    trace_expert_popularity(path, model(4, 2, 2));
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& error) {
    EXPECT_EQ(error.source(), path);
  }
}

}  // namespace
}  // namespace moesim::sim
