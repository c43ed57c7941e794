#include "gui/summary_model.hpp"

#include <QBrush>
#include <QColor>
#include <cmath>

namespace moesim::gui {
namespace {

// Bytes per step that leave a node: everything on the scale-out fabric (IB or RoCE).
double inter_node_bytes(const sim::Report& report) {
  double bytes = 0;
  for (const auto& link : report.links)
    if (link.kind == "ib" || link.kind == "roce") bytes += link.bytes_per_step;
  return bytes;
}

QString format_value(double value) {
  if (std::abs(value) >= 1e5) return QString::number(value, 'f', 0);
  if (std::abs(value) >= 100) return QString::number(value, 'f', 1);
  return QString::number(value, 'f', 3);
}

}  // namespace

std::vector<SummaryFigure> summary_figures(const sim::Report& baseline,
                                           const sim::Report& current) {
  std::vector<SummaryFigure> figures{
      {QObject::tr("Throughput"), QObject::tr("tokens/s"), baseline.tokens_per_s(),
       current.tokens_per_s(), true},
      {QObject::tr("Step time"), QObject::tr("ms"), baseline.step_time_s * 1e3,
       current.step_time_s * 1e3, false},
      {QObject::tr("Imbalance"), QObject::tr("max/mean"), baseline.imbalance, current.imbalance,
       false},
      {QObject::tr("Dropped tokens"), QObject::tr("per step"), baseline.dropped_tokens,
       current.dropped_tokens, false},
      {QObject::tr("Unrouted tokens"), QObject::tr("per step"), baseline.unrouted_tokens,
       current.unrouted_tokens, false},
      {QObject::tr("Inter-node traffic"), QObject::tr("GiB/step"),
       inter_node_bytes(baseline) / (1024.0 * 1024 * 1024),
       inter_node_bytes(current) / (1024.0 * 1024 * 1024), false},
  };
  if (!current.busiest_links.empty() && !baseline.busiest_links.empty())
    figures.push_back({QObject::tr("Busiest link"), QObject::tr("% used"),
                       baseline.busiest_links.front().utilisation * 100,
                       current.busiest_links.front().utilisation * 100, false});
  // One row per link kind both runs used (the same scenario, so the same kinds).
  for (const auto& link : current.links)
    for (const auto& before : baseline.links)
      if (before.kind == link.kind)
        figures.push_back({QObject::tr("%1 utilisation").arg(QString::fromStdString(link.kind)),
                           QObject::tr("%"), before.utilisation * 100, link.utilisation * 100,
                           false});
  return figures;
}

void SummaryModel::set_reports(const sim::Report& baseline, const sim::Report& current) {
  beginResetModel();
  figures_ = summary_figures(baseline, current);
  endResetModel();
}

void SummaryModel::clear() {
  beginResetModel();
  figures_.clear();
  endResetModel();
}

int SummaryModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(figures_.size());
}

int SummaryModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : Columns;
}

QVariant SummaryModel::data(const QModelIndex& index, int role) const {
  if ((!index.isValid() || !checkIndex(index))) return {};
  const auto& figure = figures_[static_cast<std::size_t>(index.row())];
  const double change =
      figure.baseline != 0 ? (figure.current - figure.baseline) / figure.baseline : 0.0;
  if (role == Qt::DisplayRole) {
    switch (index.column()) {
      case Figure:
        return QStringLiteral("%1 (%2)").arg(figure.name, figure.unit);
      case Baseline:
        return format_value(figure.baseline);
      case Current:
        return format_value(figure.current);
      case Change:
        if (figure.baseline == 0)
          return figure.current == 0 ? QStringLiteral("=") : QStringLiteral("new");
        return QStringLiteral("%1%2%").arg(change >= 0 ? "+" : "").arg(change * 100, 0, 'f', 2);
      default:
        return {};
    }
  }
  if (role == Qt::ForegroundRole && index.column() == Change && std::abs(change) > 1e-9) {
    const bool better = (change > 0) == figure.higher_is_better;
    return QBrush(better ? QColor(20, 130, 40) : QColor(190, 30, 30));
  }
  if (role == Qt::TextAlignmentRole && index.column() != Figure)
    return QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter);
  if (role == Qt::UserRole) {  // raw numbers, for tests and exports
    switch (index.column()) {
      case Baseline:
        return figure.baseline;
      case Current:
        return figure.current;
      case Change:
        return change;
      default:
        return {};
    }
  }
  return {};
}

QVariant SummaryModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
  switch (section) {
    case Figure:
      return tr("Figure");
    case Baseline:
      return tr("Baseline");
    case Current:
      return tr("Current");
    case Change:
      return tr("Change");
    default:
      return {};
  }
}

}  // namespace moesim::gui
