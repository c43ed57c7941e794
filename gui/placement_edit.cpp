#include "gui/placement_edit.hpp"

#include <algorithm>
#include <limits>

#include "sim/placement/strategies.hpp"

namespace moesim::gui {
namespace {

bool valid_slot(const sim::Placement& p, SlotRef at) {
  return at.gpu >= 0 && at.gpu < static_cast<int>(p.slots.size()) && at.slot >= 0 &&
         at.slot < static_cast<int>(p.slots[at.gpu].size());
}

int& slot_of(sim::Placement& p, SlotRef at) { return p.slots[at.gpu][at.slot]; }

bool gpu_holds(const sim::Placement& p, int gpu, int expert) {
  const auto& slots = p.slots[gpu];
  return std::find(slots.begin(), slots.end(), expert) != slots.end();
}

// A slot may take a new replica when it is empty or its expert lives elsewhere too.
bool is_spare(const sim::Placement& p, SlotRef at) {
  const int held = p.slots[at.gpu][at.slot];
  return held == kFreeSlot || p.replicas[held].size() > 1;
}

}  // namespace

void rebuild_replicas(sim::Placement& placement, int experts) {
  placement.replicas.assign(experts, {});
  for (int gpu = 0; gpu < static_cast<int>(placement.slots.size()); ++gpu)
    for (int expert : placement.slots[gpu])
      if (expert >= 0 && expert < experts) placement.replicas[expert].push_back(gpu);
}

bool move_expert(sim::Placement& p, SlotRef from, SlotRef to) {
  if (!valid_slot(p, from) || !valid_slot(p, to) || from == to) return false;
  const int moving = slot_of(p, from);
  const int displaced = slot_of(p, to);
  if (moving == kFreeSlot) return false;
  if (from.gpu != to.gpu) {
    // Neither GPU may end up holding the same expert twice.
    if (gpu_holds(p, to.gpu, moving)) return false;
    if (displaced != kFreeSlot && gpu_holds(p, from.gpu, displaced)) return false;
  }
  slot_of(p, to) = moving;
  slot_of(p, from) = displaced;
  rebuild_replicas(p, static_cast<int>(p.replicas.size()));
  return true;
}

bool replicate_expert(sim::Placement& p, SlotRef from, SlotRef to) {
  if (!valid_slot(p, from) || !valid_slot(p, to)) return false;
  const int expert = slot_of(p, from);
  if (expert == kFreeSlot || gpu_holds(p, to.gpu, expert) || !is_spare(p, to)) return false;
  slot_of(p, to) = expert;
  rebuild_replicas(p, static_cast<int>(p.replicas.size()));
  return true;
}

bool find_replica_slot(const sim::Placement& p, int expert, const std::vector<double>& expert_load,
                       SlotRef& out) {
  const auto loads = sim::gpu_loads(p, expert_load);
  double best = std::numeric_limits<double>::infinity();
  bool found = false;
  for (int gpu = 0; gpu < static_cast<int>(p.slots.size()); ++gpu) {
    if (gpu_holds(p, gpu, expert) || loads[gpu] >= best) continue;
    for (int slot = 0; slot < static_cast<int>(p.slots[gpu].size()); ++slot) {
      if (!is_spare(p, {gpu, slot})) continue;
      out = {gpu, slot};
      best = loads[gpu];
      found = true;
      break;
    }
  }
  return found;
}

bool remove_replica(sim::Placement& p, SlotRef at) {
  if (!valid_slot(p, at)) return false;
  const int expert = slot_of(p, at);
  if (expert == kFreeSlot || p.replicas[expert].size() < 2) return false;
  slot_of(p, at) = kFreeSlot;
  rebuild_replicas(p, static_cast<int>(p.replicas.size()));
  return true;
}

std::vector<std::string> strategy_names() {
  std::vector<std::string> names;
  for (auto name : sim::kChoiceNames<sim::PlacementStrategy>)
    if (name != sim::choice_name(sim::PlacementStrategy::Explicit))  // needs the scenario's file
      names.emplace_back(name);
  return names;
}

sim::Placement place_layer(const sim::ScenarioSpec& scenario, sim::PlacementStrategy strategy,
                           const std::vector<double>& expert_load) {
  const int ep = scenario.parallelism.expert_parallel;
  const int experts = scenario.model.experts;
  sim::PlacementInputs inputs;
  inputs.experts = experts;
  inputs.gpus = ep;
  inputs.nodes = std::max(1, ep / std::max(1, scenario.cluster.system.gpus_per_node));
  inputs.redundant = scenario.placement.redundant_experts;
  inputs.expert_load = expert_load;
  inputs.groups = scenario.model.expert_groups > 1 ? scenario.model.expert_groups : 0;
  return sim::place_experts(strategy, inputs);
}

}  // namespace moesim::gui
