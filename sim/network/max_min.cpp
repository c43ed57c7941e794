#include "sim/network/max_min.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>

namespace moesim::sim {

namespace {

struct Crossing {
  std::uint32_t flow;
  double share;
};

// Links by (fair share, link id), lowest first: a tournament tree whose every node holds the
// lower of its two children, so the lowest link is at the root and setting one link's share costs
// one walk to the root. (A binary heap's pops, mostly of links that no longer constrained
// anything, had been about a third of the solver's time: perf.)
class LinkTournament {
 public:
  struct Entry {
    double fair_share;
    LinkId link;
  };

  // Every link starts out absent.
  explicit LinkTournament(std::size_t link_count) {
    while (leaves_ < link_count) leaves_ *= 2;
    nodes_.assign(2 * leaves_, kAbsent);
  }
  // Lists `share` for each link that has one, in one bottom-up pass.
  void build(const std::vector<double>& share, const std::vector<char>& listed) {
    for (std::size_t link = 0; link < share.size(); ++link)
      if (listed[link]) nodes_[leaves_ + link] = Entry{share[link], static_cast<LinkId>(link)};
    for (std::size_t node = leaves_ - 1; node >= 1; --node) nodes_[node] = lower_child(node);
  }
  bool empty() const { return nodes_[1].link == kAbsent.link; }
  const Entry& lowest() const { return nodes_[1]; }
  double share(std::size_t link) const { return nodes_[leaves_ + link].fair_share; }
  void set(std::size_t link, double share) {
    update(link, Entry{share, static_cast<LinkId>(link)});
  }
  void remove(std::size_t link) { update(link, kAbsent); }

 private:
  static constexpr Entry kAbsent{std::numeric_limits<double>::infinity(),
                                 std::numeric_limits<LinkId>::max()};
  // Ties by link id, so the order never depends on the tree's shape.
  static bool lower(const Entry& a, const Entry& b) {
    // Bitwise, not short-circuit: the outcome is a coin toss the branch predictor cannot learn.
    return (a.fair_share < b.fair_share) | ((a.fair_share == b.fair_share) & (a.link < b.link));
  }
  Entry lower_child(std::size_t node) const {
    const std::size_t left = 2 * node;
    return nodes_[left + (lower(nodes_[left + 1], nodes_[left]) ? 1 : 0)];
  }
  // The winner so far is carried up, so each level reads only the sibling (whose address is
  // known in advance), not the node just written.
  void update(std::size_t link, Entry entry) {
    std::size_t node = leaves_ + link;
    nodes_[node] = entry;
    for (; node > 1; node /= 2) {
      const Entry& sibling = nodes_[node ^ 1];
      if (lower(sibling, entry)) entry = sibling;
      nodes_[node / 2] = entry;
    }
  }

  std::size_t leaves_ = 1;
  std::vector<Entry> nodes_;  // the root at 1; leaf of link l at leaves_ + l
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

// One progressive filling. Links wait in a tournament by fair share (capacity left / unfrozen
// share). Freezing flows at the water level only raises the fair share of the links they cross
// (each had at least the level, and loses level x share of capacity for share of weight), so a
// link's listed share may lag behind as a lower bound and is refreshed when it comes out lowest:
// one update per time a link reaches the root, not one per round that touches it (on
// dsv3-prefill-h200x256, 7 a solve instead of about 1,940). A share that rounding lowers is
// listed at once, so the bottleneck chosen, ties included, is the one an always-fresh list gives.
template <class PathAt>
class Filling {
 public:
  // `checked`: the caller validated capacities and paths already (the flow network does so once
  // per flow; re-checking on every re-solve was 11% of a flow-model run, docs/performance.md).
  Filling(const std::vector<BytesPerSecond>& capacity, std::size_t flow_count, PathAt path_at,
          bool checked, std::vector<LinkId>* bottleneck)
      : link_count_(capacity.size()),
        flow_count_(flow_count),
        path_at_(path_at),
        bottleneck_(bottleneck),
        remaining_(capacity),
        links_(capacity.size()),
        rate_(flow_count, 0.0) {
    if (!checked) validate_capacities(capacity);
    index_crossings(checked);
    list_links();
    hold_unconstrained_flows();
  }

  std::vector<BytesPerSecond> run() {
    while (left_ > 0) {
      ++round_;
      touched_count_ = 0;
      const bool any_link = settle_top();
      while (next_cap_ < by_cap_.size() && frozen_[by_cap_[next_cap_]]) ++next_cap_;
      const double link_share =
          any_link ? links_.lowest().fair_share : std::numeric_limits<double>::infinity();
      if (next_cap_ < by_cap_.size() && path_at_(by_cap_[next_cap_]).rate_cap <= link_share) {
        // A cap is reached before any link saturates: only that flow stops rising.
        const std::uint32_t flow = by_cap_[next_cap_++];
        level_ = std::max(level_, path_at_(flow).rate_cap);
        freeze(flow, path_at_(flow).rate_cap, kNoBottleneckLink);
      } else if (any_link) {
        // The bottleneck link saturates: every unfrozen flow on it stops at its fair share.
        // It drops out when it next comes out lowest: all its flows are frozen now.
        const auto link = static_cast<std::size_t>(links_.lowest().link);
        level_ = std::max(level_, link_share);
        for (std::uint32_t c = begin_[link]; c < begin_[link + 1]; ++c)
          if (!frozen_[crossings_[c].flow])
            freeze(crossings_[c].flow, level_, static_cast<LinkId>(link));
      } else {
        break;  // unreachable: every unfrozen flow crosses a link or has a finite cap
      }
      relist_touched();
    }
    return std::move(rate_);
  }

 private:
  // Crossings grouped by link (CSR), built in two passes; zero shares constrain nothing. A
  // link's weight is summed flow by flow, the order of its crossings.
  void index_crossings(bool checked) {
    unfrozen_.assign(link_count_, 0);
    weight_.assign(link_count_, 0.0);
    std::uint32_t* unfrozen = unfrozen_.data();
    double* weight = weight_.data();
    for (std::size_t flow = 0; flow < flow_count_; ++flow) {
      const FlowPath& path = path_at_(flow);
      if (!checked) validate(link_count_, path, flow);
      path.for_each_hop([&](LinkId link, double share) {
        if (!(share > 0)) return;
        ++unfrozen[static_cast<std::size_t>(link)];
        weight[static_cast<std::size_t>(link)] += share;
      });
    }
    begin_.resize(link_count_ + 1);
    begin_[0] = 0;
    for (std::size_t link = 0; link < link_count_; ++link)
      begin_[link + 1] = begin_[link] + unfrozen_[link];
    crossings_.resize(begin_[link_count_]);
    std::vector<std::uint32_t> fill(begin_.begin(), begin_.end() - 1);
    std::uint32_t* next = fill.data();
    Crossing* crossings = crossings_.data();
    for (std::size_t flow = 0; flow < flow_count_; ++flow)
      path_at_(flow).for_each_hop([&](LinkId link, double share) {
        if (!(share > 0)) return;
        crossings[next[static_cast<std::size_t>(link)]++] =
            Crossing{static_cast<std::uint32_t>(flow), share};
      });
  }

  void list_links() {
    stale_.assign(link_count_, 0);
    touched_stamp_.assign(link_count_, 0);
    touched_.resize(link_count_);
    std::vector<double> share(link_count_, 0.0);
    std::vector<char> listed(link_count_, 0);
    for (std::size_t link = 0; link < link_count_; ++link)
      if (unfrozen_[link] > 0) {
        share[link] = fair_share(link);
        listed[link] = 1;
      }
    links_.build(share, listed);
  }

  // Flows on no link freeze at their cap; capped flows wait in the order their caps are reached.
  void hold_unconstrained_flows() {
    frozen_.assign(flow_count_, 0);
    if (bottleneck_ != nullptr) bottleneck_->assign(flow_count_, kNoBottleneckLink);
    left_ = flow_count_;
    for (std::size_t flow = 0; flow < flow_count_; ++flow) {
      const FlowPath& path = path_at_(flow);
      if (!crosses_a_link(path)) {
        rate_[flow] = path.rate_cap;
        frozen_[flow] = 1;
        --left_;
      } else if (std::isfinite(path.rate_cap)) {
        by_cap_.push_back(static_cast<std::uint32_t>(flow));
      }
    }
    std::stable_sort(by_cap_.begin(), by_cap_.end(), [&](std::uint32_t a, std::uint32_t b) {
      return path_at_(a).rate_cap < path_at_(b).rate_cap;
    });
  }

  double fair_share(std::size_t link) const {
    return std::max(remaining_[link], 0.0) / weight_[link];
  }

  // Drops links without unfrozen flows and refreshes a lagging share until the root holds the
  // lowest fair share of any link with unfrozen flows; false when no such link is left.
  bool settle_top() {
    while (!links_.empty()) {
      const auto link = static_cast<std::size_t>(links_.lowest().link);
      if (unfrozen_[link] == 0) {
        links_.remove(link);
        continue;
      }
      if (!stale_[link]) return true;
      stale_[link] = 0;
      links_.set(link, fair_share(link));
    }
    return false;
  }

  // The hop loops below work on raw pointers held in locals: through the vectors, every store
  // might have moved a vector's own pointers (a push_back's would), so each access reloaded them
  // (a third of the solver's instructions, callgrind).
  void freeze(std::uint32_t flow, double value, LinkId by) {
    frozen_[flow] = 1;
    rate_[flow] = value;
    if (bottleneck_ != nullptr) (*bottleneck_)[flow] = by;
    --left_;
    double* remaining = remaining_.data();
    double* weight = weight_.data();
    std::uint32_t* unfrozen = unfrozen_.data();
    std::uint32_t* stamp = touched_stamp_.data();
    std::size_t* touched = touched_.data();
    std::size_t touched_count = touched_count_;
    const std::uint32_t round = round_;
    path_at_(flow).for_each_hop([&](LinkId id, double share) {
      if (share <= 0) return;
      const auto link = static_cast<std::size_t>(id);
      remaining[link] -= value * share;
      weight[link] -= share;
      --unfrozen[link];
      if (stamp[link] != round) {
        stamp[link] = round;
        touched[touched_count++] = link;  // once a round per link: room for every link
      }
    });
    touched_count_ = touched_count;
  }

  void relist_touched() {
    for (std::size_t i = 0; i < touched_count_; ++i) {
      const std::size_t link = touched_[i];
      if (unfrozen_[link] == 0) continue;  // its entry is dropped when it surfaces
      const double share = fair_share(link);
      if (share >= links_.share(link)) {
        stale_[link] = share > links_.share(link) ? 1 : 0;
      } else {
        stale_[link] = 0;
        links_.set(link, share);  // lowered by rounding (or NaN): the list must not lag above it
      }
    }
  }

  std::size_t link_count_, flow_count_;
  PathAt path_at_;
  std::vector<LinkId>* bottleneck_;
  std::vector<std::uint32_t> begin_;
  std::vector<Crossing> crossings_;
  std::vector<double> remaining_;        // capacity not yet given to frozen flows
  std::vector<double> weight_;           // sum of shares of unfrozen flows
  std::vector<std::uint32_t> unfrozen_;  // count, so "done" is exact
  LinkTournament links_;                 // listed shares: each at most the link's fair share
  std::vector<std::uint32_t> stale_;     // the fair share has risen above the listed one (not
                                         // char: a char store may alias anything)
  std::vector<BytesPerSecond> rate_;
  std::vector<std::uint32_t> frozen_;
  std::size_t left_ = 0;
  std::vector<std::uint32_t> by_cap_;
  std::size_t next_cap_ = 0;
  std::vector<std::size_t> touched_;  // [0, touched_count_): the links touched this round
  std::size_t touched_count_ = 0;
  std::vector<std::uint32_t> touched_stamp_;
  std::uint32_t round_ = 0;
  double level_ = 0;  // the water level: rates only rise as filling goes on
};

template <class PathAt>
std::vector<BytesPerSecond> solve(const std::vector<BytesPerSecond>& capacity,
                                  std::size_t flow_count, PathAt path_at, bool checked,
                                  std::vector<LinkId>* bottleneck) {
  return Filling<PathAt>(capacity, flow_count, path_at, checked, bottleneck).run();
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
