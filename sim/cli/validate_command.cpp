#include <fmt/core.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <vector>

#include "base/config_error.hpp"
#include "base/strict_json.hpp"
#include "base/terminal_text.hpp"
#include "sim/calibrate/timings.hpp"
#include "sim/cli/commands.hpp"
#include "sim/cost/measured_profile.hpp"
#include "sim/plan/plan.hpp"
#include "sim/plan/serving_pool_pairs.hpp"
#include "sim/run/inputs.hpp"
#include "sim/serving/request_log.hpp"
#include "sim/serving/serving_run.hpp"
#include "sim/serving/serving_spec.hpp"
#include "sim/serving/traffic_budget.hpp"
#include "sim/spec/builtin_scenarios.hpp"
#include "sim/spec/scenario.hpp"
#include "sim/traces/format.hpp"
#include "sim/traces/import.hpp"
#include "topology/cluster_graph.hpp"
#include "topology/topology_json.hpp"

namespace moesim::cli {
namespace {

// What a JSON document is, from the fields only that kind has.
enum class JsonKind {
  Scenario,
  Topology,
  Profile,
  Plan,
  RoutingCounts,
  CalibrationTimings,
  Serving
};

JsonKind json_kind(const nlohmann::json& document) {
  if (!document.is_object()) return JsonKind::Scenario;  // its parser reports "expected an object"
  if (document.contains("vertices") || document.contains("links")) return JsonKind::Topology;
  if (document.contains("format") && document.contains("records"))
    return JsonKind::CalibrationTimings;
  if (document.contains("provenance") && document.contains("models")) return JsonKind::Profile;
  if (document.contains("search") && document.contains("base")) return JsonKind::Plan;
  if (document.contains("traffic")) return JsonKind::Serving;
  // a count matrix may carry "model" but never these: a scenario with stray count-matrix fields
  // is checked (and refused) as the scenario run would take it for
  for (const char* key : {"schema_version", "cluster", "parallelism", "workload"})
    if (document.contains(key)) return JsonKind::Scenario;
  if (document.contains("tokens_per_expert") || document.contains("files") ||
      document.contains("pattern"))
    return JsonKind::RoutingCounts;
  return JsonKind::Scenario;
}

std::string validate_scenario(const sim::ScenarioSpec& scenario) {
  sim::check_scenario_inputs(scenario);
  return fmt::format("scenario \"{}\": {} on {} GPUs", escape_for_terminal(scenario.name),
                     escape_for_terminal(scenario.model.name), scenario.cluster.gpus());
}

// Reads every block so each checksum and id is checked, not only the header.
std::string validate_routing(const std::string& file) {
  auto source = sim::open_routing(file);
  const auto shape = source->shape();
  sim::TraceBlock block;
  std::size_t blocks = 0;
  while (source->next(block)) ++blocks;
  return fmt::format("routing: {} layers, {} experts, top-{}{}", shape.layers, shape.experts,
                     shape.top_k,
                     source->counts() ? " (count matrix)" : fmt::format(", {} blocks", blocks));
}

// A serving plan sweeps every candidate at every batch limit: the count its grid check bounds,
// and for pools of any shape the pairs that crossing can make.
std::string describe_plan(const sim::PlanSpec& plan) {
  if (!plan.serving) return fmt::format("plan: {} candidates", plan.candidates.size());
  const std::size_t batches = plan.serving->max_batch_per_rank.size();
  const std::size_t n = plan.candidates.size();
  std::string text =
      fmt::format("plan: {} candidates x {} batch limits = {} options", n, batches, n * batches);
  // Disaggregated, the shapes that fit are crossed (docs/plan.md, "Prefill and decode shapes").
  if (plan.serving->disaggregated && plan.serving->cross_shapes)
    text += fmt::format(", crossed into at most {} prefill/decode pairs",
                        batches * std::min(n * n, sim::kMaxPoolPairs + n));
  return text;
}

// A request log (docs/serving.md): a .jsonl file, or a .csv whose start reads as one to the log's
// parser (a routing trace's CSV header starts "step,layer").
bool is_request_log(const std::string& file) {
  std::string extension = std::filesystem::path(file).extension().string();
  std::transform(extension.begin(), extension.end(), extension.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (extension == ".jsonl") return true;
  if (extension != ".csv") return false;
  std::ifstream in(file, std::ios::binary);
  std::string head(64 * 1024, '\0');  // comments and a header fit; the log is read in full later
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<std::size_t>(in.gcount()));
  return sim::starts_like_request_log(head);
}

std::string describe_request_log(const std::string& file) {
  const auto requests = sim::load_request_log(file);
  return fmt::format(
      "request log: {} requests over {:.3f} s", requests.size(),
      requests.empty() ? 0.0 : requests.back().arrival_s - requests.front().arrival_s);
}

// Poisson traffic drawn as `serve` and `plan` draw it: one that makes no request is refused here
// as there (a rate and duration the schema allows can still draw none).
void check_traffic_makes_requests(const sim::TrafficSpec& traffic, const std::string& file,
                                  const std::string& path) {
  try {
    sim::refuse_no_requests(traffic, sim::generate_requests(traffic));
  } catch (const sim::ServingBudgetError& error) {
    throw ConfigError(file, {{path, error.what()}});
  }
}

std::string validate_one(const std::string& file) {
  if (sim::find_builtin_scenario(file) != nullptr)
    return validate_scenario(sim::load_scenario(file));
  if (!std::filesystem::exists(file))
    throw ConfigError(file, {{"", "no such file, and no built-in scenario of that name"}});
  if (is_request_log(file)) return describe_request_log(file);
  if (std::filesystem::path(file).extension() != ".json") return validate_routing(file);
  const std::string text = read_text_file(file);
  switch (json_kind(parse_strict_json(text, file))) {
    case JsonKind::Topology: {
      const auto graph = topology::parse_topology(text, file);
      return fmt::format("topology: {} GPUs, {} links", graph.gpus().size(), graph.link_count());
    }
    case JsonKind::Profile: {
      const auto profile = sim::load_profile(file);
      return fmt::format("profile of {} for {} models", profile.gpu_name(),
                         profile.model_names().size());
    }
    case JsonKind::Plan: {
      const auto plan = sim::parse_plan(text, file);
      if (plan.serving)
        check_traffic_makes_requests(plan.serving->traffic, file, "/serving/traffic");
      return describe_plan(plan);
    }
    case JsonKind::RoutingCounts:
      return validate_routing(file);
    case JsonKind::CalibrationTimings:
      return fmt::format("calibration timings: {} records",
                         sim::read_timings(parse_strict_json(text, file), file).size());
    case JsonKind::Scenario:
      return validate_scenario(sim::parse_scenario(text, file));
    case JsonKind::Serving: {
      const auto spec =
          sim::parse_serving(text, file, std::filesystem::path(file).parent_path().string());
      check_traffic_makes_requests(spec.traffic, file, "/traffic");
      return fmt::format("serving: {}", spec.disaggregated ? "prefill/decode pools" : "aggregated");
    }
  }
  return "ok";
}

// Every file is checked, and every problem of every bad file listed, before the exit code says
// whether any was bad.
int validate(const std::vector<std::string>& files) {
  int bad = 0;
  for (const auto& file : files) {
    try {
      fmt::print("{}: ok ({})\n", escape_for_terminal(file), validate_one(file));
    } catch (const ConfigError& error) {
      fmt::print(stderr, "error: {}\n", error.what());
      ++bad;
    }
  }
  if (bad > 0 && files.size() > 1)
    fmt::print(stderr, "{} of {} file{} invalid\n", bad, files.size(),
               files.size() == 1 ? "" : "s");
  return bad > 0 ? kExitInvalidInput : kExitOk;
}

}  // namespace

void add_validate_command(CLI::App& app, Action& action) {
  auto files = std::make_shared<std::vector<std::string>>();
  auto* command = app.add_subcommand(
      "validate",
      "Check scenarios, routing traces, profiles, topologies, "
      "plans and calibration timings; every file is checked; exit 2 if any is bad");
  command->add_option("files", *files, "files (or built-in scenario names) to check")->required();
  command->callback([&action, files] { action = [files] { return validate(*files); }; });
}

}  // namespace moesim::cli
