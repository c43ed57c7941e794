#include "gui/heat_map_widget.hpp"

#include <QPainter>
#include <algorithm>
#include <cmath>
#include <numeric>

namespace moesim::gui {
namespace {

const QColor kFarBelow(49, 54, 149);  // sim/draw's kLow and kHigh
const QColor kFarAbove(165, 0, 38);
constexpr int kTitleHeight = 40;  // the title and the scale's one-line explanation
constexpr int kBarWidth = 16;

// "x4", "x1/2": a power of two as a factor of the layer's mean (sim/draw's labels).
QString power_label(int power) {
  return power >= 0 ? QStringLiteral("x%1").arg(1 << power)
                    : QStringLiteral("x1/%1").arg(1 << -power);
}

std::vector<double> over_layer_mean(const std::vector<double>& tokens) {
  const double total = std::accumulate(tokens.begin(), tokens.end(), 0.0);
  const double mean = total / static_cast<double>(std::max<std::size_t>(1, tokens.size()));
  std::vector<double> ratios(tokens.size(), 0.0);
  if (mean > 0)
    for (std::size_t e = 0; e < tokens.size(); ++e) ratios[e] = tokens[e] / mean;
  return ratios;
}

}  // namespace

HeatMapWidget::HeatMapWidget(QWidget* parent) : QWidget(parent) {
  setMinimumSize(300, 200);
  setToolTip(tr("Tokens per expert (x) in every MoE layer (y), against the layer's mean"));
}

QColor HeatMapWidget::ratio_colour(double ratio, double span_log2) {
  if (ratio <= 0) return kZeroLoad;
  const double t = span_log2 > 0 ? std::log2(ratio) / span_log2 : 0.0;
  const QColor end = t < 0 ? kFarBelow : kFarAbove;
  const double amount = std::min(1.0, std::abs(t));
  const auto channel = [amount](int to) {
    return static_cast<int>(std::lround(255 + (to - 255) * amount));
  };
  return QColor(channel(end.red()), channel(end.green()), channel(end.blue()));
}

int HeatMapWidget::tick_step(double pixels_per_item, double min_pixels) {
  if (pixels_per_item <= 0) return 1;
  for (int decade = 1;; decade *= 10)
    for (int multiple : {1, 2, 5})
      if (multiple * decade * pixels_per_item >= min_pixels) return multiple * decade;
}

void HeatMapWidget::set_report(const sim::Report& report) {
  std::vector<const sim::LayerResult*> moe;
  for (const auto& layer : report.layers)
    if (layer.moe) moe.push_back(&layer);
  if (moe.empty() || moe.front()->tokens_per_expert.empty()) return clear();
  first_moe_block_ = moe.front()->layer;
  const int experts = static_cast<int>(moe.front()->tokens_per_expert.size());
  std::vector<std::vector<double>> ratios;
  span_log2_ = 1;  // at least x1/2 .. x2, as sim/draw
  for (const auto* layer : moe) {
    ratios.push_back(over_layer_mean(layer->tokens_per_expert));
    for (double ratio : ratios.back())
      if (ratio > 0) span_log2_ = std::max(span_log2_, std::abs(std::log2(ratio)));
  }
  image_ = QImage(experts, static_cast<int>(moe.size()), QImage::Format_RGB32);
  for (int row = 0; row < image_.height(); ++row)
    for (int expert = 0; expert < experts; ++expert)
      image_.setPixelColor(expert, row, ratio_colour(ratios[row][expert], span_log2_));
  update();
}

void HeatMapWidget::clear() {
  image_ = QImage();
  update();
}

void HeatMapWidget::set_selected_layer(int moe_layer) {
  selected_layer_ = moe_layer;
  update();
}

HeatMapWidget::Layout HeatMapWidget::layout() const {
  Layout l;
  if (image_.isNull()) return l;
  const QFontMetrics metrics = fontMetrics();
  const int line = metrics.height();
  const int left = 2 * line + metrics.horizontalAdvance(QString::number(image_.height() - 1)) + 4;
  const int right = kBarWidth + metrics.horizontalAdvance(QStringLiteral("x1/1024")) + 24;
  const int bottom = 2 * line + 12;
  l.map = QRect(left, kTitleHeight, std::max(1, width() - left - right),
                std::max(1, height() - kTitleHeight - bottom));
  l.bar =
      QRect(l.map.right() + 14, l.map.top(), kBarWidth, std::max(40, l.map.height() - line - 8));
  const double row = static_cast<double>(l.map.height()) / image_.height();
  const double column = static_cast<double>(l.map.width()) / image_.width();
  l.layer_step = tick_step(row, line + 2);
  l.expert_step =
      tick_step(column, metrics.horizontalAdvance(QString::number(image_.width() - 1)) + 8);
  l.bar_step = tick_step(l.bar.height() / (2 * span_log2_), line + 2);
  return l;
}

void HeatMapWidget::draw_axes(QPainter& painter, const Layout& l) const {
  const QFontMetrics metrics = fontMetrics();
  const double row = static_cast<double>(l.map.height()) / image_.height();
  const double column = static_cast<double>(l.map.width()) / image_.width();
  painter.setPen(palette().text().color());
  painter.drawRect(l.map.adjusted(-1, -1, 0, 0));
  for (int layer = 0; layer < image_.height(); layer += l.layer_step) {
    const int y = l.map.top() + static_cast<int>((layer + 0.5) * row);
    painter.drawLine(l.map.left() - 5, y, l.map.left() - 1, y);
    painter.drawText(QRect(0, y - metrics.height() / 2, l.map.left() - 7, metrics.height()),
                     Qt::AlignRight | Qt::AlignVCenter, QString::number(layer));
  }
  for (int expert = 0; expert < image_.width(); expert += l.expert_step) {
    const int x = l.map.left() + static_cast<int>((expert + 0.5) * column);
    painter.drawLine(x, l.map.bottom() + 1, x, l.map.bottom() + 5);
    painter.drawText(QRect(x - 40, l.map.bottom() + 6, 80, metrics.height()), Qt::AlignHCenter,
                     QString::number(expert));
  }
  painter.drawText(QRect(l.map.left(), l.map.bottom() + 6 + metrics.height(), l.map.width(),
                         metrics.height() + 4),
                   Qt::AlignCenter, tr("expert"));
  painter.save();
  painter.translate(metrics.height() * 0.8, l.map.center().y());
  painter.rotate(-90);
  painter.drawText(
      QRect(-l.map.height() / 2, -metrics.height(), l.map.height(), metrics.height() + 4),
      Qt::AlignCenter, tr("MoE layer"));
  painter.restore();
}

// Top 2^span, bottom 2^-span, a label every bar_step powers of two; the zero patch below.
void HeatMapWidget::draw_colour_bar(QPainter& painter, const Layout& l) const {
  const QRect& bar = l.bar;
  for (int y = 0; y < bar.height(); ++y) {
    const double log_ratio = span_log2_ * (1 - 2 * (y + 0.5) / bar.height());
    painter.fillRect(QRect(bar.left(), bar.top() + y, bar.width(), 1),
                     ratio_colour(std::exp2(log_ratio), span_log2_));
  }
  painter.setPen(palette().text().color());
  painter.drawRect(bar.adjusted(-1, -1, 0, 0));
  const QFontMetrics metrics = fontMetrics();
  const int lowest = -static_cast<int>(std::floor(span_log2_)) / l.bar_step * l.bar_step;
  for (int power = lowest; power <= span_log2_; power += l.bar_step) {
    const int y =
        bar.top() + static_cast<int>(bar.height() * (span_log2_ - power) / (2 * span_log2_));
    painter.drawLine(bar.right() + 1, y, bar.right() + 4, y);
    painter.drawText(QRect(bar.right() + 6, y - metrics.height() / 2, 80, metrics.height()),
                     Qt::AlignLeft | Qt::AlignVCenter, power_label(power));
  }
  const QRect zero(bar.left(), bar.bottom() + metrics.height(), bar.width(), metrics.height() - 2);
  painter.fillRect(zero, kZeroLoad);
  painter.drawText(QRect(zero.right() + 6, zero.top() - 1, 80, metrics.height()),
                   Qt::AlignLeft | Qt::AlignVCenter, QStringLiteral("0"));
}

void HeatMapWidget::paintEvent(QPaintEvent*) {
  QPainter painter(this);
  painter.fillRect(rect(), palette().window());
  if (image_.isNull()) {
    painter.drawText(rect(), Qt::AlignCenter, tr("no results yet"));
    return;
  }
  const QFontMetrics metrics = fontMetrics();
  const QString title = tr("Tokens per expert: %1 experts × %2 MoE layers (blocks %3–%4)")
                            .arg(image_.width())
                            .arg(image_.height())
                            .arg(first_moe_block_)
                            .arg(first_moe_block_ + image_.height() - 1);
  const QString scale = tr("colour: tokens per expert / the layer's mean, log scale");
  // Titles that do not fit are elided, never cut mid-glyph.
  painter.drawText(QRect(4, 2, width() - 8, metrics.height()), Qt::AlignCenter,
                   metrics.elidedText(title, Qt::ElideRight, width() - 8));
  painter.drawText(QRect(4, 4 + metrics.height(), width() - 8, metrics.height()), Qt::AlignCenter,
                   metrics.elidedText(scale, Qt::ElideRight, width() - 8));
  const Layout l = layout();
  painter.drawImage(l.map, image_);  // nearest-neighbour scaling keeps cells sharp
  draw_axes(painter, l);
  draw_colour_bar(painter, l);
  if (selected_layer_ >= 0 && selected_layer_ < image_.height()) {
    const double row = static_cast<double>(l.map.height()) / image_.height();
    painter.setPen(QPen(Qt::black, 2));
    painter.setBrush(Qt::NoBrush);
    painter.drawRect(QRectF(l.map.left(), l.map.top() + selected_layer_ * row, l.map.width(),
                            std::max(2.0, row)));
  }
}

}  // namespace moesim::gui
