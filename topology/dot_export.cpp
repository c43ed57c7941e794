#include "topology/dot_export.hpp"

#include <fmt/format.h>

#include <map>
#include <vector>

namespace moesim::topology {
namespace {

std::string_view shape_of(VertexKind kind) {
  switch (kind) {
    case VertexKind::Gpu:
      return "box";
    case VertexKind::Nic:
      return "cds";
    case VertexKind::NvSwitch:
      return "hexagon";
    case VertexKind::PcieSwitch:
    case VertexKind::HostBridge:
      return "ellipse";
    default:
      return "diamond";
  }
}

std::string escape(std::string_view text) {
  std::string quoted;
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) {  // a file's control characters never reach a terminal raw
      quoted += fmt::format("\\\\x{:02x}", byte);
      continue;
    }
    if (c == '"' || c == '\\') quoted += '\\';
    quoted += c;
  }
  return quoted;
}

}  // namespace

std::string to_dot(const ClusterGraph& graph) {
  std::string dot = fmt::format("digraph \"{}\" {{\n  rankdir=BT;\n  node [fontsize=10];\n",
                                escape(graph.name()));
  std::map<int, std::vector<VertexId>> by_node;
  std::vector<VertexId> outside;
  for (VertexId v = 0; v < graph.vertex_count(); ++v) {
    if (graph.vertex(v).node >= 0)
      by_node[graph.vertex(v).node].push_back(v);
    else
      outside.push_back(v);
  }
  auto declare = [&](VertexId v, std::string_view indent) {
    const VertexInfo& info = graph.vertex(v);
    dot += fmt::format("{}v{} [label=\"{}\", shape={}];\n", indent, v, escape(info.name),
                       shape_of(info.kind));
  };
  for (const auto& [node, vertices] : by_node) {
    dot += fmt::format("  subgraph cluster_node{} {{\n    label=\"node {}\";\n", node, node);
    for (const VertexId v : vertices) declare(v, "    ");
    dot += "  }\n";
  }
  for (const VertexId v : outside) declare(v, "  ");
  const auto count = static_cast<LinkId>(graph.link_count());
  for (LinkId id = 0; id < count; ++id) {
    const LinkInfo& link = graph.link(id);
    const VertexId from = graph.link_source(id);
    const VertexId to = graph.link_target(id);
    const bool both =
        id + 1 < count && graph.link_source(id + 1) == to && graph.link_target(id + 1) == from &&
        graph.link(id + 1).bandwidth == link.bandwidth && graph.link(id + 1).kind == link.kind;
    dot += fmt::format("  v{} -> v{} [label=\"{} {:g} GB/s\"{}];\n", from, to,
                       link_kind_name(link.kind), link.bandwidth / kGB, both ? ", dir=both" : "");
    if (both) ++id;
  }
  dot += "}\n";
  return dot;
}

}  // namespace moesim::topology
