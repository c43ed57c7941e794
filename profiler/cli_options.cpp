#include "profiler/cli_options.hpp"

namespace moesim::profiler {

void add_profile_options(CLI::App& app, ProfileOptions& o) {
  app.description(
      "Measures the attached GPUs and writes a profile JSON (docs/profile-format.md), one process "
      "per GPU: under mpirun, or started by the built-in launcher. --validate runs the MoE-layer "
      "executor at EP=1 and at EP=ranks and compares it with a profile.");
  app.add_flag("--quick", o.quick, "fewer sizes and runs (a smoke test, not a shipped profile)");
  app.add_option("--out", o.out, "where the profile (or the validation report) goes")
      ->capture_default_str();
  auto* validate = app.add_flag("--validate", o.validate, "run the executor against --profile");
  // Not checked here: only rank 0 reads it (and broadcasts it), perhaps on another host.
  app.add_option("--profile", o.profile, "the profile --validate compares against");
  app.add_option("--accuracy-out", o.accuracy_out, "--validate: the accuracy tables (Markdown)");
  app.add_option("--timings-out", o.timings_out,
                 "--validate: every executor timing, EP=1 and EP=ranks (JSON)");
  app.add_option("--validate-runs", o.validate_runs, "--validate: timed runs per case")
      ->check(CLI::Range(20, 1000))
      ->capture_default_str();
  app.add_flag("--collectives-only", o.collectives_only, "measure the collectives section alone");
  app.add_flag("--skip-collectives", o.skip_collectives, "leave the collectives section out");
  app.add_option("--launcher", o.launcher,
                 "auto: mpi when started by mpirun, else the built-in launcher (fork)")
      ->check(CLI::IsMember({"auto", "mpi", "fork"}))
      ->capture_default_str();
  app.add_option("--ranks", o.ranks, "built-in launcher: processes to start (0: one per GPU)")
      ->check(CLI::Range(0, 1024))
      ->capture_default_str();
  app.add_option("--device", o.device, "GPU of a single-rank run (default: the host-local rank)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--link-kind", o.link_kind, "what joins the GPUs, recorded in the profile")
      ->check(CLI::IsMember({"nvlink", "pcie", "unknown"}))
      ->capture_default_str();
  validate->needs(app.get_option("--profile"));
  app.get_option("--collectives-only")->excludes("--skip-collectives");
  app.get_option("--collectives-only")->excludes(validate);
}

std::string joined_command_line(int argc, char** argv) {
  std::string line;
  for (int i = 0; i < argc; ++i) {
    if (i > 0) line.push_back(' ');
    line.append(argv[i]);
  }
  return line;
}

}  // namespace moesim::profiler
