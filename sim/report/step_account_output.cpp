// The step account in report.json, report.csv and the terminal summary.
#include <fmt/format.h>

#include "sim/report/milliseconds.hpp"
#include "sim/report/step_account.hpp"

namespace moesim::sim {
namespace {

using Json = nlohmann::json;

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
  return Json{{"blocks_exposed", exposed_to_json(a.phase_sums)},
              {"step_items", items},
              {"accounted_ms", ms(a.accounted())},
              {"bottleneck",
               {{"phase", b.phase},
                {"resource", b.resource},
                {"where", b.where},
                {"exposed_ms", ms(b.seconds)},
                {"share_of_step", b.share}}}};
}

std::string step_items_csv(const StepAccount& a, int columns) {
  // The layer column names the item and total_ms (the 8th column) holds it; the rest stay empty.
  std::string rows;
  for (const auto& item : a.step_items) {
    std::string row = item.name + ",0";
    for (int column = 3; column <= columns; ++column)
      row += column == 8 ? fmt::format(",{:.6f}", ms(item.seconds)) : ",";
    rows += row + "\n";
  }
  return rows;
}

std::string step_account_text(const Report& r, const StepAccount& a) {
  PhaseTimes work;
  for (const auto& l : r.layers) {
    work.dense += l.phases.dense;
    work.gate += l.phases.gate;
    work.dispatch += l.phases.dispatch;
    work.experts += l.phases.experts;
    work.combine += l.phases.combine;
  }
  const double mb = std::max(1, r.micro_batches);
  const ExposedPhases& e = a.phase_sums;
  std::string text = fmt::format(
      "work      dense {:.3f}  gate {:.3f}  dispatch {:.3f}  experts {:.3f}  combine {:.3f} ms "
      "(forward, all {} micro-batch{}, summed over layers)\n",
      ms(work.dense * mb), ms(work.gate * mb), ms(work.dispatch * mb), ms(work.experts * mb),
      ms(work.combine * mb), r.micro_batches, r.micro_batches == 1 ? "" : "es");
  text += fmt::format(
      "exposed   dense {:.3f}  gate {:.3f}  dispatch {:.3f}  experts {:.3f}  combine {:.3f}  "
      "wait {:.3f} ms (after overlap)\n",
      ms(e.dense), ms(e.gate), ms(e.dispatch), ms(e.experts), ms(e.combine), ms(e.wait));
  for (const auto& item : a.step_items)
    text += fmt::format("  + step  {} {:.3f} ms\n", item.name, ms(item.seconds));
  text += fmt::format("  = step  {:.3f} ms\n", ms(a.accounted()));
  const Bottleneck b = find_bottleneck(r, a);
  text += fmt::format("bottleneck {} ({}) exposes {:.3f} ms, {:.1f}% of the step; {}\n", b.phase,
                      b.resource, ms(b.seconds), 100 * b.share, b.where);
  return text;
}

}  // namespace moesim::sim
