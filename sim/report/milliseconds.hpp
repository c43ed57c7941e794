#pragma once
// Reports hold seconds inside and print milliseconds (docs/report.md).

namespace moesim::sim {

inline double ms(double seconds) { return seconds * 1e3; }

}  // namespace moesim::sim
