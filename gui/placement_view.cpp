#include "gui/placement_view.hpp"

#include <QHeaderView>
#include <QPainter>
#include <QStyledItemDelegate>

#include "gui/placement_model.hpp"

namespace moesim::gui {
namespace {

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
    const auto* model = qobject_cast<const PlacementModel*>(index.model());
    if (model && index.column() % model->gpus_per_node() == 0) {  // node boundary
      painter->setPen(QPen(QColor(30, 30, 30), 2));
      painter->drawLine(option.rect.topLeft(), option.rect.bottomLeft());
    }
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
  horizontalHeader()->setDefaultSectionSize(30);
  horizontalHeader()->setMinimumSectionSize(16);
  verticalHeader()->setDefaultSectionSize(26);
  setContextMenuPolicy(Qt::ActionsContextMenu);
  setToolTip(tr("Drag a tile onto another to move or swap; hold Ctrl to replicate"));
}

bool PlacementView::current_slot(SlotRef& out) const {
  const QModelIndex index = currentIndex();
  if (!index.isValid()) return false;
  out = {index.column(), index.row()};
  return true;
}

}  // namespace moesim::gui
