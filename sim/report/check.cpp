#include "sim/report/check.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

#include "base/config_error.hpp"
#include "base/json_fields.hpp"
#include "base/strict_json.hpp"
#include "sim/report/report.hpp"

namespace moesim::sim {
namespace {

using Json = nlohmann::json;

// The default policy, compiled in from scenarios/policies/check-default.json.
#include "check_policy_data.inc"

constexpr std::string_view kSummaryMetrics[] = {"step_time_ms",
                                                "tokens_per_s",
                                                "tokens_per_s_per_gpu",
                                                "imbalance_max_over_mean",
                                                "dropped_tokens",
                                                "drop_rate",
                                                "unrouted_tokens",
                                                "peak_memory_gib_per_gpu",
                                                "cost_per_million_tokens_usd"};

std::vector<Tolerance> parse_policy(const Json& document, const std::string& source) {
  ProblemList problems;
  FieldReader root(document, "", problems);
  root.string("description", "");
  std::vector<Tolerance> tolerances;
  if (const Json* entries = root.child("tolerances", true)) {
    FieldReader fields(*entries, "/tolerances", problems);
    for (const auto& [metric, value] : entries->items()) {
      const std::string text = fields.string(metric);
      try {
        tolerances.push_back(parse_tolerance(metric, text, source));
      } catch (const ConfigError& error) {
        for (const auto& problem : error.problems())
          problems.add(fields.path_of(metric), problem.message);
      }
    }
    fields.finish();
  }
  root.finish();
  problems.throw_if_any(source);
  return tolerances;
}

std::string format_value(double value) {
  if (value != 0 && (std::fabs(value) >= 1e6 || std::fabs(value) < 1e-3))
    return fmt::format("{:.4g}", value);
  return fmt::format("{:.4f}", value);
}

// Why `summary[key]` of one report cannot be compared; empty when it is a finite number.
std::string metric_problem(const Json& summary, const std::string& key, std::string_view which) {
  if (!summary.contains(key)) return fmt::format("missing from the {}", which);
  const Json& value = summary[key];
  if (value.is_null()) return fmt::format("null in the {}", which);
  if (!value.is_number())
    return fmt::format("not a number in the {} ({})", which, describe_json_value(value));
  if (!std::isfinite(value.get<double>())) return fmt::format("not finite in the {}", which);
  // Every gated metric is a time, a rate, a count, a size or a price: a negative one is a broken
  // report, and would pass as a large improvement (found by the hostile sweep).
  if (value.get<double>() < 0)
    return fmt::format("negative in the {} ({})", which, describe_json_value(value));
  return {};
}

std::string format_delta(const MetricComparison& m) {
  if (!m.not_compared.empty()) return "-";
  return m.baseline != 0 ? fmt::format("{:+.2f}%", 100 * m.relative_delta)
                         : fmt::format("{:+.4g}", m.delta);
}

std::string shown_value(const MetricComparison& m, double value) {
  return m.not_compared.empty() ? format_value(value) : "n/a";
}

// "REGRESSION", or "REGRESSION (null in the candidate)" for a gated metric that cannot be compared.
std::string verdict(const MetricComparison& m, std::string_view regression) {
  if (!m.regression) return m.tolerance ? "ok" : "not gated";
  return m.not_compared.empty() ? std::string(regression)
                                : fmt::format("{} ({})", regression, m.not_compared);
}

std::string xml_escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:  // XML 1.0 has no way to carry other control characters: shown, not passed
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' && c != '\r')
          out += fmt::format("\\x{:02x}", static_cast<unsigned char>(c));
        else
          out += c;
    }
  }
  return out;
}

// GitHub workflow commands end at a newline: text from a report (its scenario name) is encoded
// as GitHub documents (%, CR, LF; in a property also : and ,) so it cannot start a command.
std::string github_escape(std::string_view text, bool property = false) {
  std::string out;
  for (char c : text) {
    if (c == '%')
      out += "%25";
    else if (c == '\r')
      out += "%0D";
    else if (c == '\n')
      out += "%0A";
    else if (property && c == ':')
      out += "%3A";
    else if (property && c == ',')
      out += "%2C";
    else
      out += c;
  }
  return out;
}

// Checked where the tolerance is read, so the error names --fail-on or the policy file's entry.
void check_metric_name(const std::string& metric, const std::string& source) {
  if (std::find(std::begin(kSummaryMetrics), std::end(kSummaryMetrics), metric) !=
      std::end(kSummaryMetrics))
    return;
  const std::vector<std::string> names(std::begin(kSummaryMetrics), std::end(kSummaryMetrics));
  const auto suggestion = did_you_mean(metric, names);
  throw ConfigError(
      source, {{metric, fmt::format("unknown metric{}",
                                    suggestion ? fmt::format("; did you mean \"{}\"?", *suggestion)
                                               : "")}});
}

}  // namespace

Tolerance parse_tolerance(std::string_view metric, std::string_view text,
                          const std::string& source) {
  Tolerance t;
  t.metric = std::string(metric);
  t.text = std::string(text);
  check_metric_name(t.metric, source);
  std::string_view rest = text;
  const std::string expected = "expected a signed amount such as \"-3%\" or \"+0.001\"";
  if (rest.empty() || (rest.front() != '+' && rest.front() != '-'))
    throw ConfigError(source,
                      {{std::string(metric), fmt::format("{}, got \"{}\"", expected, text)}});
  t.bad_direction = rest.front() == '+' ? +1 : -1;
  rest.remove_prefix(1);
  if (!rest.empty() && rest.back() == '%') {
    t.relative = true;
    rest.remove_suffix(1);
  }
  const auto [end, error] = std::from_chars(rest.data(), rest.data() + rest.size(), t.amount);
  if (error != std::errc() || end != rest.data() + rest.size() || rest.empty() ||
      !std::isfinite(t.amount) || t.amount < 0)
    throw ConfigError(source,
                      {{std::string(metric), fmt::format("{}, got \"{}\"", expected, text)}});
  if (t.relative) t.amount /= 100;
  return t;
}

Tolerance parse_fail_on(std::string_view spec) {
  const auto colon = spec.find(':');
  if (colon == std::string_view::npos || colon == 0)
    throw ConfigError("--fail-on",
                      {{std::string(spec), "expected METRIC:AMOUNT such as tokens_per_s:-3%"}});
  return parse_tolerance(spec.substr(0, colon), spec.substr(colon + 1), "--fail-on");
}

std::vector<Tolerance> load_check_policy(const std::string& path) {
  if (path.empty()) {
    const auto& [name, text] = kCheckPolicies[0];  // check-default
    auto tolerances = parse_policy(parse_strict_json(text, std::string(name) + ".json"),
                                   std::string(name) + ".json");
    for (auto& tolerance : tolerances) tolerance.from_default_policy = true;
    return tolerances;
  }
  return parse_policy(parse_strict_json(read_text_file(path), path), path);
}

std::size_t CheckResult::compared() const {
  std::size_t count = 0;
  for (const auto& m : metrics) count += m.not_compared.empty() ? 1 : 0;
  return count;
}

bool CheckResult::regressed() const {
  for (const auto& m : metrics)
    if (m.regression) return true;
  return false;
}

Json load_report(const std::string& path) { return parse_report(read_text_file(path), path); }

Json parse_report(const std::string& text, const std::string& path) {
  Json report = parse_strict_json(text, path);
  ProblemList problems;
  if (!report.is_object()) {
    problems.add("", "expected a moesim report object, got " + describe_json_value(report));
  } else {
    // An integer that fits an int: 2^32 + 1 must not narrow to schema 1 (found by fuzzing).
    const auto version = report.find("schema_version");
    if (version == report.end() || !version->is_number_integer())
      problems.add("/schema_version", "missing required field (expected an integer)");
    else if (version->is_number_unsigned() ? version->get<std::uint64_t>() > 1'000'000
                                           : version->get<std::int64_t>() < 0)
      problems.add("/schema_version",
                   "expected an integer in [0, 1000000], got " + describe_json_value(*version));
    if (!report.contains("summary") || !report["summary"].is_object())
      problems.add("/summary", "missing required field (expected an object)");
    if (report.contains("scenario") && !report["scenario"].is_string())
      problems.add("/scenario", "expected the scenario's name, a string, got " +
                                    describe_json_value(report["scenario"]));
  }
  problems.throw_if_any(path);
  return report;
}

CheckResult compare_reports(const Json& baseline, const std::string& baseline_source,
                            const Json& candidate, const std::string& candidate_source,
                            const std::vector<Tolerance>& tolerances, bool other_scenario) {
  const int old_version = baseline["schema_version"].get<int>();
  const int new_version = candidate["schema_version"].get<int>();
  if (old_version != new_version)
    throw ConfigError(
        candidate_source,
        {{"/schema_version", fmt::format("report schema {} cannot be compared with {}'s schema {}; "
                                         "re-run both with the same moesim",
                                         new_version, baseline_source, old_version)}});
  if (old_version != kReportSchemaVersion)
    throw ConfigError(baseline_source,
                      {{"/schema_version",
                        fmt::format("expected {}, got {}", kReportSchemaVersion, old_version)}});
  const std::string old_scenario = baseline.value("scenario", "");
  const std::string new_scenario = candidate.value("scenario", "");
  if (old_scenario != new_scenario && !other_scenario)
    throw ConfigError(
        candidate_source,
        {{"/scenario",
          fmt::format("report of scenario \"{}\" is not compared with {}'s scenario \"{}\" "
                      "(hint: --other-scenario compares two variants; moesim compare shows "
                      "several side by side)",
                      new_scenario, baseline_source, old_scenario)}});
  CheckResult result;
  result.scenario =
      old_scenario == new_scenario ? old_scenario : old_scenario + " vs " + new_scenario;
  for (std::string_view metric : kSummaryMetrics) {
    const std::string key(metric);
    MetricComparison m;
    m.metric = key;
    for (const auto& t : tolerances)
      if (t.metric == key) m.tolerance = t;
    const auto old_problem = metric_problem(baseline["summary"], key, "baseline");
    const auto new_problem = metric_problem(candidate["summary"], key, "candidate");
    if (!old_problem.empty() || !new_problem.empty()) {
      const auto absent = [&key](const Json& report) {
        return !report["summary"].contains(key) || report["summary"][key].is_null();
      };
      // Ungated, or a default-policy metric neither report has (no price: no cost): not compared.
      if (!m.tolerance ||
          (absent(baseline) && absent(candidate) && m.tolerance->from_default_policy))
        continue;
      m.not_compared = old_problem.empty()   ? new_problem
                       : new_problem.empty() ? old_problem
                                             : old_problem + ", " + new_problem;
      m.regression = true;  // a gated metric that cannot be compared cannot pass
      m.severity = 1e9;
      result.metrics.push_back(m);
      continue;
    }
    m.baseline = baseline["summary"][key].get<double>();
    m.candidate = candidate["summary"][key].get<double>();
    m.delta = m.candidate - m.baseline;
    m.relative_delta = m.baseline != 0 ? m.delta / std::fabs(m.baseline) : 0;
    if (m.tolerance) {
      const double bad_move = m.delta * m.tolerance->bad_direction;
      // From a baseline of 0 the relative change is infinite: any move in the bad direction fails.
      const double change = !m.tolerance->relative ? bad_move
                            : m.baseline != 0      ? m.relative_delta * m.tolerance->bad_direction
                            : bad_move > 0         ? std::numeric_limits<double>::infinity()
                                                   : 0.0;
      const double limit = m.tolerance->amount;
      m.regression = change > limit + 1e-12;
      m.severity = std::isinf(change) ? 1e9 : limit > 0 ? change / limit : (change > 0 ? 1e9 : 0);
    }
    result.metrics.push_back(m);
  }
  return result;
}

std::string check_table_text(const CheckResult& r) {
  std::string text = fmt::format("{:<30} {:>14} {:>14} {:>10} {:>10}  {}\n", "metric", "old", "new",
                                 "change", "limit", "verdict");
  for (const auto& m : r.metrics)
    text += fmt::format("{:<30} {:>14} {:>14} {:>10} {:>10}  {}\n", m.metric,
                        shown_value(m, m.baseline), shown_value(m, m.candidate), format_delta(m),
                        m.tolerance ? m.tolerance->text : "-", verdict(m, "REGRESSION"));
  return text;
}

std::string check_table_markdown(const CheckResult& r) {
  std::string text = fmt::format(
      "### moesim check: {}\n\n| metric | old | new | change | limit | verdict "
      "|\n|---|---:|---:|---:|---:|---|\n",
      r.scenario);
  for (const auto& m : r.metrics)
    text += fmt::format("| {} | {} | {} | {} | {} | {} |\n", m.metric, shown_value(m, m.baseline),
                        shown_value(m, m.candidate), format_delta(m),
                        m.tolerance ? m.tolerance->text : "-",
                        m.regression ? verdict(m, ":x: regression")
                                     : (m.tolerance ? ":white_check_mark: ok" : "not gated"));
  return text;
}

std::string check_junit_xml(const CheckResult& r) {
  int failures = 0;
  for (const auto& m : r.metrics) failures += m.regression ? 1 : 0;
  std::string xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  xml += fmt::format("<testsuites name=\"moesim check\" tests=\"{}\" failures=\"{}\">\n",
                     r.metrics.size(), failures);
  xml += fmt::format("  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\">\n",
                     xml_escape(r.scenario), r.metrics.size(), failures);
  for (const auto& m : r.metrics) {
    const std::string name = fmt::format("{}: {} -> {} ({})", m.metric, shown_value(m, m.baseline),
                                         shown_value(m, m.candidate), format_delta(m));
    xml += fmt::format("    <testcase classname=\"moesim.check.{}\" name=\"{}\"",
                       xml_escape(r.scenario), xml_escape(name));
    if (!m.regression) {
      xml += "/>\n";
      continue;
    }
    const std::string message =
        m.not_compared.empty() ? fmt::format("{} moved {} beyond its tolerance {}: {} -> {}",
                                             m.metric, format_delta(m), m.tolerance->text,
                                             format_value(m.baseline), format_value(m.candidate))
                               : fmt::format("{} is gated ({}) but cannot be compared: {}",
                                             m.metric, m.tolerance->text, m.not_compared);
    xml += fmt::format(
        ">\n      <failure message=\"{}\" type=\"regression\">{}</failure>\n    </testcase>\n",
        xml_escape(message), xml_escape(message));
  }
  xml += "  </testsuite>\n</testsuites>\n";
  return xml;
}

std::string check_github_annotations(const CheckResult& r, int limit) {
  std::vector<const MetricComparison*> failed;
  for (const auto& m : r.metrics)
    if (m.regression) failed.push_back(&m);
  std::stable_sort(failed.begin(), failed.end(),
                   [](auto* a, auto* b) { return a->severity > b->severity; });
  std::string text;
  for (int i = 0; i < static_cast<int>(failed.size()) && i < limit; ++i) {
    const auto& m = *failed[i];
    if (!m.not_compared.empty()) {
      text += fmt::format("::error title=moesim check: {} not compared::{}\n",
                          github_escape(m.metric, true),
                          github_escape(fmt::format("{} {}: {}, tolerance {}", r.scenario, m.metric,
                                                    m.not_compared, m.tolerance->text)));
      continue;
    }
    text += fmt::format(
        "::error title=moesim check: {} regressed::{}\n", github_escape(m.metric, true),
        github_escape(fmt::format("{} {}: {} -> {} ({}), tolerance {}", r.scenario, m.metric,
                                  format_value(m.baseline), format_value(m.candidate),
                                  format_delta(m), m.tolerance->text)));
  }
  if (static_cast<int>(failed.size()) > limit)
    text += fmt::format("::notice title=moesim check::{} more regressions; see the job summary\n",
                        failed.size() - limit);
  return text;
}

}  // namespace moesim::sim
