#include <fmt/core.h>

#include "sim/cli/commands.hpp"
#include "sim/spec/hf_import.hpp"

namespace moesim::cli {
namespace {

int import_hf(const std::string& path, bool json) {
  const auto model = sim::import_hf_config_file(path);
  if (json) {
    fmt::print("{}\n", sim::model_spec_to_json(model).dump(2));
    return kExitOk;
  }
  fmt::print("model          {}\n", model.name);
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
  auto path = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  auto* command = app.add_subcommand("import-hf", "A model spec from a HuggingFace config.json");
  command->add_option("config", *path, "config.json")->required();
  command->add_flag("--json", *json, "print the spec as JSON");
  command->callback(
      [&action, path, json] { action = [path, json] { return import_hf(*path, *json); }; });
}

}  // namespace moesim::cli
