// The GUI's pictures, offscreen: link loads laid over the topology (which link, which colour, the
// busiest labelled) and the heat map's axes and colour bar.
#include <QTemporaryDir>
#include <QTest>
#include <algorithm>
#include <cmath>
#include <memory>

#include "gui/explorer_document.hpp"
#include "gui/heat_map_widget.hpp"
#include "gui/link_map.hpp"
#include "gui/link_utilisation.hpp"
#include "gui_test_scenarios.hpp"
#include "sim/network/network_model.hpp"
#include "sim/run/simulate.hpp"
#ifdef MOESIM_HAS_DRAW
#include "sim/draw/heatmap.hpp"
#endif

namespace moesim::gui {

class PicturesTest : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void init() {
    QVERIFY(dir_.isValid());
    QVERIFY(
        document_.load(test::write_scenario(QDir(dir_.path()), "skewed.json", test::kSkewedEp8)));
    graph_ = std::make_shared<const topology::ClusterGraph>(
        sim::scenario_cluster_graph(document_.scenario()));
  }

  void utilisation_colour_runs_grey_yellow_red() {
    // Idle (215, 215, 215), 50 % (250, 200, 60), 100 % (200, 30, 30); 25 % is halfway from idle
    // to yellow: 215 + 35 / 2 = 232.5 -> 233, 215 - 15 / 2 = 207.5 -> 208, 215 - 155 / 2 = 137.5
    // -> 138 (rounded half away from zero).
    QCOMPARE(LinkMapWidget::utilisation_colour(0), QColor(215, 215, 215));
    QCOMPARE(LinkMapWidget::utilisation_colour(0.25), QColor(233, 208, 138));
    QCOMPARE(LinkMapWidget::utilisation_colour(0.5), QColor(250, 200, 60));
    QCOMPARE(LinkMapWidget::utilisation_colour(1), QColor(200, 30, 30));
    QCOMPARE(LinkMapWidget::utilisation_colour(1.7), QColor(200, 30, 30));  // the label says 170 %
  }

  void flow_and_analytic_link_names_land_on_graph_links() {
    const auto find = [this](const std::string& name) {
      for (std::size_t id = 0; id < graph_->link_count(); ++id)
        if (graph_link_name(*graph_, static_cast<topology::LinkId>(id)) == name)
          return static_cast<int>(id);
      return -1;
    };
    const int gpu3_up = find("n0.gpu3 -> d0.nvswitch");
    const int gpu5_up = find("n0.gpu5 -> d0.nvswitch");
    const int gpu5_down = find("d0.nvswitch -> n0.gpu5");
    QVERIFY(gpu3_up >= 0 && gpu5_up >= 0 && gpu5_down >= 0);
    // A graph link by name (flow model) and a GPU's port (analytic): "gpu5 nvlink out" is GPU 5's
    // one NVLink link out, to the node's NVSwitch; nothing else carries load.
    std::vector<sim::LinkLoad> loads{{"n0.gpu3 -> d0.nvswitch", "nvlink", 450e9, 1, 0.5, 0.6, 0.4},
                                     {"gpu5 nvlink out", "nvlink", 450e9, 1, 0.8, 0.9, 0.7}};
    const auto step = graph_link_utilisation(*graph_, loads, LinkPhase::Step);
    QCOMPARE(step[static_cast<std::size_t>(gpu3_up)], 0.5);
    QCOMPARE(step[static_cast<std::size_t>(gpu5_up)], 0.8);
    QCOMPARE(step[static_cast<std::size_t>(gpu5_down)], 0.0);
    QCOMPARE(std::count_if(step.begin(), step.end(), [](double u) { return u > 0; }), 2);
    QCOMPARE(busiest_graph_link(step), gpu5_up);
    // The combine's figures, not the step's: 0.4 and 0.7.
    const auto combine = graph_link_utilisation(*graph_, loads, LinkPhase::Combine);
    QCOMPARE(combine[static_cast<std::size_t>(gpu3_up)], 0.4);
    QCOMPARE(combine[static_cast<std::size_t>(gpu5_up)], 0.7);

    LinkMapWidget map;
    map.set_topology(graph_);
    sim::Report report;
    report.link_loads = loads;
    map.set_report(report);
    QCOMPARE(map.busiest_link(), gpu5_up);
    QCOMPARE(map.busiest_label(), QString("busiest: n0.gpu5 -> d0.nvswitch, 80.0 %"));
    map.set_phase(LinkPhase::Dispatch);  // 0.6 and 0.9: the same link, at 90 %
    QCOMPARE(map.busiest_label(), QString("busiest: n0.gpu5 -> d0.nvswitch, 90.0 %"));
  }

  void a_run_colours_its_busiest_link_on_the_graph() {
    for (const char* model : {"analytic", "flow"}) {
      QVERIFY(document_.set_network_model(model));
      const sim::Report report = sim::simulate(document_.run_scenario());
      QVERIFY(!report.busiest_links.empty());
      QCOMPARE(report.link_loads.size(), std::string(model) == "flow"
                                             ? graph_->link_count()
                                             : std::size_t{4 * 8});  // 4 ports a GPU, EP 8
      LinkMapWidget map;
      map.set_topology(graph_);
      map.set_report(report);
      // The drawn busiest link is the report's, at the same utilisation and its colour.
      const double busiest = report.busiest_links.front().utilisation;
      QVERIFY(map.busiest_link() >= 0);
      const double drawn = map.utilisation()[static_cast<std::size_t>(map.busiest_link())];
      QCOMPARE(drawn, busiest);
      QCOMPARE(LinkMapWidget::utilisation_colour(drawn),
               LinkMapWidget::utilisation_colour(busiest));
      // Under the flow model the report's busiest link is a graph link, drawn at its figure (equal
      // loads tie: the report breaks ties by name, the map by link id).
      if (std::string(model) == "flow")
        for (std::size_t id = 0; id < graph_->link_count(); ++id)
          if (graph_link_name(*graph_, static_cast<topology::LinkId>(id)) ==
              report.busiest_links.front().name)
            QCOMPARE(map.utilisation()[id], busiest);
      // A phase's rate is its bytes over its time; on the step's busiest link, with d and c bytes
      // moved in phase times Td + Tc <= T (no overlap here), max(d / Td, c / Tc) >=
      // (d + c) / (Td + Tc) >= (d + c) / T: one phase at least runs it as hard as the step does.
      double hardest_phase = 0;
      for (auto phase : {LinkPhase::Dispatch, LinkPhase::Combine}) {
        map.set_phase(phase);
        QVERIFY(map.busiest_link() >= 0);
        hardest_phase = std::max(hardest_phase,
                                 map.utilisation()[static_cast<std::size_t>(map.busiest_link())]);
      }
      QVERIFY(hardest_phase >= busiest * (1 - 1e-9));
      map.resize(900, 500);
      QVERIFY(!map.grab().isNull());
    }
  }

  void heat_map_scales_each_layer_by_its_mean_on_a_log_scale() {
    // Two MoE layers of 4 experts. Layer 0: {1, 1, 1, 5}, mean 2, ratios 0.5 0.5 0.5 2.5; layer 1:
    // {0, 4, 4, 4}, mean 3, ratios 0 4/3 4/3 4/3. The span is the largest |log2 ratio|:
    // log2 2.5 = 1.3219 (above log2 2 = 1 and log2 4/3 = 0.415).
    sim::Report report;
    for (const auto& tokens : {std::vector<double>{1, 1, 1, 5}, std::vector<double>{0, 4, 4, 4}}) {
      sim::LayerResult layer;
      layer.moe = true;
      layer.layer = static_cast<int>(report.layers.size()) + 3;
      layer.tokens_per_expert = tokens;
      report.layers.push_back(layer);
    }
    HeatMapWidget map;
    map.set_report(report);
    QVERIFY(std::abs(map.span_log2() - std::log2(2.5)) < 1e-12);
    QCOMPARE(map.image().size(), QSize(4, 2));
    // 2.5 sits at the top of the scale: sim/draw's far-above red (165, 0, 38).
    QCOMPARE(map.image().pixelColor(3, 0), QColor(165, 0, 38));
    // 0.5: t = -1 / 1.3219 = -0.75647 of the way from white to (49, 54, 149):
    // 255 - 206 x 0.75647 = 99.17 -> 99, 255 - 201 x 0.75647 = 102.95 -> 103,
    // 255 - 106 x 0.75647 = 174.81 -> 175.
    QCOMPARE(map.image().pixelColor(0, 0), QColor(99, 103, 175));
    QCOMPARE(map.image().pixelColor(0, 1), HeatMapWidget::kZeroLoad);  // no load: its own grey
#ifdef MOESIM_HAS_DRAW
    for (double ratio : {0.5, 4.0 / 3, 2.5}) {  // the same scale as the CLI's pictures
      const sim::Rgb cli = sim::log_ratio_colour(ratio, map.span_log2());
      QCOMPARE(HeatMapWidget::ratio_colour(ratio, map.span_log2()),
               QColor(cli.red, cli.green, cli.blue));
    }
#endif
    // Ticks: 1, 2 or 5 x 10^k rows apart, the smallest whose labels clear a line of text.
    QCOMPARE(HeatMapWidget::tick_step(3.45, 16), 5);  // 2 x 3.45 = 6.9 < 16 <= 5 x 3.45 = 17.25
    QCOMPARE(HeatMapWidget::tick_step(20, 16), 1);
    QCOMPARE(HeatMapWidget::tick_step(0.3, 40), 200);  // 100 x 0.3 = 30 < 40 <= 60
    map.resize(700, 420);
    const auto layout = map.layout();
    const int line = map.fontMetrics().height();
    const double row = static_cast<double>(layout.map.height()) / 2;
    QVERIFY(layout.layer_step * row >= line + 2);
    QVERIFY(!map.grab().isNull());
  }

 private:
  QTemporaryDir dir_;
  ExplorerDocument document_;
  std::shared_ptr<const topology::ClusterGraph> graph_;
};

}  // namespace moesim::gui

QTEST_MAIN(moesim::gui::PicturesTest)
#include "gui_pictures_test.moc"
