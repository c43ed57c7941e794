#include "profiler/fork_launcher.hpp"

#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <stdexcept>
#include <string>

namespace moesim::profiler {
namespace {

void write_all(int fd, const void* data, std::size_t bytes) {
  const char* p = static_cast<const char*>(data);
  while (bytes > 0) {
    const ssize_t n = ::write(fd, p, bytes);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0)
      throw std::runtime_error(std::string("fork launcher: write: ") + std::strerror(errno));
    p += n;
    bytes -= static_cast<std::size_t>(n);
  }
}

void read_all(int fd, void* data, std::size_t bytes) {
  char* p = static_cast<char*>(data);
  while (bytes > 0) {
    const ssize_t n = ::read(fd, p, bytes);
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) throw std::runtime_error("fork launcher: a rank exited before the exchange");
    if (n < 0)
      throw std::runtime_error(std::string("fork launcher: read: ") + std::strerror(errno));
    p += n;
    bytes -= static_cast<std::size_t>(n);
  }
}

void send_frame(int fd, const std::string& bytes) {
  const std::uint64_t size = bytes.size();
  write_all(fd, &size, sizeof size);
  write_all(fd, bytes.data(), bytes.size());
}

std::string receive_frame(int fd) {
  std::uint64_t size = 0;
  read_all(fd, &size, sizeof size);
  std::string bytes(size, '\0');
  read_all(fd, bytes.data(), bytes.size());
  return bytes;
}

// Rank 0 holds one socket per child (index rank - 1); a child holds one socket to rank 0.
class ForkComm final : public RankComm {
 public:
  ForkComm(int rank, int size, std::vector<int> sockets)
      : rank_(rank), size_(size), sockets_(std::move(sockets)) {}
  ~ForkComm() override {
    for (int fd : sockets_) ::close(fd);
  }
  ForkComm(const ForkComm&) = delete;
  ForkComm& operator=(const ForkComm&) = delete;

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  int local_rank() const override { return rank_; }
  std::string launcher() const override { return "fork"; }

  void barrier() override {
    std::string token;
    if (rank_ == 0) {
      for (int fd : sockets_) receive_frame(fd);
      for (int fd : sockets_) send_frame(fd, token);
    } else {
      send_frame(sockets_[0], token);
      receive_frame(sockets_[0]);
    }
  }
  void broadcast_from_root(std::string& bytes) override {
    if (rank_ == 0)
      for (int fd : sockets_) send_frame(fd, bytes);
    else
      bytes = receive_frame(sockets_[0]);
  }
  std::vector<std::string> gather_to_root(const std::string& bytes) override {
    if (rank_ != 0) {
      send_frame(sockets_[0], bytes);
      return {};
    }
    std::vector<std::string> all{bytes};
    for (int fd : sockets_) all.push_back(receive_frame(fd));
    return all;
  }

 private:
  int rank_, size_;
  std::vector<int> sockets_;
};

[[noreturn]] void run_child(int rank, int ranks, int socket,
                            const std::function<int(RankComm&)>& body) {
  int rc = 3;
  try {
    ForkComm comm(rank, ranks, {socket});
    rc = body(comm);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "rank %d: %s\n", rank, e.what());
  }
  std::fflush(nullptr);
  ::_exit(rc);  // never unwind into the parent's stack (or its test framework)
}

}  // namespace

int run_forked(int ranks, const std::function<int(RankComm&)>& body) {
  if (ranks < 1) throw std::invalid_argument("run_forked: ranks must be at least 1");
  std::fflush(nullptr);  // buffered output would be written once per process
  std::vector<int> sockets;
  std::vector<pid_t> children;
  for (int rank = 1; rank < ranks; ++rank) {
    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0)
      throw std::runtime_error(std::string("fork launcher: socketpair: ") + std::strerror(errno));
    const pid_t pid = ::fork();
    if (pid < 0)
      throw std::runtime_error(std::string("fork launcher: fork: ") + std::strerror(errno));
    if (pid == 0) {
      for (int fd : sockets) ::close(fd);
      ::close(pair[0]);
      run_child(rank, ranks, pair[1], body);
    }
    ::close(pair[1]);
    sockets.push_back(pair[0]);
    children.push_back(pid);
  }
  int rc = 3;
  std::exception_ptr failure;
  {
    ForkComm comm(0, ranks, std::move(sockets));
    try {
      rc = body(comm);
    } catch (...) {
      failure = std::current_exception();
    }
  }  // closing rank 0's sockets unblocks any child still waiting on it
  // A child stuck inside an NCCL call would never read that end-of-file: after rank 0 failed,
  // end the children rather than wait for them.
  if (failure || rc != 0)
    for (pid_t pid : children) ::kill(pid, SIGTERM);
  for (pid_t pid : children) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    const int child_rc = WIFEXITED(status) ? WEXITSTATUS(status) : 3;
    if (rc == 0 && child_rc != 0) rc = child_rc;
  }
  if (failure) std::rethrow_exception(failure);
  return rc;
}

}  // namespace moesim::profiler
