#include "sim/draw/scatter_chart.hpp"

#include <cairo.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "sim/draw/picture_file.hpp"

namespace moesim::sim {
namespace {

// Names unique within moesim_sim_draw (unity builds put heatmap.cpp beside this file).
constexpr double kChartFont = 12, kChartTitleFont = 14;
constexpr double kPlotWidth = 640, kPlotHeight = 400;
constexpr double kPlotLeft = 80, kPlotTop = 56, kLegendWidth = 190, kPlotBottomMargin = 50;

void chart_colour(cairo_t* cr, Rgb c) {
  cairo_set_source_rgb(cr, c.red / 255.0, c.green / 255.0, c.blue / 255.0);
}

// Text anchored at (x, y): align 0 left, 0.5 centre, 1 right; y is the baseline.
void chart_text(cairo_t* cr, const std::string& text, double x, double y, double align,
                double size) {
  cairo_set_font_size(cr, size);
  cairo_text_extents_t extents;
  cairo_text_extents(cr, text.c_str(), &extents);
  cairo_move_to(cr, x - align * extents.x_advance, y);
  cairo_show_text(cr, text.c_str());
}

struct ChartFrame {
  double x_step = 1, x_end = 1, y_step = 1, y_end = 1;
  double px(double x) const { return kPlotLeft + x / x_end * kPlotWidth; }
  double py(double y) const { return kPlotTop + kPlotHeight - y / y_end * kPlotHeight; }
};

ChartFrame frame_for(const ScatterChart& chart) {
  double largest_x = 0, largest_y = 0;
  for (const auto& point : chart.points) {
    largest_x = std::max(largest_x, point.x);
    largest_y = std::max(largest_y, point.y);
  }
  for (const auto& line : chart.lines)
    for (const auto& [x, y] : line.points) {
      largest_x = std::max(largest_x, x);
      largest_y = std::max(largest_y, y);
    }
  ChartFrame frame;
  std::tie(frame.x_step, frame.x_end) = chart_axis(largest_x);
  std::tie(frame.y_step, frame.y_end) = chart_axis(largest_y);
  return frame;
}

void draw_chart_axes(cairo_t* cr, const ScatterChart& chart, const ChartFrame& f) {
  cairo_set_line_width(cr, 1);
  for (double x = 0; x <= f.x_end + f.x_step / 2; x += f.x_step) {
    cairo_set_source_rgb(cr, 0.9, 0.9, 0.9);
    cairo_move_to(cr, f.px(x), kPlotTop);
    cairo_line_to(cr, f.px(x), kPlotTop + kPlotHeight);
    cairo_stroke(cr);
    cairo_set_source_rgb(cr, 0, 0, 0);
    chart_text(cr, fmt::format("{:g}", x), f.px(x), kPlotTop + kPlotHeight + 16, 0.5, kChartFont);
  }
  for (double y = 0; y <= f.y_end + f.y_step / 2; y += f.y_step) {
    cairo_set_source_rgb(cr, 0.9, 0.9, 0.9);
    cairo_move_to(cr, kPlotLeft, f.py(y));
    cairo_line_to(cr, kPlotLeft + kPlotWidth, f.py(y));
    cairo_stroke(cr);
    cairo_set_source_rgb(cr, 0, 0, 0);
    chart_text(cr, fmt::format("{:g}", y), kPlotLeft - 6, f.py(y) + kChartFont / 3, 1, kChartFont);
  }
  cairo_rectangle(cr, kPlotLeft - 0.5, kPlotTop - 0.5, kPlotWidth + 1, kPlotHeight + 1);
  cairo_stroke(cr);
  chart_text(cr, chart.x_label, kPlotLeft + kPlotWidth / 2, kPlotTop + kPlotHeight + 36, 0.5,
             kChartFont);
  cairo_save(cr);
  cairo_translate(cr, 20, kPlotTop + kPlotHeight / 2);
  cairo_rotate(cr, -M_PI / 2);
  chart_text(cr, chart.y_label, 0, 0, 0.5, kChartFont);
  cairo_restore(cr);
  chart_text(cr, chart.title, 10, 24, 0, kChartTitleFont);
}

void draw_chart_marks(cairo_t* cr, const ScatterChart& chart, const ChartFrame& f) {
  for (const auto& line : chart.lines) {
    if (line.points.size() < 2) continue;
    chart_colour(cr, line.colour);
    cairo_set_line_width(cr, line.width);
    cairo_new_path(cr);  // text leaves a current point that would join the line
    for (const auto& [x, y] : line.points) cairo_line_to(cr, f.px(x), f.py(y));
    cairo_stroke(cr);
  }
  for (const auto& point : chart.points) {
    chart_colour(cr, point.colour);
    cairo_new_path(cr);
    cairo_arc(cr, f.px(point.x), f.py(point.y), point.radius, 0, 2 * M_PI);
    cairo_fill(cr);
  }
  if (chart.ring) {
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_set_line_width(cr, 1.5);
    cairo_new_path(cr);
    cairo_arc(cr, f.px(chart.ring->first), f.py(chart.ring->second), 8, 0, 2 * M_PI);
    cairo_stroke(cr);
  }
}

// Right of the plot, outside it: no entry can hide a point.
void draw_chart_legend(cairo_t* cr, const ScatterChart& chart) {
  const double x = kPlotLeft + kPlotWidth + 16;
  double y = kPlotTop + 8;
  for (const auto& entry : chart.legend) {
    chart_colour(cr, entry.colour);
    cairo_new_path(cr);
    cairo_arc(cr, x + 5, y - kChartFont / 3, entry.ring ? 6 : 4, 0, 2 * M_PI);
    if (entry.ring) {
      cairo_set_line_width(cr, 1.5);
      cairo_stroke(cr);
    } else {
      cairo_fill(cr);
    }
    cairo_set_source_rgb(cr, 0, 0, 0);
    chart_text(cr, entry.text, x + 16, y, 0, kChartFont);
    y += kChartFont + 8;
  }
}

}  // namespace

double round_chart_step(double raw) {
  const double power = std::pow(10.0, std::floor(std::log10(raw)));
  for (const double mantissa : {1.0, 2.0, 5.0})
    if (mantissa * power >= raw * (1 - 1e-12)) return mantissa * power;
  return 10 * power;
}

std::pair<double, double> chart_axis(double largest) {
  if (!(largest > 0)) return {1, 1};
  const double step = round_chart_step(largest / 5);
  return {step, step * std::ceil(largest / step * (1 - 1e-12))};
}

void write_scatter_chart(const ScatterChart& chart, const std::string& path) {
  const int width = static_cast<int>(kPlotLeft + kPlotWidth + kLegendWidth);
  const int height = static_cast<int>(kPlotTop + kPlotHeight + kPlotBottomMargin);
  write_picture(path, width, height, [&](cairo_t* cr) {
    cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    const ChartFrame frame = frame_for(chart);
    draw_chart_axes(cr, chart, frame);
    draw_chart_marks(cr, chart, frame);
    draw_chart_legend(cr, chart);
  });
}

}  // namespace moesim::sim
