// moesim._moesim: the simulator library (the same one the CLI links) for Python. Each function
// takes what the matching CLI command takes and returns its result as JSON text, which the Python
// package (python/moesim/__init__.py) turns into dicts and NumPy arrays. The GIL is released
// while anything is simulated or read, so threads can sweep.
#include <fmt/format.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <filesystem>
#include <thread>

#include "base/config_error.hpp"
#include "base/strict_json.hpp"
#include "base/text_file.hpp"
#include "sim/placement/strategies.hpp"
#include "sim/plan/plan.hpp"
#include "sim/report/check.hpp"
#include "sim/report/compare.hpp"
#include "sim/report/provenance.hpp"
#include "sim/report/report.hpp"
#include "sim/run/inputs.hpp"
#include "sim/run/simulate.hpp"
#include "sim/spec/scenario.hpp"
#include "sim/traces/import.hpp"
#include "sim/traces/stats.hpp"

namespace py = pybind11;
using namespace moesim;

namespace {

// A scenario from a built-in name or file path, or (json_text non-empty) from a dict's JSON.
sim::ScenarioSpec scenario_from(const std::string& name_or_path, const std::string& json_text) {
  if (!json_text.empty()) return sim::parse_scenario(json_text, "<dict>");
  return sim::load_scenario(name_or_path);
}

// As `moesim run`: report.json, report.csv and timeline.json in out_dir when given, byte for byte
// what the CLI writes.
std::string run(const std::string& name_or_path, const std::string& json_text,
                const std::string& trace, const std::string& profile, bool repeat_layers,
                const std::string& out_dir) {
  py::gil_scoped_release release;
  if (repeat_layers && trace.empty())  // as `moesim run --repeat-layers` without --trace
    throw ConfigError("repeat_layers",
                      {{"", "tiles the layers of the trace given as trace; expected a trace"}});
  auto scenario = scenario_from(name_or_path, json_text);
  if (!profile.empty()) scenario.profile.source = profile;
  sim::SimulationOverrides overrides;
  if (!trace.empty())
    overrides = sim::trace_overrides(trace, scenario, {.repeat_layers = repeat_layers});
  const auto inputs = sim::resolve_inputs(std::move(scenario), std::move(overrides));
  auto report = sim::simulate(inputs);
  // The same provenance as the CLI's report; a dict is no file and no built-in.
  report.provenance = sim::describe_inputs(inputs, json_text.empty() ? name_or_path : "", trace);
  if (!json_text.empty())
    for (auto& input : report.provenance.inputs)
      if (input.role == "scenario") input = {"scenario", "<dict>", "", false};
  const std::string json = sim::report_to_json(report).dump(2) + "\n";
  if (!out_dir.empty()) {
    std::filesystem::create_directories(out_dir);
    const std::filesystem::path dir(out_dir);
    write_text_file((dir / "report.json").string(), json);
    write_text_file((dir / "report.csv").string(), sim::report_to_csv(report));
    write_text_file((dir / "timeline.json").string(),
                    sim::report_to_timeline(report).dump() + "\n");
  }
  return json;
}

// As `moesim validate SCENARIO`: parses, checks and sizes the scenario (memory must fit) and
// reads the files it names.
std::string validate(const std::string& name_or_path, const std::string& json_text) {
  py::gil_scoped_release release;
  const auto scenario = scenario_from(name_or_path, json_text);
  sim::check_scenario_inputs(scenario);
  return nlohmann::json{{"scenario", scenario.name},
                        {"model", scenario.model.name},
                        {"gpus", scenario.cluster.gpus()}}
      .dump();
}

sim::ImportOptions import_options(std::uint32_t experts, std::uint32_t top_k, bool counts) {
  return {.experts = experts, .top_k = top_k, .counts = counts, .refuse_unused = true};
}

// As `moesim trace stats --json`.
std::string trace_stats(const std::string& path, std::uint32_t experts, std::uint32_t top_k,
                        bool counts) {
  py::gil_scoped_release release;
  auto source = sim::open_routing(path, import_options(experts, top_k, counts));
  return sim::trace_stats_to_json(sim::compute_trace_stats(*source)).dump();
}

// As `moesim place`: one placement for every layer from the routing's load summed over layers.
std::string place(const std::string& routing, const std::string& strategy, int gpus, int nodes,
                  int redundant, int groups, const std::string& placement_file, int map_layer,
                  std::uint32_t experts, std::uint32_t top_k, bool counts) {
  const auto choice = sim::choice_from_name<sim::PlacementStrategy>(strategy);
  if (!choice)
    throw ConfigError("strategy",
                      {{"", fmt::format("expected one of {}, got '{}'",
                                        sim::choice_list<sim::PlacementStrategy>(), strategy)}});
  py::gil_scoped_release release;
  auto source = sim::open_routing(routing, import_options(experts, top_k, counts));
  const auto stats = sim::compute_trace_stats(*source);
  sim::PlacementInputs inputs{.experts = static_cast<int>(stats.shape.experts),
                              .gpus = gpus,
                              .nodes = nodes,
                              .redundant = redundant,
                              .expert_load = std::vector<double>(stats.shape.experts, 0.0),
                              .groups = groups,
                              .coactivation = {},
                              .placement_file = placement_file,
                              .map_layer = map_layer};
  for (const auto& layer : stats.layers) {
    for (std::size_t e = 0; e < layer.tokens_per_expert.size(); ++e)
      inputs.expert_load[e] += static_cast<double>(layer.tokens_per_expert[e]);
    inputs.coactivation.resize(layer.coactivation.size(), 0.0);
    for (std::size_t i = 0; i < layer.coactivation.size(); ++i)
      inputs.coactivation[i] += static_cast<double>(layer.coactivation[i]);
  }
  const auto placement = sim::place_experts(*choice, inputs);
  return nlohmann::json{{"strategy", strategy},
                        {"gpus", placement.gpus},
                        {"slots", placement.slots},
                        {"gpu_load", sim::gpu_loads(placement, inputs.expert_load)},
                        {"imbalance", sim::placement_imbalance(placement, inputs.expert_load)}}
      .dump();
}

// As `moesim plan --json`'s plan.json; every core unless `threads` says otherwise.
std::string plan(const std::string& path, const std::string& json_text, int threads) {
  py::gil_scoped_release release;
  const auto spec = json_text.empty() ? sim::load_plan(path) : sim::parse_plan(json_text, "<dict>");
  const int workers =
      threads > 0 ? threads : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  return sim::plan_json(spec, sim::run_plan(spec, workers)).dump();
}

nlohmann::json report_from(const std::string& path, const std::string& json_text) {
  return json_text.empty() ? sim::load_report(path) : parse_strict_json(json_text, "<dict>");
}

// As `moesim check BASELINE CANDIDATE`: each metric against its tolerance.
std::string check(const std::string& baseline_path, const std::string& baseline_text,
                  const std::string& candidate_path, const std::string& candidate_text,
                  const std::string& policy, const std::vector<std::string>& fail_on) {
  py::gil_scoped_release release;
  auto tolerances = sim::load_check_policy(policy);
  for (const auto& spec : fail_on) tolerances.push_back(sim::parse_fail_on(spec));
  const auto result = sim::compare_reports(
      report_from(baseline_path, baseline_text), baseline_text.empty() ? baseline_path : "<dict>",
      report_from(candidate_path, candidate_text),
      candidate_text.empty() ? candidate_path : "<dict>", tolerances);
  nlohmann::json metrics = nlohmann::json::array();
  for (const auto& m : result.metrics)
    metrics.push_back({{"metric", m.metric},
                       {"baseline", m.baseline},
                       {"candidate", m.candidate},
                       {"delta", m.delta},
                       {"relative_delta", m.relative_delta},
                       {"tolerance", m.tolerance ? m.tolerance->text : ""},
                       {"not_compared", m.not_compared},
                       {"regression", m.regression}});
  return nlohmann::json{{"scenario", result.scenario},
                        {"regressed", result.regressed()},
                        {"compared", result.compared()},
                        {"metrics", metrics}}
      .dump();
}

// As `moesim compare A B ...`: the reports' figures side by side (report/compare.hpp).
std::string compare(const std::vector<std::string>& paths, const std::vector<std::string>& texts) {
  py::gil_scoped_release release;
  std::vector<nlohmann::json> reports;
  std::vector<std::string> labels;
  for (std::size_t i = 0; i < paths.size(); ++i) {
    reports.push_back(report_from(paths[i], texts[i]));
    labels.push_back(texts[i].empty() ? paths[i] : fmt::format("<dict {}>", i));
  }
  const auto comparison = sim::compare_side_by_side(reports, labels);
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& row : comparison.rows) {
    nlohmann::json values = nlohmann::json::array();
    for (const auto& value : row.values) values.push_back(value ? nlohmann::json(*value) : nullptr);
    rows.push_back({{"figure", row.figure}, {"values", values}, {"texts", row.texts}});
  }
  return nlohmann::json{
      {"labels", comparison.labels}, {"scenarios", comparison.scenarios}, {"rows", rows}}
      .dump();
}

}  // namespace

PYBIND11_MODULE(_moesim, m) {
  m.doc() = "moesim's simulator library; use the moesim package, which wraps these.";
  static py::exception<ConfigError> config_error(m, "ConfigError", PyExc_ValueError);
  // The CLI's "file: /path: message" as the message; source and problems as attributes.
  py::register_exception_translator([](std::exception_ptr thrown) {
    try {
      if (thrown) std::rethrow_exception(thrown);
    } catch (const ConfigError& error) {
      py::list problems;
      for (const auto& problem : error.problems())
        problems.append(py::make_tuple(problem.where, problem.message));
      py::object instance = py::handle(config_error.ptr())(error.what());
      instance.attr("source") = error.source();
      instance.attr("problems") = problems;
      PyErr_SetObject(config_error.ptr(), instance.ptr());
    }
  });
  using py::arg;
  m.def("run", &run, arg("name_or_path"), arg("json_text"), arg("trace"), arg("profile"),
        arg("repeat_layers"), arg("out_dir"));
  m.def("validate", &validate, arg("name_or_path"), arg("json_text"));
  m.def("trace_stats", &trace_stats, arg("path"), arg("experts"), arg("top_k"), arg("counts"));
  m.def("place", &place, arg("routing"), arg("strategy"), arg("gpus"), arg("nodes"),
        arg("redundant"), arg("groups"), arg("placement_file"), arg("map_layer"), arg("experts"),
        arg("top_k"), arg("counts"));
  m.def("plan", &plan, arg("path"), arg("json_text"), arg("threads"));
  m.def("check", &check, arg("baseline_path"), arg("baseline_text"), arg("candidate_path"),
        arg("candidate_text"), arg("policy"), arg("fail_on"));
  m.def("compare", &compare, arg("paths"), arg("texts"));
}
