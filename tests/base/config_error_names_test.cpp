#include <gtest/gtest.h>

#include "base/config_error.hpp"

namespace moesim {
namespace {

TEST(ConfigError, NeverShowsAnEmptyName) {
  // Issue 19: "error: : /: cannot open file for reading" named nothing.
  const ConfigError error("", {{"", "cannot open file for reading"}});
  EXPECT_STREQ(error.what(), "(no file named): /: cannot open file for reading");
}

}  // namespace
}  // namespace moesim
