#pragma once
// Link utilisation drawn over the topology: fabric switches in rows by tier (core, spine, leaf)
// above a grid of labelled nodes, each with its NVSwitch, GPUs, PCIe switches and NICs; every link
// a line coloured and widened by its utilisation (grey when idle), the hottest drawn last, the
// busiest labelled, and a colour bar. Past 8 nodes a node's fabric links are stubs above it. A box
// picks the whole step, the dispatch or the combine.
#include <QColor>
#include <QWidget>
#include <memory>
#include <vector>

#include "gui/link_utilisation.hpp"
#include "sim/run/run_result.hpp"
#include "topology/cluster_graph.hpp"

class QComboBox;

namespace moesim::gui {

class LinkMapWidget : public QWidget {
  Q_OBJECT
 public:
  explicit LinkMapWidget(QWidget* parent = nullptr);
  // The scenario's cluster (sim::scenario_cluster_graph); null clears the map.
  void set_topology(std::shared_ptr<const topology::ClusterGraph> graph);
  void set_report(const sim::Report& report);
  void clear();
  void set_phase(LinkPhase phase);

  // Per graph link, in the chosen phase; the busiest link's id (-1 for none) and its label.
  const std::vector<double>& utilisation() const { return utilisation_; }
  int busiest_link() const { return busiest_; }
  QString busiest_label() const;
  // Light grey at 0, yellow at 50 %, red at 100 % and beyond (the label keeps the true figure).
  static QColor utilisation_colour(double utilisation);

 protected:
  void paintEvent(QPaintEvent* event) override;
  void resizeEvent(QResizeEvent* event) override;

 private:
  void remap();
  // Where each vertex sits (pixels), and each node's box, for the current size.
  void lay_out(const QRectF& area, std::vector<QPointF>& at, std::vector<QRectF>& boxes) const;
  void draw_links(QPainter& painter, const std::vector<QPointF>& at,
                  const std::vector<QRectF>& boxes) const;
  void draw_colour_bar(QPainter& painter, const QRectF& bar) const;

  std::shared_ptr<const topology::ClusterGraph> graph_;
  std::vector<sim::LinkLoad> loads_;
  QString network_model_;
  LinkPhase phase_ = LinkPhase::Step;
  std::vector<double> utilisation_;
  int busiest_ = -1;
  QComboBox* phase_box_;
};

}  // namespace moesim::gui
