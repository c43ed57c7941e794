#pragma once
// The scenario side panel: its fields (editable), a row to set any field by JSON pointer, and the
// problems of the last load or edit, worded as the CLI words them.
#include <QWidget>

class QLabel;
class QLineEdit;
class QListWidget;
class QTableView;

namespace moesim::gui {

class ExplorerDocument;
class ScenarioFieldsModel;

class ScenarioPanel : public QWidget {
  Q_OBJECT
 public:
  ScenarioPanel(ExplorerDocument* document, QWidget* parent = nullptr);
  QListWidget* problems_view() const { return problems_; }
  ScenarioFieldsModel* fields_model() const { return fields_; }
  // A run that failed (a scenario that does not fit in memory, say): listed like a file problem.
  void show_run_error(const QString& error);
  // The document's problems (or that the scenario is valid), replacing any run error.
  void show_problems();

 private:
  ExplorerDocument* document_;
  ScenarioFieldsModel* fields_;
  QLabel* source_;
  QTableView* fields_view_;
  QLineEdit* pointer_edit_;
  QLineEdit* value_edit_;
  QListWidget* problems_;
};

}  // namespace moesim::gui
