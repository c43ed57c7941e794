#include "sim/serving/step_pricer.hpp"

#include <gtest/gtest.h>

#include "sim/run/simulate.hpp"
#include "sim/spec/scenario.hpp"

namespace moesim::sim {
namespace {

using Bracket = std::pair<std::int64_t, std::int64_t>;

TEST(StepPricer, GridIsEveryIntegerToSixteenThenNinePercentApart) {
  // 8 is a grid point; 8.5 lies between 8 and 9.
  EXPECT_EQ(count_grid_bracket(8), Bracket(8, 8));
  EXPECT_EQ(count_grid_bracket(8.5), Bracket(8, 9));
  // Past 16: 16 x 2^(2/8) = 19.03 -> 19 and 16 x 2^(3/8) = 20.75 -> 21, so 20 lies between them.
  EXPECT_EQ(count_grid_bracket(20), Bracket(19, 21));
  // Contexts at powers of two.
  EXPECT_EQ(context_grid_bracket(1000), Bracket(512, 1024));
  EXPECT_EQ(context_grid_bracket(1024), Bracket(1024, 1024));
}

TEST(StepPricer, AGridShapeIsTheSimulatedStep) {
  // One sequence a rank at 1,024 tokens of context is a grid point: the table's price is the
  // layer and step model's decode step of that shape, with CUDA graphs as serving runs decode.
  auto scenario = load_scenario("quickstart");
  StepTimeTable table(resolve_inputs(scenario));
  scenario.workload.kind = WorkloadKind::Decode;
  scenario.workload.tokens_per_gpu = 1;
  scenario.workload.context_tokens = 1024;
  scenario.workload.cuda_graphs = true;
  const double step = simulate(scenario).step_time_s;
  EXPECT_DOUBLE_EQ(table.step_seconds({0, 0, 1, 1024}), step);
  EXPECT_EQ(table.shapes_simulated(), 1);
  // Between grid points, linear: halfway in context is the mean of the two contexts' steps.
  const double at_2048 = table.grid_seconds(true, 1, 2048);
  EXPECT_NEAR(table.step_seconds({0, 0, 1, 1536}), (step + at_2048) / 2, 1e-15);
}

}  // namespace
}  // namespace moesim::sim
