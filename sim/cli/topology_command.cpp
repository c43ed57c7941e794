// `moesim topology show NAME|FILE [--dot|--json]`: a built-in cluster, a node system (with
// --nodes), or a topology JSON file, summarised or exported.
#include <fmt/core.h>

#include <filesystem>
#include <map>
#include <vector>

#include "base/config_error.hpp"
#include "base/json_fields.hpp"
#include "base/terminal_text.hpp"
#include "sim/cli/commands.hpp"
#include "sim/cli/strict_options.hpp"
#include "sim/spec/cluster_presets.hpp"
#include "topology/bandwidth_queries.hpp"
#include "topology/cluster_builders.hpp"
#include "topology/dot_export.hpp"
#include "topology/routes.hpp"
#include "topology/topology_json.hpp"
#include "topology/topology_limits.hpp"

namespace moesim::cli {
namespace {

struct ShowOptions {
  std::string what;
  int nodes = 1;
  std::string fabric;  // empty: the preset's, or a fabric only when the nodes need one
  double oversubscription = 1.0;
  bool dot = false;
  bool json = false;
};

topology::FabricKind fabric_or(const std::string& name, topology::FabricKind fallback) {
  if (name.empty()) return fallback;
  if (const auto kind = topology::parse_fabric_kind(name)) return *kind;
  throw ConfigError("--fabric", {{"", fmt::format("expected one of \"none\", \"ib-fat-tree\", "
                                                  "\"roce\", got \"{}\"",
                                                  name)}});
}

topology::ClusterGraph resolve(const ShowOptions& options) {
  if (const auto* preset = sim::find_cluster_preset(options.what)) {
    auto fabric = preset->fabric;
    auto params =
        topology::cluster_params(preset->system, preset->nodes, "",
                                 fabric_or(options.fabric, fabric), preset->oversubscription);
    auto graph = topology::build_cluster(params);
    graph.set_name(preset->name);
    return graph;
  }
  if (const auto* system = topology::find_node_system(options.what)) {
    if (static_cast<std::size_t>(options.nodes) * system->gpus_per_node >
        topology::kMaxTopologyGpus)  // the GPUs scenarios and topology files may have
      throw ConfigError("--nodes", {{"", fmt::format("expected at most {} GPUs ({} a node), got "
                                                     "{} nodes",
                                                     topology::kMaxTopologyGpus,
                                                     system->gpus_per_node, options.nodes)}});
    const bool one_domain =
        options.nodes * system->gpus_per_node <= system->gpus_per_scale_up_domain;
    const auto fallback =
        one_domain ? topology::FabricKind::None : topology::FabricKind::InfinibandFatTree;
    return topology::build_cluster(topology::cluster_params(system->name, options.nodes, "",
                                                            fabric_or(options.fabric, fallback),
                                                            options.oversubscription));
  }
  if (std::filesystem::exists(options.what)) return topology::load_topology_file(options.what);
  std::vector<std::string> names;
  for (const auto& preset : sim::cluster_presets()) names.push_back(preset.name);
  for (const auto& system : topology::node_systems()) names.push_back(system.name);
  const auto suggestion = did_you_mean(options.what, names);
  throw ConfigError(
      options.what,
      {{"", fmt::format("not a cluster preset, a node system or a topology file{}",
                        suggestion ? fmt::format(" (did you mean \"{}\"?)", *suggestion) : "")}});
}

std::string rate(BytesPerSecond bandwidth) {
  return bandwidth >= 1e12 ? fmt::format("{:.2f} TB/s", bandwidth / 1e12)
                           : fmt::format("{:.0f} GB/s", bandwidth / 1e9);
}

void print_summary(const topology::ClusterGraph& graph) {
  using topology::VertexKind;
  fmt::print("{}: {}\n", escape_for_terminal(graph.name()),
             escape_for_terminal(graph.description()));
  fmt::print("  GPUs          {} in {} scale-up domain(s), {} node(s)\n", graph.gpus().size(),
             graph.domain_count(), graph.node_count());
  std::string vertices;
  for (std::size_t k = 0; k < topology::vertex_kind_names().size(); ++k)
    if (const auto count = graph.count(static_cast<VertexKind>(k)))
      vertices += fmt::format("{}{} {}", vertices.empty() ? "" : ", ",
                              topology::vertex_kind_names()[k], count);
  fmt::print("  vertices      {} ({})\n", graph.vertex_count(), vertices);
  std::string links;
  for (std::size_t k = 0; k < topology::link_kind_names().size(); ++k)
    if (const auto count = graph.count(static_cast<topology::LinkKind>(k)))
      links +=
          fmt::format("{}{} {}", links.empty() ? "" : ", ", topology::link_kind_names()[k], count);
  fmt::print("  links         {} directed ({})\n", graph.link_count(), links);
  fmt::print("  fabric tiers  {}\n", graph.tiers());
  if (graph.gpus().empty()) return;
  topology::Router router(graph);
  const auto injection = topology::injection_bandwidth(router, 0);
  fmt::print("  GPU 0 inject  scale-up {}, scale-out {}\n", rate(injection.scale_up),
             injection.scale_out > 0 ? rate(injection.scale_out) : std::string("none"));
  const auto bisection = topology::bisection_bandwidth(graph);
  fmt::print("  bisection     {} (narrowest split: by {})\n", rate(bisection.bandwidth),
             bisection.split);
  // One example route per class from GPU 0: same domain, other domain same rail, other rail.
  const auto& g = graph.graph();
  const auto gpus = graph.gpus();
  const auto& first = g[gpus[0]];
  std::map<std::string, int> examples;
  for (std::size_t rank = 1; rank < gpus.size(); ++rank) {
    const auto& info = g[gpus[rank]];
    const std::string label = info.domain == first.domain ? "same domain"
                              : info.rail == first.rail   ? "other domain, same rail"
                                                          : "other domain, other rail";
    examples.emplace(label, static_cast<int>(rank));
  }
  for (const auto& [label, rank] : examples) {
    const auto route = router.route(0, rank);
    fmt::print("  route 0->{:<5} {}: {} hops, {:g} path(s), {}, {:.2f} us\n", rank, label,
               route.hops(), route.paths(), rate(route.bottleneck()), route.latency() * 1e6);
  }
}

// --nodes and --oversubscription build a node system; a cluster preset brings its own nodes and
// fabric (--fabric may replace the fabric), a topology file all three. Given there, they would
// change nothing, so they are refused. An unknown WHAT is left to resolve to report.
std::vector<UnreadOption> unread_for(const std::string& what) {
  if (topology::find_node_system(what) != nullptr) return {};
  const bool preset = sim::find_cluster_preset(what) != nullptr;
  if (!preset && !std::filesystem::exists(what)) return {};
  const std::string is = preset ? "WHAT is a cluster preset, with its own nodes and leaf ratio"
                                : "WHAT is a topology file, with its own nodes and links";
  std::vector<UnreadOption> unread{
      {"--nodes", "applies when WHAT is a node system (hgx-h200, ...); " + is},
      {"--oversubscription", "applies when WHAT is a node system (hgx-h200, ...); " + is}};
  if (!preset)
    unread.push_back({"--fabric", "applies to a cluster preset or a node system; " + is});
  return unread;
}

int show(const ShowOptions& options) {
  const auto graph = resolve(options);
  if (options.dot)
    fmt::print("{}", topology::to_dot(graph));
  else if (options.json)
    fmt::print("{}\n", topology::topology_to_json(graph).dump(1));
  else
    print_summary(graph);
  return kExitOk;
}

}  // namespace

void add_topology_command(CLI::App& app, Action& action) {
  auto options = std::make_shared<ShowOptions>();
  auto* command =
      app.add_subcommand("topology", "Cluster topologies: show a summary or export one");
  command->require_subcommand(1);
  auto* show_command = command->add_subcommand(
      "show", "Summarise a cluster preset, a node system (with --nodes) or a topology JSON file");
  show_command->add_option("what", options->what, "cluster preset, node system or topology file")
      ->required();
  show_command->add_option("--nodes", options->nodes, "nodes, when WHAT is a node system")
      ->check(CLI::Range(1, 1 << 16));
  show_command->add_option("--fabric", options->fabric, "none, ib-fat-tree or roce");
  show_command
      ->add_option("--oversubscription", options->oversubscription,
                   "leaf downlink:uplink ratio, when WHAT is a node system")
      ->check(CLI::Range(1.0, 64.0));
  auto* dot = show_command->add_flag("--dot", options->dot, "print Graphviz DOT");
  show_command->add_flag("--json", options->json, "print the topology as JSON")->excludes(dot);
  show_command->callback([&action, options, show_command] {
    const auto unread = first_given(*show_command, unread_for(options->what));
    action = [options, unread] {
      refuse_unread(unread);
      return show(*options);
    };
  });
}

}  // namespace moesim::cli
