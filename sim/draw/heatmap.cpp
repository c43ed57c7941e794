#include "sim/draw/heatmap.hpp"

#include <cairo.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <stdexcept>

#include "sim/draw/picture_file.hpp"

namespace moesim::sim {
namespace {

constexpr double kFontSize = 12;
constexpr double kTitleSize = 14;
constexpr Rgb kLow{49, 54, 149};  // far below the mean
constexpr Rgb kHigh{165, 0, 38};  // far above it
constexpr int kBarWidth = 18;
constexpr int kRightMargin = 90;  // colour bar, its labels and the zero patch

using Surface = std::unique_ptr<cairo_surface_t, decltype(&cairo_surface_destroy)>;
using Context = std::unique_ptr<cairo_t, decltype(&cairo_destroy)>;

std::uint8_t blend(std::uint8_t from, std::uint8_t to, double t) {
  return static_cast<std::uint8_t>(std::lround(from + (to - from) * t));
}

double text_width(cairo_t* cr, const std::string& text, double size) {
  cairo_set_font_size(cr, size);
  cairo_text_extents_t extents;
  cairo_text_extents(cr, text.c_str(), &extents);
  return extents.x_advance;
}

// A scratch context for measuring text before the canvas size is known.
double measure(const std::string& text, double size) {
  Surface surface(cairo_image_surface_create(CAIRO_FORMAT_RGB24, 1, 1), cairo_surface_destroy);
  Context cr(cairo_create(surface.get()), cairo_destroy);
  cairo_select_font_face(cr.get(), "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  return text_width(cr.get(), text, size);
}

void set_colour(cairo_t* cr, Rgb c) {
  cairo_set_source_rgb(cr, c.red / 255.0, c.green / 255.0, c.blue / 255.0);
}

// Text anchored at (x, y): align 0 left, 0.5 centre, 1 right; y is the baseline.
void label(cairo_t* cr, const std::string& text, double x, double y, double align, double size) {
  cairo_set_font_size(cr, size);
  cairo_move_to(cr, x - align * text_width(cr, text, size), y);
  cairo_show_text(cr, text.c_str());
}

std::string ratio_label(int power) {
  return power >= 0 ? fmt::format("x{}", 1 << power) : fmt::format("x1/{}", 1 << -power);
}

// Draws `fill` (in its own coordinates from 0, 0) into an image of width x height pixels and places
// it at (x, y): an SVG then embeds one PNG instead of a rectangle per cell (58 x 256 cells were
// 2.6 MB of rectangles), while the labels around it stay vector text.
template <typename Fill>
void paint_raster(cairo_t* cr, double x, double y, int width, int height, Fill fill) {
  Surface raster(
      cairo_image_surface_create(CAIRO_FORMAT_RGB24, std::max(1, width), std::max(1, height)),
      cairo_surface_destroy);
  {
    Context raster_cr(cairo_create(raster.get()), cairo_destroy);
    fill(raster_cr.get());
  }
  cairo_surface_flush(raster.get());
  cairo_save(cr);
  cairo_set_source_surface(cr, raster.get(), x, y);
  cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_NEAREST);
  cairo_rectangle(cr, x, y, width, height);
  cairo_fill(cr);
  cairo_restore(cr);
}

void draw_cells(cairo_t* cr, const TraceStats& stats, const HeatmapLayout& l, double span) {
  const int columns = static_cast<int>(stats.shape.experts);
  const int rows = static_cast<int>(stats.layers.size());
  paint_raster(cr, l.left, l.top, columns * l.cell_width, rows * l.cell_height, [&](cairo_t* map) {
    for (std::size_t r = 0; r < stats.layers.size(); ++r) {
      const auto ratios = load_over_mean(stats.layers[r]);
      for (std::size_t e = 0; e < ratios.size(); ++e) {
        set_colour(map, ratios[e] > 0 ? log_ratio_colour(ratios[e], span) : kZeroLoadColour);
        cairo_rectangle(map, static_cast<double>(e) * l.cell_width,
                        static_cast<double>(r) * l.cell_height, l.cell_width, l.cell_height);
        cairo_fill(map);
      }
    }
  });
}

void draw_axes(cairo_t* cr, const TraceStats& stats, const HeatmapLayout& l) {
  const int rows = static_cast<int>(stats.layers.size());
  const int columns = static_cast<int>(stats.shape.experts);
  cairo_set_source_rgb(cr, 0, 0, 0);
  cairo_set_line_width(cr, 1);
  cairo_rectangle(cr, l.left - 0.5, l.top - 0.5, columns * l.cell_width + 1.0,
                  rows * l.cell_height + 1.0);
  cairo_stroke(cr);
  for (int r = 0; r < rows; r += l.layer_step) {
    const double y = l.top + (r + 0.5) * l.cell_height;
    cairo_move_to(cr, l.left - 5, y);
    cairo_line_to(cr, l.left - 1, y);
    cairo_stroke(cr);
    label(cr, fmt::format("{}", stats.layers[r].layer), l.left - 8, y + kFontSize / 3, 1,
          kFontSize);
  }
  const double bottom = l.top + rows * l.cell_height;
  for (int e = 0; e < columns; e += l.expert_step) {
    const double x = l.left + (e + 0.5) * l.cell_width;
    cairo_move_to(cr, x, bottom + 1);
    cairo_line_to(cr, x, bottom + 5);
    cairo_stroke(cr);
    label(cr, fmt::format("{}", e), x, bottom + 6 + kFontSize, 0.5, kFontSize);
  }
  label(cr, "expert", l.left + columns * l.cell_width / 2.0, bottom + 12 + 2 * kFontSize, 0.5,
        kFontSize);
  cairo_save(cr);
  cairo_translate(cr, 14, l.top + rows * l.cell_height / 2.0);
  cairo_rotate(cr, -M_PI / 2);
  label(cr, "layer", 0, 0, 0.5, kFontSize);
  cairo_restore(cr);
}

// A vertical bar from 2^-span (bottom) to 2^span (top), ticks at powers of two, and the zero patch.
void draw_colour_bar(cairo_t* cr, const HeatmapLayout& l, int map_height, double span) {
  const double x = l.width - kRightMargin + 16;
  const double height = std::max(60, map_height);
  paint_raster(cr, x, l.top, kBarWidth, static_cast<int>(height), [&](cairo_t* bar) {
    for (int i = 0; i < static_cast<int>(height); ++i) {
      const double log_ratio = span * (1 - 2 * (i + 0.5) / height);
      set_colour(bar, log_ratio_colour(std::exp2(log_ratio), span));
      cairo_rectangle(bar, 0, i, kBarWidth, 1);
      cairo_fill(bar);
    }
  });
  cairo_set_source_rgb(cr, 0, 0, 0);
  cairo_rectangle(cr, x - 0.5, l.top - 0.5, kBarWidth + 1, height + 1);
  cairo_stroke(cr);
  const int step = nice_tick_step(height / (2 * span), kFontSize + 4);
  for (int power = -static_cast<int>(std::floor(span)) / step * step; power <= span;
       power += step) {
    const double y = l.top + height * (span - power) / (2 * span);
    cairo_move_to(cr, x + kBarWidth, y);
    cairo_line_to(cr, x + kBarWidth + 4, y);
    cairo_stroke(cr);
    label(cr, ratio_label(power), x + kBarWidth + 6, y + kFontSize / 3, 0, kFontSize);
  }
  const double zero_y = l.top + height + 10;
  set_colour(cr, kZeroLoadColour);
  cairo_rectangle(cr, x, zero_y, kBarWidth, kFontSize);
  cairo_fill(cr);
  cairo_set_source_rgb(cr, 0, 0, 0);
  label(cr, "0", x + kBarWidth + 6, zero_y + kFontSize - 1, 0, kFontSize);
}

void draw(cairo_t* cr, const TraceStats& stats, const std::string& title, const HeatmapLayout& l) {
  cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_source_rgb(cr, 1, 1, 1);
  cairo_paint(cr);
  const double span = heatmap_span_log2(stats);
  draw_cells(cr, stats, l, span);
  draw_axes(cr, stats, l);
  draw_colour_bar(cr, l, static_cast<int>(stats.layers.size()) * l.cell_height, span);
  cairo_set_source_rgb(cr, 0, 0, 0);
  label(cr, title, 10, 8 + kTitleSize, 0, kTitleSize);
  label(cr, "colour: tokens per expert / the layer's mean, log scale", 10,
        12 + kTitleSize + kFontSize, 0, kFontSize);
}

}  // namespace

Rgb log_ratio_colour(double ratio, double span_log2) {
  const double t = span_log2 > 0 ? std::log2(ratio) / span_log2 : 0.0;
  const Rgb white{255, 255, 255};
  const Rgb end = t < 0 ? kLow : kHigh;
  const double amount = std::min(1.0, std::abs(t));  // |t| <= 1 by the span's definition
  return {blend(white.red, end.red, amount), blend(white.green, end.green, amount),
          blend(white.blue, end.blue, amount)};
}

double heatmap_span_log2(const TraceStats& stats) {
  double span = 1;
  for (const auto& layer : stats.layers)
    for (double ratio : load_over_mean(layer))
      if (ratio > 0) span = std::max(span, std::abs(std::log2(ratio)));
  return span;
}

int nice_tick_step(double pixels_per_item, double min_pixels) {
  if (pixels_per_item <= 0) return 1;
  for (int decade = 1;; decade *= 10)
    for (int multiple : {1, 2, 5})
      if (multiple * decade * pixels_per_item >= min_pixels) return multiple * decade;
}

HeatmapLayout layout_heatmap(const TraceStats& stats, const std::string& title) {
  HeatmapLayout l;
  const int columns = std::max<int>(1, static_cast<int>(stats.shape.experts));
  const int rows = std::max<int>(1, static_cast<int>(stats.layers.size()));
  l.cell_width = std::clamp(1200 / columns, 2, 28);
  l.cell_height = std::clamp(720 / rows, 3, 28);
  l.left = 36 +
           static_cast<int>(measure(
               fmt::format("{}", rows > 0 && !stats.layers.empty() ? stats.layers.back().layer : 0),
               kFontSize)) +
           10;
  l.top = static_cast<int>(20 + kTitleSize + kFontSize + 12);
  const double widest_expert = measure(fmt::format("{}", columns - 1), kFontSize);
  l.layer_step = nice_tick_step(l.cell_height, kFontSize + 3);
  l.expert_step = nice_tick_step(l.cell_width, widest_expert + 8);
  const int map_width = columns * l.cell_width, map_height = rows * l.cell_height;
  const int title_width =
      static_cast<int>(
          std::max(measure(title, kTitleSize),
                   measure("colour: tokens per expert / the layer's mean, log scale", kFontSize))) +
      20;
  l.width = std::max(l.left + map_width + kRightMargin, title_width);
  l.height = l.top + std::max(map_height + 2 * static_cast<int>(kFontSize) + 24,
                              60 + 30 + static_cast<int>(kFontSize));
  return l;
}

void write_heatmap(const TraceStats& stats, const std::string& title, const std::string& path) {
  if (stats.layers.empty() || stats.shape.experts == 0)
    throw std::runtime_error(
        fmt::format("cannot write {}: the statistics hold no layer or expert", path));
  const HeatmapLayout layout = layout_heatmap(stats, title);
  write_picture(path, layout.width, layout.height,
                [&](cairo_t* cr) { draw(cr, stats, title, layout); });
}

}  // namespace moesim::sim
