#pragma once
// Hand edits of one layer's placement (no Qt): move, swap, replicate, remove a replica, apply a
// strategy. Every edit keeps slots and replicas consistent, and refuses (returns false, unchanged)
// what the simulator could not run: an expert twice on one GPU, or an expert with no replica left.
#include <string>
#include <string_view>
#include <vector>

#include "sim/placement/placement.hpp"
#include "sim/spec/scenario.hpp"

namespace moesim::gui {

// A slot emptied by removing a replica; the simulator only reads replicas, so it stays idle.
inline constexpr int kFreeSlot = -1;

struct SlotRef {
  int gpu = 0;
  int slot = 0;
  friend bool operator==(const SlotRef&, const SlotRef&) = default;
};

// replicas[e] from slots, in GPU order.
void rebuild_replicas(sim::Placement& placement, int experts);

// Moves the expert at `from` into `to`; an expert already at `to` goes back to `from` (a swap).
bool move_expert(sim::Placement& placement, SlotRef from, SlotRef to);
// Copies the expert at `from` into `to`, which must be free or hold a redundant replica.
bool replicate_expert(sim::Placement& placement, SlotRef from, SlotRef to);
// A free or redundant slot for a new replica of `expert` on the GPU with the least load, if any.
bool find_replica_slot(const sim::Placement& placement, int expert,
                       const std::vector<double>& expert_load, SlotRef& out);
// Frees the slot, when the expert it holds has another replica.
bool remove_replica(sim::Placement& placement, SlotRef at);

// The strategies the explorer offers: every one but "explicit" (that needs the scenario's file).
std::vector<std::string> strategy_names();
// One layer's placement by `strategy` for its loads; throws ConfigError when it cannot place.
sim::Placement place_layer(const sim::ScenarioSpec& scenario, sim::PlacementStrategy strategy,
                           const std::vector<double>& expert_load);

}  // namespace moesim::gui
