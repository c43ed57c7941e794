#include "gui/timeline_widget.hpp"

#include <QPainter>
#include <algorithm>
#include <utility>

#include "sim/report/report.hpp"

namespace moesim::gui {
namespace {

constexpr const char* kLanes[] = {"compute", "dispatch", "combine", "training step"};

// The training step track's parts ("step forward mb3", "step pipeline_bubble", ...).
constexpr std::pair<const char*, QRgb> kStepParts[] = {
    {"forward", qRgb(110, 150, 210)},           {"backward", qRgb(150, 90, 190)},
    {"pipeline_send_recv", qRgb(40, 190, 200)}, {"pipeline_bubble", qRgb(215, 215, 215)},
    {"gradient", qRgb(240, 140, 40)},           {"optimizer", qRgb(150, 100, 60)},
    {"param_all_gather", qRgb(30, 130, 110)}};

QColor phase_colour(const QString& name) {
  if (name.startsWith(QLatin1String("step "))) {
    for (const auto& [part, colour] : kStepParts)
      if (name.mid(5).startsWith(QLatin1String(part))) return QColor(colour);
  }
  if (name.endsWith(QLatin1String("dense"))) return QColor(120, 120, 130);
  if (name.endsWith(QLatin1String("gate"))) return QColor(240, 180, 40);
  if (name.endsWith(QLatin1String("dispatch"))) return QColor(60, 140, 220);
  if (name.endsWith(QLatin1String("experts"))) return QColor(200, 70, 60);
  if (name.endsWith(QLatin1String("combine"))) return QColor(80, 180, 120);
  return QColor(160, 160, 160);
}

}  // namespace

TimelineWidget::TimelineWidget(QWidget* parent) : QWidget(parent) {
  setMinimumSize(300, 120);
  setToolTip(
      tr("One step on the hottest GPU, as the Perfetto timeline export has it (moesim run --out)"));
}

void TimelineWidget::set_report(const sim::Report& report) {
  spans_.clear();
  end_us_ = 0;
  step_ms_ = report.step_time_s * 1e3;
  training_ = report.training.has_value();
  // One GPU: the hottest, the one every collective waits for.
  const auto timeline = sim::report_to_timeline(report, 1);
  const auto& listed = timeline.at("otherData").at("gpus_listed");
  const int gpu = listed.empty() ? 0 : listed.front().get<int>();
  gpu_ = gpu;
  for (const auto& event : timeline.at("traceEvents")) {
    if (event.value("ph", "") != "X" || event.value("pid", -1) != gpu) continue;
    Span span;
    span.lane = event.value("tid", 0);
    span.start_us = event.value("ts", 0.0);
    span.duration_us = event.value("dur", 0.0);
    span.name = QString::fromStdString(event.value("name", ""));
    end_us_ = std::max(end_us_, span.start_us + span.duration_us);
    spans_.push_back(std::move(span));
  }
  update();
}

void TimelineWidget::clear() {
  spans_.clear();
  end_us_ = 0;
  update();
}

void TimelineWidget::draw_legend(QPainter& painter, const std::vector<const char*>& names, int y,
                                 const char* prefix) const {
  int x = 90;
  for (const char* name : names) {
    const QString text = QString::fromLatin1(name);
    painter.fillRect(QRect(x, y, 10, 10), phase_colour(QLatin1String(prefix) + text));
    const int advance = painter.fontMetrics().horizontalAdvance(text);
    painter.drawText(QRect(x + 14, y - 4, advance + 4, 20), Qt::AlignVCenter | Qt::AlignLeft, text);
    x += 24 + advance;
  }
}

void TimelineWidget::paintEvent(QPaintEvent*) {
  QPainter painter(this);
  painter.fillRect(rect(), palette().base());
  if (spans_.empty() || end_us_ <= 0) {
    painter.drawText(rect(), Qt::AlignCenter, tr("no results yet"));
    return;
  }
  const int label_width = 90;
  const int lanes = training_ ? 4 : 3;  // training adds its step track under the streams
  const int top = training_ ? 66 : 46;
  const int axis_height = 24;
  const int lane_height = std::max(16, (height() - top - axis_height - 8) / lanes);
  const double x_scale = (width() - label_width - 12) / end_us_;
  painter.drawText(
      QRect(0, 4, width(), 20), Qt::AlignCenter,
      (training_ ? tr("GPU %2, training step %1 ms: one micro-batch's forward + backward "
                      "(streams), its stage's pipeline (last lane); ms")
                 : tr("One step on GPU %2, the hottest (step time %1 ms): phases on the "
                      "slowest GPU's schedule; time in ms"))
          .arg(step_ms_, 0, 'f', 2)
          .arg(gpu_));
  draw_legend(painter, {"dense", "gate", "dispatch", "experts", "combine"}, 28, "");
  if (training_) {
    std::vector<const char*> parts;
    for (const auto& part : kStepParts) parts.push_back(part.first);
    draw_legend(painter, parts, 48, "step ");
  }
  for (int lane = 0; lane < lanes; ++lane)
    painter.drawText(QRect(4, top + lane * lane_height, label_width - 8, lane_height),
                     Qt::AlignVCenter | Qt::AlignLeft, tr(kLanes[lane]));
  for (const auto& span : spans_) {
    const QRectF box(label_width + span.start_us * x_scale, top + span.lane * lane_height + 2,
                     std::max(1.0, span.duration_us * x_scale), lane_height - 4);
    painter.fillRect(box, phase_colour(span.name));
  }
  // Time axis in milliseconds: a round step (1, 2 or 5 x 10^k ms) with at least 80 px between
  // labels, so they never collide, and no label past the right edge.
  const int axis_y = top + lanes * lane_height + 4;
  painter.setPen(palette().text().color());
  painter.drawLine(label_width, axis_y, width() - 12, axis_y);
  const double end_ms = end_us_ / 1e3;
  const double ms_per_pixel = end_ms / std::max(1.0, width() - label_width - 12.0);
  double step_ms = 1e-3;
  for (int i = 0; step_ms / ms_per_pixel < 80 && i < 60; ++i)
    step_ms *= (i % 3 == 1) ? 2.5 : 2;  // 1, 2, 5, 10, 20, 50 ...
  const int decimals = step_ms >= 1 ? 0 : step_ms >= 0.1 ? 1 : step_ms >= 0.01 ? 2 : 3;
  for (double at_ms = 0; at_ms <= end_ms * (1 + 1e-9); at_ms += step_ms) {
    const int x = label_width + static_cast<int>(at_ms * 1e3 * x_scale);
    painter.drawLine(x, axis_y, x, axis_y + 4);
    if (x + 40 > width()) continue;  // its label would be cut off
    painter.drawText(QRect(x - 40, axis_y + 4, 80, 16), Qt::AlignHCenter | Qt::AlignTop,
                     QString::number(at_ms, 'f', decimals));
  }
}

}  // namespace moesim::gui
