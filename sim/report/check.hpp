#pragma once
// `moesim check`: compare two reports metric by metric against tolerances.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace moesim::sim {

// "-3%": fail when the metric falls by more than 3% of the baseline; "+0.001": when it rises by
// more than 0.001 (absolute). From a baseline of 0 a relative change is infinite: any move in the
// bad direction fails a relative tolerance (docs/ci-gate.md).
struct Tolerance {
  std::string metric;
  int bad_direction = +1;  // +1: a rise is bad; -1: a fall is bad
  double amount = 0;
  bool relative = false;
  std::string text;  // as the user wrote it
  // From the built-in default policy: a metric that neither report has (no price, so no cost) is
  // then not compared. Asked for by --fail-on or --policy, it must be there.
  bool from_default_policy = false;
};

// Parses "metric:-3%" (from --fail-on) or the value "-3%" of a policy entry; throws ConfigError.
Tolerance parse_tolerance(std::string_view metric, std::string_view text,
                          const std::string& source);
Tolerance parse_fail_on(std::string_view spec);
// The built-in default policy (scenarios/policies/check-default.json, compiled in) or a file.
std::vector<Tolerance> load_check_policy(const std::string& path_or_empty);

struct MetricComparison {
  std::string metric;
  double baseline = 0;
  double candidate = 0;
  double delta = 0;           // candidate - baseline
  double relative_delta = 0;  // delta / |baseline| (0 when the baseline is 0)
  std::optional<Tolerance> tolerance;
  // Empty when both reports hold a finite number; otherwise why not ("null in the candidate"). A
  // gated metric that cannot be compared is a regression.
  std::string not_compared;
  bool regression = false;
  double severity = 0;  // how far past its tolerance, in tolerances (for "worst first")
};

struct CheckResult {
  std::string scenario;
  std::vector<MetricComparison> metrics;
  bool regressed() const;
  // How many metrics both reports hold as finite numbers (0: nothing could be compared).
  std::size_t compared() const;
};

// Refuses (ConfigError) reports of different schema versions, and of differently named scenarios
// unless `other_scenario` (then the result's scenario reads "A vs B").
CheckResult compare_reports(const nlohmann::json& baseline, const std::string& baseline_source,
                            const nlohmann::json& candidate, const std::string& candidate_source,
                            const std::vector<Tolerance>& tolerances, bool other_scenario = false);
nlohmann::json load_report(const std::string& path);
// The same checks on a report's text, named `source` in errors (load_report reads the file, then
// comes here; the fuzz target comes here directly).
nlohmann::json parse_report(const std::string& text, const std::string& source);

std::string check_table_text(const CheckResult& result);
std::string check_table_markdown(const CheckResult& result);
std::string check_junit_xml(const CheckResult& result);
// GitHub Actions workflow commands, worst regression first, at most `limit`.
std::string check_github_annotations(const CheckResult& result, int limit = 10);

}  // namespace moesim::sim
