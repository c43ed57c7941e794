#include "sim/traces/heatmap_png.hpp"

#include <fmt/format.h>
#include <png.h>

#include <stdexcept>

namespace moesim::sim {

HeatmapImage render_heatmap(const TraceStats& stats) {
  const auto cell = static_cast<std::uint32_t>(heatmap_cell_pixels(stats.shape.experts));
  HeatmapImage image;
  image.width = cell * stats.shape.experts;
  image.height = cell * static_cast<std::uint32_t>(stats.layers.size());
  image.rgb.resize(std::size_t{image.width} * image.height * 3);
  for (std::size_t r = 0; r < stats.layers.size(); ++r) {
    const auto ratios = load_over_mean(stats.layers[r]);
    for (std::size_t e = 0; e < ratios.size() && e < stats.shape.experts; ++e) {
      const HeatColour colour = heat_colour(ratios[e]);
      for (std::uint32_t y = 0; y < cell; ++y)
        for (std::uint32_t x = 0; x < cell; ++x) {
          const std::size_t pixel = (r * cell + y) * image.width + e * cell + x;
          image.rgb[3 * pixel] = colour.red;
          image.rgb[3 * pixel + 1] = colour.green;
          image.rgb[3 * pixel + 2] = colour.blue;
        }
    }
  }
  return image;
}

void write_heatmap_png(const TraceStats& stats, const std::string& path) {
  const HeatmapImage heatmap = render_heatmap(stats);
  if (heatmap.width == 0 || heatmap.height == 0)
    throw std::runtime_error(
        fmt::format("cannot write {}: the statistics hold no layer or expert", path));
  // libpng's simplified API reports errors in `message` instead of longjmp-ing through C++ frames
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  image.width = heatmap.width;
  image.height = heatmap.height;
  image.format = PNG_FORMAT_RGB;
  if (png_image_write_to_file(&image, path.c_str(), 0, heatmap.rgb.data(), 0, nullptr) == 0) {
    const std::string reason = image.message;
    png_image_free(&image);
    throw std::runtime_error(fmt::format("cannot write {}: {}", path, reason));
  }
}

}  // namespace moesim::sim
