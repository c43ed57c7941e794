#include "gui/placement_model.hpp"

#include <QDataStream>
#include <QFont>
#include <QIODevice>
#include <QMimeData>
#include <algorithm>

namespace moesim::gui {

PlacementModel::PlacementModel(ExplorerDocument* document, QObject* parent)
    : QAbstractTableModel(parent), document_(document) {
  connect(document_, &ExplorerDocument::scenarioChanged, this, [this] {
    layer_ = std::clamp(layer_, 0, std::max(0, document_->moe_layers() - 1));
    reset();
  });
  connect(document_, &ExplorerDocument::placementsChanged, this, &PlacementModel::reset);
  reset();
}

bool PlacementModel::has_layer() const {
  return document_->has_scenario() && layer_ >= 0 && layer_ < document_->moe_layers();
}

void PlacementModel::set_layer(int layer) {
  if (layer == layer_) return;
  layer_ = layer;
  reset();
}

void PlacementModel::reset() {
  beginResetModel();
  mean_tile_load_ = 0;
  if (has_layer()) {
    gpus_per_node_ = std::max(1, document_->scenario().cluster.system.gpus_per_node);
    const auto& placement = document_->placements()[layer_];
    const auto& load = document_->loads()[layer_];
    double total = 0;
    int tiles = 0;
    for (const auto& slots : placement.slots)
      for (int expert : slots)
        if (expert != kFreeSlot) {
          total += load[expert] / static_cast<double>(placement.replicas[expert].size());
          ++tiles;
        }
    mean_tile_load_ = tiles > 0 ? total / tiles : 0;
  }
  endResetModel();
}

int PlacementModel::rowCount(const QModelIndex& parent) const {
  if (parent.isValid() || !has_layer()) return 0;
  return document_->placements()[layer_].slots_per_gpu();
}

int PlacementModel::columnCount(const QModelIndex& parent) const {
  if (parent.isValid() || !has_layer()) return 0;
  return document_->placements()[layer_].gpus;
}

QColor PlacementModel::load_colour(double load, double mean_load) {
  if (mean_load <= 0) return QColor(240, 240, 240);
  const double ratio = std::clamp(load / mean_load, 0.0, 2.0);
  const auto mix = [](int from, int to, double t) {
    return static_cast<int>(from + (to - from) * t);
  };
  if (ratio < 1) {  // cool: under the mean
    const double t = ratio;
    return QColor(mix(59, 247, t), mix(110, 247, t), mix(200, 247, t));
  }
  const double t = ratio - 1;
  return QColor(mix(247, 200, t), mix(247, 40, t), mix(247, 40, t));
}

QVariant PlacementModel::data(const QModelIndex& index, int role) const {
  if ((!index.isValid() || !checkIndex(index)) || !has_layer()) return {};
  const auto& placement = document_->placements()[layer_];
  const int gpu = index.column();
  const int expert = placement.slots[gpu][index.row()];
  const int replicas =
      expert == kFreeSlot ? 0 : static_cast<int>(placement.replicas[expert].size());
  const double load =
      expert == kFreeSlot ? 0 : document_->loads()[layer_][expert] / std::max(1, replicas);
  switch (role) {
    case Qt::DisplayRole:
      return expert == kFreeSlot ? QString() : QString::number(expert);
    case Qt::ToolTipRole:
      if (expert == kFreeSlot) return tr("GPU %1, slot %2: free").arg(gpu).arg(index.row());
      return tr("Expert %1 on GPU %2 (node %3)\n%4 tokens per micro-batch on this GPU\n%5 "
                "replica(s)")
          .arg(expert)
          .arg(gpu)
          .arg(gpu / gpus_per_node_)
          .arg(load, 0, 'f', 0)
          .arg(replicas);
    case Qt::BackgroundRole:
      return expert == kFreeSlot ? QColor(255, 255, 255) : load_colour(load, mean_tile_load_);
    case Qt::FontRole: {
      QFont font;
      font.setBold(replicas > 1);
      return font;
    }
    case Qt::TextAlignmentRole:
      return Qt::AlignCenter;
    case ExpertRole:
      return expert;
    case LoadRole:
      return load;
    case ReplicasRole:
      return replicas;
    case NodeRole:
      return gpu / gpus_per_node_;
    default:
      return {};
  }
}

QVariant PlacementModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (section < 0) return {};
  if (orientation == Qt::Horizontal) {
    if (section >= columnCount()) return {};
    const int node = section / gpus_per_node_;
    if (role == Qt::DisplayRole) return QString::number(section);
    if (role == Qt::ToolTipRole) return tr("GPU %1, node %2").arg(section).arg(node);
    if (role == Qt::BackgroundRole)
      return node % 2 == 0 ? QColor(225, 230, 240) : QColor(245, 245, 250);
    return {};
  }
  if (section >= rowCount()) return {};
  if (role == Qt::DisplayRole) return tr("slot %1").arg(section);
  return {};
}

Qt::ItemFlags PlacementModel::flags(const QModelIndex& index) const {
  if ((!index.isValid() || !checkIndex(index))) return Qt::ItemIsDropEnabled;
  return Qt::ItemIsEnabled | Qt::ItemIsSelectable | Qt::ItemIsDragEnabled | Qt::ItemIsDropEnabled;
}

Qt::DropActions PlacementModel::supportedDropActions() const {
  return Qt::MoveAction | Qt::CopyAction;
}

Qt::DropActions PlacementModel::supportedDragActions() const {
  return Qt::MoveAction | Qt::CopyAction;
}

QStringList PlacementModel::mimeTypes() const { return {QString::fromLatin1(kMimeType)}; }

QMimeData* PlacementModel::mimeData(const QModelIndexList& indexes) const {
  if (indexes.isEmpty() || !has_layer()) return nullptr;
  QByteArray bytes;
  QDataStream out(&bytes, QIODevice::WriteOnly);
  out << layer_ << indexes.front().column() << indexes.front().row();
  auto* mime = new QMimeData;
  mime->setData(QString::fromLatin1(kMimeType), bytes);
  return mime;
}

bool PlacementModel::canDropMimeData(const QMimeData* data, Qt::DropAction action, int row,
                                     int column, const QModelIndex& parent) const {
  if (!data || !data->hasFormat(QString::fromLatin1(kMimeType))) return false;
  if (action != Qt::MoveAction && action != Qt::CopyAction) return false;
  return parent.isValid() || (row >= 0 && column >= 0);
}

bool PlacementModel::dropMimeData(const QMimeData* data, Qt::DropAction action, int row, int column,
                                  const QModelIndex& parent) {
  if (!canDropMimeData(data, action, row, column, parent)) return false;
  QDataStream in(data->data(QString::fromLatin1(kMimeType)));
  int layer = 0, gpu = 0, slot = 0;
  in >> layer >> gpu >> slot;
  if (layer != layer_) return false;
  const SlotRef from{gpu, slot};
  const SlotRef to =
      parent.isValid() ? SlotRef{parent.column(), parent.row()} : SlotRef{column, row};
  // The view still walks this model after the drop returns: edit (and reset) afterwards.
  QMetaObject::invokeMethod(
      document_,
      [document = document_, layer, from, to, copy = action == Qt::CopyAction] {
        if (copy)
          document->replicate_expert(layer, from, to);
        else
          document->move_expert(layer, from, to);
      },
      Qt::QueuedConnection);
  // False: the model did not take the data itself, so the view must not clear the source tile.
  return false;
}

}  // namespace moesim::gui
