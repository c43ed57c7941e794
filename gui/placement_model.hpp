#pragma once
// One MoE layer's placement as a table grouped by node: each node is a block of a label column
// (node number, its GPUs, its load against the mean node) and a column per GPU, a row per expert
// slot; `nodes_per_row` blocks sit side by side and the rest wrap below, so 8 GPUs and 2,048 both
// stay readable. Tiles carry the expert, its load share on that GPU and its replica count;
// dragging one tile onto another asks the document for a move/swap (or, with Ctrl, a replica).
#include <QAbstractTableModel>
#include <QColor>
#include <vector>

#include "gui/explorer_document.hpp"

namespace moesim::gui {

class PlacementModel : public QAbstractTableModel {
  Q_OBJECT
 public:
  enum Role {
    ExpertRole = Qt::UserRole + 1,  // int; kFreeSlot for an empty slot
    LoadRole,                       // double: tokens this replica takes (load / replicas)
    ReplicasRole,                   // int: how many GPUs hold the expert
    NodeRole,                       // int: node of the cell (tile or label); -1 past the last
    GpuRole,                        // int: the tile's GPU; -1 for a node label or an empty cell
  };
  static constexpr const char* kMimeType = "application/x-moesim-slot";

  explicit PlacementModel(ExplorerDocument* document, QObject* parent = nullptr);

  void set_layer(int layer);
  int layer() const { return layer_; }
  int gpus_per_node() const { return gpus_per_node_; }
  // How many node blocks share a band of rows (the view picks it from its width); at least 1.
  void set_nodes_per_row(int nodes);
  int nodes_per_row() const { return nodes_per_row_; }
  int nodes() const;
  // Where a node's block starts: its label cell, which spans slots_per_gpu() rows.
  QModelIndex node_label_index(int node) const;
  // The tile of a GPU's slot, and back; false/invalid for labels and cells past the last node.
  QModelIndex tile_index(SlotRef at) const;
  bool slot_at(const QModelIndex& index, SlotRef& out) const;
  int slots_per_gpu() const;
  int block_width() const { return columns_per_node_ + 1; }  // a node: label + GPU columns
  // Tokens a node's tiles take, over the mean node's.
  double node_load_ratio(int node) const;

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
  QVariant tile_data(SlotRef at, int role) const;
  QVariant label_data(int node, int slot, int role) const;

  ExplorerDocument* document_;
  int layer_ = 0;
  int gpus_per_node_ = 8;
  int columns_per_node_ = 8;  // GPU columns a block: gpus per node, or fewer in a smaller group
  int nodes_per_row_ = 1;
  double mean_tile_load_ = 0;
  std::vector<double> node_loads_;
  double mean_node_load_ = 0;
};

}  // namespace moesim::gui
