#include "gui/results_panel.hpp"

#include <QChartView>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QSplitter>
#include <QTabWidget>
#include <QTableView>

#include "gui/charts.hpp"
#include "gui/heat_map_widget.hpp"
#include "gui/link_map.hpp"
#include "gui/summary_model.hpp"
#include "gui/timeline_widget.hpp"

namespace moesim::gui {
namespace {

void replace_chart(QChartView* view, QChart* chart) {
  QChart* old = view->chart();
  view->setChart(chart);
  if (old) old->deleteLater();  // the view does not delete a chart it is no longer showing
}

}  // namespace

ResultsPanel::ResultsPanel(QWidget* parent)
    : QWidget(parent),
      summary_(new SummaryModel(this)),
      summary_view_(new QTableView(this)),
      tabs_(new QTabWidget(this)),
      gpu_loads_(new QChartView(this)),
      phases_(new QChartView(this)),
      heat_map_(new HeatMapWidget(this)),
      timeline_(new TimelineWidget(this)),
      link_map_(new LinkMapWidget(this)) {
  auto* layout = new QHBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  auto* splitter = new QSplitter(Qt::Horizontal, this);
  summary_view_->setModel(summary_);
  summary_view_->verticalHeader()->hide();
  summary_view_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  summary_view_->setObjectName(QStringLiteral("summary"));
  splitter->addWidget(summary_view_);
  for (auto* view : {gpu_loads_, phases_}) view->setRenderHint(QPainter::Antialiasing, false);
  tabs_->addTab(gpu_loads_, tr("Per-GPU load"));
  tabs_->addTab(phases_, tr("Phases per layer"));
  tabs_->addTab(heat_map_, tr("Layer × expert heat map"));
  tabs_->addTab(timeline_, tr("Timeline of one step"));
  tabs_->addTab(link_map_, tr("Links on the topology"));
  splitter->addWidget(tabs_);
  splitter->setStretchFactor(0, 0);
  splitter->setStretchFactor(1, 1);
  splitter->setSizes({400, 1000});
  layout->addWidget(splitter);
}

void ResultsPanel::show_reports(const sim::Report& baseline, const sim::Report& current) {
  summary_->set_reports(baseline, current);
  replace_chart(phases_, make_phase_chart(current));
  heat_map_->set_report(current);
  timeline_->set_report(current);
  link_map_->set_report(current);
}

void ResultsPanel::show_layer_loads(const std::vector<double>& current,
                                    const std::vector<double>& baseline, int layer) {
  replace_chart(gpu_loads_, make_gpu_load_chart(current, baseline, layer));
  heat_map_->set_selected_layer(layer);
}

void ResultsPanel::clear() {
  summary_->clear();
  heat_map_->clear();
  timeline_->clear();
  link_map_->clear();
}

void ResultsPanel::set_topology(std::shared_ptr<const topology::ClusterGraph> graph) {
  link_map_->set_topology(std::move(graph));
}

void ResultsPanel::show_tab(int index) { tabs_->setCurrentIndex(index); }

bool ResultsPanel::save_current_chart(const QString& path) const {
  return tabs_->currentWidget()->grab().save(path, "PNG");
}

}  // namespace moesim::gui
