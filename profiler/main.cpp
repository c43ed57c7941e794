// moesim-profile: measures the attached GPU and writes a profile JSON (docs/profile-format.md);
// --validate runs the MoE-layer executor and compares it with the profile's prediction.
#include <cuda_runtime.h>

#include <cstdio>
#include <exception>
#include <fstream>
#include <string>
#include <vector>

#include "kernels/cuda_check.hpp"
#include "profiler/bench_harness.hpp"
#include "profiler/measurements.hpp"
#include "profiler/provenance.hpp"
#include "profiler/validate.hpp"
#include "base/config_error.hpp"
#include "base/strict_json.hpp"

namespace {

using namespace moesim::profiler;

constexpr const char* kUsage =
    "usage: moesim-profile [--quick] [--out FILE] [--device N]\n"
    "       moesim-profile --validate --profile FILE [--out FILE] [--accuracy-out FILE.md]\n";

struct Options {
  bool quick = false;
  bool validate = false;
  std::string out = "profile.json";
  std::string profile;
  std::string accuracy_out;
  int device = 0;
  std::string command_line;
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 0; i < argc; ++i) {
    if (i > 0) o.command_line.push_back(' ');
    o.command_line.append(argv[i]);
  }
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::invalid_argument(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--quick") o.quick = true;
    else if (arg == "--validate") o.validate = true;
    else if (arg == "--out") o.out = value();
    else if (arg == "--profile") o.profile = value();
    else if (arg == "--accuracy-out") o.accuracy_out = value();
    else if (arg == "--device") o.device = std::stoi(value());
    else throw std::invalid_argument("unknown option " + arg);
  }
  if (o.validate && o.profile.empty()) throw std::invalid_argument("--validate needs --profile FILE");
  return o;
}

class ProgressLine {
 public:
  explicit ProgressLine(int expected) : expected_(expected) {}
  void operator()(const std::string& what) {
    ++done_;
    const int width = 30;
    const int filled = expected_ > 0 ? std::min(width, done_ * width / expected_) : width;
    std::fprintf(stderr, "[%s%s] %d/%d %s\n", std::string(filled, '#').c_str(),
                 std::string(width - filled, '.').c_str(), done_, expected_, what.c_str());
  }

 private:
  int expected_;
  int done_ = 0;
};

void write_file(const std::string& path, const std::string& text) {
  std::ofstream file(path);
  file << text;
  if (!file) throw std::runtime_error("cannot write " + path);
}

int profile(const Options& o) {
  const std::vector<int> token_counts =
      o.quick ? std::vector<int>{1, 16, 128, 1024, 4096, 16384}
              : std::vector<int>{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384};
  const std::vector<int> tokens_per_expert =
      o.quick ? std::vector<int>{1, 8, 32, 128, 512, 2048, 8192}
              : std::vector<int>{1, 2, 4, 8, 16, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768,
                                 1024, 1536, 2048, 3072, 4096, 8192};
  BenchOptions bench;
  bench.runs = o.quick ? 20 : 30;
  bench.warmup = o.quick ? 3 : 5;
  moesim::kernels::CudaStream stream;
  BenchHarness harness(stream.get(), bench);
  const auto models = profiled_models();
  ProgressLine progress(static_cast<int>(models.size() * (token_counts.size() + 2 * tokens_per_expert.size() + 12)) + 30);
  nlohmann::json doc;
  doc["schema_version"] = 1;
  doc["kind"] = "moesim-profile";
  doc["mode"] = o.quick ? "quick" : "full";
  doc["provenance"] = collect_provenance(o.command_line);
  doc["method"] = {{"warmup_runs", bench.warmup}, {"timed_runs", bench.runs}, {"l2_flush", bench.flush_l2},
                   {"timer", "CUDA events around each run"}, {"wide_spread_threshold", kWideSpread}};
  progress("launch and sync overheads");
  doc["overheads"] = measure_overheads(harness);
  progress("copy bandwidth");
  doc["ceilings"]["copy"] = measure_copy_bandwidth(harness);
  doc["dense_gemm"] = measure_dense_gemms(harness, o.quick, std::ref(progress));
  doc["ceilings"]["dense_bf16_flops_per_s"] = doc["dense_gemm"][0]["flops_per_s"];
  doc["models"] = nlohmann::json::array();
  for (const ModelShape& shape : models) {
    nlohmann::json section = {{"name", shape.name}, {"hidden", shape.hidden},
                              {"expert_ffn", shape.expert_ffn}, {"experts", shape.experts},
                              {"top_k", shape.top_k},
                              {"gating", shape.gating.mode == moesim::kernels::GatingMode::Sigmoid ? "sigmoid" : "softmax"},
                              {"expert_groups", shape.gating.groups}, {"topk_groups", shape.gating.topk_groups}};
    section.update(measure_token_ops(harness, shape, token_counts, std::ref(progress)));
    section["experts"] = measure_experts(harness, shape, tokens_per_expert, o.quick, std::ref(progress));
    doc["models"].push_back(section);
  }
  doc["collectives"] = measure_collectives(std::ref(progress));
  int wide = 0;
  std::function<void(const nlohmann::json&)> count_wide = [&](const nlohmann::json& j) {
    if (j.is_object() && j.contains("wide_spread") && j["wide_spread"].get<bool>()) ++wide;
    if (j.is_structured()) for (const auto& child : j) count_wide(child);
  };
  count_wide(doc);
  doc["wide_spread_measurements"] = wide;
  write_file(o.out, doc.dump(1) + "\n");
  std::fprintf(stderr, "wrote %s (%d measurements flagged wide)\n", o.out.c_str(), wide);
  return 0;
}

int validate(const Options& o) {
  const nlohmann::json profile_doc =
      moesim::parse_strict_json(moesim::read_text_file(o.profile), o.profile);
  ProgressLine progress(15);
  const nlohmann::json result = run_validation(profile_doc, 20, std::ref(progress));
  nlohmann::json doc = {{"schema_version", 1}, {"kind", "moesim-validation"},
                        {"profile", o.profile},
                        {"provenance", collect_provenance(o.command_line)}, {"result", result}};
  write_file(o.out, doc.dump(1) + "\n");
  const std::string table = accuracy_markdown(result);
  if (!o.accuracy_out.empty()) write_file(o.accuracy_out, table);
  std::printf("%s", table.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  try {
    options = parse(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "moesim-profile: %s\n%s", e.what(), kUsage);
    return 2;
  }
  try {
    MOESIM_CUDA_CHECK(cudaSetDevice(options.device));
    return options.validate ? validate(options) : profile(options);
  } catch (const moesim::ConfigError& e) {
    std::fprintf(stderr, "moesim-profile: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "moesim-profile: %s\n", e.what());
    return 3;
  }
}
