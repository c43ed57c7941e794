#include "profiler/mpi_comm.hpp"

#define OMPI_SKIP_MPICXX 1  // the C API only: Open MPI's deprecated C++ bindings stay out
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>

#include <cstdint>
#include <stdexcept>
#include <string>

namespace moesim::profiler {
namespace {

void check(int status, const char* what) {
  if (status == MPI_SUCCESS) return;
  char message[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(status, message, &length);
  throw std::runtime_error(std::string(what) + ": " + std::string(message, length));
}

class MpiComm final : public RankComm {
 public:
  MpiComm(int* argc, char*** argv) {
    check(MPI_Init(argc, argv), "MPI_Init");
    // Errors come back as codes (checked above), not as an abort inside MPI.
    check(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler");
    check(MPI_Comm_rank(MPI_COMM_WORLD, &rank_), "MPI_Comm_rank");
    check(MPI_Comm_size(MPI_COMM_WORLD, &size_), "MPI_Comm_size");
    MPI_Comm host = MPI_COMM_NULL;
    check(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &host),
          "MPI_Comm_split_type");
    check(MPI_Comm_rank(host, &local_rank_), "MPI_Comm_rank(host)");
    MPI_Comm_free(&host);
  }
  ~MpiComm() override { MPI_Finalize(); }
  MpiComm(const MpiComm&) = delete;
  MpiComm& operator=(const MpiComm&) = delete;

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  int local_rank() const override { return local_rank_; }
  std::string launcher() const override { return "mpi"; }
  void barrier() override { check(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier"); }
  void abort_all(int exit_code) override { MPI_Abort(MPI_COMM_WORLD, exit_code); }

  void broadcast_from_root(std::string& bytes) override {
    std::uint64_t size = bytes.size();
    check(MPI_Bcast(&size, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD), "MPI_Bcast(size)");
    bytes.resize(size);
    check(MPI_Bcast(bytes.data(), static_cast<int>(size), MPI_BYTE, 0, MPI_COMM_WORLD),
          "MPI_Bcast");
  }

  std::vector<std::string> gather_to_root(const std::string& bytes) override {
    int size = static_cast<int>(bytes.size());
    std::vector<int> sizes(rank_ == 0 ? size_ : 0);
    check(MPI_Gather(&size, 1, MPI_INT, sizes.data(), 1, MPI_INT, 0, MPI_COMM_WORLD),
          "MPI_Gather(size)");
    std::vector<int> offsets(sizes.size(), 0);
    int total = 0;
    for (std::size_t r = 0; r < sizes.size(); ++r) {
      offsets[r] = total;
      total += sizes[r];
    }
    std::string all(static_cast<std::size_t>(total), '\0');
    check(MPI_Gatherv(bytes.data(), size, MPI_BYTE, all.data(), sizes.data(), offsets.data(),
                      MPI_BYTE, 0, MPI_COMM_WORLD),
          "MPI_Gatherv");
    std::vector<std::string> per_rank;
    for (std::size_t r = 0; r < sizes.size(); ++r)
      per_rank.push_back(all.substr(offsets[r], sizes[r]));
    return per_rank;
  }

 private:
  int rank_ = 0, size_ = 1, local_rank_ = 0;
};

}  // namespace

std::unique_ptr<RankComm> make_mpi_comm(int* argc, char*** argv) {
  return std::make_unique<MpiComm>(argc, argv);
}

}  // namespace moesim::profiler
