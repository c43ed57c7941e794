#pragma once
// A scatter chart drawn with cairo as PNG or SVG: points, polylines over them, an optional ring,
// round ticks (1, 2 or 5 x 10^k, the axes ending on a tick) and a legend beside the plot, never on
// top of a point.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sim/draw/heatmap.hpp"

namespace moesim::sim {

struct ChartPoint {
  double x = 0, y = 0;
  Rgb colour;
  double radius = 3;
};
struct ChartLine {
  std::vector<std::pair<double, double>> points;  // in data units, drawn in this order
  Rgb colour;
  double width = 1;
};
struct LegendEntry {
  std::string text;
  Rgb colour;
  bool ring = false;  // drawn as a ring, not a dot
};

struct ScatterChart {
  std::string title;
  std::string x_label, y_label;
  std::vector<ChartLine> lines;                   // under the points
  std::vector<ChartPoint> points;                 // drawn in order: later ones on top
  std::optional<std::pair<double, double>> ring;  // one point ringed (the chosen option)
  std::vector<LegendEntry> legend;
};

// The smallest 1, 2 or 5 x 10^k that is at least `raw` (> 0).
double round_chart_step(double raw);
// About five round steps from 0 to at least `largest`: the step, and the axis' end on a tick.
std::pair<double, double> chart_axis(double largest);

// Writes path as PNG or SVG (by its extension); std::runtime_error naming the file when it cannot.
void write_scatter_chart(const ScatterChart& chart, const std::string& path);

}  // namespace moesim::sim
