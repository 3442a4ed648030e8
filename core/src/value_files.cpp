#include "value_files.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ostream>
#include <utility>

#include "diskcache/error.hpp"

namespace diskcache::detail {
namespace {

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  void reset(int fd) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

[[noreturn]] void throw_errno(const std::string& what, int err) {
  throw IoError(what + ": " + std::strerror(err), err);
}

std::string random_hex() {
  unsigned char raw[16];
  std::size_t got = 0;
  while (got < sizeof raw) {
    const ssize_t n = ::getrandom(raw + got, sizeof raw - got, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_errno("getrandom", errno);
    }
    got += static_cast<std::size_t>(n);
  }
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned char c : raw) {
    out += hex[c >> 4];
    out += hex[c & 15];
  }
  return out;
}

bool is_hex(std::string_view s) {
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

// Opens (creating when asked) a subfolder without following symlinks.
int open_dir_at(int parent, const char* name, bool create) {
  const int flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
  const int fd = ::openat(parent, name, flags);
  if (fd >= 0 || errno != ENOENT || !create) return fd;
  if (::mkdirat(parent, name, 0755) != 0 && errno != EEXIST) return -1;
  return ::openat(parent, name, flags);
}

void write_all(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_errno("write " + path, errno);
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

}  // namespace

ValueFiles::ValueFiles(const std::filesystem::path& directory, bool durable) : dir_(directory), durable_(durable) {
  dir_fd_ = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd_ < 0) throw_errno("open directory " + directory.string(), errno);
}

ValueFiles::~ValueFiles() {
  if (dir_fd_ >= 0) ::close(dir_fd_);
}

bool ValueFiles::valid_name(std::string_view n) noexcept {
  return n.size() == 38 && n[2] == '/' && n[5] == '/' && n.substr(34) == ".val" && is_hex(n.substr(0, 2)) &&
         is_hex(n.substr(3, 2)) && is_hex(n.substr(6, 28));
}

std::string ValueFiles::full_path(const std::string& name) const { return (dir_ / name).string(); }

std::string ValueFiles::write(std::string_view data) {
  std::int64_t size = 0;
  bool sent = false;
  return write_chunks(
      [&] {
        const std::string_view chunk = sent ? std::string_view() : data;
        sent = true;
        return chunk;
      },
      size);
}

std::string ValueFiles::next_stem() {
  constexpr int kFilesPerFolder = 256;
  std::string hex = random_hex();
  std::lock_guard lock(prefix_mu_);
  if (prefix_.empty() || ++prefix_uses_ >= kFilesPerFolder) {
    prefix_ = hex.substr(0, 4);
    prefix_uses_ = 0;
  }
  return hex.replace(0, 4, prefix_);
}

std::string ValueFiles::write_chunks(const std::function<std::string_view()>& next_chunk, std::int64_t& size) {
  const std::string hex = next_stem();
  const std::string top = hex.substr(0, 2), sub = hex.substr(2, 2), leaf = hex.substr(4, 28);
  const std::string name = top + "/" + sub + "/" + leaf + ".val";
  const std::string temp = leaf + ".tmp";
  const std::string path = full_path(name);

  // A concurrent remove may prune a folder we just made: retry like Python.
  Fd top_fd, sub_fd, file_fd;
  for (int attempt = 0;; ++attempt) {
    Fd t(open_dir_at(dir_fd_, top.c_str(), true));
    Fd s(t.get() >= 0 ? open_dir_at(t.get(), sub.c_str(), true) : -1);
    int f = s.get() >= 0 ? ::openat(s.get(), temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644)
                         : -1;
    if (f >= 0) {
      top_fd.reset(t.release());
      sub_fd.reset(s.release());
      file_fd.reset(f);
      break;
    }
    if (errno != ENOENT || attempt == 9) throw_errno("create value file " + path, errno);
  }

  try {
    size = 0;
    for (std::string_view chunk = next_chunk(); !chunk.empty(); chunk = next_chunk()) {
      write_all(file_fd.get(), chunk, path);
      size += static_cast<std::int64_t>(chunk.size());
    }
    if (durable_ && ::fsync(file_fd.get()) != 0) throw_errno("fsync " + path, errno);
    if (::close(file_fd.release()) != 0) throw_errno("close " + path, errno);
    if (::renameat(sub_fd.get(), temp.c_str(), sub_fd.get(), (leaf + ".val").c_str()) != 0)
      throw_errno("rename into " + path, errno);
    if (durable_) {
      for (int fd : {sub_fd.get(), top_fd.get(), dir_fd_})
        if (::fsync(fd) != 0) throw_errno("fsync folder of " + path, errno);
    }
  } catch (...) {
    ::unlinkat(sub_fd.get(), temp.c_str(), 0);
    ::unlinkat(sub_fd.get(), (leaf + ".val").c_str(), 0);
    ::unlinkat(top_fd.get(), sub.c_str(), AT_REMOVEDIR);
    ::unlinkat(dir_fd_, top.c_str(), AT_REMOVEDIR);
    throw;
  }
  return name;
}

int ValueFiles::open_file(const std::string& name) {
  if (!valid_name(name))
    throw CorruptCache("refusing value file name '" + name.substr(0, 80) + "' in " + dir_.string() +
                       ": not of the form xx/yy/<28 hex>.val");
  const std::string path = full_path(name);
  // One syscall where the kernel has openat2 (Linux 5.6+): no symlink in any
  // component, never outside the directory. Else a walk with O_NOFOLLOW.
  // DISKCACHE_NO_OPENAT2=1 forces the walk (tests run the safety suite both ways).
  static std::atomic<bool> have_openat2{std::getenv("DISKCACHE_NO_OPENAT2") == nullptr};
  int fd = -1;
  if (have_openat2.load(std::memory_order_relaxed)) {
    open_how how{};
    how.flags = O_RDONLY | O_CLOEXEC;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
    fd = static_cast<int>(::syscall(SYS_openat2, dir_fd_, name.c_str(), &how, sizeof how));
    if (fd < 0 && (errno == ENOSYS || errno == EPERM)) have_openat2 = false;  // EPERM: seccomp filters
  }
  if (fd < 0 && !have_openat2.load(std::memory_order_relaxed)) fd = open_by_walk(name);
  if (fd < 0) {
    if (errno == ENOENT) return -1;
    if (errno == ELOOP || errno == ENOTDIR || errno == EXDEV)
      throw CorruptCache("refusing value file " + path + ": a path component is a symlink or not a folder");
    throw_errno("open value file " + path, errno);
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw CorruptCache("refusing value file " + path + ": not a regular file");
  }
  return fd;
}

int ValueFiles::open_by_walk(const std::string& name) {
  const int flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
  int fd = -1, err = 0;
  {
    Fd top(::openat(dir_fd_, name.substr(0, 2).c_str(), flags));
    Fd sub(top.get() >= 0 ? ::openat(top.get(), name.substr(3, 2).c_str(), flags) : -1);
    if (sub.get() >= 0) fd = ::openat(sub.get(), name.substr(6).c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    err = errno;
  }
  errno = err;  // closing the folders must not clobber the caller's errno
  return fd;
}

int ValueFiles::open_sized(const std::string& name, std::int64_t expected_size) {
  Fd fd(open_file(name));
  if (fd.get() < 0) return -1;
  struct stat st {};
  ::fstat(fd.get(), &st);
  if (expected_size >= 0 && st.st_size != expected_size)
    throw CorruptCache("value file " + full_path(name) + " has " + std::to_string(st.st_size) +
                       " bytes, the cache expects " + std::to_string(expected_size) + " (truncated or altered)");
  return fd.release();
}

std::optional<std::string> ValueFiles::read(const std::string& name, std::int64_t expected_size) {
  Fd fd(open_sized(name, expected_size));
  if (fd.get() < 0) return std::nullopt;
  std::string data;
  struct stat st {};
  ::fstat(fd.get(), &st);
  const std::string path = full_path(name);
#if defined(__cpp_lib_string_resize_and_overwrite)
  data.resize_and_overwrite(static_cast<std::size_t>(st.st_size), [](char*, std::size_t n) { return n; });
#else
  data.resize(static_cast<std::size_t>(st.st_size));
#endif
  std::size_t got = 0;
  while (got < data.size()) {
    const ssize_t n = ::read(fd.get(), data.data() + got, data.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw_errno("read " + path, errno);
    if (n == 0) throw CorruptCache("value file " + path + " shrank while being read");
    got += static_cast<std::size_t>(n);
  }
  return data;
}

bool ValueFiles::read_to(const std::string& name, std::int64_t expected_size, std::ostream& out) {
  Fd fd(open_sized(name, expected_size));
  if (fd.get() < 0) return false;
  const std::string path = full_path(name);
  std::string buf(1 << 20, '\0');
  while (true) {
    const ssize_t n = ::read(fd.get(), buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw_errno("read " + path, errno);
    if (n == 0) break;
    out.write(buf.data(), n);
    if (!out) throw IoError("writing value of " + path + " to the output stream failed", 0);
  }
  return true;
}

void ValueFiles::remove(const std::string& name, bool prune_folders) noexcept {
  if (!valid_name(name)) return;
  Fd top(::openat(dir_fd_, name.substr(0, 2).c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (top.get() < 0) return;
  Fd sub(::openat(top.get(), name.substr(3, 2).c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (sub.get() < 0) return;
  ::unlinkat(sub.get(), name.substr(6).c_str(), 0);
  if (!prune_folders) return;
  ::unlinkat(top.get(), name.substr(3, 2).c_str(), AT_REMOVEDIR);  // fails while not empty: fine
  ::unlinkat(dir_fd_, name.substr(0, 2).c_str(), AT_REMOVEDIR);
}

std::int64_t ValueFiles::file_size(const std::string& name) {
  Fd fd(open_file(name));
  if (fd.get() < 0) return -1;
  struct stat st {};
  ::fstat(fd.get(), &st);
  return st.st_size;
}

}  // namespace diskcache::detail
