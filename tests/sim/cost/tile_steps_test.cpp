// Expert GEMM curves that step with the kernel's tile height, and the expected cost of an expert
// whose rows spread around their mean.
#include "sim/cost/tile_steps.hpp"

#include <gtest/gtest.h>

#include "sim/cost/row_spread.hpp"

namespace moesim::sim {
namespace {

// Flat at 10 us up to 64 rows, a step to 20 at 96, 21 at 128: the shape of the H200 profile's
// grouped curves (Mixtral-8x7B: 96.7 us at 64 rows, 175.0 at 96).
const Curve kStepped = {{16, 10}, {32, 10}, {64, 10}, {96, 20}, {128, 21}};

TEST(TileSteps, FindsTheTileHeightWhereTheCostSteps) {
  EXPECT_DOUBLE_EQ(detect_tile_rows(kStepped), 64);  // 20 / 10 = 2x for 96 / 64 = 1.5x the rows
}

TEST(TileSteps, NoTileWhereTheCurveGrowsSmoothlyOrFallsBack) {
  // Doubling rows doubles the cost: growth, not a step (the rows grow by more than 1.5x).
  EXPECT_DOUBLE_EQ(detect_tile_rows({{64, 10}, {128, 20}, {256, 40}}), 0);
  // A jump the next point takes back (20 at 96, 12 at 128 < 0.9 x 20) is noise.
  EXPECT_DOUBLE_EQ(detect_tile_rows({{64, 10}, {96, 20}, {128, 12}}), 0);
  // 48 -> 64 (x1.33 rows) jumping 1.5x: 48 is no power of two, so no tile of 48.
  EXPECT_DOUBLE_EQ(detect_tile_rows({{32, 10}, {48, 10}, {64, 15}}), 0);
}

TEST(TileSteps, ARowPastATileBoundaryPaysTheNextTile) {
  // 70 rows need 2 tiles of 64: the 2-tile points are 96 (20) and 128 (21); below the first of
  // them the tile count's cost holds flat: 20, where a line from 64 to 96 gives 10 + 6/32 x 10.
  EXPECT_DOUBLE_EQ(interpolate_in_tiles(kStepped, 70, 64), 20);
  EXPECT_NEAR(interpolate(kStepped, 70), 11.875, 1e-12);
  // Within one tile count, linear between its points: 112 is halfway from 96 to 128.
  EXPECT_DOUBLE_EQ(interpolate_in_tiles(kStepped, 112, 64), 20.5);
  // Within the first tile, as before: 48 rows between 32 and 64, both 10.
  EXPECT_DOUBLE_EQ(interpolate_in_tiles(kStepped, 48, 64), 10);
  // No tile: a plain line.
  EXPECT_NEAR(interpolate_in_tiles(kStepped, 70, 0), 11.875, 1e-12);
}

TEST(TileSteps, ATileCountWithoutGridPointsIsLinearInTiles) {
  // 150 rows = 3 tiles of 64; measured: 128 rows (2 tiles) 20 us, 256 rows (4 tiles) 40 us.
  // Halfway in tiles: 30. 200 rows = 4 tiles, the 256-row point's count: 40.
  const Curve curve = {{64, 10}, {128, 20}, {256, 40}};
  EXPECT_DOUBLE_EQ(interpolate_in_tiles(curve, 150, 64), 30);
  EXPECT_DOUBLE_EQ(interpolate_in_tiles(curve, 200, 64), 40);
}

TEST(RowSpread, ExactSumForFewTokens) {
  // 4 tokens each pick the expert with chance 1/2: rows ~ Binomial(4, 1/2), P(0 rows) = 1/16.
  // A cost of 10 for any rows above zero: 10 x 15/16 = 9.375.
  const auto ten = [](double) { return 10.0; };
  EXPECT_NEAR(expected_cost_over_row_spread(2, 4, 1, ten), 9.375, 1e-9);
  // A cost linear in rows averages to the cost of the mean: 2 x 2.5 = 5.
  EXPECT_NEAR(expected_cost_over_row_spread(2, 4, 1, [](double r) { return 2.5 * r; }), 5, 1e-9);
}

TEST(RowSpread, MassPastTheTileBoundaryPaysTheNextTile) {
  // 64 rows expected out of 1e6 tokens: sigma = sqrt(64 (1 - 6.4e-5)) = 8.0; the range +-6 sigma
  // holds 97 row counts, so the tile form applies. P(rows <= 64) = Phi((64.5 - 64) / 8) =
  // Phi(0.0625) = 0.52492; the rest pays the second tile: 0.52492 x 1 + 0.47508 x 2 = 1.47508.
  const auto stepped = [](double rows) { return rows <= 64 ? 1.0 : 2.0; };
  EXPECT_NEAR(expected_cost_over_row_spread(64, 1e6, 64, stepped), 1.47508, 2e-4);
  // Without a tile the mean prices it: 64 rows, one tile.
  EXPECT_NEAR(expected_cost_over_row_spread(64, 1e6, 0, stepped), 1.0, 1e-6);
}

}  // namespace
}  // namespace moesim::sim
