#include "sim/network/max_min.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <queue>
#include <stdexcept>
#include <string>

namespace moesim::sim {

namespace {

struct Crossing {
  std::uint32_t flow;
  double share;
};

// A link's fair share when it was pushed; stale once the link's version moves on.
struct LinkEntry {
  double fair_share;
  LinkId link;
  std::uint32_t version;
};

struct LaterEntry {
  bool operator()(const LinkEntry& a, const LinkEntry& b) const {
    if (a.fair_share != b.fair_share) return a.fair_share > b.fair_share;
    return a.link > b.link;  // ties by link id, so the result never depends on heap layout
  }
};

bool crosses_a_link(const FlowPath& path) {
  for (std::size_t hop = 0; hop < path.links.size(); ++hop)
    if (path.share(hop) > 0) return true;
  return false;
}

constexpr std::size_t kNewFlow = std::numeric_limits<std::size_t>::max();

void validate(std::size_t link_count, const FlowPath& path, std::size_t flow) {
  const auto where = [&] {
    return "flow " + (flow == kNewFlow ? std::string("being added") : std::to_string(flow)) + ": ";
  };
  if (!path.shares.empty() && path.shares.size() != path.links.size())
    throw std::invalid_argument(where() + "shares and links differ in length");
  if (std::isnan(path.rate_cap) || path.rate_cap < 0)
    throw std::invalid_argument(where() + "rate cap must be >= 0");
  for (std::size_t hop = 0; hop < path.links.size(); ++hop) {
    const LinkId link = path.links[hop];
    if (link < 0 || static_cast<std::size_t>(link) >= link_count)
      throw std::invalid_argument(where() + "link id " + std::to_string(link) + " out of range");
    const double share = path.share(hop);
    if (!(share >= 0) || std::isinf(share))
      throw std::invalid_argument(where() + "share must be finite and >= 0");
  }
}

void validate_capacities(const std::vector<BytesPerSecond>& capacity) {
  for (std::size_t link = 0; link < capacity.size(); ++link)
    if (!(capacity[link] >= 0))
      throw std::invalid_argument("solve_max_min: link " + std::to_string(link) +
                                  ": capacity must be >= 0");
}

// `checked`: the caller validated capacities and paths already (the flow network does so once
// per flow; re-checking on every re-solve was 11% of a flow-model run, docs/performance.md).
template <class PathAt>
std::vector<BytesPerSecond> solve(const std::vector<BytesPerSecond>& capacity,
                                  std::size_t flow_count, PathAt path_at, bool checked,
                                  std::vector<LinkId>* bottleneck) {
  const std::size_t link_count = capacity.size();
  if (!checked) validate_capacities(capacity);

  // Crossings grouped by link (CSR), built in two passes; zero shares constrain nothing.
  std::vector<std::uint32_t> begin(link_count + 1, 0);
  for (std::size_t flow = 0; flow < flow_count; ++flow) {
    const FlowPath& path = path_at(flow);
    if (!checked) validate(link_count, path, flow);
    for (std::size_t hop = 0; hop < path.links.size(); ++hop)
      if (path.share(hop) > 0) ++begin[static_cast<std::size_t>(path.links[hop]) + 1];
  }
  for (std::size_t link = 0; link < link_count; ++link) begin[link + 1] += begin[link];
  std::vector<Crossing> crossings(begin[link_count]);
  {
    std::vector<std::uint32_t> fill(begin.begin(), begin.end() - 1);
    for (std::size_t flow = 0; flow < flow_count; ++flow) {
      const FlowPath& path = path_at(flow);
      for (std::size_t hop = 0; hop < path.links.size(); ++hop) {
        const double share = path.share(hop);
        if (share > 0)
          crossings[fill[static_cast<std::size_t>(path.links[hop])]++] =
              Crossing{static_cast<std::uint32_t>(flow), share};
      }
    }
  }

  std::vector<double> remaining(capacity);             // capacity not yet given to frozen flows
  std::vector<double> weight(link_count, 0.0);         // sum of shares of unfrozen flows
  std::vector<std::uint32_t> unfrozen(link_count, 0);  // count, so "done" is exact
  std::vector<std::uint32_t> version(link_count, 0);
  for (std::size_t link = 0; link < link_count; ++link)
    for (std::uint32_t c = begin[link]; c < begin[link + 1]; ++c) {
      weight[link] += crossings[c].share;
      ++unfrozen[link];
    }

  std::priority_queue<LinkEntry, std::vector<LinkEntry>, LaterEntry> links_by_share;
  const auto push = [&](std::size_t link) {
    if (unfrozen[link] == 0) return;
    links_by_share.push(LinkEntry{std::max(remaining[link], 0.0) / weight[link],
                                  static_cast<LinkId>(link), version[link]});
  };
  for (std::size_t link = 0; link < link_count; ++link) push(link);

  std::vector<BytesPerSecond> rate(flow_count, 0.0);
  std::vector<char> frozen(flow_count, 0);
  if (bottleneck != nullptr) bottleneck->assign(flow_count, kNoBottleneckLink);
  std::size_t left = flow_count;
  // Capped flows in the order their caps are reached; flows on no link freeze at their cap.
  std::vector<std::uint32_t> by_cap;
  for (std::size_t flow = 0; flow < flow_count; ++flow) {
    const FlowPath& path = path_at(flow);
    const bool constrained = crosses_a_link(path);
    if (!constrained) {
      rate[flow] = path.rate_cap;
      frozen[flow] = 1;
      --left;
    } else if (std::isfinite(path.rate_cap)) {
      by_cap.push_back(static_cast<std::uint32_t>(flow));
    }
  }
  std::stable_sort(by_cap.begin(), by_cap.end(), [&](std::uint32_t a, std::uint32_t b) {
    return path_at(a).rate_cap < path_at(b).rate_cap;
  });
  std::size_t next_cap = 0;

  std::vector<std::size_t> touched;
  std::vector<std::uint32_t> touched_stamp(link_count, 0);
  std::uint32_t round = 0;
  double level = 0;  // the water level: rates only rise as filling goes on
  const auto freeze = [&](std::uint32_t flow, double value, LinkId by) {
    frozen[flow] = 1;
    rate[flow] = value;
    if (bottleneck != nullptr) (*bottleneck)[flow] = by;
    --left;
    const FlowPath& path = path_at(flow);
    for (std::size_t hop = 0; hop < path.links.size(); ++hop) {
      const double share = path.share(hop);
      if (share <= 0) continue;
      const auto link = static_cast<std::size_t>(path.links[hop]);
      remaining[link] -= value * share;
      weight[link] -= share;
      --unfrozen[link];
      if (touched_stamp[link] != round) {
        touched_stamp[link] = round;
        touched.push_back(link);
      }
    }
  };

  while (left > 0) {
    ++round;
    touched.clear();
    while (!links_by_share.empty()) {
      const LinkEntry& top = links_by_share.top();
      const auto link = static_cast<std::size_t>(top.link);
      if (top.version == version[link] && unfrozen[link] > 0) break;
      links_by_share.pop();
    }
    while (next_cap < by_cap.size() && frozen[by_cap[next_cap]]) ++next_cap;
    const double link_share = links_by_share.empty() ? std::numeric_limits<double>::infinity()
                                                     : links_by_share.top().fair_share;
    if (next_cap < by_cap.size() && path_at(by_cap[next_cap]).rate_cap <= link_share) {
      // A cap is reached before any link saturates: only that flow stops rising.
      const std::uint32_t flow = by_cap[next_cap++];
      level = std::max(level, path_at(flow).rate_cap);
      freeze(flow, path_at(flow).rate_cap, kNoBottleneckLink);
    } else if (!links_by_share.empty()) {
      // The bottleneck link saturates: every unfrozen flow on it stops at its fair share.
      const auto link = static_cast<std::size_t>(links_by_share.top().link);
      links_by_share.pop();
      level = std::max(level, link_share);
      for (std::uint32_t c = begin[link]; c < begin[link + 1]; ++c)
        if (!frozen[crossings[c].flow]) freeze(crossings[c].flow, level, static_cast<LinkId>(link));
    } else {
      break;  // unreachable: every unfrozen flow crosses a link or has a finite cap
    }
    for (std::size_t link : touched) {
      ++version[link];
      push(link);
    }
  }
  return rate;
}

}  // namespace

void validate_flow_path(std::size_t link_count, const FlowPath& path) {
  validate(link_count, path, kNewFlow);
}

void validate_link_capacities(const std::vector<BytesPerSecond>& link_capacity) {
  validate_capacities(link_capacity);
}

std::vector<BytesPerSecond> solve_max_min(const std::vector<BytesPerSecond>& link_capacity,
                                          const std::vector<FlowPath>& flows) {
  return solve(
      link_capacity, flows.size(), [&](std::size_t flow) -> const FlowPath& { return flows[flow]; },
      false, nullptr);
}

std::vector<BytesPerSecond> solve_max_min(const std::vector<BytesPerSecond>& link_capacity,
                                          const std::vector<const FlowPath*>& flows,
                                          bool prevalidated, std::vector<LinkId>* bottleneck) {
  return solve(
      link_capacity, flows.size(),
      [&](std::size_t flow) -> const FlowPath& { return *flows[flow]; }, prevalidated, bottleneck);
}

}  // namespace moesim::sim
