// The Perfetto timeline of a report, and which GPUs it draws.
#include <fmt/format.h>

#include <algorithm>
#include <numeric>

#include "sim/report/report.hpp"
#include "sim/report/timeline_blocks.hpp"
#include "sim/report/timeline_events.hpp"
#include "sim/report/training_report.hpp"

namespace moesim::sim {
namespace {

using Json = nlohmann::json;

double us(double seconds) { return seconds * 1e6; }

void add_span(Json& events, int gpu, int tid, const std::string& name, double start,
              double duration) {
  if (duration <= 0) return;
  events.push_back({{"ph", "X"},
                    {"pid", gpu},
                    {"tid", tid},
                    {"name", name},
                    {"ts", us(start)},
                    {"dur", us(duration)}});
}

}  // namespace

TimelineGpus select_timeline_gpus(const Report& r, int limit) {
  TimelineGpus selection;
  const int total = static_cast<int>(r.per_gpu.size());
  std::vector<int> order(total);
  std::iota(order.begin(), order.end(), 0);
  if (limit <= 0 || total <= limit) {
    selection.gpus = order;
    selection.note = fmt::format("all {} GPUs", total);
    return selection;
  }
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
    const auto &x = r.per_gpu[a], &y = r.per_gpu[b];
    return x.compute_s != y.compute_s ? x.compute_s > y.compute_s
                                      : x.expert_tokens > y.expert_tokens;
  });
  selection.hottest = (limit + 1) / 2;
  std::vector<bool> kept(total, false);
  for (int i = 0; i < selection.hottest; ++i) kept[order[i]] = true;
  // The sample: evenly spaced over the GPUs not kept yet, so every node region shows up.
  std::vector<int> rest;
  for (int g = 0; g < total; ++g)
    if (!kept[g]) rest.push_back(g);
  const int sampled = limit - selection.hottest;
  for (int i = 0; i < sampled; ++i)
    kept[rest[static_cast<std::size_t>(i) * rest.size() / sampled]] = true;
  for (int g = 0; g < total; ++g)
    if (kept[g]) selection.gpus.push_back(g);
  selection.note =
      fmt::format("{} of {} GPUs (limit {}): the {} hottest (GPU {} first) and {} sampled evenly",
                  limit, total, limit, selection.hottest, order[0], sampled);
  return selection;
}

Json report_to_timeline(const Report& r, int limit) {
  Json events = Json::array();
  const TimelineGpus selection = select_timeline_gpus(r, limit);
  const int links_pid = static_cast<int>(r.per_gpu.size());  // after every GPU's pid
  const auto add = [&events](Json event) { events.push_back(std::move(event)); };
  add_process_names(selection.gpus, links_pid, add);
  for_each_timeline_pass(r, [&](const TimelinePass& pass) {
    for (const int gpu : selection.gpus)
      for (const TimelineBlock& block : micro_batch_timeline_blocks(
               pass.layer_start, pass.at, pass.phases, pass.own_experts(gpu)))
        add_span(events, gpu, block.stream, pass.tag + block.name, block.start, block.duration);
    if (!pass.backward) add_link_counters(links_pid, pass.layer_start, pass.layer, pass.at, add);
  });
  if (r.training) append_training_timeline(*r.training, selection.gpus, events);
  return Json{{"traceEvents", events},
              {"displayTimeUnit", "ms"},
              {"otherData",
               {{"scenario", r.scenario},
                {"gpus_shown", selection.gpus.size()},
                {"gpus", r.gpus},
                {"gpus_listed", selection.gpus},
                {"selection", selection.note}}}};
}

}  // namespace moesim::sim
