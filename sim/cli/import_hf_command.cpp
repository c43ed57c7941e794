#include <fmt/core.h>

#include <filesystem>
#include <numeric>

#include "base/config_error.hpp"
#include "base/terminal_text.hpp"
#include "base/text_file.hpp"
#include "sim/cli/commands.hpp"
#include "sim/cli/strict_options.hpp"
#include "sim/cost/memory_model.hpp"
#include "sim/spec/hf_import.hpp"
#include "sim/spec/scenario.hpp"

namespace moesim::cli {
namespace {

struct ImportHfOptions {
  std::string config;
  bool json = false;
  std::string scenario_out;  // write a ready scenario here
  std::string cluster = "h200x8";
};

// EP over as many of the cluster's GPUs as divide the experts; where the weights do not fit in
// that many, every GPU, with redundant slots making the experts a multiple of them (switch-c-2048's
// 2,048 experts on 72 GPUs: EP 8 needs 363 GiB a GPU). Sets the scenario's parallelism and
// placement; a model that fits neither way is written at every GPU, and `run` says what it needs.
int choose_expert_parallel(nlohmann::json& scenario, int gpus, int experts,
                           const std::string& out) {
  const int divisor = std::gcd(gpus, experts);
  scenario["parallelism"]["expert_parallel"] = divisor;
  // Any other problem of the scenario is reported as it is, by the parse, not taken for memory.
  const auto fits = [&] {
    return sim::check_memory_fit(sim::parse_scenario(scenario.dump(), out)).fits();
  };
  if (divisor == gpus || experts < gpus || fits()) return divisor;
  scenario["parallelism"]["expert_parallel"] = gpus;
  scenario["placement"]["redundant_experts"] = (gpus - experts % gpus) % gpus;
  return gpus;
}

// A scenario around the imported model: prefill of 4,096 tokens per GPU, uniform routing, EP over
// as many of the cluster's GPUs as divide the experts. Parsed before it is written, so it runs.
int write_scenario(const ImportHfOptions& o, const sim::ModelSpec& model) {
  refuse_output_over_input(o.scenario_out, std::vector<std::string>{o.config});
  nlohmann::json scenario{
      {"schema_version", 1},
      {"name", std::filesystem::path(o.scenario_out).stem().string()},
      {"description", fmt::format("{} from {} (moesim import-hf) on {}; edit to taste", model.name,
                                  o.config, o.cluster)},
      {"model", sim::model_spec_to_json(model)},
      {"cluster", o.cluster},
      {"parallelism", {{"expert_parallel", 1}}},
      {"placement", {{"strategy", "contiguous"}}},
      {"workload",
       {{"kind", "prefill"},
        {"tokens_per_gpu", 4096},
        {"context_tokens", 4096},
        {"routing", {{"generator", "uniform"}, {"seed", 1}}}}},
      {"profile", "auto"}};
  const int gpus = sim::parse_scenario(scenario.dump(), o.scenario_out).cluster.gpus();
  const int ep = choose_expert_parallel(scenario, gpus, model.experts, o.scenario_out);
  const std::string text = scenario.dump(2) + "\n";
  sim::parse_scenario(text, o.scenario_out);  // throws ConfigError naming what does not fit
  write_text_file(o.scenario_out, text);
  fmt::print("wrote {} ({} on {}, EP {}); run it with: moesim run {}\n",
             escape_for_terminal(o.scenario_out), escape_for_terminal(model.name),
             escape_for_terminal(o.cluster), ep, escape_for_terminal(o.scenario_out));
  return kExitOk;
}

int import_hf(const ImportHfOptions& o) {
  const auto model = sim::import_hf_config_file(o.config);
  if (!o.scenario_out.empty()) return write_scenario(o, model);
  if (o.json) {
    fmt::print("{}\n", sim::model_spec_to_json(model).dump(2));
    return kExitOk;
  }
  fmt::print("model          {}\n", escape_for_terminal(model.name));
  fmt::print("layers         {} ({} MoE)\n", model.layers, model.moe_layers);
  fmt::print("hidden         {}\n", model.hidden);
  fmt::print("experts        {} routed, top-{}, {} shared\n", model.experts, model.top_k,
             model.shared_experts);
  fmt::print("expert ffn     {}\n", model.expert_ffn);
  fmt::print("gating         {}{}\n", model.gating == sim::Gating::Sigmoid ? "sigmoid" : "softmax",
             model.expert_groups > 1
                 ? fmt::format(", {} groups, top-{} groups", model.expert_groups, model.topk_groups)
                 : "");
  fmt::print("parameters     {:.2f} B total, {:.2f} B active\n", model.total_params() / 1e9,
             model.active_params() / 1e9);
  return kExitOk;
}

}  // namespace

void add_import_hf_command(CLI::App& app, Action& action) {
  auto o = std::make_shared<ImportHfOptions>();
  auto* command = app.add_subcommand("import-hf", "A model spec from a HuggingFace config.json");
  command->add_option("config", o->config, "config.json")->required();
  command->add_flag("--json", o->json,
                    "print the spec as JSON (a scenario's \"model\" accepts it as it is)");
  command->add_option("--scenario", o->scenario_out,
                      "write a ready scenario with this model here (prefill, uniform routing)");
  command->add_option("--cluster", o->cluster, "the cluster preset of --scenario")
      ->capture_default_str();
  command->callback([&action, o, command] {
    // --cluster is the cluster of the scenario --scenario writes: without one it changes nothing.
    const auto unread =
        o->scenario_out.empty()
            ? first_given(*command, {{"--cluster",
                                      "is the cluster of the scenario --scenario writes; "
                                      "expected --scenario FILE with it"}})
            : std::nullopt;
    action = [o, unread] {
      refuse_unread(unread);
      return import_hf(*o);
    };
  });
}

}  // namespace moesim::cli
