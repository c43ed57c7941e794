#include "sim/network/due_flows.hpp"

#include <cmath>

namespace moesim::sim {

SimTime due_time(SimTime join, SimTime finish, double tolerance) {
  if (finish == SimTime::max()) return finish;
  // Invariant: not due at `before`, due at `due`. Before join nothing is due that finishes later.
  std::int64_t before = join.ns() - 1, due = finish.ns();
  if (finish <= join || tolerance <= 0) return finish;
  const auto holds = [&](std::int64_t at) {
    return completes_at(SimTime::from_ns(at), join, finish, tolerance);
  };
  // The exact threshold solves finish - t = tolerance (t - join); rounding moves it by a few ns
  // at most, so bracket the estimate first and search the bracket.
  const double estimate =
      (static_cast<double>(finish.ns()) + tolerance * static_cast<double>(join.ns())) /
      (1 + tolerance);
  if (estimate >= 0 && estimate < 0x1p62) {  // else (times near SimTime::max()) search it all
    const auto guess = static_cast<std::int64_t>(std::ceil(estimate));
    if (guess - 2 > before && guess - 2 < due && !holds(guess - 2)) before = guess - 2;
    if (guess < due - 2 && guess + 2 > before && holds(guess + 2)) due = guess + 2;
  }
  while (due - before > 1) {
    const std::int64_t middle = before + (due - before) / 2;
    (holds(middle) ? due : before) = middle;
  }
  return SimTime::from_ns(due);
}

}  // namespace moesim::sim
