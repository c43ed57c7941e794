#include "base/units.hpp"

#include <gtest/gtest.h>

namespace moesim {
namespace {

TEST(Units, GigabitsPerSecondConvertsBitsToBytes) {
  // 400 Gb/s = 400e9 bits/s / 8 bits per byte = 50e9 bytes/s.
  EXPECT_DOUBLE_EQ(gigabits_per_second(400), 50e9);
  // 1 Gb/s = 1e9 / 8 = 125e6 bytes/s.
  EXPECT_DOUBLE_EQ(gigabits_per_second(1), 125e6);
  EXPECT_DOUBLE_EQ(gigabits_per_second(0), 0.0);
}

TEST(Units, GigabitsPerSecondIsUsableAtCompileTime) {
  // 8 Gb/s = 8e9 / 8 = 1e9 bytes/s.
  static_assert(gigabits_per_second(8) == 1e9);
  SUCCEED();
}

TEST(Units, BinaryAndDecimalPrefixesDiffer) {
  // GiB = 2^30 = 1'073'741'824 bytes; GB = 10^9 bytes; tera = 10^12.
  EXPECT_DOUBLE_EQ(kGiB, 1073741824.0);
  EXPECT_DOUBLE_EQ(kGB, 1e9);
  EXPECT_DOUBLE_EQ(kTera, 1e12);
  // 80 GiB = 80 x 2^30 = 85'899'345'920 bytes, about 85.9 GB.
  EXPECT_DOUBLE_EQ(80 * kGiB / kGB, 85.89934592);
}

}  // namespace
}  // namespace moesim
