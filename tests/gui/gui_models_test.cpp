// Every item model of gui/ under QAbstractItemModelTester, through loads, edits, undo and layer
// changes; and the placement model's drag and drop.
#include <QAbstractItemModelTester>
#include <QDropEvent>
#include <QMimeData>
#include <QTemporaryDir>
#include <QTest>
#include <cmath>
#include <memory>

#include "gui/explorer_document.hpp"
#include "gui/placement_model.hpp"
#include "gui/placement_view.hpp"
#include "gui/scenario_fields_model.hpp"
#include "gui/summary_model.hpp"
#include "gui_test_scenarios.hpp"
#include "sim/run/simulate.hpp"

namespace moesim::gui {

// The view's own drop handling, reachable from a test.
class DropView : public PlacementView {
 public:
  void drop(QDropEvent* event) { dropEvent(event); }
};

class ModelsTest : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void init() {
    document_ = std::make_unique<ExplorerDocument>();
    QVERIFY(dir_.isValid());
    QVERIFY(
        document_->load(test::write_scenario(QDir(dir_.path()), "skewed.json", test::kSkewedEp8)));
  }

  void placement_model_passes_tester_through_edits() {
    PlacementModel model(document_.get());
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    // 8 experts + 8 redundant slots over 8 GPUs: 2 slots (rows) a GPU; one node, so one block of
    // a label column and 8 GPU columns.
    QCOMPARE(model.rowCount(), 2);
    QCOMPARE(model.columnCount(), 9);
    QVERIFY(document_->move_expert(0, {0, 0}, {1, 1}) || document_->move_expert(0, {0, 0}, {2, 1}));
    QVERIFY(document_->remove_replica(0, {0, 1}) || document_->remove_replica(0, {0, 0}));
    document_->undo_stack()->undo();
    model.set_layer(3);
    QCOMPARE(model.layer(), 3);
    QVERIFY(document_->set_field("/parallelism/expert_parallel", 4));  // 4 slots a GPU now
    QCOMPARE(model.columnCount(), 1 + 4);  // the label and 4 GPUs of the one node's block
    QCOMPARE(model.rowCount(), 4);
  }

  void placement_model_shows_expert_load_and_replicas() {
    PlacementModel model(document_.get());
    const auto& placement = document_->placements()[0];
    const QModelIndex tile = model.tile_index({2, 1});
    const int expert = placement.slots[2][1];
    QCOMPARE(tile.data(PlacementModel::ExpertRole).toInt(), expert);
    QCOMPARE(tile.data(Qt::DisplayRole).toString(), QString::number(expert));
    const auto replicas = static_cast<int>(placement.replicas[expert].size());
    QCOMPARE(tile.data(PlacementModel::ReplicasRole).toInt(), replicas);
    // A tile carries its share: the expert's load split evenly over its replicas.
    QCOMPARE(tile.data(PlacementModel::LoadRole).toDouble(),
             document_->loads()[0][expert] / replicas);
  }

  void dropping_a_tile_moves_the_expert_and_ctrl_drop_replicates() {
    PlacementModel model(document_.get());
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    const auto before = document_->placements()[0];
    // Find a swap that both GPUs allow (neither may end up with one expert twice).
    for (int gpu = 1; gpu < 8; ++gpu) {
      auto trial = before;
      if (!move_expert(trial, {0, 0}, {gpu, 0})) continue;
      std::unique_ptr<QMimeData> mime(model.mimeData({model.tile_index({0, 0})}));
      QVERIFY(mime);
      model.dropMimeData(mime.get(), Qt::MoveAction, -1, -1, model.tile_index({gpu, 0}));
      QCoreApplication::processEvents();  // the model hands the edit over queued
      QCOMPARE(document_->placements()[0].slots, trial.slots);
      QCOMPARE(document_->undo_stack()->count(), 1);
      break;
    }
    QVERIFY(document_->placements()[0].slots != before.slots);

    // Free a slot, then Ctrl+drop an expert into it: a new replica.
    const int expert = document_->placements()[0].slots[0][0];
    int freed_gpu = -1;
    for (int gpu = 1; gpu < 8 && freed_gpu < 0; ++gpu)
      if (document_->placements()[0].slots[gpu][1] != expert &&
          document_->placements()[0].slots[gpu][0] != expert &&
          document_->remove_replica(0, {gpu, 1}))
        freed_gpu = gpu;
    QVERIFY(freed_gpu > 0);
    const auto replicas = document_->placements()[0].replicas[expert].size();
    std::unique_ptr<QMimeData> mime(model.mimeData({model.tile_index({0, 0})}));
    model.dropMimeData(mime.get(), Qt::CopyAction, -1, -1, model.tile_index({freed_gpu, 1}));
    QCoreApplication::processEvents();
    QCOMPARE(document_->placements()[0].replicas[expert].size(), replicas + 1);
    QCOMPARE(document_->placements()[0].slots[freed_gpu][1], expert);
  }

  void dropping_on_the_view_moves_the_expert_under_the_cursor() {
    PlacementModel model(document_.get());
    DropView view;
    view.setModel(&model);
    view.resize(600, 200);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    const auto before = document_->placements()[0];
    int target = -1;
    for (int gpu = 1; gpu < 8 && target < 0; ++gpu) {
      auto trial = before;
      if (move_expert(trial, {0, 0}, {gpu, 1})) target = gpu;
    }
    QVERIFY(target > 0);
    // What a drag of tile (slot 0, GPU 0) released over tile (slot 1, GPU target) delivers.
    std::unique_ptr<QMimeData> mime(model.mimeData({model.tile_index({0, 0})}));
    const QPointF at = view.visualRect(model.tile_index({target, 1})).center();
    QDropEvent drop(at, Qt::MoveAction | Qt::CopyAction, mime.get(), Qt::LeftButton,
                    Qt::NoModifier);
    drop.setDropAction(Qt::MoveAction);
    drop.ignore();
    view.drop(&drop);
    QCoreApplication::processEvents();
    QCOMPARE(document_->placements()[0].slots[target][1], before.slots[0][0]);
    QCOMPARE(document_->placements()[0].slots[0][0], before.slots[target][1]);
  }

  void placement_groups_gpus_by_node_in_wrapped_blocks() {
    ExplorerDocument document;
    QVERIFY(document.load(
        test::write_scenario(QDir(dir_.path()), "dsv3-64.json", test::kDeepSeekV3On64)));
    PlacementModel model(&document);
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    // 64 GPUs at 8 a node: 8 nodes; (256 experts + 64 redundant) / 64 GPUs = 5 slots a GPU.
    // One node a band: 9 columns (label + 8 GPUs), 8 bands x 5 slots = 40 rows.
    QCOMPARE(model.nodes(), 8);
    QCOMPARE(model.columnCount(), 9);
    QCOMPARE(model.rowCount(), 40);
    // Three nodes a band: 3 x 9 = 27 columns; ceil(8 / 3) = 3 bands x 5 slots = 15 rows.
    model.set_nodes_per_row(3);
    QCOMPARE(model.columnCount(), 27);
    QCOMPARE(model.rowCount(), 15);
    // Node 4 is band 1 (rows 5-9), block 1 (columns 9-17); its label is the block's first cell.
    const QModelIndex label = model.node_label_index(4);
    QCOMPARE(label.row(), 5);
    QCOMPARE(label.column(), 9);
    QVERIFY(label.data().toString().startsWith("node 4\nGPU 32–39\n×"));
    QCOMPARE(label.data(PlacementModel::GpuRole).toInt(), -1);
    QVERIFY(!(model.flags(label) & Qt::ItemIsDragEnabled));
    // GPU 35 = node 4's GPU +3: column 9 + 1 + 3 = 13; its slot 2 is row 5 + 2 = 7.
    const QModelIndex tile = model.tile_index({35, 2});
    QCOMPARE(tile.row(), 7);
    QCOMPARE(tile.column(), 13);
    QCOMPARE(tile.data(PlacementModel::ExpertRole).toInt(), document.placements()[0].slots[35][2]);
    SlotRef back;
    QVERIFY(model.slot_at(tile, back));
    QCOMPARE(back, (SlotRef{35, 2}));
    // Band 2 holds nodes 6 and 7; its third block (columns 18-26) is past the last node.
    QCOMPARE(model.index(10, 20).data(PlacementModel::NodeRole).toInt(), -1);
    QVERIFY(!model.slot_at(model.index(10, 20), back));
    // A node's load is its tiles' loads; the ratios to the mean node average exactly 1.
    double ratio_sum = 0, node4 = 0, all = 0;
    for (int node = 0; node < 8; ++node) ratio_sum += model.node_load_ratio(node);
    for (int gpu = 0; gpu < 64; ++gpu)
      for (int slot = 0; slot < 5; ++slot) {
        const double load = model.tile_index({gpu, slot}).data(PlacementModel::LoadRole).toDouble();
        all += load;
        if (gpu / 8 == 4) node4 += load;
      }
    QVERIFY(std::abs(ratio_sum - 8) < 1e-9);
    QVERIFY(std::abs(model.node_load_ratio(4) - node4 / (all / 8)) < 1e-9);

    // The view spans each label over the node's 5 slot rows, and fits 320-px blocks (an 80-px
    // label and 8 x 30-px GPUs) to its width: 1,000 px hold 3, 1,280 hold 4, 319 still one.
    PlacementView view;
    view.setModel(&model);
    QCOMPARE(view.rowSpan(label.row(), label.column()), 5);
    QCOMPARE(PlacementView::nodes_per_row_for(1000, 8), 3);
    QCOMPARE(PlacementView::nodes_per_row_for(1280, 8), 4);
    QCOMPARE(PlacementView::nodes_per_row_for(319, 8), 1);
  }

  void summary_model_passes_tester_and_reports_change() {
    SummaryModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    const auto baseline = sim::simulate(document_->scenario());
    sim::SimulationOverrides overrides;
    // No replicas (one expert a GPU): the hot experts lose their helpers, so imbalance rises.
    sim::PlacementSpec plain;
    for (const auto& load : document_->loads())
      overrides.placements.push_back(sim::make_placement(plain, 8, 8, load));
    const auto current = sim::simulate(document_->scenario(), {}, overrides);
    model.set_reports(baseline, current);
    // Six headline figures, the busiest link, then one utilisation row per link kind (one node:
    // NVLink only).
    QVERIFY(!current.busiest_links.empty() && !baseline.busiest_links.empty());
    QCOMPARE(model.rowCount(), 7 + static_cast<int>(current.links.size()));
    QCOMPARE(model.columnCount(), 4);
    // Row 2 is the imbalance: change = current / baseline - 1.
    const double change = current.imbalance / baseline.imbalance - 1;
    QCOMPARE(model.index(2, SummaryModel::Change).data(Qt::UserRole).toDouble(), change);
    model.clear();
    QCOMPARE(model.rowCount(), 0);
  }

  void scenario_fields_model_passes_tester_and_edits_revalidate() {
    ScenarioFieldsModel model(document_.get());
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    int row = -1;
    for (int r = 0; r < model.rowCount(); ++r)
      if (model.index(r, 0).data().toString() == "/parallelism/expert_parallel") row = r;
    QVERIFY(row >= 0);
    QCOMPARE(model.index(row, 1).data().toString(), QString("8"));
    QVERIFY(model.setData(model.index(row, 1), "4"));
    QCoreApplication::processEvents();
    QCOMPARE(document_->scenario().parallelism.expert_parallel, 4);
    // A value the parser refuses: the scenario stays, the problem names the field.
    for (int r = 0; r < model.rowCount(); ++r)
      if (model.index(r, 0).data().toString() == "/parallelism/expert_parallel") row = r;
    QVERIFY(model.setData(model.index(row, 1), "-3"));
    QCoreApplication::processEvents();
    QCOMPARE(document_->scenario().parallelism.expert_parallel, 4);
    QVERIFY(!document_->problems().isEmpty());
    QVERIFY(document_->problems().join('\n').contains("/parallelism/expert_parallel"));
  }

 private:
  QTemporaryDir dir_;
  std::unique_ptr<ExplorerDocument> document_;
};

}  // namespace moesim::gui

QTEST_MAIN(moesim::gui::ModelsTest)
#include "gui_models_test.moc"
