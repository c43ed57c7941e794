// moesim-profile: measures the attached GPUs and writes a profile JSON (docs/profile-format.md),
// one process per GPU (mpirun, or the built-in launcher); --validate runs the MoE-layer executor
// at EP=1 and EP=ranks and compares it with the profile's prediction.
#include <cuda_runtime.h>

#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "base/config_error.hpp"
#include "base/progress_bar.hpp"
#include "base/strict_json.hpp"
#include "base/text_file.hpp"
#include "kernels/cuda_check.hpp"
#include "profiler/bench_harness.hpp"
#include "profiler/cli_options.hpp"
#include "profiler/fork_launcher.hpp"
#include "profiler/measurements.hpp"
#include "profiler/provenance.hpp"
#include "profiler/rank_setup.hpp"
#include "profiler/validate.hpp"
#include "profiler/validate_ep.hpp"
#ifdef MOESIM_HAVE_MPI
#include "profiler/mpi_comm.hpp"
#endif

namespace {

using namespace moesim::profiler;
using moesim::ProgressBar;

// Rank 0 draws the progress, one line per measurement (runs are long and often logged); the
// other ranks stay quiet.
class ProgressLine {
 public:
  ProgressLine(int expected, bool shown)
      : bar_("measuring", ProgressBar::Lines::InLogs), expected_(expected), shown_(shown) {}
  void operator()(const std::string& what) {
    ++done_;
    if (shown_) bar_.update(done_, expected_, what);
  }

 private:
  ProgressBar bar_;
  int expected_;
  bool shown_;
  int done_ = 0;
};

// The single-GPU sections (overheads, ceilings, dense and expert GEMMs, token ops), rank 0 only.
void measure_one_gpu(nlohmann::json& doc, const ProfileOptions& o, const Progress& progress) {
  const std::vector<int> token_counts =
      o.quick
          ? std::vector<int>{1, 16, 128, 1024, 4096, 16384}
          : std::vector<int>{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384};
  const std::vector<int> tokens_per_expert =
      o.quick ? std::vector<int>{1, 8, 32, 128, 512, 2048, 8192}
              : std::vector<int>{1,   2,   4,   8,   16,   32,   48,   64,   96,   128, 192,
                                 256, 384, 512, 768, 1024, 1536, 2048, 3072, 4096, 8192};
  BenchOptions bench;
  bench.runs = o.quick ? 20 : 30;
  bench.warmup = o.quick ? 3 : 5;
  moesim::kernels::CudaStream stream;
  BenchHarness harness(stream.get(), bench);
  doc["method"] = {{"warmup_runs", bench.warmup},
                   {"timed_runs", bench.runs},
                   {"l2_flush", bench.flush_l2},
                   {"timer", "CUDA events around each run"},
                   {"wide_spread_threshold", kWideSpread}};
  progress("launch and sync overheads");
  doc["overheads"] = measure_overheads(harness);
  progress("copy bandwidth");
  doc["ceilings"]["copy"] = measure_copy_bandwidth(harness);
  doc["dense_gemm"] = measure_dense_gemms(harness, o.quick, progress);
  doc["ceilings"]["dense_bf16_flops_per_s"] = doc["dense_gemm"][0]["flops_per_s"];
  doc["models"] = nlohmann::json::array();
  doc["fp8_gemm"] = nlohmann::json::array();
  const std::vector<int> fp8_rows = o.quick ? std::vector<int>{1, 16, 128, 1024}
                                            : std::vector<int>{1, 4, 16, 64, 256, 1024, 4096};
  for (const ModelShape& shape : profiled_models()) {
    nlohmann::json section = {
        {"name", shape.name},
        {"hidden", shape.hidden},
        {"expert_ffn", shape.expert_ffn},
        {"experts", shape.experts},
        {"top_k", shape.top_k},
        {"gating",
         shape.gating.mode == moesim::kernels::GatingMode::Sigmoid ? "sigmoid" : "softmax"},
        {"expert_groups", shape.gating.groups},
        {"topk_groups", shape.gating.topk_groups}};
    section.update(measure_token_ops(harness, shape, token_counts, progress));
    section["experts"] = measure_experts(harness, shape, tokens_per_expert, o.quick, progress);
    doc["models"].push_back(section);
    for (auto& entry : measure_fp8_gemms(harness, shape, fp8_rows, progress))
      doc["fp8_gemm"].push_back(std::move(entry));
  }
}

int count_wide(const nlohmann::json& j) {
  int wide = j.is_object() && j.contains("wide_spread") && j["wide_spread"].get<bool>() ? 1 : 0;
  if (j.is_structured())
    for (const auto& child : j) wide += count_wide(child);
  return wide;
}

int profile(RankComm& comm, const moesim::kernels::NcclComm& world, const ProfileOptions& o) {
  const bool root = comm.rank() == 0;
  // Per model: token ops, both back ends, skewed histograms, about 70 fewer-active grouped points.
  ProgressLine progress(o.collectives_only ? 12 : 3 * (32 + 2 * 21 + 12 + 70 + 14) + 30, root);
  nlohmann::json doc = {{"schema_version", 1},
                        {"kind", "moesim-profile"},
                        {"mode", std::string(o.quick ? "quick" : "full") +
                                     (o.collectives_only ? "+collectives-only" : "")}};
  if (root) doc["provenance"] = collect_provenance(o.command_line);
  if (root && !o.collectives_only) measure_one_gpu(doc, o, std::ref(progress));
  comm.barrier();  // the other ranks wait here while rank 0 measures its GPU alone
  const nlohmann::json ranks = ranks_provenance(comm);
  const nlohmann::json collectives =
      o.skip_collectives
          ? nlohmann::json{{"skipped", "--skip-collectives"}}
          : measure_collectives(comm, world, {o.quick, o.link_kind}, std::ref(progress));
  if (!root) return 0;
  doc["provenance"]["ranks"] = ranks;
  doc["collectives"] = collectives;
  const int wide = count_wide(doc);
  doc["wide_spread_measurements"] = wide;
  moesim::write_text_file(o.out, doc.dump(1) + "\n");
  std::fprintf(stderr, "wrote %s (%d measurements flagged wide)\n", o.out.c_str(), wide);
  return 0;
}

int validate(RankComm& comm, const moesim::kernels::NcclComm& world, const ProfileOptions& o) {
  const bool root = comm.rank() == 0;
  // Rank 0 reads the profile; the other ranks (perhaps on other hosts) get its text.
  std::string text = root ? moesim::read_text_file(o.profile) : std::string();
  comm.broadcast_from_root(text);
  const nlohmann::json profile_doc = moesim::parse_strict_json(text, o.profile);
  const moesim::sim::MeasuredProfile model(profile_doc, o.profile);
  ProgressLine progress(15 * (comm.size() > 1 ? 2 : 1), root);
  nlohmann::json ep1;
  if (root) ep1 = run_validation(profile_doc, o.validate_runs, std::ref(progress));
  comm.barrier();
  const nlohmann::json ranks = ranks_provenance(comm);
  const nlohmann::json ep_cases =
      comm.size() > 1 ? run_ep_validation(comm, world, model, o.validate_runs, std::ref(progress))
                      : nlohmann::json::array();
  if (!root) return 0;
  nlohmann::json provenance = collect_provenance(o.command_line);
  provenance["ranks"] = ranks;
  const nlohmann::json doc = {{"schema_version", 1},  {"kind", "moesim-validation"},
                              {"profile", o.profile}, {"provenance", provenance},
                              {"result", ep1},        {"ep_cases", ep_cases}};
  moesim::write_text_file(o.out, doc.dump(1) + "\n");
  if (!o.timings_out.empty())
    moesim::write_text_file(o.timings_out,
                            executor_timings(provenance, ep1, ep_cases).dump(1) + "\n");
  const std::string table = accuracy_markdown(ep1) + "\n" + ep_markdown(ep_cases);
  if (!o.accuracy_out.empty()) moesim::write_text_file(o.accuracy_out, table);
  std::printf("%s", table.c_str());
  return 0;
}

// One rank's whole run; errors become exit codes (2: bad input, 3: CUDA/NCCL/I/O).
int run_rank(RankComm& comm, const ProfileOptions& o) {
  try {
    if (o.device >= 0 && comm.size() == 1)
      MOESIM_CUDA_CHECK(cudaSetDevice(o.device));
    else
      select_rank_device(comm);
    const auto world = make_world_nccl_comm(comm);
    return o.validate ? validate(comm, *world, o) : profile(comm, *world, o);
  } catch (const moesim::ConfigError& e) {
    std::fprintf(stderr, "moesim-profile (rank %d): %s\n", comm.rank(), e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "moesim-profile (rank %d): %s\n", comm.rank(), e.what());
    return 3;
  }
}

int launch(int argc, char** argv, const ProfileOptions& o) {
  const bool under_mpi = o.launcher == "mpi" || (o.launcher == "auto" && started_by_mpi_launcher());
  if (under_mpi) {
#ifdef MOESIM_HAVE_MPI
    const auto comm = make_mpi_comm(&argc, &argv);
    const int rc = run_rank(*comm, o);
    if (rc != 0 && comm->size() > 1) comm->abort_all(rc);
    return rc;
#else
    (void)argc;
    (void)argv;
    std::fprintf(stderr,
                 "moesim-profile: started by mpirun, but built without MPI (libopenmpi-dev)\n");
    return 2;
#endif
  }
  const int ranks = o.ranks > 0 ? o.ranks : std::max(1, count_gpus_without_cuda_init());
  return run_forked(ranks, [&o](RankComm& comm) { return run_rank(comm, o); });
}

}  // namespace

int main(int argc, char** argv) {
  ProfileOptions options;
  CLI::App app("moesim-profile");
  add_profile_options(app, options);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  options.command_line = joined_command_line(argc, argv);
  try {
    return launch(argc, argv, options);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "moesim-profile: %s\n", e.what());
    return 3;
  }
}
