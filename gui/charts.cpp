#include "gui/charts.hpp"

#include <QBarCategoryAxis>
#include <QBarSeries>
#include <QBarSet>
#include <QLegendMarker>
#include <QLineSeries>
#include <QPainter>
#include <QStackedBarSeries>
#include <QValueAxis>
#include <algorithm>
#include <cmath>

namespace moesim::gui {
namespace {

double max_of(const std::vector<double>& values) {
  return values.empty() ? 0 : *std::max_element(values.begin(), values.end());
}

QChart* new_chart(const QString& title) {
  auto* chart = new QChart;
  chart->setTitle(title);
  chart->setAnimationOptions(QChart::NoAnimation);  // results change on every edit
  chart->legend()->setAlignment(Qt::AlignBottom);
  chart->setMargins(QMargins(4, 4, 4, 4));
  return chart;
}

// A tick every 1, 2 or 5 x 10^k items, the smallest that keeps at most `most` ticks: round labels.
int round_tick_step(int count, int most) {
  for (int decade = 1;; decade *= 10)
    for (int multiple : {1, 2, 5})
      if (multiple * decade * most >= count) return multiple * decade;
}

// Bars sit on a hidden category axis; a value axis spanning the same [i - 0.5, i + 0.5] cells
// names every n-th of them, so hundreds of bars stay labelled, and line series can share it.
QValueAxis* attach_index_axes(QChart* chart, QAbstractSeries* bars, int count,
                              const QString& title) {
  auto* categories = new QBarCategoryAxis;
  QStringList labels;
  for (int i = 0; i < count; ++i) labels << QString::number(i);
  categories->append(labels);
  categories->setVisible(false);
  auto* x = new QValueAxis;
  x->setRange(-0.5, count - 0.5);
  x->setTickType(QValueAxis::TicksDynamic);
  x->setTickAnchor(0);
  x->setTickInterval(round_tick_step(count, 16));
  x->setLabelFormat(QStringLiteral("%.0f"));
  x->setTitleText(title);
  chart->addAxis(categories, Qt::AlignBottom);
  chart->addAxis(x, Qt::AlignBottom);
  bars->attachAxis(categories);
  return x;
}

QValueAxis* attach_value_axis(QChart* chart, const std::vector<QAbstractSeries*>& series,
                              double top) {
  auto* y = new QValueAxis;
  y->setRange(0, top);
  y->applyNiceNumbers();  // round ticks (0, 10000, 20000 ...), never 31461 and 41947
  y->setLabelFormat(top >= 10 ? QStringLiteral("%.0f") : QStringLiteral("%.2f"));
  chart->addAxis(y, Qt::AlignLeft);
  for (auto* one : series) one->attachAxis(y);
  return y;
}

}  // namespace

QChart* make_gpu_load_chart(const std::vector<double>& current, const std::vector<double>& baseline,
                            int layer) {
  // The baseline is drawn only where it tells something: a line identical to the bars' tops
  // reads, at hundreds of GPUs, as a second series of bars beside them.
  const bool same =
      baseline.size() == current.size() &&
      std::equal(current.begin(), current.end(), baseline.begin(), [](double a, double b) {
        return std::abs(a - b) <= 1e-9 * std::max(std::abs(a), 1.0);
      });
  auto* chart = new_chart(
      QObject::tr("Tokens per GPU, MoE layer %1 (one EP group, one micro-batch)%2")
          .arg(layer)
          .arg(same ? QObject::tr("; the baseline placement gives the same loads") : QString()));
  // Current as bars; baseline as a step line over them, so hundreds of GPUs stay legible.
  auto* bars = new QBarSeries;
  auto* current_set = new QBarSet(QObject::tr("current"));
  current_set->setColor(QColor(50, 110, 200));
  current_set->setBorderColor(QColor(50, 110, 200));
  for (double tokens : current) *current_set << tokens;
  bars->append(current_set);
  bars->setBarWidth(current.size() > 64 ? 1.0 : 0.8);
  auto* line = new QLineSeries;
  line->setName(QObject::tr("baseline"));
  line->setPen(QPen(QColor(230, 120, 20), 1.5));
  for (std::size_t gpu = 0; !same && gpu < baseline.size(); ++gpu) {
    const double left = static_cast<double>(gpu) - 0.5;
    line->append(left, baseline[gpu]);
    line->append(left + 1, baseline[gpu]);
  }
  chart->addSeries(bars);
  chart->addSeries(line);
  if (same) chart->legend()->markers(line).front()->setVisible(false);
  const int gpus = static_cast<int>(current.size());
  line->attachAxis(attach_index_axes(chart, bars, gpus, QObject::tr("GPU")));
  attach_value_axis(chart, {bars, line}, std::max(max_of(current), max_of(baseline)) * 1.05 + 1)
      ->setLabelFormat(QStringLiteral("%.0f"));
  return chart;
}

QChart* make_phase_chart(const sim::Report& report) {
  auto* chart = new_chart(
      QObject::tr("Time per block, ms: phases of one micro-batch on the slowest GPU (bars), the "
                  "block's share of the step after overlap (line)"));
  auto* series = new QStackedBarSeries;
  const std::pair<QString, double sim::PhaseTimes::*> phases[] = {
      {QObject::tr("dense"), &sim::PhaseTimes::dense},
      {QObject::tr("gate"), &sim::PhaseTimes::gate},
      {QObject::tr("dispatch"), &sim::PhaseTimes::dispatch},
      {QObject::tr("experts"), &sim::PhaseTimes::experts},
      {QObject::tr("combine"), &sim::PhaseTimes::combine},
  };
  const QColor colours[] = {QColor(120, 120, 130), QColor(240, 180, 40), QColor(60, 140, 220),
                            QColor(200, 70, 60), QColor(80, 180, 120)};
  auto* total = new QLineSeries;  // what the step pays: phases after overlap
  total->setName(QObject::tr("block total per step"));
  total->setPen(QPen(Qt::black, 1.5));
  double tallest = 0;
  for (std::size_t block = 0; block < report.layers.size(); ++block) {
    const auto& p = report.layers[block].phases;
    tallest = std::max({tallest, p.dense + p.gate + p.dispatch + p.experts + p.combine, p.total});
    const double left = static_cast<double>(block) - 0.5;
    total->append(left, p.total * 1e3);
    total->append(left + 1, p.total * 1e3);
  }
  for (std::size_t i = 0; i < std::size(phases); ++i) {
    auto* set = new QBarSet(phases[i].first);
    set->setColor(colours[i]);
    set->setBorderColor(colours[i].darker(130));
    for (const auto& layer : report.layers) *set << layer.phases.*(phases[i].second) * 1e3;
    series->append(set);
  }
  series->setBarWidth(0.8);
  chart->addSeries(series);
  chart->addSeries(total);
  const int blocks = static_cast<int>(report.layers.size());
  total->attachAxis(attach_index_axes(chart, series, blocks, QObject::tr("block")));
  attach_value_axis(chart, {series, total}, tallest * 1e3 * 1.05);
  return chart;
}

}  // namespace moesim::gui
