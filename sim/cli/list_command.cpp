#include <fmt/core.h>

#include <nlohmann/json.hpp>

#include "sim/cli/commands.hpp"
#include "sim/spec/builtin_scenarios.hpp"
#include "sim/spec/cluster_presets.hpp"
#include "sim/spec/device_presets.hpp"
#include "sim/spec/model_presets.hpp"
#include "sim/spec/scenario.hpp"
#include "topology/nic_presets.hpp"
#include "topology/node_system.hpp"

namespace moesim::cli {
namespace {

void list_models() {
  fmt::print("{:<18} {:>6} {:>5} {:>8} {:>5} {:>6} {:>9} {:>9}  source\n", "model", "layers", "moe",
             "experts", "top-k", "shared", "total(B)", "active(B)");
  for (const auto& m : sim::model_presets())
    fmt::print("{:<18} {:>6} {:>5} {:>8} {:>5} {:>6} {:>9.1f} {:>9.1f}  {}\n", m.name, m.layers,
               m.moe_layers, m.experts, m.top_k, m.shared_experts, m.total_params() / 1e9,
               m.active_params() / 1e9, m.source);
}

void list_devices() {
  fmt::print("{:<10} {:>13} {:>12} {:>9} {:>10}  source\n", "device", "bf16 TFLOP/s", "fp8 TFLOP/s",
             "HBM GB", "HBM TB/s");
  for (const auto& d : sim::device_presets())
    fmt::print("{:<10} {:>13.0f} {:>12.0f} {:>9.0f} {:>10.2f}  {}\n", d.name, d.bf16_flops / 1e12,
               d.fp8_flops / 1e12, d.hbm_bytes / 1e9, d.hbm_bandwidth / 1e12, d.source);
  fmt::print("\n{:<10} {:>8}  source\n", "nic", "Gb/s");
  for (const auto& n : topology::nic_presets())
    fmt::print("{:<10} {:>8.0f}  {}\n", n.name, n.bandwidth * 8 / 1e9, n.source);
}

void list_clusters() {
  fmt::print("{:<14} {:<16} {:>5} {:>5} {:<12}  description\n", "cluster", "system", "nodes",
             "GPUs", "fabric");
  for (const auto& c : sim::cluster_presets()) {
    const auto* system = topology::find_node_system(c.system);
    fmt::print("{:<14} {:<16} {:>5} {:>5} {:<12}  {}\n", c.name, c.system, c.nodes,
               system ? c.nodes * system->gpus_per_node : 0, sim::choice_name(c.fabric),
               c.description);
  }
  fmt::print("\n{:<16} {:>10} {:>16}  description\n", "system", "GPUs/node", "scale-up GB/s/dir");
  for (const auto& s : topology::node_systems())
    fmt::print("{:<16} {:>10} {:>16.0f}  {}\n", s.name, s.gpus_per_node, s.scale_up_bandwidth / 1e9,
               s.description);
}

void list_scenarios() {
  for (const auto& builtin : sim::builtin_scenarios()) {
    const auto scenario = sim::parse_scenario(builtin.json, std::string(builtin.name));
    fmt::print("{:<30} {}\n", builtin.name, scenario.description);
  }
}

}  // namespace

void add_list_command(CLI::App& app, Action& action) {
  auto what = std::make_shared<std::string>();
  auto* command =
      app.add_subcommand("list", "Built-in presets: models, devices, clusters, scenarios");
  command->add_option("what", *what, "models | devices | clusters | scenarios")
      ->required()
      ->check(CLI::IsMember({"models", "devices", "clusters", "scenarios"}));
  command->callback([&action, what] {
    action = [what] {
      if (*what == "models")
        list_models();
      else if (*what == "devices")
        list_devices();
      else if (*what == "clusters")
        list_clusters();
      else
        list_scenarios();
      return kExitOk;
    };
  });
}

}  // namespace moesim::cli
