#include <gtest/gtest.h>

#include "tests/cli/cli_runner.hpp"

namespace moesim::testing {
namespace {

TEST(ListCommand, ModelsNamesEveryPreset) {
  const auto result = run_moesim("list models");
  ASSERT_EQ(result.exit_code, 0);
  for (const char* name : {"deepseek-v3", "kimi-k2", "mixtral-8x7b", "mixtral-8x22b",
                           "qwen3-30b-a3b", "qwen3-235b-a22b", "gpt-oss-120b", "llama-4-maverick",
                           "olmoe-1b-7b", "dbrx", "switch-c-2048", "gshard-600b"})
    EXPECT_NE(result.out.find(name), std::string::npos) << name;
}

TEST(ListCommand, DevicesShowDenseFiguresAndNics) {
  const auto result = run_moesim("list devices");
  ASSERT_EQ(result.exit_code, 0);
  for (const char* name : {"h100-sxm", "h200", "b200", "gb200", "mi300x", "cx7-400g", "cx8-800g"})
    EXPECT_NE(result.out.find(name), std::string::npos) << name;
  // H100 SXM: 989 dense bf16 TFLOP/s (1979 is the sparse figure and must not be listed as bf16).
  EXPECT_NE(result.out.find("989"), std::string::npos);
}

TEST(ListCommand, ClustersAndScenarios) {
  EXPECT_NE(run_moesim("list clusters").out.find("h200x256"), std::string::npos);
  const auto scenarios = run_moesim("list scenarios");
  EXPECT_EQ(scenarios.exit_code, 0);
  EXPECT_NE(scenarios.out.find("quickstart"), std::string::npos);
}

TEST(ListCommand, UnknownCategoryIsUsageError) {
  EXPECT_EQ(run_moesim("list gizmos").exit_code, 2);
}

}  // namespace
}  // namespace moesim::testing
