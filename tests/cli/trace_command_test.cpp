#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "tests/cli/cli_runner.hpp"

namespace moesim::testing {
namespace {

TEST(TraceCommand, GeneratedTraceConvertsToCountsThatStatsReportExactly) {
  const auto dir = scratch_dir("trace-gen");
  const auto trace = (dir / "g.mtrace").string();
  auto result = run_moesim(
      "trace gen --kind zipf --layers 2 --experts 8 --top-k 2 --tokens 100 --steps 3 -o " + trace,
      "trace-gen");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  result = run_moesim("trace stats --json " + trace, "trace-gen");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto stats = nlohmann::json::parse(result.out);
  // 3 steps x 100 tokens x top-2 = 600 choices per layer
  std::uint64_t total = 0;
  for (auto c : stats["layers"][0]["tokens_per_expert"]) total += c.get<std::uint64_t>();
  EXPECT_EQ(total, 600U);
  EXPECT_EQ(stats["layers"][0]["tokens"], 300);
  // round trip through a count matrix keeps the counts
  const auto counts = (dir / "c.json").string();
  ASSERT_EQ(run_moesim("trace convert " + trace + " -o " + counts, "trace-gen").exit_code, 0);
  result = run_moesim("trace stats --json " + counts, "trace-gen");
  EXPECT_EQ(nlohmann::json::parse(result.out)["layers"][1]["tokens_per_expert"],
            stats["layers"][1]["tokens_per_expert"]);
}

TEST(TraceCommand, ConvertOntoItsOwnInputIsRefusedAndTheInputSurvives) {
  // Issue 16: `trace convert t.mtrace -o t.mtrace` truncated its input to 32 bytes.
  const auto dir = scratch_dir("trace-self");
  const auto trace = (dir / "t.mtrace").string();
  ASSERT_EQ(
      run_moesim("trace gen --layers 1 --experts 4 --top-k 1 --tokens 8 -o " + trace, "trace-self")
          .exit_code,
      0);
  const auto before = slurp(trace);
  const auto result = run_moesim(
      "trace convert " + trace + " -o " + (dir / "." / "t.mtrace").string(), "trace-self");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_EQ(result.err,
            "error: " + (dir / "." / "t.mtrace").string() + ": /: is the same file as the input " +
                trace + "; expected another output path (writing it would destroy the input)\n");
  EXPECT_EQ(slurp(trace), before);
}

TEST(TraceCommand, ACountMatrixPastTheTraceLimitIsRefusedBeforeWriting) {
  // Session 12: a 1.8 MB count matrix converted into a 17 GB trace. 17 layers of 2 x 2^25 copies
  // = 17 x 2^26 = 1,140,850,688 choices > 2^30.
  const auto dir = scratch_dir("trace-counts-big");
  std::string rows;
  for (int l = 0; l < 17; ++l) rows += std::string(l ? "," : "") + "[33554432, 33554432]";
  std::ofstream(dir / "m.json") << R"({"experts": 2, "top_k": 1, "tokens_per_expert": [)" + rows +
                                       "]}";
  const auto out = dir / "t.mtrace";
  const auto result = run_moesim(
      "trace convert " + (dir / "m.json").string() + " -o " + out.string(), "trace-counts-big");
  EXPECT_EQ(result.exit_code, 2) << result.err;
  EXPECT_NE(result.err.find("/tokens_per_expert: expected at most 1073741824 expert choices"),
            std::string::npos)
      << result.err;
  EXPECT_FALSE(std::filesystem::exists(out));
}

TEST(TraceCommand, AnOutputNamedForAnotherFormatIsRefused) {
  // Session 12: -o r.csv, -o counts.JSON and trace gen -o t.json all wrote a binary trace.
  const auto dir = scratch_dir("trace-ext");
  const auto trace = (dir / "t.mtrace").string();
  auto result = run_moesim("trace gen --tokens 8 -o " + (dir / "t.json").string(), "trace-ext");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_EQ(result.err, "error: -o: /: expected a .mtrace file name, got '.json'\n");
  ASSERT_EQ(run_moesim("trace gen --tokens 8 -o " + trace, "trace-ext").exit_code, 0);
  result = run_moesim("trace convert " + trace + " -o " + (dir / "c.JSON").string(), "trace-ext");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_EQ(result.err, "error: -o: /: expected a .mtrace or .json file name, got '.JSON'\n");
  EXPECT_FALSE(std::filesystem::exists(dir / "t.json"));
  EXPECT_FALSE(std::filesystem::exists(dir / "c.JSON"));
}

TEST(TraceCommand, GeneratorOptionsTheKindDoesNotReadAreRefused) {
  // Session 12: --zipf-s with the uniform kind wrote a byte-identical uniform trace, exit 0.
  const auto out = (scratch_dir("trace-unread") / "g.mtrace").string();
  auto result = run_moesim("trace gen --tokens 8 --zipf-s 1.2 -o " + out, "trace-unread");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_EQ(result.err.rfind("error: --zipf-s: /: the chosen --kind does not read it", 0), 0U)
      << result.err;
  EXPECT_EQ(run_moesim("trace gen --tokens 8 --kind zipf --zipf-s 1.2 -o " + out, "trace-unread")
                .exit_code,
            0);
}

TEST(TraceCommand, FailedConvertLeavesNoOutputFile) {
  // Two steps of one 36-byte block (28 + 8 one-byte ids): block 1 sits at 68, its ids at 96. A
  // corrupt id there fails step 1's checksum after step 0 was written: no file is left behind.
  const auto dir = scratch_dir("trace-partial");
  const auto input = (dir / "in.mtrace").string();
  ASSERT_EQ(
      run_moesim("trace gen --layers 1 --experts 4 --top-k 1 --tokens 8 --steps 2 -o " + input,
                 "trace-partial")
          .exit_code,
      0);
  auto bytes = slurp(input);
  bytes[100] = static_cast<char>(bytes[100] ^ 1);
  std::ofstream(input, std::ios::binary | std::ios::trunc) << bytes;
  const auto out = dir / "out.mtrace";
  const auto result = run_moesim("trace convert " + input + " -o " + out.string(), "trace-partial");
  EXPECT_EQ(result.exit_code, 2) << result.err;
  EXPECT_FALSE(std::filesystem::exists(out));
  for (const auto& entry : std::filesystem::directory_iterator(dir))
    EXPECT_EQ(entry.path().filename(), "in.mtrace");
}

TEST(TraceCommand, GenPastTheLimitsOrWithANegativeSeedExitsTwo) {
  // Issue 16: --experts 1000000000 --tokens 1 took 3.9 GB; --seed -1 became 2^64 - 1.
  const auto dir = scratch_dir("trace-limits");
  const auto out = (dir / "g.mtrace").string();
  auto result = run_moesim("trace gen --experts 1000000000 --tokens 1 -o " + out, "trace-limits");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_EQ(
      result.err,
      "error: generator: /experts: expected experts <= 8192 (docs/limits.md), got 1000000000\n");
  // Session 12: --steps 4294967295 wrote at 9 MB/s until killed. 2^32 - 1 steps x 1 layer x
  // 4096 tokens x top-2 is far past 2^30 choices.
  result = run_moesim("trace gen --steps 4294967295 -o " + out, "trace-limits");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_EQ(result.err,
            "error: generator: /steps: expected steps x layers x tokens x top_k <= 1073741824 "
            "(docs/limits.md), got 4294967295 x 1 x 4096 x 2\n");
  result = run_moesim("trace gen --seed -1 -o " + out, "trace-limits");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_EQ(result.err,
            "error: --seed: expected a non-negative decimal integer, got '-1'\n"
            "Run with --help for more information.\n");
  EXPECT_FALSE(std::filesystem::exists(out));
}

TEST(TraceCommand, StatsOfAHeaderPastTheLayerLimitExitsTwoWithTheOffset) {
  // Issue 16: a trace with valid CRCs declaring 2^32 - 1 layers passed validate, then bad_alloc.
  const auto dir = scratch_dir("trace-huge");
  const auto trace = (dir / "t.mtrace").string();
  ASSERT_EQ(
      run_moesim("trace gen --layers 1 --experts 4 --top-k 1 --tokens 1 --steps 1 -o " + trace,
                 "trace-huge")
          .exit_code,
      0);
  // Rewrite the header: layers 0xFFFFFFFF at byte 12, header CRC-32C at byte 28 recomputed below.
  auto bytes = slurp(trace);
  for (int i = 12; i < 16; ++i) bytes[i] = '\xff';
  std::uint32_t crc = 0xFFFFFFFFU;
  for (int i = 0; i < 28; ++i) {
    crc ^= static_cast<unsigned char>(bytes[i]);
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ ((crc & 1U) ? 0x82F63B78U : 0U);
  }
  crc = ~crc;
  for (int i = 0; i < 4; ++i) bytes[28 + i] = static_cast<char>((crc >> (8 * i)) & 0xFF);
  std::ofstream(trace, std::ios::binary | std::ios::trunc) << bytes;
  for (const char* command : {"trace stats ", "validate "}) {
    const auto result = run_moesim(command + trace, "trace-huge");
    EXPECT_EQ(result.exit_code, 2) << command;
    EXPECT_EQ(result.err,
              "error: " + trace +
                  ": byte 12: expected layers <= 1024 (docs/limits.md), got 4294967295\n");
  }
}

TEST(TraceCommand, RealRoutingStatsMatchTheRecordedCounts) {
  const std::string file =
      std::string(MOESIM_SOURCE_DIR) + "/../shared/data/real-routing/Mixtral-8x7B-v0.1.c4.json";
  if (!std::ifstream(file)) GTEST_SKIP() << file << " is absent";
  const auto result = run_moesim("trace stats --json " + file, "trace-real");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto recorded = nlohmann::json::parse(slurp(file));
  EXPECT_EQ(nlohmann::json::parse(result.out)["layers"][2]["tokens_per_expert"],
            recorded["tokens_per_expert"][2]);
}

TEST(TraceCommand, CorruptTraceExitsTwoWithTheByteOffset) {
  const auto dir = scratch_dir("trace-bad");
  const auto bad = dir / "bad.mtrace";
  std::ofstream(bad) << "MOETRACE";
  const auto result = run_moesim("trace stats " + bad.string(), "trace-bad");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(
      result.err.find("byte 0: expected a trace header (32 bytes), but the file ends at byte 8"),
      std::string::npos);
}

TEST(TraceCommand, CountMatrixExpertColumnsAndLayersAreCheckedWhereTheyStand) {
  // Hostile hunt 11: renamed or reordered expert columns and repeated layers were accepted (the
  // counts under "e3" went to expert 0).
  const auto dir = scratch_dir("trace-count-labels");
  const std::pair<const char*, const char*> cases[] = {
      {"layer,e3,e1,e2,e0\n0,8,0,0,0\n",
       ": line 1 column 2: expected expert column \"e0\" (e0, e1, ... in order), got \"e3\""},
      {"layer,e0,e1,e2,e3\n0,2,2,2,2\n0,8,0,0,0\n",
       ": line 3 column 1: expected a layer above the previous row's 0 (one row per layer, in "
       "order), got 0"}};
  for (const auto& [text, expected] : cases) {
    std::ofstream(dir / "c.csv") << text;
    const std::string file = (dir / "c.csv").string();
    const auto result = run_moesim("trace stats " + file + " --top-k 2", "trace-count-labels");
    EXPECT_EQ(result.exit_code, 2) << text;
    EXPECT_EQ(result.err, "error: " + file + expected + "\n") << text;
  }
  std::ofstream(dir / "c.json")
      << R"({"experts": 4, "layers": [0, 0], "tokens_per_expert": [[2,2,2,2], [8,0,0,0]], "top_k": 2})";
  const std::string json = (dir / "c.json").string();
  const auto result = run_moesim("trace stats " + json, "trace-count-labels");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_EQ(result.err, "error: " + json +
                            ": /layers/1: expected a layer above /layers/0 (0), one row per layer "
                            "in order, got 0\n")
      << result.err;
  // Sparse model layers in order (the real-routing files' 0, 7, 15) stay valid.
  std::ofstream(dir / "c.csv") << "layer,e0,e1\n0,2,2\n7,4,0\n";
  EXPECT_EQ(run_moesim("trace stats " + (dir / "c.csv").string() + " --top-k 1").exit_code, 0);
}

TEST(TraceCommand, HeatmapIsWrittenAsSvgOrPngAndOtherExtensionsAreRefused) {
  const auto dir = scratch_dir("trace-heatmap");
  const auto trace = (dir / "g.mtrace").string();
  const auto gen = run_moesim("trace gen --layers 2 --experts 8 --top-k 2 --tokens 50 -o " + trace,
                              "trace-heatmap");
  ASSERT_EQ(gen.exit_code, 0) << gen.err;
  const auto svg = dir / "h.svg", png = dir / "h.png";
  auto result = run_moesim("trace stats " + trace + " --heatmap " + svg.string() + " --json",
                           "trace-heatmap");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(slurp(svg).find("<svg"), std::string::npos);  // after cairo's <?xml ...?> line
  result = run_moesim("trace stats " + trace + " --heatmap " + png.string() + " --json",
                      "trace-heatmap");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(slurp(png).substr(0, 8), "\x89PNG\r\n\x1a\n");  // the PNG signature
  result = run_moesim("trace stats " + trace + " --heatmap " + (dir / "h.jpg").string(),
                      "trace-heatmap");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("expected a .svg or .png file name, got extension '.jpg'"),
            std::string::npos)
      << result.err;
}

TEST(TraceCommand, InterruptedGenLeavesNeitherOutputNorTemporary) {
  // Issue 16: an interrupted command must leave the previous outputs or nothing. A 200-step
  // generation runs for many seconds; once its temporary exists, SIGTERM ends it (a background
  // job of a script ignores SIGINT, as shells set it up).
  const auto dir = scratch_dir("trace-interrupt");
  const auto out = dir / "big.mtrace";
  const auto pid_file = dir / "pid";
  const std::string command = std::string(MOESIM_BINARY) +
                              " trace gen --layers 8 --experts 256 --top-k 8 --tokens 65536 "
                              "--steps 200 -o " +
                              out.string() + " >/dev/null 2>&1 & echo $! >" + pid_file.string();
  ASSERT_EQ(std::system(command.c_str()), 0);
  const pid_t pid = std::stoi(slurp(pid_file));
  const auto temporary_exists = [&] {
    for (const auto& entry : std::filesystem::directory_iterator(dir))
      if (entry.path().filename().string().rfind("big.mtrace.tmp", 0) == 0) return true;
    return false;
  };
  for (int wait = 0; wait < 200 && !temporary_exists(); ++wait)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_TRUE(temporary_exists());
  ASSERT_EQ(::kill(pid, SIGTERM), 0);
  for (int wait = 0; wait < 200 && temporary_exists(); ++wait)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  // The handler removed the temporary; the trace was never renamed into place.
  EXPECT_FALSE(temporary_exists());
  EXPECT_FALSE(std::filesystem::exists(out));
  ::kill(pid, SIGKILL);  // in case the signal did not end it: no process outlives the test
}

TEST(PlaceCommand, EplbImprovesOnContiguousForSkewedLoad) {
  const auto dir = scratch_dir("place");
  const auto counts = dir / "c.json";
  // loads 7, 5, 4, 2 on 2 GPUs: contiguous 12 | 6 = 4/3 imbalance; LPT 9 | 9 = 1
  std::ofstream(counts) << R"({"top_k": 1, "tokens_per_expert": [[7, 5, 4, 2]]})";
  const auto result =
      run_moesim("place --strategy lpt --gpus 2 --json " + counts.string(), "place");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto out = nlohmann::json::parse(result.out);
  EXPECT_DOUBLE_EQ(out["imbalance_before"].get<double>(), 4.0 / 3.0);
  EXPECT_DOUBLE_EQ(out["imbalance_after"].get<double>(), 1.0);
  EXPECT_EQ(run_moesim("place --strategy nope --gpus 2 " + counts.string(), "place").exit_code, 2);
}

TEST(PlaceCommand, LeastLoadedReplicaChoiceLevelsTheGpus) {
  const auto dir = scratch_dir("place-replica");
  const auto counts = dir / "c.json";
  const auto file = dir / "p.json";
  // Expert 0 (load 6) on both GPUs, expert 1 (4) on GPU 0, expert 2 (0) on GPU 1.
  // Round-robin splits expert 0 3 | 3: loads 7 | 3, imbalance 7 / 5 = 1.4. Least-loaded fills
  // GPU 1 up to 4 first, then splits the last 2 evenly: 5 | 5, imbalance 1.
  std::ofstream(counts) << R"({"top_k": 1, "tokens_per_expert": [[6, 4, 0]]})";
  std::ofstream(file) << R"({"gpus": [[0, 1], [0, 2]]})";
  const std::string base =
      "place --strategy explicit --gpus 2 --redundant 1 --json --placement-file " + file.string() +
      " ";
  auto result = run_moesim(base + counts.string(), "place-rr");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_DOUBLE_EQ(nlohmann::json::parse(result.out)["imbalance_after"].get<double>(), 1.4);
  result = run_moesim(base + "--replica-choice least-loaded " + counts.string(), "place-ll");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto out = nlohmann::json::parse(result.out);
  EXPECT_DOUBLE_EQ(out["imbalance_after"].get<double>(), 1.0);
  EXPECT_EQ(out["gpu_load_after"], (std::vector<double>{5, 5}));
  EXPECT_EQ(run_moesim(base + "--replica-choice nearest " + counts.string(), "place-bad").exit_code,
            2);
}

}  // namespace
}  // namespace moesim::testing
