#include "sim/cost/tile_steps.hpp"

#include <algorithm>
#include <cmath>

namespace moesim::sim {

namespace {

bool is_power_of_two(double rows) {
  const double exponent = std::log2(rows);
  return exponent == std::floor(exponent);
}

double tiles(double rows, double tile_rows) { return std::ceil(rows / tile_rows); }

}  // namespace

double detect_tile_rows(const Curve& per_expert_us) {
  for (std::size_t i = 0; i + 1 < per_expert_us.size(); ++i) {
    const CurvePoint& lo = per_expert_us[i];
    const CurvePoint& hi = per_expert_us[i + 1];
    if (lo.x < 16 || !is_power_of_two(lo.x) || hi.x > 1.5 * lo.x || hi.y < 1.3 * lo.y) continue;
    const bool holds = i + 2 >= per_expert_us.size() || per_expert_us[i + 2].y >= 0.9 * hi.y;
    if (holds) return lo.x;
  }
  return 0;
}

double interpolate_in_tiles(const Curve& curve, double rows, double tile_rows) {
  if (tile_rows <= 0 || curve.size() < 2 || rows <= curve.front().x || rows >= curve.back().x)
    return interpolate(curve, rows);
  const double want = tiles(rows, tile_rows);
  // Tile counts never fall along the grid: the points below the wanted count, then those with
  // exactly that count (perhaps none), then those above it.
  std::size_t first_same = curve.size(), last_same = 0, below = 0, above = curve.size() - 1;
  for (std::size_t i = curve.size(); i-- > 0;) {
    const double t = tiles(curve[i].x, tile_rows);
    if (t > want) above = i;
  }
  for (std::size_t i = 0; i < curve.size(); ++i) {
    const double t = tiles(curve[i].x, tile_rows);
    if (t < want) below = i;
    if (t == want) {
      first_same = std::min(first_same, i);
      last_same = i;
    }
  }
  if (first_same < curve.size()) {
    if (rows <= curve[first_same].x) return curve[first_same].y;
    if (rows >= curve[last_same].x) return curve[last_same].y;
    return interpolate(Curve(curve.begin() + static_cast<std::ptrdiff_t>(first_same),
                             curve.begin() + static_cast<std::ptrdiff_t>(last_same) + 1),
                       rows);
  }
  const CurvePoint& lo = curve[below];
  const CurvePoint& hi = curve[above];
  const double lo_tiles = tiles(lo.x, tile_rows), hi_tiles = tiles(hi.x, tile_rows);
  return lo.y + (want - lo_tiles) * (hi.y - lo.y) / (hi_tiles - lo_tiles);
}

}  // namespace moesim::sim
