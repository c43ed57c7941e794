#pragma once
// The headline figures of the current placement beside the baseline (the scenario's own strategy)
// and the change between them: one row per figure.
#include <QAbstractTableModel>
#include <optional>
#include <vector>

#include "sim/report/report.hpp"

namespace moesim::gui {

struct SummaryFigure {
  QString name;
  QString unit;
  double baseline = 0;
  double current = 0;
  bool higher_is_better = false;
};

// Throughput, step time, imbalance, drops, inter-node bytes and link utilisation of two reports.
std::vector<SummaryFigure> summary_figures(const sim::Report& baseline, const sim::Report& current);

class SummaryModel : public QAbstractTableModel {
  Q_OBJECT
 public:
  enum Column { Figure, Baseline, Current, Change, Columns };
  using QAbstractTableModel::QAbstractTableModel;

  void set_reports(const sim::Report& baseline, const sim::Report& current);
  void clear();
  const std::vector<SummaryFigure>& figures() const { return figures_; }

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation,
                      int role = Qt::DisplayRole) const override;

 private:
  std::vector<SummaryFigure> figures_;
};

}  // namespace moesim::gui
