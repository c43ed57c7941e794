// The explorer end to end, offscreen: an edit changes the placement and the re-simulated result,
// undo restores both, a bad file shows the CLI's error, stale runs are dropped, and DeepSeek-V3 on
// 64 GPUs re-simulates well under a second.
#include <QElapsedTimer>
#include <QListWidget>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <algorithm>

#include "base/config_error.hpp"
#include "gui/explorer_document.hpp"
#include "gui/main_window.hpp"
#include "gui/placement_model.hpp"
#include "gui/results_panel.hpp"
#include "gui/scenario_panel.hpp"
#include "gui/simulation_worker.hpp"
#include "gui/timeline_widget.hpp"
#include "gui_test_scenarios.hpp"
#include "sim/run/simulate.hpp"

namespace moesim::gui {
namespace {

// Waits for the next result on screen.
bool next_result(MainWindow& window, int timeout_ms = 60'000) {
  QSignalSpy shown(&window, &MainWindow::resultShown);
  return shown.wait(timeout_ms);
}

double peak(const std::vector<double>& loads) { return *std::ranges::max_element(loads); }

// A swap in layer 0 that raises the busiest GPU's load: the hottest expert joins the GPU of the
// second hottest, in place of the coldest expert there.
bool find_worsening_swap(const ExplorerDocument& document, SlotRef& from, SlotRef& to) {
  const auto& placement = document.placements()[0];
  const auto& load = document.loads()[0];
  const double before = peak(sim::gpu_loads(placement, load));
  double worst = before;
  for (int g = 0; g < placement.gpus; ++g)
    for (int s = 0; s < placement.slots_per_gpu(); ++s)
      for (int h = 0; h < placement.gpus; ++h)
        for (int t = 0; t < placement.slots_per_gpu(); ++t) {
          auto trial = placement;
          if (!move_expert(trial, {g, s}, {h, t})) continue;
          const double trial_peak = peak(sim::gpu_loads(trial, load));
          if (trial_peak > worst * (1 + 1e-9)) {
            worst = trial_peak;
            from = {g, s};
            to = {h, t};
          }
        }
  return worst > before;
}

}  // namespace

class ExplorerTest : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void move_changes_placement_and_result_and_undo_restores_both() {
    QTemporaryDir dir;
    MainWindow window;
    QSignalSpy shown(&window, &MainWindow::resultShown);
    QVERIFY(window.load(test::write_scenario(QDir(dir.path()), "skewed.json", test::kSkewedEp8)));
    QVERIFY(shown.wait(60'000));
    QVERIFY(window.current_report() && window.baseline_report());
    const auto baseline_slots = window.document()->placements()[0].slots;
    const auto baseline = *window.current_report();
    QCOMPARE(baseline.step_time_s, window.baseline_report()->step_time_s);
    // The timeline tab draws the Perfetto export's spans of GPU 0: compute, dispatch, combine.
    const auto& spans = window.results()->timeline()->spans();
    QVERIFY(!spans.empty());
    QVERIFY(std::ranges::all_of(spans,
                                [](const auto& span) { return span.lane >= 0 && span.lane < 3; }));

    SlotRef from, to;
    QVERIFY(find_worsening_swap(*window.document(), from, to));
    QVERIFY(window.document()->move_expert(0, from, to));
    QVERIFY(window.document()->placements()[0].slots != baseline_slots);
    QVERIFY(next_result(window));
    // The busiest GPU of layer 0 got busier, so imbalance (sum of per-layer max over sum of mean)
    // rises, and the experts phase of that layer (gated by that GPU) takes longer.
    QVERIFY(window.current_report()->imbalance > baseline.imbalance);
    QVERIFY(window.current_report()->step_time_s > baseline.step_time_s);
    const auto first_moe =
        baseline.layers.size() - static_cast<std::size_t>(window.document()->moe_layers());
    QVERIFY(window.current_report()->layers[first_moe].phases.experts >
            baseline.layers[first_moe].phases.experts);

    window.document()->undo_stack()->undo();
    QCOMPARE(window.document()->placements()[0].slots, baseline_slots);
    QVERIFY(next_result(window));
    QCOMPARE(window.current_report()->imbalance, baseline.imbalance);
    QCOMPARE(window.current_report()->step_time_s, baseline.step_time_s);

    window.document()->undo_stack()->redo();
    QVERIFY(next_result(window));
    QVERIFY(window.current_report()->imbalance > baseline.imbalance);
  }

  void strategy_and_replica_edits_resimulate_in_one_undo_step_each() {
    QTemporaryDir dir;
    MainWindow window;
    QVERIFY(window.load(test::write_scenario(QDir(dir.path()), "skewed.json", test::kSkewedEp8)));
    QVERIFY(next_result(window));
    const auto baseline = *window.current_report();
    auto* document = window.document();

    // Removing a replica of layer 0's hottest expert leaves its load on fewer GPUs.
    const auto& load = document->loads()[0];
    const int hottest = static_cast<int>(std::ranges::max_element(load) - load.begin());
    const auto replicas = document->placements()[0].replicas[hottest];  // a copy: edits replace it
    QVERIFY(replicas.size() > 1);  // the redundant slots go to the hottest experts first
    const int gpu = replicas.back();
    const auto slots = document->placements()[0].slots[gpu];
    const int slot = static_cast<int>(std::ranges::find(slots, hottest) - slots.begin());
    QVERIFY(document->remove_replica(0, {gpu, slot}));
    QCOMPARE(document->placements()[0].slots[gpu][slot], kFreeSlot);
    QVERIFY(next_result(window));
    QVERIFY(window.current_report()->imbalance > baseline.imbalance);

    // Replicating it again fills a free or redundant slot: the replica count is back.
    const auto& home = document->placements()[0].slots[replicas.front()];
    const int home_slot = static_cast<int>(std::ranges::find(home, hottest) - home.begin());
    QVERIFY(document->replicate_to_least_loaded(0, {replicas.front(), home_slot}));
    QCOMPARE(document->placements()[0].replicas[hottest].size(), replicas.size());
    QVERIFY(next_result(window));
    QCOMPARE(document->undo_stack()->count(), 2);

    // A strategy re-places every layer in one step; undo brings the edited placement back.
    const auto edited = document->placements();
    QVERIFY(document->apply_strategy("round-robin"));
    QCOMPARE(document->undo_stack()->count(), 3);
    QVERIFY(next_result(window));
    document->undo_stack()->undo();
    QCOMPARE(document->placements()[0].slots, edited[0].slots);
    QVERIFY(next_result(window));

    // Every strategy the toolbar offers places this scenario.
    for (const auto& name : strategy_names())
      QVERIFY2(document->apply_strategy(name),
               qPrintable(QString::fromStdString(name) + ": " + document->problems().join('\n')));
    const int steps = document->undo_stack()->count();

    // A strategy that cannot place reports why and changes nothing.
    QVERIFY(!document->apply_strategy("no-such-strategy"));
    QVERIFY(!document->problems().isEmpty());
    QCOMPARE(document->undo_stack()->count(), steps);
  }

  void a_routing_trace_replaces_the_generator_for_baseline_and_current() {
    QTemporaryDir dir;
    MainWindow window;
    QVERIFY(window.load(test::write_scenario(QDir(dir.path()), "skewed.json", test::kSkewedEp8)));
    QVERIFY(next_result(window));
    // One recorded layer (tiled over Mixtral's 32): expert 5 takes 40% of the token copies.
    const auto trace = test::write_scenario(
        QDir(dir.path()), "counts.json",
        R"({"top_k": 2, "tokens_per_expert": [[100, 100, 100, 100, 100, 800, 400, 400]]})");
    QVERIFY2(window.load_trace(trace), qPrintable(window.document()->problems().join('\n')));
    QVERIFY(next_result(window));
    const auto& load = window.document()->loads()[0];
    QCOMPARE(std::ranges::max_element(load) - load.begin(), 5);
    for (const auto* report : {&*window.current_report(), &*window.baseline_report()}) {
      const auto& tokens = report->layers.back().tokens_per_expert;
      QCOMPARE(std::ranges::max_element(tokens) - tokens.begin(), 5);
    }
    QCOMPARE(window.document()->trace(), trace);

    // A trace of another model (4 experts, not 8): the file's problem, and the old trace stays.
    const auto bad = test::write_scenario(QDir(dir.path()), "bad-counts.json",
                                          R"({"top_k": 2, "tokens_per_expert": [[1, 2, 3, 4]]})");
    QVERIFY(!window.load_trace(bad));
    QVERIFY(window.document()->problems().join('\n').contains("bad-counts.json"));
    QCOMPARE(window.document()->trace(), trace);
  }

  void bad_file_shows_the_cli_error_in_the_window() {
    QTemporaryDir dir;
    const auto path = test::write_scenario(QDir(dir.path()), "bad.json", test::kBadScenario);
    std::string cli_message;
    try {
      sim::load_scenario(path);
      QFAIL("the bad scenario validated");
    } catch (const ConfigError& error) {
      cli_message = error.what();
    }
    MainWindow window;
    QVERIFY(!window.load(path));
    QVERIFY(!window.document()->has_scenario());
    const auto* problems = window.scenario_panel()->problems_view();
    QStringList shown;
    for (int row = 0; row < problems->count(); ++row) shown << problems->item(row)->text();
    QCOMPARE(shown.join('\n'), QString::fromStdString(cli_message).trimmed());
    QVERIFY(shown.join('\n').contains("/parallelism/micro_batches"));

    // A missing file: the CLI's "no such file" message, and still no crash.
    QVERIFY(!window.load(dir.filePath("missing.json").toStdString()));
    QVERIFY(window.document()->problems().join('\n').contains("no such file"));
  }

  void a_run_that_fails_lists_its_error_and_nothing_crashes() {
    // DeepSeek-V3 (671B parameters, BF16) on one 8-GPU H100 node cannot hold its weights.
    const std::string text = R"({"schema_version": 1, "name": "too-big", "model": "deepseek-v3",
      "cluster": "h100x8", "parallelism": {"expert_parallel": 8},
      "workload": {"kind": "prefill", "tokens_per_gpu": 4096}})";
    QTemporaryDir dir;
    const auto path = test::write_scenario(QDir(dir.path()), "too-big.json", text.c_str());
    QString expected;
    try {
      sim::simulate(sim::load_scenario(path));
      QSKIP("the simulator fits this scenario; nothing to check");
    } catch (const ConfigError& error) {
      expected = QString::fromStdString(error.what()).trimmed();
    }
    MainWindow window;
    QSignalSpy shown(&window, &MainWindow::resultShown);
    if (window.load(path)) QVERIFY(shown.wait(60'000));  // the parser may already refuse it
    QVERIFY(!window.current_report());
    const auto* problems = window.scenario_panel()->problems_view();
    QStringList listed;
    for (int row = 0; row < problems->count(); ++row) listed << problems->item(row)->text();
    QCOMPARE(listed.join('\n'), expected);
  }

  void odd_edits_are_refused_or_simulated_never_crash() {
    QTemporaryDir dir;
    MainWindow window;
    QVERIFY(window.load(test::write_scenario(QDir(dir.path()), "skewed.json", test::kSkewedEp8)));
    QVERIFY(next_result(window));
    const std::pair<const char*, nlohmann::ordered_json> edits[] = {
        {"/parallelism/expert_parallel", 3},
        {"/parallelism/expert_parallel", 0},
        {"/parallelism/expert_parallel", 16},
        {"/placement/redundant_experts", 5},
        {"/placement/redundant_experts", -8},
        {"/placement/strategy", "eplb"},
        {"/placement/strategy", "no-such"},
        {"/workload/tokens_per_gpu", 1},
        {"/workload/tokens_per_gpu", "many"},
        {"/policy/capacity_factor", 0.5},
        {"/cluster", "h200x32"},
        {"/model", "deepseek-v3"},
        {"/workload/routing/zipf_exponent", 1e9},
        {"/no/such/field", 1},
        {"/parallelism", nullptr},
    };
    for (const auto& [pointer, value] : edits) {
      const bool valid = window.document()->set_field(pointer, value);
      QVERIFY2(valid || !window.document()->problems().isEmpty(), pointer);
      if (valid) QVERIFY2(next_result(window), pointer);  // a result or its error, on screen
      QVERIFY(window.load(test::write_scenario(QDir(dir.path()), "skewed.json", test::kSkewedEp8)));
      QVERIFY(next_result(window));
    }
  }

  void switching_the_network_model_keeps_placements_and_history() {
    QTemporaryDir dir;
    MainWindow window;
    auto* document = window.document();
    QCOMPARE(document->network_model(), std::string("analytic"));  // edits re-simulate at once
    QVERIFY(window.load(test::write_scenario(QDir(dir.path()), "skewed.json", test::kSkewedEp8)));
    QVERIFY(next_result(window));
    SlotRef from, to;
    QVERIFY(find_worsening_swap(*document, from, to));
    QVERIFY(document->move_expert(0, from, to));
    QVERIFY(next_result(window));
    const auto edited = document->placements()[0].slots;
    QVERIFY(document->set_network_model("flow"));
    QVERIFY(next_result(window));  // baseline and current, both on the flow model
    QVERIFY(window.current_report() && window.baseline_report());
    QCOMPARE(document->placements()[0].slots, edited);
    QCOMPARE(document->undo_stack()->count(), 1);
    QVERIFY(!document->set_network_model("no-such-model"));
    QVERIFY(document->problems().join('\n').contains("/network/model"));
    QCOMPARE(document->network_model(), std::string("flow"));
  }

  void replica_choice_changes_runs_not_placements() {
    QTemporaryDir dir;
    MainWindow window;
    auto* document = window.document();
    QVERIFY(window.load(test::write_scenario(QDir(dir.path()), "skewed.json", test::kSkewedEp8)));
    QVERIFY(next_result(window));
    const auto placed = document->placements()[0].slots;
    QVERIFY(document->set_replica_choice("least-loaded"));
    QVERIFY(next_result(window));
    QCOMPARE(document->run_scenario().policy.replica_choice, sim::ReplicaChoice::LeastLoaded);
    QCOMPARE(document->placements()[0].slots, placed);
    QVERIFY(!document->set_replica_choice("nearest"));  // refused, naming the field
    QVERIFY(document->problems().join('\n').contains("/policy/replica_choice"));
    QCOMPARE(document->replica_choice(), std::string("least-loaded"));
  }

  void stale_results_are_dropped() {
    SimulationRunner runner;
    QSignalSpy finished(&runner, &SimulationRunner::finished);
    const auto scenario = sim::load_scenario("quickstart");
    runner.request(scenario, {}, false);
    runner.request(scenario, {}, false);
    const auto last = runner.request(scenario, {}, true);
    QVERIFY(finished.wait(60'000));
    QTest::qWait(200);  // any stale result would have arrived by now
    QCOMPARE(finished.count(), 1);
    const auto result = finished.front().front().value<SimulationResult>();
    QCOMPARE(result.id, last);
    QVERIFY(result.report && result.baseline);

    runner.request(scenario, {}, false);
    runner.cancel();
    QTest::qWait(500);
    QCOMPARE(finished.count(), 1);  // the cancelled run never reports
    QVERIFY(!runner.busy());
  }

  void deepseek_v3_on_64_gpus_resimulates_under_a_second() {
    QTemporaryDir dir;
    MainWindow window;
    QSignalSpy shown(&window, &MainWindow::resultShown);
    QVERIFY(
        window.load(test::write_scenario(QDir(dir.path()), "dsv3.json", test::kDeepSeekV3On64)));
    QVERIFY(shown.wait(60'000));
    QVERIFY(window.current_report());
    QCOMPARE(window.current_report()->gpus, 64);
    std::vector<double> edit_to_result_ms, simulate_ms;
    for (int round = 0; round < 7; ++round) {
      QElapsedTimer timer;
      timer.start();
      QVERIFY(window.document()->move_expert(round, {0, 0}, {63, 0}) ||
              window.document()->move_expert(round, {0, 0}, {62, 1}));
      QVERIFY(next_result(window));
      edit_to_result_ms.push_back(static_cast<double>(timer.nsecsElapsed()) / 1e6);
      simulate_ms.push_back(window.last_elapsed_s() * 1e3);
    }
    std::ranges::sort(edit_to_result_ms);
    std::ranges::sort(simulate_ms);
    const double median = edit_to_result_ms[edit_to_result_ms.size() / 2];
    qInfo(
        "DeepSeek-V3, 64 GPUs, median of 7 edits: %.1f ms from edit to result on screen, "
        "%.1f ms of simulate on the worker thread",
        median, simulate_ms[simulate_ms.size() / 2]);
    QVERIFY(median < 1000);
  }
};

}  // namespace moesim::gui

QTEST_MAIN(moesim::gui::ExplorerTest)
#include "gui_explorer_test.moc"
