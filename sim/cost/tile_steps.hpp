#pragma once
// A grouped expert GEMM cuts each expert's rows into tiles of a fixed height and reads the
// expert's weights once per tile row. Its cost is therefore a staircase in the rows: flat while
// the rows fit the same number of tiles, a step when one more row needs another tile. On the H200
// profile the step sits after 64 rows for all three profiled models (Mixtral-8x7B: 96.7 us an
// expert at 64 rows, 175.0 us at 96). A line drawn between two grid points on either side of a step
// prices an expert of 73 rows at 119 us where the launch pays 175 us; that was the EP=1 worst case
// (docs/accuracy.md). Interpolating in whole tiles keeps the step where the kernel puts it.
#include "sim/cost/measured_profile.hpp"

namespace moesim::sim {

// The tile height a measured per-expert curve shows, or 0 when it shows none: the first pair of
// neighbouring grid points, the lower at a power of two of at least 16 rows, where the rows grow by
// at most 1.5x while the cost grows by at least 1.3x and the next point does not fall back below
// 0.9x of the step. A curve without such a step is priced as a plain line (interpolate()).
double detect_tile_rows(const Curve& per_expert_us);

// The curve read in whole tiles of `tile_rows`: between grid points with the same tile count,
// linear; within a tile count beyond its measured points, flat; for a tile count with no grid
// point, linear in tiles between the neighbouring counts. Outside the grid, and with tile_rows 0,
// as interpolate().
double interpolate_in_tiles(const Curve& per_expert_us, double rows, double tile_rows);

}  // namespace moesim::sim
