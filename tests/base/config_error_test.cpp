#include "base/config_error.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace moesim {
namespace {

TEST(ConfigError, MessageIsOneLinePerProblemNamingFileAndPlace) {
  const ConfigError error("scenario.json", {{"/cluster/nodes", "expected an integer >= 1, got 0"},
                                            {"byte 4096", "bad checksum"}});
  EXPECT_STREQ(error.what(),
               "scenario.json: /cluster/nodes: expected an integer >= 1, got 0\n"
               "scenario.json: byte 4096: bad checksum");
}

TEST(ConfigError, KeepsSourceAndProblemsForCallersThatListThem) {
  const ConfigError error("f.json", {{"/a", "x"}, {"/b", "y"}});
  EXPECT_EQ(error.source(), "f.json");
  ASSERT_EQ(error.problems().size(), 2u);
  EXPECT_EQ(error.problems()[1].where, "/b");
  EXPECT_EQ(error.problems()[1].message, "y");
}

TEST(ConfigError, EmptyPlaceIsShownAsTheDocumentRoot) {
  // A problem with the whole file (no field, no byte) is written at the root pointer "/".
  EXPECT_EQ(format_problems("f.json", {{"", "is a directory; expected a file"}}),
            "f.json: /: is a directory; expected a file");
}

TEST(ConfigError, NoProblemsFormatAsEmptyText) { EXPECT_EQ(format_problems("f.json", {}), ""); }

TEST(ProblemList, ThrowsNothingWhenEmpty) {
  const ProblemList problems;
  EXPECT_TRUE(problems.empty());
  EXPECT_NO_THROW(problems.throw_if_any("f.json"));
}

TEST(ProblemList, ThrowsOneErrorCarryingEveryProblemInOrder) {
  ProblemList problems;
  problems.add("/layers/3/top_k", "expected an integer >= 1, got 0");
  problems.add("/cluster", "missing required field (expected a value)");
  EXPECT_FALSE(problems.empty());
  try {
    problems.throw_if_any("run.json");
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& error) {
    EXPECT_EQ(error.source(), "run.json");
    ASSERT_EQ(error.problems().size(), 2u);
    EXPECT_EQ(error.problems()[0].where, "/layers/3/top_k");
    EXPECT_EQ(error.problems()[1].where, "/cluster");
  }
}

}  // namespace
}  // namespace moesim
