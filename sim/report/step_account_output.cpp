// The step account in report.json, report.csv and the terminal summary.
#include <fmt/format.h>

#include <algorithm>

#include "sim/report/milliseconds.hpp"
#include "sim/report/step_account.hpp"
#include "sim/run/training_step.hpp"

namespace moesim::sim {
namespace {

using Json = nlohmann::json;

void add_work(PhaseTimes& sum, const PhaseTimes& p, double times) {
  sum.dense += p.dense * times;
  sum.gate += p.gate * times;
  sum.dispatch += p.dispatch * times;
  sum.experts += p.experts * times;
  sum.combine += p.combine * times;
}

// The summary's "work" line (each phase's time before overlap) and "exposed" line (after).
std::string work_and_exposed_lines(const std::string& pass, const PhaseTimes& w,
                                   const ExposedPhases& e, const std::string& scope) {
  std::string text = fmt::format(
      "{:<10}dense {:.3f}  gate {:.3f}  dispatch {:.3f}  experts {:.3f}  combine {:.3f} ms "
      "({}{})\n",
      pass.empty() ? "work" : "bwd work", ms(w.dense), ms(w.gate), ms(w.dispatch), ms(w.experts),
      ms(w.combine), pass.empty() ? "forward, " : "backward, ", scope);
  text += fmt::format(
      "{:<10}dense {:.3f}  gate {:.3f}  dispatch {:.3f}  experts {:.3f}  combine {:.3f}  "
      "wait {:.3f} ms (after overlap)\n",
      pass.empty() ? "exposed" : "bwd exp.", ms(e.dense), ms(e.gate), ms(e.dispatch), ms(e.experts),
      ms(e.combine), ms(e.wait));
  return text;
}

}  // namespace

Json exposed_to_json(const ExposedPhases& e) {
  return Json{{"dense_ms", ms(e.dense)},       {"gate_ms", ms(e.gate)},
              {"dispatch_ms", ms(e.dispatch)}, {"experts_ms", ms(e.experts)},
              {"combine_ms", ms(e.combine)},   {"wait_ms", ms(e.wait)},
              {"total_ms", ms(e.total())}};
}

Json step_account_to_json(const Report& r, const StepAccount& a) {
  Json items = Json::array();
  for (const auto& item : a.step_items)
    items.push_back({{"name", item.name}, {"ms", ms(item.seconds)}});
  const Bottleneck b = find_bottleneck(r, a);
  Json account{{"blocks_exposed", exposed_to_json(a.phase_sums)},
               {"blocks_scope", a.blocks_scope},
               {"step_items", items},
               {"accounted_ms", ms(a.accounted())},
               {"bottleneck",
                {{"phase", b.phase},
                 {"resource", b.resource},
                 {"where", b.where},
                 {"exposed_ms", ms(b.seconds)},
                 {"share_of_step", b.share}}}};
  if (r.training) account["backward_exposed"] = exposed_to_json(a.backward_sums);
  return account;
}

std::string step_items_csv(const Report& r, const StepAccount& a, int columns) {
  // The layer column names the item and total_ms (the 8th column) holds it; the rest stay empty.
  std::string rows;
  std::vector<StepItem> items;
  if (r.training)  // the layer rows are one micro-batch each; these two are the step's blocks
    items = {{"forward", a.phase_sums.total()}, {"backward", a.backward_sums.total()}};
  items.insert(items.end(), a.step_items.begin(), a.step_items.end());
  for (const auto& item : items) {
    std::string row = item.name + ",0";
    for (int column = 3; column <= columns; ++column)
      row += column == 8 ? fmt::format(",{:.6f}", ms(item.seconds)) : ",";
    rows += row + "\n";
  }
  return rows;
}

std::string step_account_text(const Report& r, const StepAccount& a) {
  // Work summed over the blocks the account's sums cover, as many times as they run.
  PhaseTimes work, backward_work;
  double times = std::max(1, r.micro_batches);
  StageBlocks blocks{0, static_cast<int>(r.layers.size())};
  if (r.training) {
    blocks = stage_blocks(blocks.end, r.training->stages, r.training->slowest_stage);
    times = r.training->micro_batches;
  }
  for (int i = blocks.first; i < blocks.end; ++i) {
    const LayerResult& l = r.layers[static_cast<std::size_t>(i)];
    add_work(work, l.phases, times);
    add_work(backward_work, l.backward, times);
  }
  std::string text = work_and_exposed_lines("", work, a.phase_sums, a.blocks_scope);
  if (r.training)
    text += work_and_exposed_lines("backward ", backward_work, a.backward_sums, "the same blocks");
  for (const auto& item : a.step_items)
    text += fmt::format("  + step  {} {:.3f} ms\n", item.name, ms(item.seconds));
  text += fmt::format("  = step  {:.3f} ms\n", ms(a.accounted()));
  const Bottleneck b = find_bottleneck(r, a);
  const bool block_phase = std::none_of(a.step_items.begin(), a.step_items.end(),
                                        [&](const StepItem& item) { return item.name == b.phase; });
  text +=
      fmt::format("bottleneck {} ({}) exposes {:.3f} ms{}, {:.1f}% of the step; {}\n", b.phase,
                  b.resource, ms(b.seconds),
                  r.training && block_phase ? " forward and backward" : "", 100 * b.share, b.where);
  return text;
}

}  // namespace moesim::sim
