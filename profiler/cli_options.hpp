#pragma once
// moesim-profile's command line (CLI11).
#include <CLI/CLI.hpp>
#include <string>

namespace moesim::profiler {

struct ProfileOptions {
  bool quick = false;
  bool validate = false;
  bool collectives_only = false;
  bool skip_collectives = false;
  std::string out = "profile.json";
  std::string profile;
  std::string accuracy_out;
  std::string timings_out;
  std::string launcher = "auto";  // auto, mpi, fork
  std::string link_kind = "unknown";
  int ranks = 0;    // built-in launcher: 0 = one per visible GPU
  int device = -1;  // -1: the rank's host-local index
  int validate_runs = 20;
  std::string command_line;
};

// Registers every option on `app`, writing into `options`; validate needs --profile.
void add_profile_options(CLI::App& app, ProfileOptions& options);
std::string joined_command_line(int argc, char** argv);

}  // namespace moesim::profiler
