// Run under `mpirun -np 2` (tests/profiler/mpi/run_mpi_test.sh): the MPI back end of RankComm on
// the CPU, no GPU. Every rank runs every test; the checks that need rank 0's view run there.
#include "profiler/mpi_comm.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace moesim::profiler {
namespace {

RankComm* g_comm = nullptr;

TEST(MpiComm, SeesTwoRanksOnOneHost) {
  EXPECT_EQ(g_comm->size(), 2);
  EXPECT_EQ(g_comm->launcher(), "mpi");
  // mpirun -np 2 on one host: the host-local rank is the world rank.
  EXPECT_EQ(g_comm->local_rank(), g_comm->rank());
  EXPECT_TRUE(started_by_mpi_launcher());
}

TEST(MpiComm, BroadcastCarriesRootBytesOfAnySize) {
  // 128 bytes, the size of an ncclUniqueId, with a zero byte inside (binary, not a C string).
  std::string id(128, '\0');
  for (int i = 0; i < 128; ++i) id[i] = static_cast<char>(g_comm->rank() == 0 ? 255 - i : 7);
  if (g_comm->rank() != 0) id.resize(3);  // the others' size must not matter
  g_comm->broadcast_from_root(id);
  ASSERT_EQ(id.size(), 128u);
  EXPECT_EQ(static_cast<unsigned char>(id[0]), 255);
  EXPECT_EQ(static_cast<unsigned char>(id[127]), 255 - 127);
}

TEST(MpiComm, GatherBringsEveryRanksBytesToRootInRankOrder) {
  const std::string mine = "rank " + std::to_string(g_comm->rank()) +
                           std::string(static_cast<std::size_t>(g_comm->rank()) * 1000, 'x');
  const auto all = g_comm->gather_to_root(mine);
  if (g_comm->rank() != 0) {
    EXPECT_TRUE(all.empty());
    return;
  }
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0], "rank 0");
  // rank 1 sent "rank 1" followed by 1 * 1000 'x': 6 + 1000 bytes.
  EXPECT_EQ(all[1].size(), 1006u);
  EXPECT_EQ(all[1].substr(0, 6), "rank 1");
}

TEST(MpiComm, SlowestRankSetsEachRunsTime) {
  g_comm->barrier();
  // Rank r timed runs {10 + r, 20 - 5r}: rank 0 {10, 20}, rank 1 {11, 15}; max per run {11, 20}.
  const double r = g_comm->rank();
  const auto per_rank = gather_samples(*g_comm, {10 + r, 20 - 5 * r});
  if (g_comm->rank() != 0) return;
  const auto slowest = max_over_ranks(per_rank);
  ASSERT_EQ(slowest.size(), 2u);
  EXPECT_DOUBLE_EQ(slowest[0], 11.0);
  EXPECT_DOUBLE_EQ(slowest[1], 20.0);
}

}  // namespace
}  // namespace moesim::profiler

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  auto comm = moesim::profiler::make_mpi_comm(&argc, &argv);
  moesim::profiler::g_comm = comm.get();
  const int failed = RUN_ALL_TESTS();
  // Any rank's failure fails the run: mpirun returns non-zero when a rank does.
  return failed;
}
