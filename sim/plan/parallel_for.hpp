#pragma once
// A loop over independent work items on a few threads, for plan sweeps.
#include <algorithm>
#include <atomic>
#include <cstddef>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace moesim::sim {

// Runs `work(i)` for i in [0, count) on `threads` threads. The first exception any call throws
// stops the hand-out of further work and is rethrown here once every thread has joined (an
// exception leaving a std::thread would end the process).
template <typename Work>
void parallel_for(std::size_t count, int threads, Work work) {
  std::atomic<std::size_t> next{0};
  std::mutex failed_mutex;
  std::exception_ptr failed;
  auto worker = [&] {
    for (std::size_t i = next++; i < count; i = next++) {
      try {
        work(i);
      } catch (...) {
        const std::lock_guard lock(failed_mutex);
        if (!failed) failed = std::current_exception();
        next = count;
      }
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < std::min<int>(std::max(1, threads), static_cast<int>(count)); ++t)
    pool.emplace_back(worker);
  worker();
  for (auto& thread : pool) thread.join();
  if (failed) std::rethrow_exception(failed);
}

}  // namespace moesim::sim
