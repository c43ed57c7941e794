// Checks across a model's fields, and of its expert slots against the placement's redundancy:
// each field alone is in range, these say whether they fit together.
#include <fmt/format.h>

#include <cstdint>

#include "sim/spec/limits.hpp"
#include "sim/spec/scenario_sections.hpp"

namespace moesim::sim::scenario_sections {

void check_model_consistency(const ModelSpec& m, const std::string& path, ProblemList& problems) {
  if (m.moe_layers > m.layers)
    problems.add(path + "/moe_layers",
                 fmt::format("expected at most layers ({}), got {}", m.layers, m.moe_layers));
  if (m.top_k > m.experts)
    problems.add(path + "/top_k",
                 fmt::format("expected at most experts ({}), got {}", m.experts, m.top_k));
  if (m.expert_groups > 1 && m.experts % m.expert_groups != 0)
    problems.add(path + "/expert_groups", fmt::format("expected a divisor of experts ({}), got {}",
                                                      m.experts, m.expert_groups));
  if (m.attention.kind == AttentionKind::Gqa && m.attention.kv_heads > m.attention.heads)
    problems.add(path + "/kv_heads", fmt::format("expected at most attention_heads ({}), got {}",
                                                 m.attention.heads, m.attention.kv_heads));
  if (m.topk_groups > m.expert_groups)
    problems.add(path + "/topk_groups", fmt::format("expected at most expert_groups ({}), got {}",
                                                    m.expert_groups, m.topk_groups));
  else if (m.expert_groups > 1 && m.experts % m.expert_groups == 0 &&
           m.top_k > m.topk_groups * (m.experts / m.expert_groups))
    // A token picks its experts from topk_groups groups: it cannot find more than they hold.
    problems.add(path + "/top_k",
                 fmt::format("expected at most topk_groups x experts per group = {} x {}, got {}",
                             m.topk_groups, m.experts / m.expert_groups, m.top_k));
}

// Placement and routing tables are (MoE layers x expert slots) long and placement time grows with
// the square of the slots: both are bounded (docs/limits.md), in 64-bit arithmetic.
void check_expert_slots(const ModelSpec& model, int redundant, ProblemList& problems) {
  const std::int64_t slots = std::int64_t{model.experts} + redundant;
  if (model.experts > 0 && slots > kMaxExpertSlots)
    problems.add(
        "/placement/redundant_experts",
        fmt::format("expected experts + redundant_experts <= {} expert slots, got {} + {} = {}",
                    kMaxExpertSlots, model.experts, redundant, slots));
  else if (model.experts > 0 && slots * model.moe_layers > kMaxLayerExpertCells)
    problems.add(
        "/model/moe_layers",
        fmt::format("expected moe_layers x expert slots <= {}, got {} x {} = {}",
                    kMaxLayerExpertCells, model.moe_layers, slots, slots * model.moe_layers));
}

}  // namespace moesim::sim::scenario_sections
