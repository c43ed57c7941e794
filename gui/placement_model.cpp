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

void PlacementModel::set_nodes_per_row(int nodes) {
  nodes = std::max(1, nodes);
  if (nodes == nodes_per_row_) return;
  nodes_per_row_ = nodes;
  reset();
}

void PlacementModel::reset() {
  beginResetModel();
  mean_tile_load_ = 0;
  node_loads_.clear();
  mean_node_load_ = 0;
  if (has_layer()) {
    const auto& placement = document_->placements()[layer_];
    gpus_per_node_ = std::max(1, document_->scenario().cluster.system.gpus_per_node);
    columns_per_node_ = std::min(gpus_per_node_, placement.gpus);
    const auto& load = document_->loads()[layer_];
    node_loads_.assign(static_cast<std::size_t>(nodes()), 0.0);
    double total = 0;
    int tiles = 0;
    for (int gpu = 0; gpu < placement.gpus; ++gpu)
      for (int expert : placement.slots[gpu])
        if (expert != kFreeSlot) {
          const double share =
              load[expert] / static_cast<double>(placement.replicas[expert].size());
          node_loads_[static_cast<std::size_t>(gpu / gpus_per_node_)] += share;
          total += share;
          ++tiles;
        }
    mean_tile_load_ = tiles > 0 ? total / tiles : 0;
    mean_node_load_ = total / static_cast<double>(node_loads_.size());
  }
  endResetModel();
}

int PlacementModel::nodes() const {
  if (!has_layer()) return 0;
  const int gpus = document_->placements()[layer_].gpus;
  return (gpus + gpus_per_node_ - 1) / gpus_per_node_;
}

int PlacementModel::slots_per_gpu() const {
  return has_layer() ? document_->placements()[layer_].slots_per_gpu() : 0;
}

double PlacementModel::node_load_ratio(int node) const {
  if (node < 0 || node >= static_cast<int>(node_loads_.size()) || mean_node_load_ <= 0) return 0;
  return node_loads_[static_cast<std::size_t>(node)] / mean_node_load_;
}

int PlacementModel::rowCount(const QModelIndex& parent) const {
  if (parent.isValid() || !has_layer()) return 0;
  const int per_row = std::min(nodes_per_row_, nodes());
  const int bands = (nodes() + per_row - 1) / per_row;
  return bands * slots_per_gpu();
}

int PlacementModel::columnCount(const QModelIndex& parent) const {
  if (parent.isValid() || !has_layer()) return 0;
  return std::min(nodes_per_row_, nodes()) * block_width();
}

QModelIndex PlacementModel::node_label_index(int node) const {
  if (!has_layer() || node < 0 || node >= nodes()) return {};
  const int per_row = std::min(nodes_per_row_, nodes());
  return index(node / per_row * slots_per_gpu(), node % per_row * block_width());
}

QModelIndex PlacementModel::tile_index(SlotRef at) const {
  if (!has_layer() || at.gpu < 0 || at.gpu >= document_->placements()[layer_].gpus || at.slot < 0 ||
      at.slot >= slots_per_gpu())
    return {};
  const QModelIndex label = node_label_index(at.gpu / gpus_per_node_);
  return index(label.row() + at.slot, label.column() + 1 + at.gpu % gpus_per_node_);
}

bool PlacementModel::slot_at(const QModelIndex& index, SlotRef& out) const {
  if (!index.isValid() || !has_layer() || index.model() != this) return false;
  const int local = index.column() % block_width() - 1;  // -1: the node's label column
  const int node = index.row() / slots_per_gpu() * std::min(nodes_per_row_, nodes()) +
                   index.column() / block_width();
  const int gpu = node * gpus_per_node_ + local;
  if (local < 0 || node >= nodes() || gpu >= document_->placements()[layer_].gpus) return false;
  out = {gpu, index.row() % slots_per_gpu()};
  return true;
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
  SlotRef at;
  if (slot_at(index, at)) return tile_data(at, role);
  const int node = index.row() / slots_per_gpu() * std::min(nodes_per_row_, nodes()) +
                   index.column() / block_width();
  if (node >= nodes()) return role == NodeRole ? QVariant(-1) : QVariant();
  if (index.column() % block_width() != 0) return role == NodeRole ? QVariant(node) : QVariant();
  return label_data(node, index.row() % slots_per_gpu(), role);
}

QVariant PlacementModel::tile_data(SlotRef at, int role) const {
  const auto& placement = document_->placements()[layer_];
  const int gpu = at.gpu;
  const int expert = placement.slots[gpu][at.slot];
  const int replicas =
      expert == kFreeSlot ? 0 : static_cast<int>(placement.replicas[expert].size());
  const double load =
      expert == kFreeSlot ? 0 : document_->loads()[layer_][expert] / std::max(1, replicas);
  switch (role) {
    case Qt::DisplayRole:
      return expert == kFreeSlot ? QString() : QString::number(expert);
    case Qt::ToolTipRole:
      if (expert == kFreeSlot) return tr("GPU %1, slot %2: free").arg(gpu).arg(at.slot);
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
    case GpuRole:
      return gpu;
    default:
      return {};
  }
}

// The label spans the node's slot rows; its first row carries the text, as many lines as fit.
QVariant PlacementModel::label_data(int node, int slot, int role) const {
  const int gpus = document_->placements()[layer_].gpus;
  const int first = node * gpus_per_node_, last = std::min(gpus, first + gpus_per_node_) - 1;
  const double ratio = node_load_ratio(node);
  switch (role) {
    case Qt::DisplayRole: {
      if (slot != 0) return {};
      QStringList lines{tr("node %1").arg(node), tr("GPU %1–%2").arg(first).arg(last),
                        tr("×%1 load").arg(ratio, 0, 'f', 2)};
      return QStringList(lines.mid(0, std::clamp(slots_per_gpu(), 1, 3))).join(u'\n');
    }
    case Qt::ToolTipRole:
      return tr("Node %1: GPUs %2 to %3\n%4 tokens per micro-batch, %5× the mean node")
          .arg(node)
          .arg(first)
          .arg(last)
          .arg(node_loads_[static_cast<std::size_t>(node)], 0, 'f', 0)
          .arg(ratio, 0, 'f', 2);
    case Qt::BackgroundRole:
      return load_colour(ratio, 1.0);
    case Qt::TextAlignmentRole:
      return Qt::AlignCenter;
    case NodeRole:
      return node;
    case GpuRole:
      return -1;
    case ExpertRole:
      return kFreeSlot;
    default:
      return {};
  }
}

QVariant PlacementModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (section < 0) return {};
  if (orientation == Qt::Horizontal) {
    if (section >= columnCount()) return {};
    const int local = section % block_width() - 1;
    if (role == Qt::DisplayRole) return local < 0 ? tr("node") : QStringLiteral("+%1").arg(local);
    if (role == Qt::ToolTipRole)
      return local < 0 ? tr("The node: its number, GPUs and load against the mean node")
                       : tr("GPU %1 of its node (node × %2 + %1)").arg(local).arg(gpus_per_node_);
    return {};
  }
  if (section >= rowCount()) return {};
  if (role == Qt::DisplayRole) return tr("slot %1").arg(section % slots_per_gpu());
  return {};
}

Qt::ItemFlags PlacementModel::flags(const QModelIndex& index) const {
  if ((!index.isValid() || !checkIndex(index))) return Qt::ItemIsDropEnabled;
  SlotRef at;
  if (!slot_at(index, at)) return Qt::ItemIsEnabled;  // a node label or past the last node
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
  SlotRef from;
  if (indexes.isEmpty() || !slot_at(indexes.front(), from)) return nullptr;
  QByteArray bytes;
  QDataStream out(&bytes, QIODevice::WriteOnly);
  out << layer_ << from.gpu << from.slot;
  auto* mime = new QMimeData;
  mime->setData(QString::fromLatin1(kMimeType), bytes);
  return mime;
}

bool PlacementModel::canDropMimeData(const QMimeData* data, Qt::DropAction action, int row,
                                     int column, const QModelIndex& parent) const {
  if (!data || !data->hasFormat(QString::fromLatin1(kMimeType))) return false;
  if (action != Qt::MoveAction && action != Qt::CopyAction) return false;
  SlotRef to;
  return slot_at(parent.isValid() ? parent : index(row, column), to);
}

bool PlacementModel::dropMimeData(const QMimeData* data, Qt::DropAction action, int row, int column,
                                  const QModelIndex& parent) {
  if (!canDropMimeData(data, action, row, column, parent)) return false;
  QDataStream in(data->data(QString::fromLatin1(kMimeType)));
  int layer = 0, gpu = 0, slot = 0;
  in >> layer >> gpu >> slot;
  if (layer != layer_) return false;
  const SlotRef from{gpu, slot};
  SlotRef to;
  slot_at(parent.isValid() ? parent : index(row, column), to);
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
