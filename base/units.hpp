#pragma once
// SI units inside the core; unit suffixes (_gbps, _ms, _gib) only appear in files and reports.
#include <cstdint>

namespace moesim {

using Bytes = double;           // sizes, possibly fractional when averaged
using BytesPerSecond = double;  // bandwidth, one direction
using FlopsPerSecond = double;
using Seconds = double;

inline constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;
inline constexpr double kGB = 1e9;
inline constexpr double kTera = 1e12;

// Network line rates are quoted in bits per second: 400 Gb/s = 50e9 bytes/s.
constexpr BytesPerSecond gigabits_per_second(double gbps) { return gbps * 1e9 / 8.0; }

}  // namespace moesim
