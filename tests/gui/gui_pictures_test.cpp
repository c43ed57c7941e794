// The GUI's pictures, offscreen: link loads laid over the topology (which link, which colour, the
// busiest labelled) and the heat map's axes and colour bar.
#include <QTemporaryDir>
#include <QTest>
#include <algorithm>
#include <memory>

#include "gui/charts.hpp"
#include "gui/explorer_document.hpp"
#include "gui/link_map.hpp"
#include "gui/link_utilisation.hpp"
#include "gui_test_scenarios.hpp"
#include "sim/network/network_model.hpp"
#include "sim/run/simulate.hpp"

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

 private:
  QTemporaryDir dir_;
  ExplorerDocument document_;
  std::shared_ptr<const topology::ClusterGraph> graph_;
};

}  // namespace moesim::gui

QTEST_MAIN(moesim::gui::PicturesTest)
#include "gui_pictures_test.moc"
