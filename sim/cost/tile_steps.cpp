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
  // The points ascend in rows, so their tile counts never fall: binary searches find the points
  // with fewer tiles than wanted, those with exactly as many (perhaps none), and those with more.
  // Serving prices millions of expert GEMMs a run, each through here.
  const auto begin = curve.begin();
  const auto first_same = std::partition_point(
      begin, curve.end(), [&](const CurvePoint& p) { return tiles(p.x, tile_rows) < want; });
  const auto first_above = std::partition_point(
      first_same, curve.end(), [&](const CurvePoint& p) { return tiles(p.x, tile_rows) <= want; });
  if (first_same != first_above) {
    const auto last_same = first_above - 1;
    if (rows <= first_same->x) return first_same->y;
    if (rows >= last_same->x) return last_same->y;
    // As interpolate over [first_same, last_same], whose ends bracket rows strictly.
    const auto upper =
        std::upper_bound(first_same, first_above, rows,
                         [](double value, const CurvePoint& p) { return value < p.x; });
    const CurvePoint& hi = *upper;
    const CurvePoint& lo = *(upper - 1);
    return lo.y + (rows - lo.x) * (hi.y - lo.y) / (hi.x - lo.x);
  }
  const CurvePoint& lo = first_same == begin ? curve.front() : *(first_same - 1);
  const CurvePoint& hi = first_above == curve.end() ? curve.back() : *first_above;
  const double lo_tiles = tiles(lo.x, tile_rows), hi_tiles = tiles(hi.x, tile_rows);
  return lo.y + (want - lo_tiles) * (hi.y - lo.y) / (hi_tiles - lo_tiles);
}

}  // namespace moesim::sim
