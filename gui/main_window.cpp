#include "gui/main_window.hpp"

#include <QAction>
#include <QComboBox>
#include <QDockWidget>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QMenu>
#include <QMenuBar>
#include <QPushButton>
#include <QSpinBox>
#include <QSplitter>
#include <QStatusBar>
#include <QToolBar>
#include <QVBoxLayout>
#include <algorithm>

#include "base/config_error.hpp"
#include "gui/explorer_document.hpp"
#include "gui/exports.hpp"
#include "gui/placement_model.hpp"
#include "gui/placement_view.hpp"
#include "gui/results_panel.hpp"
#include "gui/scenario_panel.hpp"
#include "sim/network/dispatch_traffic.hpp"
#include "sim/network/network_model.hpp"
#include "sim/report/report.hpp"
#include "sim/spec/builtin_scenarios.hpp"

namespace moesim::gui {
namespace {

// A menu item's data: the choice's name from its table (sim/spec/choices.hpp).
template <typename Enum>
QString choice_data(Enum value) {
  const auto name = sim::choice_name(value);
  return QString::fromUtf8(name.data(), static_cast<qsizetype>(name.size()));
}

// The cluster to draw link loads on; none when it cannot be built (the run then says why).
std::shared_ptr<const topology::ClusterGraph> cluster_graph(const sim::ScenarioSpec& scenario) {
  try {
    return std::make_shared<const topology::ClusterGraph>(sim::scenario_cluster_graph(scenario));
  } catch (const ConfigError&) {
    return nullptr;
  }
}

}  // namespace

MainWindow::MainWindow(QWidget* parent)
    : QMainWindow(parent),
      document_(new ExplorerDocument(this)),
      runner_(new SimulationRunner(this)),
      placement_model_(new PlacementModel(document_, this)),
      placement_view_(new PlacementView(this)),
      centre_(new QSplitter(Qt::Vertical, this)),
      scenario_panel_(new ScenarioPanel(document_, this)),
      results_(new ResultsPanel(this)),
      layer_spin_(new QSpinBox(this)),
      strategy_combo_(new QComboBox(this)),
      status_(new QLabel(this)) {
  setWindowTitle(tr("moesim-gui: placement explorer"));
  placement_view_->setModel(placement_model_);

  centre_->addWidget(placement_view_);
  centre_->addWidget(results_);
  centre_->setStretchFactor(0, 2);
  centre_->setStretchFactor(1, 3);
  setCentralWidget(centre_);

  auto* dock = new QDockWidget(tr("Scenario"), this);
  dock->setObjectName(QStringLiteral("scenario"));
  dock->setWidget(scenario_panel_);
  addDockWidget(Qt::LeftDockWidgetArea, dock);
  statusBar()->addPermanentWidget(status_, 1);

  build_actions();

  connect(document_, &ExplorerDocument::scenarioChanged, this, [this] {
    layer_spin_->setRange(0, std::max(0, document_->moe_layers() - 1));
    baseline_.reset();
    current_.reset();
    results_->clear();
    results_->set_topology(cluster_graph(document_->scenario()));
    fit_placement_height();
    resimulate(true);
  });
  connect(document_, &ExplorerDocument::placementsChanged, this, [this] { resimulate(false); });
  connect(document_, &ExplorerDocument::runSettingsChanged, this, [this] { resimulate(true); });
  connect(runner_, &SimulationRunner::finished, this, &MainWindow::show_result);
  connect(runner_, &SimulationRunner::cancelled, this,
          [this] { status_->setText(tr("Simulation cancelled")); });
  connect(layer_spin_, &QSpinBox::valueChanged, this, &MainWindow::set_layer);
}

void MainWindow::build_actions() {
  build_file_menu();
  const QList<QAction*> edit_actions = build_edit_menu();
  build_toolbar(edit_actions);
}

void MainWindow::build_file_menu() {
  auto* file = menuBar()->addMenu(tr("&File"));
  add_open_actions(file);
  add_export_actions(file);
  file->addSeparator();
  file->addAction(tr("&Quit"), QKeySequence::Quit, this, &QWidget::close);
}

void MainWindow::add_open_actions(QMenu* file) {
  file->addAction(tr("&Open scenario…"), QKeySequence::Open, this, [this] {
    const auto path = QFileDialog::getOpenFileName(this, tr("Open scenario"), {},
                                                   tr("Scenarios (*.json);;All files (*)"));
    if (!path.isEmpty()) load(path.toStdString());
  });
  auto* builtins = file->addMenu(tr("Open &built-in scenario"));
  for (const auto& builtin : sim::builtin_scenarios()) {
    const std::string name(builtin.name);
    builtins->addAction(QString::fromStdString(name), this, [this, name] { load(name); });
  }
  file->addAction(tr("Open routing &trace…"), this, [this] {
    const auto path =
        QFileDialog::getOpenFileName(this, tr("Open routing trace"), {},
                                     tr("Traces (*.moetrace *.npy *.json *.csv);;All files (*)"));
    if (!path.isEmpty()) load_trace(path.toStdString());
  });
}

void MainWindow::add_export_actions(QMenu* file) {
  const auto save_with = [this](const QString& title, const QString& filter, auto write) {
    const auto path = QFileDialog::getSaveFileName(this, title, {}, filter);
    if (path.isEmpty()) return;
    status_->setText((this->*write)(path) ? tr("Wrote %1").arg(path)
                                          : tr("Could not write %1").arg(path));
  };
  file->addAction(tr("Export &report JSON…"), this, [=] {
    save_with(tr("Export report"), tr("JSON (*.json)"), &MainWindow::export_report);
  });
  file->addAction(tr("Export &placement JSON…"), this, [=] {
    save_with(tr("Export placement"), tr("JSON (*.json)"), &MainWindow::export_placement);
  });
  file->addAction(tr("Export &scenario JSON…"), this, [=] {
    save_with(tr("Export scenario"), tr("JSON (*.json)"), &MainWindow::export_scenario);
  });
  file->addAction(tr("Save &chart as PNG…"), this, [this] {
    const auto path = QFileDialog::getSaveFileName(this, tr("Save chart"), {}, tr("PNG (*.png)"));
    if (!path.isEmpty())
      status_->setText(results_->save_current_chart(path) ? tr("Wrote %1").arg(path)
                                                          : tr("Could not write %1").arg(path));
  });
}

QList<QAction*> MainWindow::build_edit_menu() {
  auto* undo = document_->undo_stack()->createUndoAction(this, tr("&Undo"));
  auto* redo = document_->undo_stack()->createRedoAction(this, tr("&Redo"));
  undo->setShortcut(QKeySequence::Undo);
  redo->setShortcut(QKeySequence::Redo);
  auto* edit = menuBar()->addMenu(tr("&Edit"));
  edit->addAction(undo);
  edit->addAction(redo);

  auto* replicate = new QAction(tr("Replicate expert"), this);
  replicate->setToolTip(
      tr("Add a replica of the selected expert on the least-loaded GPU with a "
         "free or redundant slot"));
  replicate->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_R));
  connect(replicate, &QAction::triggered, this, &MainWindow::replicate_current);
  auto* remove = new QAction(tr("Remove replica"), this);
  remove->setToolTip(tr("Free the selected slot, when its expert has another replica"));
  remove->setShortcut(QKeySequence::Delete);
  connect(remove, &QAction::triggered, this, &MainWindow::remove_current);
  placement_view_->addActions({replicate, remove});
  edit->addSeparator();
  edit->addActions({replicate, remove});
  return {replicate, remove, undo, redo};
}

void MainWindow::build_toolbar(const QList<QAction*>& edit_actions) {
  auto* bar = addToolBar(tr("Placement"));
  bar->setObjectName(QStringLiteral("placement"));
  bar->addWidget(new QLabel(tr(" MoE layer "), this));
  bar->addWidget(layer_spin_);
  bar->addSeparator();
  for (const auto& name : strategy_names()) strategy_combo_->addItem(QString::fromStdString(name));
  bar->addWidget(strategy_combo_);
  bar->addAction(tr("Apply strategy"), this, &MainWindow::apply_strategy);
  bar->addSeparator();
  bar->addActions(edit_actions);
  bar->addSeparator();
  bar->addAction(tr("Cancel run"), this, [this] { runner_->cancel(); });
  auto* network = network_model_combo();
  bar->addSeparator();
  bar->addWidget(network);
  bar->addWidget(replica_choice_combo());
}

QComboBox* MainWindow::network_model_combo() {
  auto* network = new QComboBox(this);
  network->addItem(tr("network: analytic (fast)"), choice_data(sim::NetworkModelKind::Analytic));
  network->addItem(tr("network: flow (exact, slow)"), choice_data(sim::NetworkModelKind::Flow));
  network->addItem(tr("network: as the scenario says"), QString());
  network->setToolTip(tr("How runs play the all-to-alls; analytic re-simulates on every edit"));
  network->setCurrentIndex(network->findData(QString::fromStdString(document_->network_model())));
  connect(network, &QComboBox::currentIndexChanged, this, [this, network] {
    document_->set_network_model(network->currentData().toString().toStdString());
  });
  return network;
}

QComboBox* MainWindow::replica_choice_combo() {
  auto* replicas = new QComboBox(this);
  replicas->addItem(tr("replicas: as the scenario says"), QString());
  replicas->addItem(tr("replicas: round-robin"), choice_data(sim::ReplicaChoice::RoundRobin));
  replicas->addItem(tr("replicas: same node first"),
                    choice_data(sim::ReplicaChoice::SameNodeFirst));
  replicas->addItem(tr("replicas: least loaded"), choice_data(sim::ReplicaChoice::LeastLoaded));
  replicas->setToolTip(tr("Which replica of a replicated expert each token copy reaches"));
  connect(replicas, &QComboBox::currentIndexChanged, this, [this, replicas] {
    document_->set_replica_choice(replicas->currentData().toString().toStdString());
  });
  return replicas;
}

bool MainWindow::load(const std::string& name_or_path) {
  const bool loaded = document_->load(name_or_path);
  if (!loaded) {
    status_->setText(
        tr("Could not load %1: see Problems").arg(QString::fromStdString(name_or_path)));
    Q_EMIT resultShown();
  }
  return loaded;
}

bool MainWindow::load_trace(const std::string& path) {
  const bool loaded = document_->load_trace(path);
  if (!loaded) status_->setText(tr("Could not read the trace: see Problems"));
  return loaded;
}

void MainWindow::set_layer(int moe_layer) {
  if (layer_spin_->value() != moe_layer) layer_spin_->setValue(moe_layer);  // re-enters here
  placement_model_->set_layer(moe_layer);
  show_layer_loads();
}

void MainWindow::resimulate(bool with_baseline) {
  if (!document_->has_scenario()) return;
  sim::SimulationOverrides overrides;
  overrides.placements = document_->placements();
  overrides.expert_popularity = document_->popularity();
  runner_->request(document_->run_scenario(), std::move(overrides), with_baseline || !baseline_);
  status_->setText(tr("Simulating…"));
  show_layer_loads();
}

void MainWindow::show_result(const SimulationResult& result) {
  last_elapsed_s_ = result.elapsed_s;
  if (!result.report) {
    status_->setText(tr("Simulation failed: see Problems"));
    scenario_panel_->show_run_error(result.error);
    Q_EMIT resultShown();
    return;
  }
  if (result.baseline) baseline_ = result.baseline;
  current_ = result.report;
  scenario_panel_->show_problems();  // clears a failed run's error
  results_->show_reports(baseline_ ? *baseline_ : *current_, *current_);
  QString notes;
  if (!document_->trace().empty())
    notes += tr(" · trace %1").arg(QString::fromStdString(document_->trace()));
  // Name the model that drew the figures; under "auto" the setting alone does not say which.
  const QString drew = QString::fromStdString(current_->network_model);
  const std::string& chosen = document_->network_model();
  notes += chosen.empty() || chosen == current_->network_model
               ? tr(" · network %1").arg(drew)
               : tr(" · network %1 (%2)").arg(drew, QString::fromStdString(chosen));
  status_->setText(tr("%1 · %2 GPUs · step %3 ms · %4 tokens/s · simulated in %5 ms%6")
                       .arg(QString::fromStdString(current_->scenario))
                       .arg(current_->gpus)
                       .arg(current_->step_time_s * 1e3, 0, 'f', 2)
                       .arg(current_->tokens_per_s(), 0, 'f', 0)
                       .arg(result.elapsed_s * 1e3, 0, 'f', 1)
                       .arg(notes));
  Q_EMIT resultShown();
}

void MainWindow::show_layer_loads() {
  const int layer = placement_model_->layer();
  if (!document_->has_scenario() || layer >= document_->moe_layers()) return;
  const auto& load = document_->loads()[layer];
  // As the runs split replicated experts: the run scenario's replica choice.
  const auto& run = document_->run_scenario();
  const auto choice = run.policy.replica_choice;
  const int domain =
      std::min(run.parallelism.expert_parallel, run.cluster.system.gpus_per_scale_up_domain);
  results_->show_layer_loads(
      sim::replica_gpu_loads(document_->placements()[layer], load, choice, domain),
      sim::replica_gpu_loads(document_->baseline_placements()[layer], load, choice, domain), layer);
}

void MainWindow::apply_strategy() {
  if (!document_->apply_strategy(strategy_combo_->currentText().toStdString()))
    status_->setText(tr("Strategy failed: see Problems"));
}

void MainWindow::replicate_current() {
  SlotRef at;
  if (!placement_view_->current_slot(at) ||
      !document_->replicate_to_least_loaded(placement_model_->layer(), at))
    status_->setText(tr("No free or redundant slot can take a replica of that expert"));
}

void MainWindow::remove_current() {
  SlotRef at;
  if (!placement_view_->current_slot(at) ||
      !document_->remove_replica(placement_model_->layer(), at))
    status_->setText(tr("That expert has no other replica to keep"));
}

void MainWindow::fit_placement_height() {
  // As tall as its slots need (a few rows for most scenarios), leaving the rest to the results.
  const int rows = placement_model_->rowCount();
  const int wanted = placement_view_->horizontalHeader()->height() +
                     rows * placement_view_->verticalHeader()->defaultSectionSize() + 24;
  const int total = std::max(centre_->height(), 600);
  const int top = std::clamp(wanted, 80, total / 2);
  centre_->setSizes({top, total - top});
}

bool MainWindow::export_report(const QString& path) const {
  return current_ &&
         try_write_text_file(path.toStdString(), sim::report_to_json(*current_).dump(2));
}

bool MainWindow::export_placement(const QString& path) const {
  if (!document_->has_scenario()) return false;
  return try_write_text_file(
      path.toStdString(),
      placements_to_json(document_->scenario().name, document_->placements()).dump(2));
}

bool MainWindow::export_scenario(const QString& path) const {
  return document_->has_scenario() &&
         try_write_text_file(path.toStdString(), document_->scenario_json().dump(2));
}

}  // namespace moesim::gui
