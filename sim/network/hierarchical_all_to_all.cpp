#include "sim/network/hierarchical_all_to_all.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <utility>

#include "sim/network/flow_network.hpp"

namespace moesim::sim {

namespace {

// Dispatch and combine each have their own partition (and MoE TP or a degraded link more); a few
// entries cover a run.
constexpr std::size_t kKeptHierarchicalPlans = 8;

// The rate a route allows one flow alone: its tightest link relative to the share it carries.
double leg_alone_rate(const FlowPath& route, const std::vector<BytesPerSecond>& capacity) {
  double rate = std::numeric_limits<double>::infinity();
  for (std::size_t hop = 0; hop < route.links.size(); ++hop) {
    const double share = route.share(hop);
    if (share > 0)
      rate = std::min(rate, capacity[static_cast<std::size_t>(route.links[hop])] / share);
  }
  return rate;
}

std::uint64_t leg_endpoints(const LegFlow& flow) {
  return (static_cast<std::uint64_t>(flow.kind) << 62) |
         (static_cast<std::uint64_t>(flow.source) << 31) |
         static_cast<std::uint64_t>(flow.destination);
}

// A class's path: every member route's hops added link by link, in the order first met.
FlowPath summed_leg_path(const std::vector<std::uint32_t>& members, const HierarchicalLegs& legs,
                         const PathLookup& path, std::vector<std::int32_t>& position,
                         std::vector<std::uint32_t>& stamp, std::uint32_t mark) {
  FlowPath summed;
  for (const std::uint32_t member : members) {
    const LegFlow& flow = legs.flows[member];
    const FlowPath& route = path(flow.source, flow.destination).path;
    for (std::size_t hop = 0; hop < route.links.size(); ++hop) {
      const double share = route.share(hop);
      if (share <= 0) continue;
      const auto link = static_cast<std::size_t>(route.links[hop]);
      if (stamp[link] != mark) {
        stamp[link] = mark;
        position[link] = static_cast<std::int32_t>(summed.links.size());
        summed.links.push_back(route.links[hop]);
        summed.shares.push_back(0.0);
      }
      summed.shares[static_cast<std::size_t>(position[link])] += share;
    }
  }
  return summed;
}

}  // namespace

std::vector<std::uint32_t> hierarchical_classes(const HierarchicalLegs& legs,
                                                const PathLookup& path,
                                                const std::vector<BytesPerSecond>& capacity,
                                                std::size_t gpus, int gpus_per_node) {
  const std::size_t nodes = gpus / static_cast<std::size_t>(gpus_per_node);
  // Anchors: NVLink legs by (kind, destination GPU), fabric legs by (source node, its node).
  std::vector<std::vector<std::pair<std::pair<Bytes, double>, std::uint32_t>>> seen(2 * gpus +
                                                                                    nodes * nodes);
  std::vector<std::uint32_t> class_of;
  class_of.reserve(legs.flows.size());
  std::uint32_t classes = 0;
  for (const LegFlow& flow : legs.flows) {
    const auto source = static_cast<std::size_t>(flow.source),
               destination = static_cast<std::size_t>(flow.destination);
    const auto per_node = static_cast<std::size_t>(gpus_per_node);
    const std::size_t anchor = flow.kind == LegKind::Fabric
                                   ? 2 * gpus + source / per_node * nodes + destination / per_node
                               : flow.kind == LegKind::Forward ? gpus + destination
                                                               : destination;
    const std::pair<Bytes, double> key{
        flow.bytes, leg_alone_rate(path(flow.source, flow.destination).path, capacity)};
    auto& anchored = seen[anchor];
    const auto found = std::find_if(anchored.begin(), anchored.end(),
                                    [&](const auto& entry) { return entry.first == key; });
    if (found != anchored.end()) {
      class_of.push_back(found->second);
      continue;
    }
    anchored.emplace_back(key, classes);
    class_of.push_back(classes++);
  }
  return class_of;
}

const HierarchicalAllToAll::Plan& HierarchicalAllToAll::plan_for(
    const HierarchicalLegs& legs, std::vector<std::uint32_t> class_of, const PathLookup& path,
    const NetworkLinks& links) {
  std::vector<std::uint64_t> endpoints;
  endpoints.reserve(legs.flows.size());
  for (const LegFlow& flow : legs.flows) endpoints.push_back(leg_endpoints(flow));
  for (auto kept = plans_.rbegin(); kept != plans_.rend(); ++kept)
    if (kept->class_of == class_of && kept->endpoints == endpoints) return *kept;
  if (plans_.size() == kKeptHierarchicalPlans) plans_.erase(plans_.begin());
  ++plans_made_;
  Plan plan;
  plan.endpoints = std::move(endpoints);
  plan.class_of = std::move(class_of);
  const std::uint32_t classes =
      plan.class_of.empty() ? 0 : *std::max_element(plan.class_of.begin(), plan.class_of.end()) + 1;
  plan.members.resize(classes);
  for (std::size_t flow = 0; flow < plan.class_of.size(); ++flow) {
    plan.members[plan.class_of[flow]].push_back(static_cast<std::uint32_t>(flow));
    const LegFlow& leg = legs.flows[flow];
    plan.inside.push_back(stays_inside(path(leg.source, leg.destination).path, links) ? 1 : 0);
  }
  const std::size_t link_count = links.capacity.size();
  std::vector<std::int32_t> position(link_count, 0);
  std::vector<std::uint32_t> stamp(link_count, 0);
  std::vector<FlowPath> summed;
  for (std::uint32_t c = 0; c < classes; ++c)
    summed.push_back(summed_leg_path(plan.members[c], legs, path, position, stamp, c + 1));
  std::vector<const FlowPath*> summed_pointers;
  for (const FlowPath& class_path : summed) summed_pointers.push_back(&class_path);
  plan.network = group_class_paths(link_count, summed_pointers);
  // Checked once here: every collective on this plan lends its paths to the flow network.
  for (const FlowPath& grouped : plan.network.grouped)
    validate_flow_path(plan.network.crossed.size(), grouped);
  plans_.push_back(std::move(plan));
  return plans_.back();
}

AllToAllResult HierarchicalAllToAll::play(const ByteMatrix& bytes, const PathLookup& path,
                                          const NetworkLinks& links,
                                          const AllToAllOptions& options) {
  if (!options.hierarchical)
    throw std::invalid_argument("all-to-all: HierarchicalAllToAll plays hierarchical dispatch");
  validate_all_to_all(bytes, options);
  const std::size_t gpus = bytes.size();
  const HierarchicalLegs legs = hierarchical_legs(bytes, options, [&](int source, int destination) {
    return path(source, destination).latency;
  });
  const std::vector<BytesPerSecond> capacity = effective_capacity(links, options.efficiency);
  const Plan& plan = plan_for(
      legs, hierarchical_classes(legs, path, capacity, gpus, options.gpus_per_node), path, links);

  EventQueue queue;
  FlowNetwork network(queue, crossed_capacity(plan.network, capacity),
                      FlowNetworkOptions{options.completion_tolerance});
  std::vector<FlowId> flow_of(plan.members.size());
  for (std::size_t c = 0; c < plan.members.size(); ++c) {
    // The members' mean latency (route plus a forward's wait for its first chunk).
    std::int64_t latency_ns = 0;
    for (const std::uint32_t member : plan.members[c]) {
      const LegFlow& leg = legs.flows[member];
      latency_ns += (path(leg.source, leg.destination).latency + leg.wait).ns();
    }
    const auto count = static_cast<std::int64_t>(plan.members[c].size());
    const SimTime latency = SimTime::from_ns((latency_ns + count / 2) / count);
    flow_of[c] = network.add_borrowed_flow(plan.network.grouped[c],
                                           legs.flows[plan.members[c].front()].bytes,
                                           options.fixed_cost + latency);
  }
  queue.run();

  AllToAllResult result;
  result.send_done.assign(gpus, options.fixed_cost);
  result.receive_done.assign(gpus, options.fixed_cost);
  for (const PairWait& wait : legs.waits) {
    const SimTime finish = network.finish_time(flow_of[plan.class_of[wait.flow]]);
    auto& sent = result.send_done[static_cast<std::size_t>(wait.source)];
    auto& received = result.receive_done[static_cast<std::size_t>(wait.destination)];
    sent = std::max(sent, finish);
    received = std::max(received, finish);
  }
  result.time = options.fixed_cost;
  for (std::size_t gpu = 0; gpu < gpus; ++gpu)
    result.time = std::max({result.time, result.send_done[gpu], result.receive_done[gpu]});
  for (std::size_t flow = 0; flow < legs.flows.size(); ++flow)
    if (plan.inside[flow]) result.scale_up_bytes += legs.flows[flow].bytes;
  result.link_bytes = link_bytes_from_crossed(plan.network, network.link_bytes());
  result.flows = network.flow_count();
  result.solves = network.solve_count();
  return result;
}

}  // namespace moesim::sim
