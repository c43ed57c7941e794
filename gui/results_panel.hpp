#pragma once
// Results: the summary table (baseline, current, change) beside tabs of charts. Fed with value
// results; holds nothing but what it draws.
#include <QWidget>
#include <memory>
#include <vector>

#include "sim/report/report.hpp"
#include "topology/cluster_graph.hpp"

class QChartView;
class QTabWidget;
class QTableView;

namespace moesim::gui {

class HeatMapWidget;
class LinkMapWidget;
class TimelineWidget;
class SummaryModel;

class ResultsPanel : public QWidget {
  Q_OBJECT
 public:
  explicit ResultsPanel(QWidget* parent = nullptr);

  void show_reports(const sim::Report& baseline, const sim::Report& current);
  void show_layer_loads(const std::vector<double>& current, const std::vector<double>& baseline,
                        int layer);
  void clear();
  // The cluster the link map draws (null when the scenario's cannot be built).
  void set_topology(std::shared_ptr<const topology::ClusterGraph> graph);
  void show_tab(int index);
  SummaryModel* summary_model() const { return summary_; }
  TimelineWidget* timeline() const { return timeline_; }
  LinkMapWidget* link_map() const { return link_map_; }
  HeatMapWidget* heat_map() const { return heat_map_; }
  // Renders the chart on the visible tab (or the summary when asked) to a PNG file.
  bool save_current_chart(const QString& path) const;

 private:
  SummaryModel* summary_;
  QTableView* summary_view_;
  QTabWidget* tabs_;
  QChartView* gpu_loads_;
  QChartView* phases_;
  HeatMapWidget* heat_map_;
  TimelineWidget* timeline_;
  LinkMapWidget* link_map_;
};

}  // namespace moesim::gui
