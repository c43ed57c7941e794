#include "sim/draw/scatter_chart.hpp"

#include <cairo.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "sim/draw/plan_charts.hpp"

namespace moesim::sim {
namespace {

// The colour at (x, y) of a PNG cairo wrote (RGB24: one 32-bit word a pixel, native order).
Rgb chart_pixel(const std::string& path, int x, int y) {
  cairo_surface_t* image = cairo_image_surface_create_from_png(path.c_str());
  EXPECT_EQ(cairo_surface_status(image), CAIRO_STATUS_SUCCESS);
  const auto* row = cairo_image_surface_get_data(image) + y * cairo_image_surface_get_stride(image);
  std::uint32_t word = 0;
  std::memcpy(&word, row + 4 * x, 4);
  cairo_surface_destroy(image);
  return {static_cast<std::uint8_t>(word >> 16), static_cast<std::uint8_t>(word >> 8),
          static_cast<std::uint8_t>(word)};
}

std::string chart_scratch(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          ("moesim-chart-" + std::to_string(::getpid()) + "-" + name))
      .string();
}

TEST(ScatterChart, AxesEndOnARoundTick) {
  // 7,320 / 5 = 1,464 -> a step of 2,000, the axis ending at 8,000; 191.6 / 5 = 38.3 -> 50, 200.
  EXPECT_EQ(chart_axis(7320), (std::pair{2000.0, 8000.0}));
  EXPECT_EQ(chart_axis(191.6), (std::pair{50.0, 200.0}));
  EXPECT_EQ(chart_axis(10), (std::pair{2.0, 10.0}));  // exactly on a tick: no extra step
  EXPECT_EQ(chart_axis(0), (std::pair{1.0, 1.0}));
}

TEST(ScatterChart, PointsLandWhereTheAxesSayAndTheLegendStaysOutside) {
  // Largest 10 on both axes: step 2, end 10. The plot is 640 x 400 px from (80, 56), so (5, 5)
  // is at x = 80 + 640 / 2 = 400, y = 56 + 400 - 400 / 2 = 256.
  ScatterChart chart;
  chart.title = "test";
  chart.points = {{10, 10, {200, 200, 200}, 3}, {5, 5, {214, 39, 40}, 5}};
  chart.legend = {{"a legend entry", {31, 119, 180}}};
  const auto png = chart_scratch("c.png");
  write_scatter_chart(chart, png);
  EXPECT_EQ(chart_pixel(png, 400, 256), (Rgb{214, 39, 40}));
  // The legend starts 16 px right of the plot (x 736): the plot's inside stays white there.
  EXPECT_EQ(chart_pixel(png, 710, 70), (Rgb{255, 255, 255}));
  std::filesystem::remove(png);
}

TEST(ScatterChart, PlanChartDrawsTheFrontLastAndJoinsIt) {
  PlanSpec plan;
  plan.name = "p";
  const auto outcome = [](double tokens_per_s, double per_user, bool pareto, bool meets) {
    PlanOutcome o;
    o.fits = true;
    o.report.gpus = 2;
    o.report.tokens_per_step = tokens_per_s;
    o.report.step_time_s = 1;
    o.tokens_per_s_per_user = per_user;
    o.pareto = pareto;
    o.meets_latency = meets;
    return o;
  };
  // 100 and 60 tokens/s on 2 GPUs: 50 and 30 per GPU. The front (two points) comes last and is
  // joined left to right; the miss comes first.
  const std::vector<PlanOutcome> outcomes{outcome(100, 4, true, true), outcome(80, 3, false, false),
                                          outcome(60, 9, true, true)};
  const ScatterChart chart = plan_chart(plan, outcomes);
  ASSERT_EQ(chart.points.size(), 3U);
  EXPECT_EQ(chart.points[0].x, 3);                            // the miss, grey, under the rest
  EXPECT_EQ(chart.points[2].colour, chart.points[1].colour);  // both on the front
  ASSERT_EQ(chart.lines.size(), 1U);
  EXPECT_EQ(chart.lines[0].points, (std::vector<std::pair<double, double>>{{4, 50}, {9, 30}}));
  const auto svg = chart_scratch("p.svg");
  write_scatter_chart(chart, svg);
  std::stringstream text;
  text << std::ifstream(svg).rdbuf();
  std::filesystem::remove(svg);
  EXPECT_EQ(text.str().rfind("<?xml", 0), 0U);
}

}  // namespace
}  // namespace moesim::sim
