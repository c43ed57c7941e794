#pragma once
// The layer x expert heat map of trace statistics as a PNG (libpng): the SVG's cells and colour
// scale, without its labels, for tools that do not render SVG.
#include <cstdint>
#include <string>
#include <vector>

#include "sim/traces/stats.hpp"

namespace moesim::sim {

// Row-major RGB pixels (3 bytes each) of the heat map: heatmap_cell_pixels() square per cell,
// one row of cells per layer, one column per expert.
struct HeatmapImage {
  std::uint32_t width = 0;
  std::uint32_t height = 0;
  std::vector<std::uint8_t> rgb;
};

HeatmapImage render_heatmap(const TraceStats& stats);

// Writes the PNG; std::runtime_error naming the file (and libpng's reason) when it cannot.
void write_heatmap_png(const TraceStats& stats, const std::string& path);

}  // namespace moesim::sim
