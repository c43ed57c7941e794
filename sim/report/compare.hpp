#pragma once
// `moesim compare`: several reports side by side, each figure with its delta from the first.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace moesim::sim {

struct ComparedRow {
  std::string figure;                         // "step_time_ms", "exposed combine_ms", ...
  std::vector<std::optional<double>> values;  // one per report; nullopt where it has none
  std::vector<std::string> texts;             // for figures that are words (profile, bottleneck)
};

struct Comparison {
  std::vector<std::string> labels;  // each report's file
  std::vector<std::string> scenarios;
  std::vector<ComparedRow> rows;
};

// The summary figures, the exposed time per phase and the bottleneck of each report (as
// load_report reads them; report/check.hpp). A report of another schema version is a ConfigError
// naming its label.
Comparison compare_side_by_side(const std::vector<nlohmann::json>& reports,
                                const std::vector<std::string>& labels);
// A table: a column per report, from the second on each value with "(+x.x%)" against the first.
std::string comparison_text(const Comparison& comparison);
// figure,<label>,... and a delta column per report after the first: <label> delta, relative.
std::string comparison_csv(const Comparison& comparison);

}  // namespace moesim::sim
