#include "sim/report/timeline_text.hpp"

#include <gtest/gtest.h>

#include "sim/run/simulate.hpp"

namespace moesim::sim {
namespace {

// The text writer must give report_to_timeline's bytes, whichever GPUs are drawn and whether the
// step is inference (one or two micro-batches) or training (its own step track).
void expect_same_bytes(const std::string& scenario, int limit) {
  auto s = load_scenario(scenario);
  s.profile.source = "roofline";
  const Report report = simulate(s);
  const std::string text = report_timeline_text(report, limit);
  EXPECT_EQ(text, report_to_timeline(report, limit).dump()) << scenario << ", limit " << limit;
  EXPECT_TRUE(nlohmann::json::accept(text)) << scenario;
}

TEST(TimelineText, SameBytesAsTheJsonTreeOnOneNode) { expect_same_bytes("quickstart", 256); }

TEST(TimelineText, SameBytesWithTwoMicroBatchesAndASelection) {
  // 256 GPUs drawn as 8: the 4 hottest and 4 sampled, so the selection note is in otherData.
  expect_same_bytes("dsv3-prefill-h200x256", 8);
}

TEST(TimelineText, SameBytesForTraining) { expect_same_bytes("mixtral-train-h100x64", 16); }

TEST(TimelineText, EmptyReportIsAnEmptyEventListWithItsHeader) {
  const Report empty;
  EXPECT_EQ(report_timeline_text(empty), report_to_timeline(empty).dump());
}

}  // namespace
}  // namespace moesim::sim
