#include "diskcache/identity.hpp"

#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <mutex>
#include <sstream>

namespace diskcache {
namespace {

std::string read_line(const char* path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

// Fields of /proc/<pid>/stat after the parenthesised command name.
bool read_stat(std::int64_t pid, char& state, std::int64_t& start_time) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto close = all.rfind(')');
  if (close == std::string::npos) return false;
  std::istringstream rest(all.substr(close + 2));
  std::string field;
  rest >> state;  // field 3
  for (int i = 4; i <= 22; ++i) {
    if (!(rest >> field)) return false;
    if (i == 22) start_time = std::stoll(field);
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
