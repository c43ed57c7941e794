#include "topology/topology_json.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <limits>
#include <map>
#include <set>
#include <stdexcept>
#include <unordered_map>
#include <vector>

#include "base/config_error.hpp"
#include "base/json_fields.hpp"
#include "base/strict_json.hpp"
#include "topology/route_check.hpp"
#include "topology/topology_limits.hpp"

namespace moesim::topology {
namespace {

constexpr std::array<std::string_view, 5> kRootFields = {"schema_version", "name", "description",
                                                         "vertices", "links"};
constexpr std::array<std::string_view, 6> kVertexFields = {"id",     "kind", "node",
                                                           "domain", "rail", "pod"};
constexpr std::array<std::string_view, 6> kLinkFields = {
    "from", "to", "kind", "bandwidth_gb_per_s", "latency_us", "duplex"};

// Bounds that keep per-node and per-rail tables of the router small whatever a file says.
constexpr std::int64_t kMaxNodeIndex = 65535;
constexpr std::int64_t kMaxRailIndex = 255;
constexpr double kMaxBandwidthGbPerS = 1e6;
// 1 MB/s: below it a transfer outlasts what the event engine can hold (SimTime saturated).
constexpr double kMinBandwidthGbPerS = 1e-3;

int optional_index(FieldReader& reader, std::string_view key, std::int64_t max) {
  if (!reader.has(key)) {
    reader.child(key);  // marks it known
    return kNoIndex;
  }
  return static_cast<int>(reader.integer(key, 0, max));
}

// Every GPU must reach every other: from GPU 0 forward, and to GPU 0 backward, over any link.
void check_reachability(const ClusterGraph& graph, const std::vector<std::size_t>& vertex_entry,
                        ProblemList& problems) {
  const auto gpus = graph.gpus();
  if (gpus.size() < 2) return;
  const Graph& g = graph.graph();
  auto sweep = [&](bool forward) {
    std::vector<char> seen(graph.vertex_count(), 0);
    std::vector<VertexId> stack{gpus[0]};
    seen[gpus[0]] = 1;
    while (!stack.empty()) {
      const VertexId v = stack.back();
      stack.pop_back();
      auto visit = [&](VertexId w) {
        if (!seen[w]) {
          seen[w] = 1;
          stack.push_back(w);
        }
      };
      if (forward) {
        for (const auto edge : boost::make_iterator_range(boost::out_edges(v, g)))
          visit(boost::target(edge, g));
      } else {
        for (const auto edge : boost::make_iterator_range(boost::in_edges(v, g)))
          visit(boost::source(edge, g));
      }
    }
    return seen;
  };
  const auto reached = sweep(true);
  const auto reaching = sweep(false);
  const std::string& first = g[gpus[0]].name;
  for (std::size_t rank = 1; rank < gpus.size(); ++rank) {
    const VertexId gpu = gpus[rank];
    const std::string where = fmt::format("/vertices/{}", vertex_entry[gpu]);
    if (!reached[gpu])
      problems.add(where,
                   fmt::format("GPU \"{}\" cannot be reached from GPU \"{}\"", g[gpu].name, first));
    if (!reaching[gpu])
      problems.add(where, fmt::format("GPU \"{}\" cannot reach GPU \"{}\"", g[gpu].name, first));
  }
}

// The vertices read so far, by id, for link ends and duplicate checks.
struct VertexTable {
  std::unordered_map<std::string, VertexId> ids;
  std::vector<std::size_t> entry;         // by vertex: its index in "vertices"
  std::vector<std::string> sorted_names;  // for did-you-mean, built on the first dangling end
};

// One entry's fields; the name is empty when the entry has no usable id.
VertexInfo read_vertex_fields(FieldReader& entry) {
  VertexInfo info;
  info.name = entry.string("id");
  info.kind =
      parse_vertex_kind(entry.choice("kind", vertex_kind_names())).value_or(VertexKind::Gpu);
  // choice() falls back to the first kind on a bad value; look at what the file said.
  const nlohmann::json* raw_kind = entry.child("kind");
  const bool kind = raw_kind != nullptr && raw_kind->is_string() &&
                    parse_vertex_kind(raw_kind->get<std::string>()).has_value();
  // An unknown kind is one problem already; do not add "missing node" to it.
  const bool on_node = kind && (info.kind == VertexKind::Gpu || info.kind == VertexKind::Nic);
  info.node = on_node ? static_cast<int>(entry.integer("node", 0, kMaxNodeIndex))
                      : optional_index(entry, "node", kMaxNodeIndex);
  info.domain = optional_index(entry, "domain", kMaxNodeIndex);
  if (info.kind == VertexKind::Gpu && info.domain == kNoIndex) info.domain = info.node;
  info.rail = optional_index(entry, "rail", kMaxRailIndex);
  if (on_node && info.rail == kNoIndex) info.rail = 0;
  info.pod = optional_index(entry, "pod", kMaxNodeIndex);
  entry.finish();
  return info;
}

// /vertices/i: added to the graph unless its id is missing or taken.
void add_vertex_entry(const nlohmann::json& item, std::size_t i, ClusterGraph& graph,
                      VertexTable& vertices, ProblemList& problems) {
  FieldReader entry(item, fmt::format("/vertices/{}", i), problems, kVertexFields);
  if (!entry.is_object()) return;
  VertexInfo info = read_vertex_fields(entry);
  if (info.name.empty() && entry.has("id"))
    problems.add(entry.path_of("id"), "expected a non-empty id");
  if (info.name.empty()) return;
  if (const auto seen = vertices.ids.find(info.name); seen != vertices.ids.end()) {
    problems.add(entry.path_of("id"),
                 fmt::format("duplicate vertex id \"{}\" (first at /vertices/{})", info.name,
                             vertices.entry[seen->second]));
    return;
  }
  const std::string name = info.name;
  const VertexId id = graph.add_vertex(std::move(info));
  vertices.ids.emplace(name, id);
  vertices.entry.push_back(i);
}

VertexTable read_vertices(FieldReader& root, ClusterGraph& graph, ProblemList& problems) {
  VertexTable vertices;
  const auto* list = root.child("vertices", true);
  if (list == nullptr) return vertices;
  if (!list->is_array())
    problems.add("/vertices", "expected an array, got " + describe_json_value(*list));
  else if (list->empty())
    problems.add("/vertices", "expected at least one vertex");
  for (std::size_t i = 0; list->is_array() && i < list->size(); ++i) {
    add_vertex_entry((*list)[i], i, graph, vertices, problems);
    if (graph.gpus().size() > kMaxTopologyGpus) {  // stop before the graph outgrows the limit
      problems.add(fmt::format("/vertices/{}", i),
                   fmt::format("expected at most {} GPUs (docs/limits.md); this is GPU {}",
                               kMaxTopologyGpus, graph.gpus().size()));
      return vertices;
    }
  }
  if (problems.empty() && graph.gpus().empty())
    problems.add("/vertices", "expected at least one vertex of kind \"gpu\"");
  return vertices;
}

// The vertex a link end names; a dangling name is a problem with a did-you-mean.
std::optional<VertexId> resolve_link_end(FieldReader& entry, std::string_view key,
                                         VertexTable& vertices, ProblemList& problems) {
  const std::string name = entry.string(key);
  if (!entry.has(key) || !(*entry.child(key)).is_string()) return std::nullopt;
  if (const auto it = vertices.ids.find(name); it != vertices.ids.end()) return it->second;
  auto& names = vertices.sorted_names;
  if (names.empty()) {
    for (const auto& [known, id] : vertices.ids) names.push_back(known);
    std::sort(names.begin(), names.end());  // the same suggestion on every run
  }
  const auto suggestion = names.size() <= 100000 ? did_you_mean(name, names) : std::nullopt;
  problems.add(entry.path_of(key),
               fmt::format("link end names no vertex: \"{}\"{}", name,
                           suggestion ? fmt::format(" (did you mean \"{}\"?)", *suggestion) : ""));
  return std::nullopt;
}

// /links/i: added to the graph when both ends, the kind and the bandwidth are good.
void add_link_entry(const nlohmann::json& item, std::size_t i, ClusterGraph& graph,
                    VertexTable& vertices, ProblemList& problems) {
  FieldReader entry(item, fmt::format("/links/{}", i), problems, kLinkFields);
  if (!entry.is_object()) return;
  const auto from = resolve_link_end(entry, "from", vertices, problems);
  const auto to = resolve_link_end(entry, "to", vertices, problems);
  const auto kind = parse_link_kind(entry.choice("kind", link_kind_names()));
  double bandwidth =
      entry.number("bandwidth_gb_per_s", kMinBandwidthGbPerS, std::numeric_limits<double>::max());
  if (bandwidth > kMaxBandwidthGbPerS) {
    // Far beyond any link; refusing it keeps sums of capacities finite and exact.
    problems.add(entry.path_of("bandwidth_gb_per_s"),
                 fmt::format("expected at most {} GB/s, got {}", kMaxBandwidthGbPerS, bandwidth));
    bandwidth = 0;
  }
  const double latency = entry.number("latency_us", 0, 1e9, 0.0);
  const bool duplex = entry.boolean("duplex", false);
  entry.finish();
  if (from && to && *from == *to)
    problems.add(entry.path(), fmt::format("link from \"{}\" to itself", graph.vertex(*from).name));
  if (!from || !to || *from == *to || !kind || !(bandwidth > 0)) return;
  const BytesPerSecond rate = bandwidth * kGB;
  const Seconds delay = latency * 1e-6;
  if (duplex)
    graph.add_duplex(*from, *to, rate, delay, *kind);
  else
    graph.add_link(*from, *to, rate, delay, *kind);
}

void read_links(FieldReader& root, ClusterGraph& graph, VertexTable& vertices,
                ProblemList& problems) {
  const auto* list = root.child("links", true);
  if (list == nullptr) return;
  if (!list->is_array())
    problems.add("/links", "expected an array, got " + describe_json_value(*list));
  for (std::size_t i = 0; list->is_array() && i < list->size(); ++i)
    add_link_entry((*list)[i], i, graph, vertices, problems);
}

}  // namespace

ClusterGraph parse_topology(std::string_view text, const std::string& source) {
  const nlohmann::json document = parse_strict_json(text, source);
  ProblemList problems;
  FieldReader root(document, "", problems, kRootFields);
  root.integer("schema_version", kTopologySchemaVersion, kTopologySchemaVersion);
  ClusterGraph graph(root.string("name", std::string("custom")));
  graph.set_description(root.string("description", std::string()));
  VertexTable vertices = read_vertices(root, graph, problems);
  read_links(root, graph, vertices, problems);
  root.finish();
  if (problems.empty()) check_reachability(graph, vertices.entry, problems);
  if (problems.empty()) check_routes(graph, vertices.entry, problems);
  problems.throw_if_any(source);
  return graph;
}

ClusterGraph load_topology_file(const std::string& path) {
  return parse_topology(read_text_file(path), path);
}

nlohmann::json topology_to_json(const ClusterGraph& graph) {
  nlohmann::json vertices = nlohmann::json::array();
  for (VertexId v = 0; v < graph.vertex_count(); ++v) {
    const VertexInfo& info = graph.vertex(v);
    nlohmann::json entry = {{"id", info.name}, {"kind", vertex_kind_name(info.kind)}};
    if (info.node != kNoIndex) entry["node"] = info.node;
    if (info.domain != kNoIndex) entry["domain"] = info.domain;
    if (info.rail != kNoIndex) entry["rail"] = info.rail;
    if (info.pod != kNoIndex) entry["pod"] = info.pod;
    vertices.push_back(std::move(entry));
  }
  nlohmann::json links = nlohmann::json::array();
  const auto count = static_cast<LinkId>(graph.link_count());
  for (LinkId id = 0; id < count; ++id) {
    const LinkInfo& link = graph.link(id);
    const VertexId from = graph.link_source(id);
    const VertexId to = graph.link_target(id);
    // Builders add both directions of a cable one after the other.
    const bool duplex =
        id + 1 < count && graph.link_source(id + 1) == to && graph.link_target(id + 1) == from &&
        graph.link(id + 1).bandwidth == link.bandwidth &&
        graph.link(id + 1).latency == link.latency && graph.link(id + 1).kind == link.kind;
    nlohmann::json entry = {{"from", graph.vertex(from).name},
                            {"to", graph.vertex(to).name},
                            {"kind", link_kind_name(link.kind)},
                            {"bandwidth_gb_per_s", link.bandwidth / kGB},
                            {"latency_us", link.latency * 1e6}};
    if (duplex) {
      entry["duplex"] = true;
      ++id;
    }
    links.push_back(std::move(entry));
  }
  return {{"schema_version", kTopologySchemaVersion},
          {"name", graph.name()},
          {"description", graph.description()},
          {"vertices", std::move(vertices)},
          {"links", std::move(links)}};
}

}  // namespace moesim::topology
