#include "profiler/rank_setup.hpp"

#include <cuda_runtime.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>
#include <string>

#include "kernels/cuda_check.hpp"

namespace moesim::profiler {

int count_gpus_without_cuda_init() {
  int pipe_fds[2];
  if (::pipe(pipe_fds) != 0) throw std::runtime_error("count GPUs: pipe failed");
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("count GPUs: fork failed");
  if (pid == 0) {
    int count = 0;
    if (cudaGetDeviceCount(&count) != cudaSuccess) count = 0;
    const ssize_t written = ::write(pipe_fds[1], &count, sizeof count);
    ::_exit(written == sizeof count ? 0 : 1);
  }
  ::close(pipe_fds[1]);
  int count = 0;
  const ssize_t got = ::read(pipe_fds[0], &count, sizeof count);
  ::close(pipe_fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (got != sizeof count) throw std::runtime_error("count GPUs: the probe process failed");
  return count;
}

int select_rank_device(const RankComm& comm) {
  int devices = 0;
  MOESIM_CUDA_CHECK(cudaGetDeviceCount(&devices));
  if (devices < 1) throw std::runtime_error("no CUDA device visible");
  const int device = comm.local_rank() % devices;
  MOESIM_CUDA_CHECK(cudaSetDevice(device));
  return device;
}

std::unique_ptr<kernels::NcclComm> make_world_nccl_comm(RankComm& comm) {
  ncclUniqueId id{};
  if (comm.rank() == 0) MOESIM_NCCL_CHECK(ncclGetUniqueId(&id));
  std::string bytes(reinterpret_cast<const char*>(&id), sizeof id);
  comm.broadcast_from_root(bytes);
  if (bytes.size() != sizeof id) throw std::runtime_error("NCCL unique id arrived truncated");
  std::memcpy(&id, bytes.data(), sizeof id);
  return std::make_unique<kernels::NcclComm>(id, comm.size(), comm.rank());
}

namespace {

nlohmann::json this_rank(const RankComm& comm) {
  int device = 0;
  MOESIM_CUDA_CHECK(cudaGetDevice(&device));
  cudaDeviceProp prop{};
  MOESIM_CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
  char bus_id[32] = {};
  MOESIM_CUDA_CHECK(cudaDeviceGetPCIBusId(bus_id, sizeof bus_id, device));
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  return {{"rank", comm.rank()}, {"local_rank", comm.local_rank()}, {"host", host},
          {"device", device},    {"gpu_name", prop.name},           {"pci_bus_id", bus_id}};
}

// Peer access and CUDA's relative performance rank of each GPU pair on this host.
nlohmann::json peer_links() {
  int devices = 0;
  MOESIM_CUDA_CHECK(cudaGetDeviceCount(&devices));
  nlohmann::json links = nlohmann::json::array();
  for (int a = 0; a < devices; ++a)
    for (int b = a + 1; b < devices; ++b) {
      int access = 0;
      int rank = 0;
      MOESIM_CUDA_CHECK(cudaDeviceGetP2PAttribute(&access, cudaDevP2PAttrAccessSupported, a, b));
      MOESIM_CUDA_CHECK(cudaDeviceGetP2PAttribute(&rank, cudaDevP2PAttrPerformanceRank, a, b));
      links.push_back(
          {{"devices", {a, b}}, {"peer_access", access != 0}, {"performance_rank", rank}});
    }
  return links;
}

}  // namespace

nlohmann::json ranks_provenance(RankComm& comm) {
  const auto all = comm.gather_to_root(this_rank(comm).dump());
  if (comm.rank() != 0) return {};
  nlohmann::json ranks = nlohmann::json::array();
  for (const std::string& text : all) ranks.push_back(nlohmann::json::parse(text));
  return {{"launcher", comm.launcher()},
          {"ranks", comm.size()},
          {"per_rank", ranks},
          {"peer_links", peer_links()}};
}

}  // namespace moesim::profiler
