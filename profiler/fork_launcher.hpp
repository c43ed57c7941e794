#pragma once
// The built-in single-host launcher: one process per rank without MPI. The calling process is
// rank 0 and forks ranks 1..N-1; each child talks to rank 0 over its own Unix socket pair
// (length-prefixed frames), which is all the bootstrap and result gathering need.
// Fork before anything initialises CUDA: a CUDA context does not survive fork.
#include <functional>

#include "profiler/rank_comm.hpp"

namespace moesim::profiler {

// Runs `body` on `ranks` processes and returns rank 0's exit code, or the first failing child's
// when rank 0 succeeded. A child that throws prints the error and exits 3; one that dies makes
// rank 0's next exchange throw; when rank 0 fails, the children are sent SIGTERM. Children
// never return from this function.
int run_forked(int ranks, const std::function<int(RankComm&)>& body);

}  // namespace moesim::profiler
