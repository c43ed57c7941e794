#include "gui/link_map.hpp"

#include <QComboBox>
#include <QPainter>
#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

namespace moesim::gui {
namespace {

constexpr double kTierHeight = 34;  // one row of fabric switches
constexpr double kFooter = 40;      // colour bar and its labels
constexpr double kHeader = 30;      // title and the phase box

// Rows inside a node's box, as fractions of its height below the label: NICs on top (their
// uplinks leave upwards, to the fabric), then PCIe, GPUs, and the scale-up switch at the bottom.
double row_in_node(topology::VertexKind kind) {
  switch (kind) {
    case topology::VertexKind::Nic:
      return 0.3;
    case topology::VertexKind::PcieSwitch:
    case topology::VertexKind::HostBridge:
      return 0.5;
    case topology::VertexKind::Gpu:
      return 0.7;
    default:
      return 0.9;  // NVSwitch, or whatever else a topology file puts in a node
  }
}

// Beyond this many nodes, links between a node and the fabric are drawn as stubs above the node
// (the busiest in full): hundreds of full lines would hide everything under them.
constexpr int kFullFabricLinksMaxNodes = 8;

QColor blend_colour(QColor from, QColor to, double t) {
  const auto channel = [t](int a, int b) { return static_cast<int>(std::lround(a + (b - a) * t)); };
  return QColor(channel(from.red(), to.red()), channel(from.green(), to.green()),
                channel(from.blue(), to.blue()));
}

// A vertex's node: its own, or for a scale-up switch the node of its domain's first GPU.
std::vector<int> vertex_nodes(const topology::ClusterGraph& graph) {
  std::map<int, int> domain_node;
  for (auto gpu : graph.gpus())
    domain_node.emplace(graph.vertex(gpu).domain, graph.vertex(gpu).node);
  std::vector<int> nodes(graph.vertex_count(), topology::kNoIndex);
  for (std::size_t v = 0; v < nodes.size(); ++v) {
    const auto& info = graph.vertex(v);
    nodes[v] = info.node;
    if (info.node == topology::kNoIndex && topology::fabric_tier(info.kind) < 0)
      if (const auto found = domain_node.find(info.domain); found != domain_node.end())
        nodes[v] = found->second;
  }
  return nodes;
}

}  // namespace

LinkMapWidget::LinkMapWidget(QWidget* parent) : QWidget(parent), phase_box_(new QComboBox(this)) {
  setMinimumSize(400, 240);
  phase_box_->addItem(tr("whole step"), static_cast<int>(LinkPhase::Step));
  phase_box_->addItem(tr("while dispatching"), static_cast<int>(LinkPhase::Dispatch));
  phase_box_->addItem(tr("while combining"), static_cast<int>(LinkPhase::Combine));
  phase_box_->setToolTip(
      tr("Whole step: bytes / (line rate x step time). A phase: the link's rate while the "
         "forward's dispatch (or combine) runs on the slowest GPU"));
  connect(phase_box_, &QComboBox::currentIndexChanged, this,
          [this] { set_phase(static_cast<LinkPhase>(phase_box_->currentData().toInt())); });
}

void LinkMapWidget::set_topology(std::shared_ptr<const topology::ClusterGraph> graph) {
  graph_ = std::move(graph);
  remap();
}

void LinkMapWidget::set_report(const sim::Report& report) {
  loads_ = report.link_loads;
  network_model_ = QString::fromStdString(report.network_model);
  remap();
}

void LinkMapWidget::clear() {
  loads_.clear();
  remap();
}

void LinkMapWidget::set_phase(LinkPhase phase) {
  phase_ = phase;
  const int index = phase_box_->findData(static_cast<int>(phase));
  if (phase_box_->currentIndex() != index) phase_box_->setCurrentIndex(index);  // re-enters
  remap();
}

void LinkMapWidget::remap() {
  utilisation_ = graph_ ? graph_link_utilisation(*graph_, loads_, phase_) : std::vector<double>{};
  busiest_ = busiest_graph_link(utilisation_);
  update();
}

QString LinkMapWidget::busiest_label() const {
  if (!graph_ || busiest_ < 0) return {};
  return tr("busiest: %1, %2 %")
      .arg(QString::fromStdString(graph_link_name(*graph_, busiest_)))
      .arg(utilisation_[static_cast<std::size_t>(busiest_)] * 100, 0, 'f', 1);
}

QColor LinkMapWidget::utilisation_colour(double utilisation) {
  const QColor idle(215, 215, 215), half(250, 200, 60), full(200, 30, 30);
  const double t = std::clamp(utilisation, 0.0, 1.0);
  return t < 0.5 ? blend_colour(idle, half, t * 2) : blend_colour(half, full, t * 2 - 1);
}

void LinkMapWidget::resizeEvent(QResizeEvent* event) {
  QWidget::resizeEvent(event);
  phase_box_->adjustSize();
  phase_box_->move(width() - phase_box_->width() - 6, 4);
}

void LinkMapWidget::lay_out(const QRectF& area, std::vector<QPointF>& at,
                            std::vector<QRectF>& boxes) const {
  const auto& graph = *graph_;
  const std::vector<int> node_of = vertex_nodes(graph);
  const int nodes = std::max(1, graph.node_count());
  std::vector<int> tiers;  // fabric tiers present, core (2) at the top
  for (std::size_t v = 0; v < graph.vertex_count(); ++v)
    if (node_of[v] == topology::kNoIndex)
      tiers.push_back(topology::fabric_tier(graph.vertex(v).kind));
  std::sort(tiers.begin(), tiers.end(), std::greater<>());
  tiers.erase(std::unique(tiers.begin(), tiers.end()), tiers.end());
  const double fabric_height = kTierHeight * static_cast<double>(tiers.size());
  const QRectF grid(area.left(), area.top() + fabric_height, area.width(),
                    area.height() - fabric_height);
  // Columns such that boxes come out about 1.6 times as wide as tall.
  const int columns = std::clamp(
      static_cast<int>(std::ceil(std::sqrt(nodes * grid.width() / (1.6 * grid.height())))), 1,
      nodes);
  const int rows = (nodes + columns - 1) / columns;
  const double box_width = grid.width() / columns, box_height = grid.height() / rows;
  boxes.clear();
  for (int node = 0; node < nodes; ++node)
    boxes.emplace_back(grid.left() + node % columns * box_width + 3,
                       grid.top() + node / columns * box_height + 3, box_width - 6, box_height - 6);
  // Spread each row's vertices evenly: per (node, row) inside its box, per tier across the top.
  std::map<std::pair<int, double>, std::vector<std::size_t>> groups;
  for (std::size_t v = 0; v < graph.vertex_count(); ++v) {
    const auto kind = graph.vertex(v).kind;
    const double row = node_of[v] == topology::kNoIndex
                           ? static_cast<double>(std::find(tiers.begin(), tiers.end(),
                                                           topology::fabric_tier(kind)) -
                                                 tiers.begin())
                           : row_in_node(kind);
    groups[{node_of[v], row}].push_back(v);
  }
  at.assign(graph.vertex_count(), QPointF());
  for (const auto& [key, members] : groups) {
    const auto& [node, row] = key;
    const QRectF span =
        node == topology::kNoIndex
            ? QRectF(area.left(), area.top() + row * kTierHeight, area.width(), kTierHeight)
            : boxes[static_cast<std::size_t>(node)];
    const double y =
        node == topology::kNoIndex ? span.center().y() : span.top() + row * span.height();
    for (std::size_t i = 0; i < members.size(); ++i)
      at[members[i]] = QPointF(span.left() + span.width() * (i + 0.5) / members.size(), y);
  }
}

void LinkMapWidget::draw_links(QPainter& painter, const std::vector<QPointF>& at,
                               const std::vector<QRectF>& boxes) const {
  const std::vector<int> node_of = vertex_nodes(*graph_);
  const bool stubs = graph_->node_count() > kFullFabricLinksMaxNodes;
  std::vector<int> order(utilisation_.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [this](int a, int b) {
    return utilisation_[static_cast<std::size_t>(a)] < utilisation_[static_cast<std::size_t>(b)];
  });
  for (int link : order) {  // coolest first: the hot links stay on top
    const double u = utilisation_[static_cast<std::size_t>(link)];
    painter.setPen(QPen(utilisation_colour(u), u > 0 ? 1.0 + 3.0 * std::min(u, 1.0) : 0.6));
    const auto from = graph_->link_source(link), to = graph_->link_target(link);
    const int inside = node_of[from] != topology::kNoIndex ? node_of[from] : node_of[to];
    const bool crosses =
        (node_of[from] == topology::kNoIndex) != (node_of[to] == topology::kNoIndex);
    if (stubs && crosses && link != busiest_) {
      const QPointF end = node_of[from] != topology::kNoIndex ? at[from] : at[to];
      painter.drawLine(end, QPointF(end.x(), boxes[static_cast<std::size_t>(inside)].top() - 2));
      continue;
    }
    painter.drawLine(at[from], at[to]);
  }
}

void LinkMapWidget::draw_colour_bar(QPainter& painter, const QRectF& bar) const {
  for (int x = 0; x < static_cast<int>(bar.width()); ++x)
    painter.fillRect(QRectF(bar.left() + x, bar.top(), 1, bar.height()),
                     utilisation_colour((x + 0.5) / bar.width()));
  painter.setPen(palette().text().color());
  painter.setBrush(Qt::NoBrush);
  painter.drawRect(bar);
  for (int percent : {0, 25, 50, 75, 100}) {
    const double x = bar.left() + bar.width() * percent / 100.0;
    painter.drawLine(QPointF(x, bar.bottom()), QPointF(x, bar.bottom() + 3));
    painter.drawText(QRectF(x - 30, bar.bottom() + 3, 60, 14), Qt::AlignHCenter,
                     QStringLiteral("%1 %").arg(percent));
  }
  painter.drawText(QRectF(bar.right() + 10, bar.top() - 3, 260, 16), Qt::AlignLeft,
                   tr("link utilisation (grey, thin: idle)"));
}

void LinkMapWidget::paintEvent(QPaintEvent*) {
  QPainter painter(this);
  painter.fillRect(rect(), palette().base());
  if (!graph_ || graph_->vertex_count() == 0 || loads_.empty()) {
    painter.drawText(rect(), Qt::AlignCenter, tr("no results yet"));
    return;
  }
  painter.setRenderHint(QPainter::Antialiasing);
  const QString how = network_model_ == QLatin1String("flow")
                          ? tr("flow model: every graph link")
                          : tr("analytic model: each GPU's NVLink port and its NIC's uplinks");
  painter.drawText(QRectF(6, 4, width() - phase_box_->width() - 18, 22),
                   Qt::AlignLeft | Qt::AlignVCenter,
                   tr("Link utilisation over the topology (%1)").arg(how));
  const QRectF area(8, kHeader, width() - 16, height() - kHeader - kFooter);
  std::vector<QPointF> at;
  std::vector<QRectF> boxes;
  lay_out(area, at, boxes);
  painter.setPen(QPen(QColor(150, 150, 160), 1));
  for (std::size_t node = 0; node < boxes.size(); ++node) {
    painter.drawRect(boxes[node]);
    if (boxes[node].width() > 36)
      painter.drawText(boxes[node].adjusted(3, 1, 0, 0), Qt::AlignLeft | Qt::AlignTop,
                       tr("node %1").arg(node));
  }
  draw_links(painter, at, boxes);
  painter.setPen(Qt::NoPen);
  painter.setBrush(QColor(60, 60, 70));
  const double dot = std::clamp(area.width() / (graph_->gpus().size() * 3.0 + 1), 1.5, 4.0);
  for (const QPointF& point : at) painter.drawEllipse(point, dot, dot);
  if (busiest_ >= 0) {
    const QPointF middle =
        (at[graph_->link_source(busiest_)] + at[graph_->link_target(busiest_)]) / 2;
    const QString text = busiest_label();
    QRectF box = painter.fontMetrics().boundingRect(text).toRectF().adjusted(-4, -2, 4, 2);
    box.moveCenter(middle + QPointF(0, -14));
    box.moveLeft(std::clamp(box.left(), 2.0, width() - box.width() - 2));
    painter.setBrush(QColor(255, 255, 255, 235));
    painter.setPen(QPen(utilisation_colour(utilisation_[static_cast<std::size_t>(busiest_)]), 2));
    painter.drawRect(box);
    painter.setPen(palette().text().color());
    painter.drawText(box, Qt::AlignCenter, text);
  }
  draw_colour_bar(painter, QRectF(12, height() - kFooter + 6, 220, 10));
}

}  // namespace moesim::gui
