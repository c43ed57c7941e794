#include "profiler/fork_launcher.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <stdexcept>
#include <string>

namespace moesim::profiler {
namespace {

// Children report a failed check through their exit code (their gtest state dies with them).
int child_check(bool ok) { return ok ? 0 : 1; }

TEST(ForkLauncher, ThreeRanksBroadcastGatherAndBarrier) {
  std::vector<std::string> gathered;
  const int rc = run_forked(3, [&](RankComm& comm) {
    std::string id = comm.rank() == 0 ? std::string("\0id\0", 4) : "stale";
    comm.broadcast_from_root(id);
    if (id != std::string("\0id\0", 4)) return 1;
    comm.barrier();
    // Appended, not "r" + to_string(): GCC 12 at -O3 warns falsely (-Wrestrict) on the latter.
    std::string mine = "r";
    mine += std::to_string(comm.rank());
    auto all = comm.gather_to_root(mine);
    if (comm.rank() != 0) return child_check(all.empty() && comm.size() == 3);
    gathered = all;
    return 0;
  });
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(gathered, (std::vector<std::string>{"r0", "r1", "r2"}));
}

TEST(ForkLauncher, SamplesGatheredAndMaxedPerRun) {
  std::vector<double> slowest;
  const int rc = run_forked(2, [&](RankComm& comm) {
    // Rank 0 timed {5, 9}, rank 1 {7, 3}: the slower rank per run gives {7, 9}.
    const auto per_rank = gather_samples(
        comm, comm.rank() == 0 ? std::vector<double>{5, 9} : std::vector<double>{7, 3});
    if (comm.rank() == 0) slowest = max_over_ranks(per_rank);
    return 0;
  });
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(slowest, (std::vector<double>{7, 9}));
}

TEST(ForkLauncher, FailingChildGivesItsExitCode) {
  const int rc = run_forked(2, [](RankComm& comm) { return comm.rank() == 1 ? 4 : 0; });
  EXPECT_EQ(rc, 4);
}

TEST(ForkLauncher, ChildThatThrowsBreaksRootsNextExchange) {
  // Rank 1 throws before gathering, so rank 0 reads end-of-file and throws; rank 1 exits 3.
  EXPECT_THROW(run_forked(2,
                          [](RankComm& comm) {
                            if (comm.rank() == 1) throw std::runtime_error("planted");
                            comm.gather_to_root("x");
                            return 0;
                          }),
               std::runtime_error);
}

TEST(ForkLauncher, FailingRootEndsAChildThatWouldWaitForever) {
  // Rank 1 stands for a rank stuck inside a collective: it never reads its socket again. Rank 0
  // fails with 7; the launcher must end rank 1 instead of waiting for it, and return 7.
  const int rc = run_forked(2, [](RankComm& comm) {
    if (comm.rank() == 1)
      for (;;) ::pause();
    return 7;
  });
  EXPECT_EQ(rc, 7);
}

TEST(ForkLauncher, OneRankRunsInProcess) {
  int seen_size = 0;
  EXPECT_EQ(run_forked(1,
                       [&](RankComm& comm) {
                         seen_size = comm.size();
                         return 0;
                       }),
            0);
  EXPECT_EQ(seen_size, 1);
}

TEST(MaxOverRanks, RanksWithDifferentRunCountsAreAnError) {
  EXPECT_THROW(max_over_ranks({{1, 2}, {1}}), std::runtime_error);
}

}  // namespace
}  // namespace moesim::profiler
