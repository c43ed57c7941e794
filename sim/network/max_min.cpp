#include "sim/network/max_min.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
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

// One progressive filling. Links wait in a heap by fair share (capacity left / unfrozen share).
// Freezing flows at the water level only raises the fair share of the links they cross (each had
// at least the level, and loses level x share of capacity for share of weight), so a link's entry
// may lag behind as a lower bound and is refreshed when it surfaces: one push per time a link
// reaches the top, not one per round that touches it (two thirds of the solver's time had gone to
// those pushes, docs/performance.md). A share that rounding lowers is pushed at once, so the
// bottleneck chosen, ties included, is the one an always-fresh heap would give.
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
        rate_(flow_count, 0.0) {
    if (!checked) validate_capacities(capacity);
    index_crossings(checked);
    list_links();
    hold_unconstrained_flows();
  }

  std::vector<BytesPerSecond> run() {
    while (left_ > 0) {
      ++round_;
      touched_.clear();
      const bool any_link = settle_top();
      while (next_cap_ < by_cap_.size() && frozen_[by_cap_[next_cap_]]) ++next_cap_;
      const double link_share =
          any_link ? heap_.front().fair_share : std::numeric_limits<double>::infinity();
      if (next_cap_ < by_cap_.size() && path_at_(by_cap_[next_cap_]).rate_cap <= link_share) {
        // A cap is reached before any link saturates: only that flow stops rising.
        const std::uint32_t flow = by_cap_[next_cap_++];
        level_ = std::max(level_, path_at_(flow).rate_cap);
        freeze(flow, path_at_(flow).rate_cap, kNoBottleneckLink);
      } else if (any_link) {
        // The bottleneck link saturates: every unfrozen flow on it stops at its fair share.
        const auto link = static_cast<std::size_t>(heap_.front().link);
        pop();
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
  // Crossings grouped by link (CSR), built in two passes; zero shares constrain nothing.
  void index_crossings(bool checked) {
    begin_.assign(link_count_ + 1, 0);
    for (std::size_t flow = 0; flow < flow_count_; ++flow) {
      const FlowPath& path = path_at_(flow);
      if (!checked) validate(link_count_, path, flow);
      for (std::size_t hop = 0; hop < path.links.size(); ++hop)
        if (path.share(hop) > 0) ++begin_[static_cast<std::size_t>(path.links[hop]) + 1];
    }
    for (std::size_t link = 0; link < link_count_; ++link) begin_[link + 1] += begin_[link];
    crossings_.resize(begin_[link_count_]);
    std::vector<std::uint32_t> fill(begin_.begin(), begin_.end() - 1);
    weight_.assign(link_count_, 0.0);
    unfrozen_.assign(link_count_, 0);
    for (std::size_t flow = 0; flow < flow_count_; ++flow) {
      const FlowPath& path = path_at_(flow);
      for (std::size_t hop = 0; hop < path.links.size(); ++hop) {
        const double share = path.share(hop);
        if (!(share > 0)) continue;
        const auto link = static_cast<std::size_t>(path.links[hop]);
        crossings_[fill[link]++] = Crossing{static_cast<std::uint32_t>(flow), share};
      }
    }
    // Summed in crossing order, link by link, as the shares are later taken off.
    for (std::size_t link = 0; link < link_count_; ++link)
      for (std::uint32_t c = begin_[link]; c < begin_[link + 1]; ++c) {
        weight_[link] += crossings_[c].share;
        ++unfrozen_[link];
      }
  }

  void list_links() {
    version_.assign(link_count_, 0);
    listed_.assign(link_count_, 0.0);
    stale_.assign(link_count_, 0);
    touched_stamp_.assign(link_count_, 0);
    for (std::size_t link = 0; link < link_count_; ++link)
      if (unfrozen_[link] > 0) {
        listed_[link] = fair_share(link);
        heap_.push_back(LinkEntry{listed_[link], static_cast<LinkId>(link), 0});
      }
    std::make_heap(heap_.begin(), heap_.end(), LaterEntry{});
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

  void list(std::size_t link, double share) {
    ++version_[link];
    listed_[link] = share;
    stale_[link] = 0;
    heap_.push_back(LinkEntry{share, static_cast<LinkId>(link), version_[link]});
    std::push_heap(heap_.begin(), heap_.end(), LaterEntry{});
  }

  void pop() {
    std::pop_heap(heap_.begin(), heap_.end(), LaterEntry{});
    heap_.pop_back();
  }

  // Drops dead entries and refreshes a lagging one until the top holds the lowest fair share of
  // any link with unfrozen flows; false when no such link is left.
  bool settle_top() {
    while (!heap_.empty()) {
      const LinkEntry top = heap_.front();
      const auto link = static_cast<std::size_t>(top.link);
      if (top.version != version_[link] || unfrozen_[link] == 0) {
        pop();
        continue;
      }
      if (!stale_[link]) return true;
      pop();
      list(link, fair_share(link));
    }
    return false;
  }

  void freeze(std::uint32_t flow, double value, LinkId by) {
    frozen_[flow] = 1;
    rate_[flow] = value;
    if (bottleneck_ != nullptr) (*bottleneck_)[flow] = by;
    --left_;
    const FlowPath& path = path_at_(flow);
    for (std::size_t hop = 0; hop < path.links.size(); ++hop) {
      const double share = path.share(hop);
      if (share <= 0) continue;
      const auto link = static_cast<std::size_t>(path.links[hop]);
      remaining_[link] -= value * share;
      weight_[link] -= share;
      --unfrozen_[link];
      if (touched_stamp_[link] != round_) {
        touched_stamp_[link] = round_;
        touched_.push_back(link);
      }
    }
  }

  void relist_touched() {
    for (std::size_t link : touched_) {
      if (unfrozen_[link] == 0) continue;  // its entry is dropped when it surfaces
      const double share = fair_share(link);
      if (share >= listed_[link])
        stale_[link] = share > listed_[link] ? 1 : 0;
      else
        list(link, share);  // lowered by rounding (or NaN): the entry must not lag above it
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
  std::vector<std::uint32_t> version_;   // of the link's one live entry
  std::vector<double> listed_;           // the live entry's fair share
  std::vector<char> stale_;              // the fair share has risen above the live entry's
  std::vector<LinkEntry> heap_;
  std::vector<BytesPerSecond> rate_;
  std::vector<char> frozen_;
  std::size_t left_ = 0;
  std::vector<std::uint32_t> by_cap_;
  std::size_t next_cap_ = 0;
  std::vector<std::size_t> touched_;
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
