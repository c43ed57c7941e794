#include "sim/network/classed_all_to_all.hpp"

#include <algorithm>
#include <stdexcept>
#include <utility>

#include "sim/network/flow_network.hpp"

namespace moesim::sim {

namespace {

// A run alternates dispatch and combine, each with its own partition and (with a measured curve)
// its own scale-up efficiency; a few entries cover that with room to spare.
constexpr std::size_t kKeptPlans = 8;
constexpr std::size_t kKeptAloneRates = 4;

// The GPUs on one side of a class's members, each once, in the order first met. `seen`: one
// flag per GPU, all clear, and left clear.
std::vector<int> distinct_gpus(const std::vector<GpuPair>& members, int GpuPair::*side,
                               std::vector<char>& seen) {
  std::vector<int> gpus;
  for (const GpuPair& pair : members) {
    char& met = seen[static_cast<std::size_t>(pair.*side)];
    if (!met) gpus.push_back(pair.*side);
    met = 1;
  }
  for (int gpu : gpus) seen[static_cast<std::size_t>(gpu)] = 0;
  return gpus;
}

}  // namespace

const std::vector<double>& ClassedAllToAll::alone_for(std::size_t gpus, const PathLookup& path,
                                                      const std::vector<BytesPerSecond>& capacity) {
  for (const AloneRates& kept : alone_)
    if (kept.capacity == capacity && kept.alone.size() == gpus * gpus) return kept.alone;
  if (alone_.size() == kKeptAloneRates) alone_.erase(alone_.begin());
  alone_.push_back({capacity, alone_rates(gpus, path, capacity)});
  return alone_.back().alone;
}

const ClassedAllToAll::Plan& ClassedAllToAll::plan_for(PairPartition partition,
                                                       const ByteMatrix& bytes,
                                                       const PathLookup& path,
                                                       const NetworkLinks& links,
                                                       std::size_t link_count) {
  for (auto kept = plans_.rbegin(); kept != plans_.rend(); ++kept)
    if (kept->partition == partition) return *kept;
  if (plans_.size() == kKeptPlans) plans_.erase(plans_.begin());
  ++plans_made_;
  Plan plan;
  plan.classes = partition_classes(partition, bytes, path, link_count);
  plan.partition = std::move(partition);
  std::vector<char> seen(bytes.size(), 0);
  for (const FlowClass& flow_class : plan.classes) {
    std::size_t inside = 0;
    for (const GpuPair& pair : flow_class.members)
      if (stays_inside(path(pair.source, pair.destination).path, links)) ++inside;
    plan.members_inside.push_back(inside);
    plan.sources.push_back(distinct_gpus(flow_class.members, &GpuPair::source, seen));
    plan.destinations.push_back(distinct_gpus(flow_class.members, &GpuPair::destination, seen));
  }
  // Tied rates make more links alike: every GPU of a domain sends one member of each of its
  // domain's classes, so their NICs carry the same classes and become one constraint.
  std::vector<const FlowPath*> class_paths;
  for (const FlowClass& flow_class : plan.classes) class_paths.push_back(&flow_class.path);
  plan.network = group_class_paths(link_count, class_paths);
  // Checked once here: every collective on this plan lends its paths to the flow network.
  for (const FlowPath& grouped : plan.network.grouped)
    validate_flow_path(plan.network.crossed.size(), grouped);
  plans_.push_back(std::move(plan));
  return plans_.back();
}

AllToAllResult ClassedAllToAll::play(const ByteMatrix& bytes, const PathLookup& path,
                                     const NetworkLinks& links, const AllToAllOptions& options) {
  if (options.hierarchical)
    throw std::invalid_argument("all-to-all: flow classes play direct dispatch only");
  if (options.fixed_cost < SimTime::zero())
    throw std::invalid_argument("all-to-all: negative fixed cost");
  const std::vector<BytesPerSecond> capacity = effective_capacity(links, options.efficiency);
  const std::size_t gpus = bytes.size();
  // partition_pairs validates the matrix; the rates alone read only its size.
  const Plan& plan = plan_for(partition_pairs(bytes, alone_for(gpus, path, capacity)), bytes, path,
                              links, capacity.size());

  EventQueue queue;
  FlowNetwork network(queue, crossed_capacity(plan.network, capacity),
                      FlowNetworkOptions{options.completion_tolerance});
  std::vector<FlowId> flow_of(plan.classes.size());
  std::vector<Bytes> class_bytes(plan.classes.size());
  for (std::size_t c = 0; c < plan.classes.size(); ++c) {
    const GpuPair first = plan.classes[c].members.front();
    class_bytes[c] =
        bytes[static_cast<std::size_t>(first.source)][static_cast<std::size_t>(first.destination)];
    flow_of[c] = network.add_borrowed_flow(plan.network.grouped[c], class_bytes[c],
                                           options.fixed_cost + plan.classes[c].latency);
  }
  queue.run();

  AllToAllResult result;
  result.send_done.assign(gpus, options.fixed_cost);
  result.receive_done.assign(gpus, options.fixed_cost);
  for (std::size_t c = 0; c < plan.classes.size(); ++c) {
    const SimTime finish = network.finish_time(flow_of[c]);
    for (int gpu : plan.sources[c]) {
      SimTime& sent = result.send_done[static_cast<std::size_t>(gpu)];
      sent = std::max(sent, finish);
    }
    for (int gpu : plan.destinations[c]) {
      SimTime& received = result.receive_done[static_cast<std::size_t>(gpu)];
      received = std::max(received, finish);
    }
    // Member by member, as the pairs would add it (the same sum to the last bit).
    for (std::size_t m = 0; m < plan.members_inside[c]; ++m)
      result.scale_up_bytes += class_bytes[c];
  }
  result.time = options.fixed_cost;
  for (std::size_t gpu = 0; gpu < gpus; ++gpu)
    result.time = std::max({result.time, result.send_done[gpu], result.receive_done[gpu]});
  result.link_bytes = link_bytes_from_crossed(plan.network, network.link_bytes());
  result.flows = network.flow_count();
  result.solves = network.solve_count();
  return result;
}

}  // namespace moesim::sim
