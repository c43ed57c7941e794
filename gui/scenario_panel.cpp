#include "gui/scenario_panel.hpp"

#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPushButton>
#include <QTableView>
#include <QVBoxLayout>

#include "gui/explorer_document.hpp"
#include "gui/scenario_fields_model.hpp"

namespace moesim::gui {

ScenarioPanel::ScenarioPanel(ExplorerDocument* document, QWidget* parent)
    : QWidget(parent),
      document_(document),
      fields_(new ScenarioFieldsModel(document, this)),
      source_(new QLabel(this)),
      fields_view_(new QTableView(this)),
      pointer_edit_(new QLineEdit(this)),
      value_edit_(new QLineEdit(this)),
      problems_(new QListWidget(this)) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(4, 4, 4, 4);
  source_->setWordWrap(true);
  layout->addWidget(source_);

  fields_view_->setModel(fields_);
  fields_view_->horizontalHeader()->setSectionResizeMode(0, QHeaderView::ResizeToContents);
  fields_view_->horizontalHeader()->setStretchLastSection(true);
  fields_view_->verticalHeader()->hide();
  fields_view_->verticalHeader()->setDefaultSectionSize(20);
  fields_view_->setEditTriggers(QAbstractItemView::DoubleClicked |
                                QAbstractItemView::EditKeyPressed |
                                QAbstractItemView::AnyKeyPressed);
  fields_view_->setToolTip(
      tr("Double-click a value to edit it (JSON, or plain text for a string)"));
  layout->addWidget(fields_view_, 3);

  auto* set_row = new QHBoxLayout;
  pointer_edit_->setPlaceholderText(tr("/placement/redundant_experts"));
  value_edit_->setPlaceholderText(tr("value"));
  auto* set_button = new QPushButton(tr("Set"), this);
  set_row->addWidget(pointer_edit_, 3);
  set_row->addWidget(value_edit_, 2);
  set_row->addWidget(set_button);
  layout->addLayout(set_row);
  const auto set_field = [this] {
    if (pointer_edit_->text().trimmed().isEmpty()) return;
    document_->set_field(pointer_edit_->text().trimmed().toStdString(),
                         ScenarioFieldsModel::parse_value(value_edit_->text()));
  };
  connect(set_button, &QPushButton::clicked, this, set_field);
  connect(value_edit_, &QLineEdit::returnPressed, this, set_field);

  layout->addWidget(new QLabel(tr("Problems"), this));
  problems_->setWordWrap(true);
  problems_->setObjectName(QStringLiteral("problems"));
  layout->addWidget(problems_, 1);

  connect(document_, &ExplorerDocument::problemsChanged, this, &ScenarioPanel::show_problems);
  connect(document_, &ExplorerDocument::scenarioChanged, this, &ScenarioPanel::show_problems);
  show_problems();
}

void ScenarioPanel::show_problems() {
  source_->setText(document_->has_scenario()
                       ? tr("<b>%1</b><br>%2")
                             .arg(QString::fromStdString(document_->scenario().name),
                                  QString::fromStdString(document_->scenario().description))
                       : tr("No scenario loaded"));
  problems_->clear();
  for (const auto& line : document_->problems()) {
    auto* item = new QListWidgetItem(line, problems_);
    item->setForeground(QColor(180, 20, 20));
  }
  if (document_->problems().isEmpty() && document_->has_scenario())
    problems_->addItem(tr("Scenario valid: %1").arg(QString::fromStdString(document_->source())));
}

}  // namespace moesim::gui

namespace moesim::gui {

void ScenarioPanel::show_run_error(const QString& error) {
  problems_->clear();
  for (const auto& line : error.split(QLatin1Char('\n'), Qt::SkipEmptyParts)) {
    auto* item = new QListWidgetItem(line, problems_);
    item->setForeground(QColor(180, 20, 20));
  }
}

}  // namespace moesim::gui
