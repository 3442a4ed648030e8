#include "diskcache/identity.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>

namespace diskcache {
namespace {

// A small /proc file read whole, or nullopt when it cannot be read: a
// process that exits and is reaped between the open and the read fails the
// read with ESRCH (std::ifstream's filebuf throws there instead).
std::optional<std::string> read_small_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::string all;
  char buf[1024];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0 && all.size() < 16384) all.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  if (n < 0) return std::nullopt;
  return all;
}

std::string read_line(const char* path) {
  const std::string all = read_small_file(path).value_or("");
  return all.substr(0, all.find('\n'));
}

// Fields of /proc/<pid>/stat after the parenthesised command name; false
// when the process is gone (or its stat unreadable).
bool read_stat(std::int64_t pid, char& state, std::int64_t& start_time) {
  const auto all = read_small_file("/proc/" + std::to_string(pid) + "/stat");
  if (!all) return false;
  const auto close = all->rfind(')');
  if (close == std::string::npos || close + 2 > all->size()) return false;
  std::istringstream rest(all->substr(close + 2));
  std::string field;
  rest >> state;  // field 3
  for (int i = 4; i <= 22; ++i) {
    if (!(rest >> field)) return false;
    if (i == 22) {
      char* end = nullptr;
      start_time = std::strtoll(field.c_str(), &end, 10);
      if (end == field.c_str()) return false;
    }
  }
  return true;
}

ProcessIdentity compute() {
  ProcessIdentity id;
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  id.host = host;
  id.boot_id = read_line("/proc/sys/kernel/random/boot_id");
  struct stat st {};
  if (::stat("/proc/self/ns/pid", &st) == 0) id.pid_namespace = st.st_ino;
  id.pid = ::getpid();
  char state = 0;
  read_stat(id.pid, state, id.start_time);
  return id;
}

}  // namespace

const ProcessIdentity& self_identity() {
  static std::mutex mu;
  static ProcessIdentity cached;
  std::lock_guard lock(mu);
  if (cached.pid != ::getpid()) cached = compute();  // first use, or after fork
  return cached;
}

std::int64_t self_thread_id() { return static_cast<std::int64_t>(::syscall(SYS_gettid)); }

Liveness liveness_of(const ProcessIdentity& holder) {
  const ProcessIdentity& me = self_identity();
  if (holder.boot_id != me.boot_id || holder.pid_namespace != me.pid_namespace) return Liveness::Unknown;
  char state = 0;
  std::int64_t start_time = 0;
  if (!read_stat(holder.pid, state, start_time)) return Liveness::Dead;
  if (start_time != holder.start_time) return Liveness::Dead;  // the pid now belongs to another process
  if (state == 'Z' || state == 'X') return Liveness::Zombie;
  return Liveness::Alive;
}

}  // namespace diskcache
