#pragma once
// Expected loads are means. A generator's tokens land on an expert at random, so its rows spread
// around the mean, and on a staircase-shaped cost (tile_steps.hpp) the spread costs more than the
// mean does: with 3,000 tokens of top-8 routing over Qwen3's 128 experts each expert expects 187.5
// rows, three tiles of 64, yet a fifth of them get more than 192 rows and pay a fourth tile. The
// executor's uniform prefill case measured 16% above the mean's price (docs/accuracy.md).
#include <functional>

namespace moesim::sim {

// Expected cost of one expert whose rows are Binomial(tokens, load / tokens), as when each of
// `tokens` tokens picks the expert with that chance, for a cost that steps every `tile_rows` rows.
// Nothing is paid at zero rows. Up to 65 possible row counts: the exact binomial sum. Beyond, the
// normal approximation of the mass in each tile (continuity-corrected), the tile priced at the row
// count in it nearest the mean (the cost is flat within a tile). Without a tile, or with a spread
// under one row, the touched-probability form expected_expert_cost() prices it.
double expected_cost_over_row_spread(double load, double tokens, double tile_rows,
                                     const std::function<double(double)>& cost);

}  // namespace moesim::sim
