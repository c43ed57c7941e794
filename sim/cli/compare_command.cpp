// moesim compare: several reports side by side with deltas from the first.
#include <fmt/core.h>

#include "base/terminal_text.hpp"
#include "base/text_file.hpp"
#include "sim/cli/commands.hpp"
#include "sim/report/check.hpp"
#include "sim/report/compare.hpp"
#include "sim/report/provenance.hpp"

namespace moesim::cli {
namespace {

struct CompareOptions {
  std::vector<std::string> reports;
  std::string csv;
};

int compare(const CompareOptions& o) {
  if (!o.csv.empty()) refuse_output_over_input(o.csv, o.reports);
  std::vector<nlohmann::json> reports;
  for (const auto& path : o.reports) {
    // None of these is compared: the per-layer, per-GPU and per-link arrays (most of a large
    // report) are let go at once, so 64 reports of 2,048 GPUs do not sit in memory together.
    nlohmann::json& report = reports.emplace_back(sim::load_report(path));
    for (const char* key : {"layers", "per_gpu", "links"}) report.erase(key);
  }
  const auto comparison = sim::compare_side_by_side(reports, o.reports);
  fmt::print("{}", escape_for_terminal(sim::comparison_text(comparison), /*keep_newlines=*/true));
  // What differs in the inputs, so a delta can be read for what it is.
  for (std::size_t r = 1; r < reports.size(); ++r)
    for (const auto& difference : sim::provenance_differences(reports[0], reports[r]))
      fmt::print("note: {} vs {}: {}\n", escape_for_terminal(o.reports[0]),
                 escape_for_terminal(o.reports[r]), escape_for_terminal(difference));
  if (!o.csv.empty()) {
    write_text_file(o.csv, sim::comparison_csv(comparison));
    fmt::print("wrote {}\n", escape_for_terminal(o.csv));
  }
  return kExitOk;
}

}  // namespace

void add_compare_command(CLI::App& app, Action& action) {
  auto o = std::make_shared<CompareOptions>();
  auto* command = app.add_subcommand(
      "compare", "Several reports side by side, each figure with its delta from the first");
  command->add_option("reports", o->reports, "REPORT.json REPORT.json ... (the first is the base)")
      ->required()
      ->expected(2, 64);
  command->add_option("--csv", o->csv, "also write the table as CSV here");
  command->callback([&action, o] { action = [o] { return compare(*o); }; });
}

}  // namespace moesim::cli
