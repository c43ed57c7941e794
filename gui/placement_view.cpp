#include "gui/placement_view.hpp"

#include <QHeaderView>
#include <QPainter>
#include <QStyle>
#include <QStyledItemDelegate>
#include <algorithm>

#include "gui/placement_model.hpp"

namespace moesim::gui {
namespace {

constexpr int kTileWidth = 30;
constexpr int kLabelWidth = 80;

class TileDelegate : public QStyledItemDelegate {
 public:
  using QStyledItemDelegate::QStyledItemDelegate;
  void paint(QPainter* painter, const QStyleOptionViewItem& option,
             const QModelIndex& index) const override {
    QStyledItemDelegate::paint(painter, option, index);
    painter->save();
    if (index.data(PlacementModel::ReplicasRole).toInt() > 1) {  // replica mark: a corner triangle
      const QRect r = option.rect;
      const QPoint corner[] = {r.topRight(), r.topRight() + QPoint(-7, 0),
                               r.topRight() + QPoint(0, 7)};
      painter->setPen(Qt::NoPen);
      painter->setBrush(QColor(20, 20, 20));
      painter->drawPolygon(corner, 3);
    }
    // A node block's frame: a heavy rule left of its label and above its first slot row.
    painter->setPen(QPen(QColor(30, 30, 30), 2));
    if (index.data(PlacementModel::GpuRole).toInt() < 0 &&
        index.data(PlacementModel::NodeRole).toInt() >= 0) {
      const auto* model = qobject_cast<const PlacementModel*>(index.model());
      if (model && model->node_label_index(index.data(PlacementModel::NodeRole).toInt()) == index)
        painter->drawLine(option.rect.topLeft(), option.rect.bottomLeft());
    }
    const auto* model = qobject_cast<const PlacementModel*>(index.model());
    if (model && model->slots_per_gpu() > 0 && index.row() % model->slots_per_gpu() == 0)
      painter->drawLine(option.rect.topLeft(), option.rect.topRight());
    painter->restore();
  }
};

}  // namespace

PlacementView::PlacementView(QWidget* parent) : QTableView(parent) {
  setItemDelegate(new TileDelegate(this));
  setSelectionMode(QAbstractItemView::SingleSelection);
  setDragEnabled(true);
  setAcceptDrops(true);
  setDropIndicatorShown(true);
  setDragDropMode(QAbstractItemView::DragDrop);
  setDefaultDropAction(Qt::MoveAction);
  setDragDropOverwriteMode(true);  // drop onto a tile, never between rows
  horizontalHeader()->setDefaultSectionSize(kTileWidth);
  horizontalHeader()->setMinimumSectionSize(16);
  verticalHeader()->setDefaultSectionSize(26);
  setContextMenuPolicy(Qt::ActionsContextMenu);
  setToolTip(tr("Drag a tile onto another to move or swap; hold Ctrl to replicate"));
}

bool PlacementView::current_slot(SlotRef& out) const {
  const auto* placement = qobject_cast<const PlacementModel*>(model());
  return placement && placement->slot_at(currentIndex(), out);
}

void PlacementView::setModel(QAbstractItemModel* model) {
  QTableView::setModel(model);
  if (auto* placement = qobject_cast<PlacementModel*>(model))
    connect(placement, &QAbstractItemModel::modelReset, this, &PlacementView::apply_layout);
  apply_layout();
}

int PlacementView::nodes_per_row_for(int width, int gpu_columns) {
  return std::max(1, width / (kLabelWidth + gpu_columns * kTileWidth));
}

void PlacementView::resizeEvent(QResizeEvent* event) {
  QTableView::resizeEvent(event);
  fit_nodes_to_width();
}

void PlacementView::fit_nodes_to_width() {
  auto* placement = qobject_cast<PlacementModel*>(model());
  if (!placement || placement->nodes() == 0) return;
  // As if the vertical scroll bar were shown: its coming and going must not flip the layout.
  const int usable = width() - 2 * frameWidth() - verticalHeader()->width() -
                     style()->pixelMetric(QStyle::PM_ScrollBarExtent);
  placement->set_nodes_per_row(nodes_per_row_for(usable, placement->block_width() - 1));
}

void PlacementView::apply_layout() {
  auto* placement = qobject_cast<PlacementModel*>(model());
  clearSpans();
  if (!placement) return;
  const int slots = placement->slots_per_gpu();
  for (int column = 0; column < placement->columnCount(); ++column)
    setColumnWidth(column, column % placement->block_width() == 0 ? kLabelWidth : kTileWidth);
  if (slots > 1)
    for (int node = 0; node < placement->nodes(); ++node) {
      const QModelIndex label = placement->node_label_index(node);
      setSpan(label.row(), label.column(), slots, 1);
    }
}

}  // namespace moesim::gui
