#include <fmt/core.h>

#include <cstdlib>
#include <fstream>
#include <set>
#include <string>

#include "base/terminal_text.hpp"
#include "base/text_file.hpp"
#include "sim/cli/commands.hpp"
#include "sim/report/check.hpp"
#include "sim/report/provenance.hpp"
#include "sim/report/report.hpp"
#include "sim/run/simulate.hpp"

namespace moesim::cli {
namespace {

struct CheckOptions {
  std::vector<std::string> reports;  // BASELINE CANDIDATE
  std::string scenario;              // or re-run this scenario against --baseline
  std::string baseline;
  std::string trace;
  bool repeat_layers = false;
  std::vector<std::string> fail_on;
  std::string policy;
  std::string junit;
  bool strict = false;          // provenance beyond the trace must match
  bool other_scenario = false;  // compare reports of differently named scenarios
};

// Inputs other than the trace under test should match, or the comparison measures them too.
bool provenance_matches(const nlohmann::json& baseline, const nlohmann::json& candidate,
                        bool strict) {
  const auto differences = sim::provenance_differences(baseline, candidate);
  for (const auto& difference : differences)
    fmt::print(stderr, "{}: provenance differs beyond the trace: {}\n",
               strict ? "error" : "warning", escape_for_terminal(difference));
  return differences.empty();
}

// The policy, then each --fail-on over its entry for that metric; read before any report or
// simulation, so a bad gate is refused before that work.
std::vector<sim::Tolerance> gate_tolerances(const CheckOptions& o) {
  auto tolerances = sim::load_check_policy(o.policy);
  std::set<std::string> gated_on_command_line;
  for (const auto& spec : o.fail_on) {
    const auto tolerance = sim::parse_fail_on(spec);
    // A second gate on one metric would replace the first: which one the user meant is unknown.
    if (!gated_on_command_line.insert(tolerance.metric).second)
      throw ConfigError("--fail-on", {{"", fmt::format("{} is gated twice ('{}'); expected one "
                                                       "--fail-on a metric",
                                                       tolerance.metric, spec)}});
    // On the command line it replaces the policy's gate on the same metric.
    std::erase_if(tolerances, [&](const auto& t) { return t.metric == tolerance.metric; });
    tolerances.push_back(tolerance);
  }
  return tolerances;
}

int check(const CheckOptions& o) {
  if (!o.junit.empty()) {
    std::vector<std::string> inputs = o.reports;
    for (const auto* input : {&o.baseline, &o.scenario, &o.trace, &o.policy})
      if (!input->empty()) inputs.push_back(*input);
    refuse_output_over_input(o.junit, inputs);
  }
  const auto tolerances = gate_tolerances(o);
  nlohmann::json baseline, candidate;
  std::string baseline_source, candidate_source;
  if (!o.scenario.empty()) {
    if (o.baseline.empty() || !o.reports.empty()) {
      fmt::print(stderr, "error: --scenario needs --baseline REPORT and no positional reports\n");
      return kExitInvalidInput;
    }
    baseline_source = o.baseline;
    baseline = sim::load_report(o.baseline);
    candidate_source = o.scenario;
    auto scenario = sim::load_scenario(o.scenario);
    sim::SimulationOverrides overrides;
    if (!o.trace.empty())
      overrides = sim::trace_overrides(o.trace, scenario, {.repeat_layers = o.repeat_layers});
    const auto inputs = sim::resolve_inputs(std::move(scenario), std::move(overrides));
    auto report = sim::simulate(inputs);
    report.provenance = sim::describe_inputs(inputs, o.scenario, o.trace);
    candidate = sim::report_to_json(report);
  } else {
    if (o.reports.size() != 2) {
      fmt::print(stderr,
                 "error: expected BASELINE and CANDIDATE reports (or --scenario S --baseline R)\n");
      return kExitInvalidInput;
    }
    baseline_source = o.reports[0];
    candidate_source = o.reports[1];
    baseline = sim::load_report(baseline_source);
    candidate = sim::load_report(candidate_source);
  }
  const bool same_inputs = provenance_matches(baseline, candidate, o.strict);
  const auto result = sim::compare_reports(baseline, baseline_source, candidate, candidate_source,
                                           tolerances, o.other_scenario);
  fmt::print("{}", escape_for_terminal(sim::check_table_text(result), /*keep_newlines=*/true));
  if (!o.junit.empty()) {
    write_text_file(o.junit, sim::check_junit_xml(result));
  }
  if (const char* actions = std::getenv("GITHUB_ACTIONS");
      actions && std::string(actions) == "true") {
    fmt::print("{}",
               escape_for_terminal(sim::check_github_annotations(result), /*keep_newlines=*/true));
    if (const char* summary = std::getenv("GITHUB_STEP_SUMMARY"))
      append_text_file(summary, sim::check_table_markdown(result));
  }
  if (result.compared() == 0) {
    fmt::print(stderr, "moesim check: the reports share no metric to compare\n");
    return kExitNothingCompared;
  }
  bool gated = false;
  for (const auto& m : result.metrics) gated = gated || m.tolerance.has_value();
  if (!gated) {
    fmt::print(stderr, "moesim check: no tolerance applies to any metric; nothing was gated\n");
    return kExitNothingCompared;
  }
  if (o.strict && !same_inputs) {
    fmt::print("moesim check: FAIL (--strict: the reports' inputs differ beyond the trace)\n");
    return kExitRegression;
  }
  fmt::print("{}\n", result.regressed() ? "moesim check: REGRESSION" : "moesim check: pass");
  return result.regressed() ? kExitRegression : kExitOk;
}

}  // namespace

void add_check_command(CLI::App& app, Action& action) {
  auto o = std::make_shared<CheckOptions>();
  auto* command = app.add_subcommand(
      "check",
      "Compare two reports (or re-run a scenario) against tolerances; exit 1 on regression");
  command->add_option("reports", o->reports, "BASELINE.json CANDIDATE.json");
  command->add_option("--scenario", o->scenario, "re-run this scenario as the candidate");
  command->add_option("--baseline", o->baseline, "baseline report for --scenario");
  command->add_option("--trace", o->trace, "routing trace to replay in the re-run");
  command->add_flag("--repeat-layers", o->repeat_layers,
                    "tile a trace with fewer layers over the model's");
  command->add_option("--fail-on", o->fail_on,
                      "METRIC:AMOUNT, e.g. tokens_per_s:-3% or drop_rate:+0.001 (repeatable)");
  command->add_option("--policy", o->policy,
                      "tolerance policy JSON (default: the built-in policy)");
  command->add_option("--junit", o->junit, "write JUnit XML here");
  command->add_flag("--strict", o->strict,
                    "fail (exit 1) when the reports' provenance differs in anything but the "
                    "trace: moesim version, scenario or profile");
  command->add_flag("--other-scenario", o->other_scenario,
                    "compare reports of differently named scenarios (an A/B of two variants)");
  command->callback([&action, o] { action = [o] { return check(*o); }; });
}

}  // namespace moesim::cli
