#pragma once
// One MoE layer's placement as a table: a column per GPU of the EP group, a row per expert slot.
// Tiles carry the expert, its load share on that GPU and its replica count; dragging one tile onto
// another asks the document for a move/swap (or, with Ctrl held, a replica).
#include <QAbstractTableModel>
#include <QColor>

#include "gui/explorer_document.hpp"

namespace moesim::gui {

class PlacementModel : public QAbstractTableModel {
  Q_OBJECT
 public:
  enum Role {
    ExpertRole = Qt::UserRole + 1,  // int; kFreeSlot for an empty slot
    LoadRole,                       // double: tokens this replica takes (load / replicas)
    ReplicasRole,                   // int: how many GPUs hold the expert
    NodeRole,                       // int: node of the column's GPU
  };
  static constexpr const char* kMimeType = "application/x-moesim-slot";

  explicit PlacementModel(ExplorerDocument* document, QObject* parent = nullptr);

  void set_layer(int layer);
  int layer() const { return layer_; }
  int gpus_per_node() const { return gpus_per_node_; }

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation,
                      int role = Qt::DisplayRole) const override;
  Qt::ItemFlags flags(const QModelIndex& index) const override;
  Qt::DropActions supportedDropActions() const override;
  Qt::DropActions supportedDragActions() const override;
  QStringList mimeTypes() const override;
  QMimeData* mimeData(const QModelIndexList& indexes) const override;
  bool canDropMimeData(const QMimeData* data, Qt::DropAction action, int row, int column,
                       const QModelIndex& parent) const override;
  bool dropMimeData(const QMimeData* data, Qt::DropAction action, int row, int column,
                    const QModelIndex& parent) override;

  // Blue (idle) through white (the mean tile load) to red (twice the mean or more).
  static QColor load_colour(double load, double mean_load);

 private:
  void reset();
  bool has_layer() const;

  ExplorerDocument* document_;
  int layer_ = 0;
  int gpus_per_node_ = 8;
  double mean_tile_load_ = 0;
};

}  // namespace moesim::gui
