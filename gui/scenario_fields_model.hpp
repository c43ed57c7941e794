#pragma once
// The scenario file as editable rows: one per leaf value, keyed by its JSON pointer
// ("/parallelism/micro_batches"). An edit goes to the document, which revalidates the whole file
// with the CLI's parser, so every mistake is reported with the CLI's message.
#include <QAbstractTableModel>
#include <string>
#include <vector>

#include "gui/explorer_document.hpp"

namespace moesim::gui {

class ScenarioFieldsModel : public QAbstractTableModel {
  Q_OBJECT
 public:
  enum Column { Field, Value, Columns };

  explicit ScenarioFieldsModel(ExplorerDocument* document, QObject* parent = nullptr);

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation,
                      int role = Qt::DisplayRole) const override;
  Qt::ItemFlags flags(const QModelIndex& index) const override;
  bool setData(const QModelIndex& index, const QVariant& value, int role = Qt::EditRole) override;

  // Text as typed: JSON when it parses (256, null, "x"), otherwise taken as a string.
  static nlohmann::ordered_json parse_value(const QString& text);

 private:
  struct Row {
    std::string pointer;
    std::string value;  // compact JSON
  };
  void reset();

  ExplorerDocument* document_;
  std::vector<Row> rows_;
};

}  // namespace moesim::gui
