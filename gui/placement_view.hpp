#pragma once
// The placement grid grouped by node: a labelled block per node (its label cell spans the node's
// slot rows), as many blocks side by side as the width holds; tiles coloured by load, replicated
// experts bold with a corner mark. Drag moves/swaps; Ctrl+drag replicates.
#include <QTableView>

#include "gui/placement_edit.hpp"

namespace moesim::gui {

class PlacementView : public QTableView {
  Q_OBJECT
 public:
  explicit PlacementView(QWidget* parent = nullptr);
  // The slot under the current index, if any.
  bool current_slot(SlotRef& out) const;
  void setModel(QAbstractItemModel* model) override;
  // Node blocks that fit side by side in `width` pixels of viewport.
  static int nodes_per_row_for(int width, int gpu_columns);

 protected:
  void resizeEvent(QResizeEvent* event) override;

 private:
  void apply_layout();  // spans and column widths, after each model reset
  void fit_nodes_to_width();
};

}  // namespace moesim::gui
