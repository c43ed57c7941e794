#include "sim/draw/heatmap.hpp"

#include <gtest/gtest.h>
#include <png.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "base/text_file.hpp"

namespace moesim::sim {
namespace {

// 2 layers x 4 experts, top-1. Layer 0 counts 16, 1, 0, 7: mean 6, so load / mean = 8/3, 1/6, 0,
// 7/6; layer 1 counts 1, 1, 1, 1: every ratio 1.
TraceStats known_stats() {
  TraceStats stats;
  stats.shape = {2, 4, 1, ScoreType::None};
  stats.layers.resize(2);
  stats.layers[0].tokens_per_expert = {16, 1, 0, 7};
  stats.layers[1].layer = 1;
  stats.layers[1].tokens_per_expert = {1, 1, 1, 1};
  return stats;
}

struct DecodedPng {
  std::uint32_t width = 0;
  std::uint32_t height = 0;
  std::vector<std::uint8_t> rgb;
  Rgb at(int x, int y) const {
    const std::size_t i = 3 * (std::size_t{static_cast<std::uint32_t>(y)} * width + x);
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

std::filesystem::path heatmap_scratch(const std::string& name) {
  return std::filesystem::temp_directory_path() /
         ("moesim-heatmap-" + std::to_string(::getpid()) + "-" + name);
}

TEST(Heatmap, LogScaleIsWhiteAtTheMeanAndSymmetricInPowersOfTwo) {
  // Span 3 (x1/8 .. x8): the mean is white; x8 is the full red (165, 0, 38) and x1/8 the full
  // blue (49, 54, 149); x2 is a third of the way to red: 255 - (255 - 165) / 3 = 225, 255 - 85 =
  // 170, 255 - 217 / 3 = 182.67 -> 183.
  EXPECT_EQ(log_ratio_colour(1.0, 3), (Rgb{255, 255, 255}));
  EXPECT_EQ(log_ratio_colour(8.0, 3), (Rgb{165, 0, 38}));
  EXPECT_EQ(log_ratio_colour(1.0 / 8, 3), (Rgb{49, 54, 149}));
  EXPECT_EQ(log_ratio_colour(2.0, 3), (Rgb{225, 170, 183}));
  // An 18x expert no longer looks like a 2x one (the old scale saturated at 2).
  EXPECT_NE(log_ratio_colour(18.0, std::log2(18.0)), log_ratio_colour(2.0, std::log2(18.0)));
}

TEST(Heatmap, SpanCoversTheMostExtremeNonZeroCell) {
  // Ratios 8/3, 1/6, 7/6 and 1: the extreme is 1/6, |log2(1/6)| = log2 6 = 2.585.
  EXPECT_DOUBLE_EQ(heatmap_span_log2(known_stats()), std::log2(6.0));
}

TEST(Heatmap, TickStepsAreOneTwoOrFiveTimesAPowerOfTen) {
  // 4 px per expert, labels need 30 px: 5 x 4 = 20 < 30, 10 x 4 = 40 >= 30 -> every 10th.
  EXPECT_EQ(nice_tick_step(4, 30), 10);
  // 12 px per layer, 15 px a label: 1 x 12 < 15, 2 x 12 = 24 -> every 2nd.
  EXPECT_EQ(nice_tick_step(12, 15), 2);
  EXPECT_EQ(nice_tick_step(28, 15), 1);
  EXPECT_EQ(nice_tick_step(2, 30), 20);  // 10 x 2 = 20 < 30; 20 x 2 = 40
}

TEST(Heatmap, LayoutFitsTheTitleAndSpacesTicksFor256Experts) {
  TraceStats stats;
  stats.shape = {58, 256, 8, ScoreType::None};
  LayerStats even;
  even.tokens_per_expert.assign(256, 1);
  stats.layers.resize(58, even);
  const std::string long_title(300, 'x');  // wider than the map: the canvas grows to hold it
  const auto layout = layout_heatmap(stats, long_title);
  // 1200 / 256 = 4 px per expert, 720 / 58 = 12 px per layer.
  EXPECT_EQ(layout.cell_width, 4);
  EXPECT_EQ(layout.cell_height, 12);
  EXPECT_GE(layout.expert_step * layout.cell_width, 20);  // "255" plus room never overlaps
  EXPECT_GE(layout.layer_step * layout.cell_height, 15);  // a 12 px font plus 3
  EXPECT_GT(layout.width, 300 * 6);                       // 300 glyphs of a 14 px font
}

TEST(Heatmap, PngCellsCarryTheirColoursAndSvgIsWritten) {
  const auto stats = known_stats();
  const auto png_path = heatmap_scratch("h.png");
  write_heatmap(stats, "two layers", png_path.string());
  const auto png = read_png(png_path.string());
  std::filesystem::remove(png_path);
  const auto l = layout_heatmap(stats, "two layers");
  ASSERT_EQ(png.width, static_cast<std::uint32_t>(l.width));
  auto centre = [&](int layer, int expert) {
    return png.at(l.left + expert * l.cell_width + l.cell_width / 2,
                  l.top + layer * l.cell_height + l.cell_height / 2);
  };
  const double span = std::log2(6.0);
  EXPECT_EQ(centre(0, 0), log_ratio_colour(16.0 / 6, span));
  EXPECT_EQ(centre(0, 1), log_ratio_colour(1.0 / 6, span));  // the full blue end
  EXPECT_EQ(centre(0, 2), kZeroLoadColour);
  EXPECT_EQ(centre(1, 3), (Rgb{255, 255, 255}));  // at the mean
  const auto svg_path = heatmap_scratch("h.svg");
  write_heatmap(stats, "two layers", svg_path.string());
  std::stringstream svg;
  svg << std::ifstream(svg_path).rdbuf();
  std::filesystem::remove(svg_path);
  EXPECT_EQ(svg.str().rfind("<?xml", 0), 0U);
  EXPECT_NE(svg.str().find("<svg"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(moesim::temporary_path(svg_path.string())));
}

// DeepSeek-V3's shape, 58 layers x 256 experts: the SVG embeds the cells and the colour bar as
// two PNG images (it held one <path> per cell, 14,848 of them, 2.6 MB) while the labels stay
// vector glyphs.
TEST(Heatmap, SvgEmbedsTheCellsAsOneImageAndKeepsVectorLabels) {
  TraceStats stats;
  stats.shape = {58, 256, 8, ScoreType::None};
  stats.layers.resize(58);
  for (int layer = 0; layer < 58; ++layer) {
    stats.layers[layer].layer = layer;
    for (int expert = 0; expert < 256; ++expert)  // 1 .. 50 tokens, varied so no row compresses
      stats.layers[layer].tokens_per_expert.push_back((layer * 7 + expert * 13) % 50 + 1);
  }
  const auto svg_path = heatmap_scratch("big.svg");
  write_heatmap(stats, "58 layers x 256 experts", svg_path.string());
  std::stringstream svg;
  svg << std::ifstream(svg_path).rdbuf();
  const auto bytes = std::filesystem::file_size(svg_path);
  std::filesystem::remove(svg_path);
  const auto count = [&svg](const std::string& needle) {
    std::size_t found = 0;
    for (auto at = svg.str().find(needle); at != std::string::npos;
         at = svg.str().find(needle, at + 1))
      ++found;
    return found;
  };
  EXPECT_EQ(count("<image"), 2U);           // the map and the colour bar
  EXPECT_GT(count("href=\"#glyph"), 100U);  // tick labels, titles: text drawn as glyphs
  // Fewer drawing elements than one row of cells: the axes' ticks and frames only.
  EXPECT_LT(count("<path") + count("<rect"), 256U);
  // A tenth of the 2.6 MB the rectangles took.
  EXPECT_LT(bytes, 260'000U);
}

TEST(Heatmap, APictureLandsWhereALinkLeadsAndAFailureLeavesNothing) {
  // As every output: a link to an existing file is written through (the link stays a link), and
  // a folder that does not exist is exit 3's runtime_error naming the path, with no temporary left.
  const auto stats = known_stats();
  const auto target = heatmap_scratch("target.png");
  const auto link = heatmap_scratch("link.png");
  std::ofstream(target).put('x');
  std::filesystem::create_symlink(target, link);
  write_heatmap(stats, "through a link", link.string());
  EXPECT_TRUE(std::filesystem::is_symlink(link));
  EXPECT_EQ(read_png(target.string()).width,
            static_cast<std::uint32_t>(layout_heatmap(stats, "through a link").width));
  std::filesystem::remove(link);
  std::filesystem::remove(target);
  const auto missing = heatmap_scratch("no-such-folder") / "h.svg";
  try {
    write_heatmap(stats, "nowhere", missing.string());
    FAIL() << "expected a runtime_error";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find(missing.string()), std::string::npos) << error.what();
  }
  EXPECT_FALSE(std::filesystem::exists(moesim::temporary_path(missing.string())));
}

}  // namespace
}  // namespace moesim::sim
