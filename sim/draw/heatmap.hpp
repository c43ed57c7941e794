#pragma once
// The layer x expert heat map of trace statistics, drawn with cairo as PNG or SVG: a log colour
// scale centred on the layer mean (blue below, white at the mean, red above), a colour bar, layer
// and expert ticks spaced so labels never overlap, and a title the canvas widens to fit.
#include <cstdint>
#include <string>
#include <vector>

#include "sim/traces/stats.hpp"

namespace moesim::sim {

struct Rgb {
  std::uint8_t red = 0, green = 0, blue = 0;
  bool operator==(const Rgb&) const = default;
};

// The colour of `ratio` (load / layer mean) on a scale spanning 2^-span .. 2^span. Zero load has
// its own grey (no logarithm), named in the colour bar.
Rgb log_ratio_colour(double ratio, double span_log2);
inline constexpr Rgb kZeroLoadColour{150, 150, 150};
// The half-width of the scale in powers of two: the largest |log2 ratio| of any non-zero cell,
// at least 1 (so an even trace still shows a x0.5 .. x2 bar). Nothing falls outside it.
double heatmap_span_log2(const TraceStats& stats);

// The smallest step of 1, 2 or 5 x 10^k items such that `step * pixels_per_item` is at least
// `min_pixels`: tick labels that never collide.
int nice_tick_step(double pixels_per_item, double min_pixels);

// Where the map sits on the canvas (pixels).
struct HeatmapLayout {
  int width = 0, height = 0;
  int left = 0, top = 0;  // the map's top-left corner
  int cell_width = 0, cell_height = 0;
  int layer_step = 1, expert_step = 1;  // a tick every this many rows / columns
};
HeatmapLayout layout_heatmap(const TraceStats& stats, const std::string& title);

// Writes path as PNG or SVG (by its extension, ".png" or ".svg"); std::runtime_error naming the
// file when it cannot. `title` heads the picture.
void write_heatmap(const TraceStats& stats, const std::string& title, const std::string& path);

}  // namespace moesim::sim
