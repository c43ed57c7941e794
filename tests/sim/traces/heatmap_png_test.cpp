#include "sim/traces/heatmap_png.hpp"

#include <gtest/gtest.h>
#include <png.h>
#include <unistd.h>

#include <filesystem>
#include <stdexcept>

namespace moesim::sim {
namespace {

// 2 layers x 4 experts, top-1. Layer 0 counts 6, 2, 0, 0: mean 2, so load / mean = 3, 1, 0, 0;
// layer 1 counts 1, 1, 1, 1: every ratio 1.
TraceStats known_stats() {
  TraceStats stats;
  stats.shape = {2, 4, 1, ScoreType::None};
  stats.layers.resize(2);
  stats.layers[0].tokens_per_expert = {6, 2, 0, 0};
  stats.layers[1].layer = 1;
  stats.layers[1].tokens_per_expert = {1, 1, 1, 1};
  return stats;
}

struct DecodedPng {
  std::uint32_t width = 0;
  std::uint32_t height = 0;
  std::vector<std::uint8_t> rgb;
  HeatColour at(std::uint32_t x, std::uint32_t y) const {
    const std::size_t i = 3 * (std::size_t{y} * width + x);
    return {rgb[i], rgb[i + 1], rgb[i + 2]};
  }
};

DecodedPng read_png(const std::string& path) {
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  if (png_image_begin_read_from_file(&image, path.c_str()) == 0)
    throw std::runtime_error(image.message);
  image.format = PNG_FORMAT_RGB;
  DecodedPng decoded{image.width, image.height, std::vector<std::uint8_t>(PNG_IMAGE_SIZE(image))};
  if (png_image_finish_read(&image, nullptr, decoded.rgb.data(), 0, nullptr) == 0)
    throw std::runtime_error(image.message);
  return decoded;
}

TEST(HeatmapPng, ColourScaleRunsFromWhiteThroughYellowToRed) {
  // 0 -> white; the mean (1) -> yellow (green still full, blue gone); >= 2 x the mean -> red.
  EXPECT_EQ(heat_colour(0.0), (HeatColour{255, 255, 255}));
  EXPECT_EQ(heat_colour(1.0), (HeatColour{255, 255, 0}));
  EXPECT_EQ(heat_colour(2.0), (HeatColour{255, 0, 0}));
  EXPECT_EQ(heat_colour(3.0), heat_colour(2.0));
}

TEST(HeatmapPng, WrittenFileDecodesToTheCellsOfTheStats) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("moesim-heatmap-" + std::to_string(::getpid()) + ".png");
  write_heatmap_png(known_stats(), path.string());
  const DecodedPng png = read_png(path.string());
  std::filesystem::remove(path);
  // 4 experts: cell = min(24, 960 / 4) = 24 pixels; 4 x 24 = 96 wide, 2 layers x 24 = 48 high
  EXPECT_EQ(png.width, 96U);
  EXPECT_EQ(png.height, 48U);
  // the hottest cell (layer 0, expert 0: 3 x the mean) is red, the scale's hottest colour, and no
  // pixel anywhere is redder (less green + blue)
  const HeatColour hottest = png.at(12, 12);
  EXPECT_EQ(hottest, heat_colour(2.0));
  for (std::uint32_t y = 0; y < png.height; ++y)
    for (std::uint32_t x = 0; x < png.width; ++x) {
      const HeatColour pixel = png.at(x, y);
      ASSERT_GE(pixel.green + pixel.blue, hottest.green + hottest.blue)
          << "pixel " << x << ", " << y;
    }
  // layer 0 expert 1 sits at the mean (yellow), expert 3 is idle (white); layer 1 is all yellow
  EXPECT_EQ(png.at(24 + 12, 12), heat_colour(1.0));
  EXPECT_EQ(png.at(3 * 24 + 12, 12), heat_colour(0.0));
  EXPECT_EQ(png.at(3 * 24 + 12, 24 + 12), heat_colour(1.0));
}

TEST(HeatmapPng, UnwritablePathIsARuntimeErrorNamingTheFile) {
  const std::string path = "/nonexistent-moesim-dir/h.png";
  try {
    write_heatmap_png(known_stats(), path);
    FAIL() << "expected std::runtime_error";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find(path), std::string::npos) << error.what();
  }
}

}  // namespace
}  // namespace moesim::sim
