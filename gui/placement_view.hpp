#pragma once
// The placement grid: GPUs as narrow columns with a heavier rule between nodes, tiles coloured by
// load, replicated experts bold with a corner mark. Drag moves/swaps; Ctrl+drag replicates.
#include <QTableView>

#include "gui/placement_edit.hpp"

namespace moesim::gui {

class PlacementView : public QTableView {
  Q_OBJECT
 public:
  explicit PlacementView(QWidget* parent = nullptr);
  // The slot under the current index, if any.
  bool current_slot(SlotRef& out) const;
};

}  // namespace moesim::gui
