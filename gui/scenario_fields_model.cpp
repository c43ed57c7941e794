#include "gui/scenario_fields_model.hpp"

namespace moesim::gui {
namespace {

void flatten(const nlohmann::ordered_json& value, const std::string& pointer,
             std::vector<std::pair<std::string, std::string>>& out) {
  if (value.is_object() && !value.empty()) {
    for (const auto& [key, child] : value.items()) {
      std::string escaped;  // RFC 6901: "~" -> "~0", "/" -> "~1"
      for (char c : key) escaped += c == '~' ? "~0" : c == '/' ? "~1" : std::string(1, c);
      flatten(child, pointer + "/" + escaped, out);
    }
    return;
  }
  out.emplace_back(pointer, value.dump());
}

}  // namespace

ScenarioFieldsModel::ScenarioFieldsModel(ExplorerDocument* document, QObject* parent)
    : QAbstractTableModel(parent), document_(document) {
  // A failed edit leaves the JSON edited but the scenario unchanged: show what was typed.
  connect(document_, &ExplorerDocument::scenarioChanged, this, &ScenarioFieldsModel::reset);
  connect(document_, &ExplorerDocument::problemsChanged, this, &ScenarioFieldsModel::reset);
  reset();
}

void ScenarioFieldsModel::reset() {
  std::vector<std::pair<std::string, std::string>> leaves;
  if (!document_->scenario_json().is_null()) flatten(document_->scenario_json(), "", leaves);
  beginResetModel();
  rows_.clear();
  for (auto& [pointer, value] : leaves) rows_.push_back({std::move(pointer), std::move(value)});
  endResetModel();
}

nlohmann::ordered_json ScenarioFieldsModel::parse_value(const QString& text) {
  const std::string raw = text.trimmed().toStdString();
  auto parsed = nlohmann::ordered_json::parse(raw, nullptr, false);
  if (parsed.is_discarded()) return raw;
  return parsed;
}

int ScenarioFieldsModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(rows_.size());
}

int ScenarioFieldsModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : Columns;
}

QVariant ScenarioFieldsModel::data(const QModelIndex& index, int role) const {
  if ((!index.isValid() || !checkIndex(index))) return {};
  const auto& row = rows_[static_cast<std::size_t>(index.row())];
  if (role == Qt::DisplayRole || role == Qt::EditRole || role == Qt::ToolTipRole)
    return QString::fromStdString(index.column() == Field ? row.pointer : row.value);
  return {};
}

QVariant ScenarioFieldsModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
  if (section == Field) return tr("Field");
  if (section == Value) return tr("Value");
  return {};
}

Qt::ItemFlags ScenarioFieldsModel::flags(const QModelIndex& index) const {
  if ((!index.isValid() || !checkIndex(index))) return Qt::NoItemFlags;
  auto flags = Qt::ItemIsEnabled | Qt::ItemIsSelectable;
  if (index.column() == Value) flags |= Qt::ItemIsEditable;
  return flags;
}

bool ScenarioFieldsModel::setData(const QModelIndex& index, const QVariant& value, int role) {
  if ((!index.isValid() || !checkIndex(index)) || role != Qt::EditRole || index.column() != Value)
    return false;
  const std::string pointer = rows_[static_cast<std::size_t>(index.row())].pointer;
  // The document resets this model (valid or not); the edit itself always lands in the JSON.
  QMetaObject::invokeMethod(
      document_,
      [document = document_, pointer, parsed = parse_value(value.toString())] {
        document->set_field(pointer, parsed);
      },
      Qt::QueuedConnection);
  return true;
}

}  // namespace moesim::gui
