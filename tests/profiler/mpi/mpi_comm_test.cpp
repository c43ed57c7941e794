// Run under `mpirun -np N` (tests/profiler/mpi/run_mpi_test.sh, N = 2, 4 and 8): the MPI back end
// of RankComm on the CPU, no GPU. The runner passes N as `--ranks=N`. Every rank runs every test;
// the checks that need rank 0's view run there.
#include "profiler/mpi_comm.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace moesim::profiler {
namespace {

RankComm* g_comm = nullptr;
int g_expected_ranks = 2;

TEST(MpiComm, SeesEveryRankOnOneHost) {
  EXPECT_EQ(g_comm->size(), g_expected_ranks);
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
  ASSERT_EQ(all.size(), static_cast<std::size_t>(g_expected_ranks));
  EXPECT_EQ(all[0], "rank 0");
  // rank r sent "rank r" followed by r * 1000 'x': 6 + 1000 r bytes (r < 10).
  for (int r = 1; r < g_expected_ranks; ++r) {
    EXPECT_EQ(all[r].size(), 6u + 1000u * static_cast<std::size_t>(r));
    EXPECT_EQ(all[r].substr(0, 6), "rank " + std::to_string(r));
  }
}

TEST(MpiComm, SlowestRankSetsEachRunsTime) {
  g_comm->barrier();
  // Rank r timed runs {10 + r, 20 - 5r}: the first run's slowest is the last rank (10 + N - 1),
  // the second's is rank 0 (20).
  const double r = g_comm->rank();
  const auto per_rank = gather_samples(*g_comm, {10 + r, 20 - 5 * r});
  if (g_comm->rank() != 0) return;
  const auto slowest = max_over_ranks(per_rank);
  ASSERT_EQ(slowest.size(), 2u);
  EXPECT_DOUBLE_EQ(slowest[0], 10.0 + g_expected_ranks - 1);
  EXPECT_DOUBLE_EQ(slowest[1], 20.0);
}

}  // namespace
}  // namespace moesim::profiler

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  for (int i = 1; i < argc; ++i)
    if (std::string(argv[i]).rfind("--ranks=", 0) == 0)
      moesim::profiler::g_expected_ranks = std::stoi(std::string(argv[i]).substr(8));
  auto comm = moesim::profiler::make_mpi_comm(&argc, &argv);
  moesim::profiler::g_comm = comm.get();
  const int failed = RUN_ALL_TESTS();
  // Any rank's failure fails the run: mpirun returns non-zero when a rank does.
  return failed;
}
