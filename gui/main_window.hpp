#pragma once
// moesim-gui's window: wires the document, the simulation runner, the models and the panels. It
// holds no logic of its own beyond deciding when to re-simulate.
#include <QList>
#include <QMainWindow>
#include <optional>
#include <string>

#include "gui/simulation_worker.hpp"

class QAction;
class QComboBox;
class QLabel;
class QMenu;
class QSpinBox;
class QSplitter;

namespace moesim::gui {

class ExplorerDocument;
class PlacementModel;
class PlacementView;
class ResultsPanel;
class ScenarioPanel;

class MainWindow : public QMainWindow {
  Q_OBJECT
 public:
  explicit MainWindow(QWidget* parent = nullptr);

  bool load(const std::string& name_or_path);
  bool load_trace(const std::string& path);

  ExplorerDocument* document() const { return document_; }
  PlacementModel* placement_model() const { return placement_model_; }
  SimulationRunner* runner() const { return runner_; }
  ResultsPanel* results() const { return results_; }
  ScenarioPanel* scenario_panel() const { return scenario_panel_; }
  const std::optional<sim::Report>& current_report() const { return current_; }
  const std::optional<sim::Report>& baseline_report() const { return baseline_; }
  double last_elapsed_s() const { return last_elapsed_s_; }
  void set_layer(int moe_layer);

  bool export_report(const QString& path) const;
  bool export_placement(const QString& path) const;
  bool export_scenario(const QString& path) const;

 Q_SIGNALS:
  void resultShown();  // a result (or its error) is on screen

 private:
  void build_actions();
  void build_file_menu();
  void add_open_actions(QMenu* file);
  void add_export_actions(QMenu* file);
  // Undo, redo, replicate and remove in the edit menu; returned in the toolbar's order.
  QList<QAction*> build_edit_menu();
  void build_toolbar(const QList<QAction*>& edit_actions);
  QComboBox* network_model_combo();
  QComboBox* replica_choice_combo();
  void resimulate(bool with_baseline);
  void show_result(const SimulationResult& result);
  void show_layer_loads();
  void apply_strategy();
  void replicate_current();
  void remove_current();
  void fit_placement_height();

  ExplorerDocument* document_;
  SimulationRunner* runner_;
  PlacementModel* placement_model_;
  PlacementView* placement_view_;
  QSplitter* centre_;
  ScenarioPanel* scenario_panel_;
  ResultsPanel* results_;
  QSpinBox* layer_spin_;
  QComboBox* strategy_combo_;
  QLabel* status_;
  std::optional<sim::Report> baseline_;
  std::optional<sim::Report> current_;
  double last_elapsed_s_ = 0;
};

}  // namespace moesim::gui
