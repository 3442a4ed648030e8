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
int open_dir_at(FileLayer& layer, int parent, const char* name, bool create) {
  const int flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
  const int fd = layer.openat(parent, name, flags, 0);
  if (fd >= 0 || errno != ENOENT || !create) return fd;
  if (layer.mkdirat(parent, name, 0755) != 0 && errno != EEXIST) return -1;
  return layer.openat(parent, name, flags, 0);
}

// Writes all of `data`; 0, or the errno of the write that failed.
int write_all(FileLayer& layer, int fd, std::string_view data) {
  while (!data.empty()) {
    const std::int64_t n = layer.write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return 0;
}

}  // namespace

const char* file_kind(unsigned mode) noexcept {
  if (S_ISREG(mode)) return "a regular file";
  if (S_ISDIR(mode)) return "a folder";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISLNK(mode)) return "a symlink";
  return "of an unknown kind";
}

ValueFiles::ValueFiles(const std::filesystem::path& directory, bool durable, std::int64_t max_read,
                       std::shared_ptr<FileLayer> layer)
    : layer_(layer ? std::move(layer) : FileLayer::system()), dir_(directory), durable_(durable), max_read_(max_read) {
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

// The folder new value files go to, kept open between writes. A thread
// holds a reference while it uses the descriptors.
struct ValueFiles::Folder {
  std::string top, sub;  // "xx", "yy"
  Fd top_fd, sub_fd;
};

std::shared_ptr<const ValueFiles::Folder> ValueFiles::take_folder(const Folder* gone) {
  constexpr int kFilesPerFolder = 256;
  std::lock_guard lock(folder_mu_);
  if (folder_ && folder_.get() == gone) folder_.reset();  // removed meanwhile: start another
  if (!folder_ || folder_uses_ >= kFilesPerFolder) {
    const std::string prefix = random_hex();
    auto folder = std::make_shared<Folder>();
    folder->top = prefix.substr(0, 2);
    folder->sub = prefix.substr(2, 2);
    folder->top_fd.reset(open_dir_at(*layer_, dir_fd_, folder->top.c_str(), true));
    folder->sub_fd.reset(folder->top_fd.get() >= 0 ? open_dir_at(*layer_, folder->top_fd.get(), folder->sub.c_str(), true) : -1);
    if (folder->sub_fd.get() < 0) {
      const int err = errno;
      folder_.reset();
      throw_errno("create value folder " + full_path(folder->top + "/" + folder->sub), err);
    }
    folder_ = std::move(folder);
    folder_uses_ = 0;
  }
  ++folder_uses_;
  return folder_;
}

std::string ValueFiles::write_chunks(const std::function<std::string_view()>& next_chunk, std::int64_t& size) {
  const std::string leaf = random_hex().substr(4, 28);
  const std::string temp = leaf + ".tmp", final_leaf = leaf + ".val";

  // A concurrent remove may prune the folder: open (create) it again and retry.
  std::shared_ptr<const Folder> folder;
  Fd file_fd;
  for (int attempt = 0;; ++attempt) {
    folder = take_folder(folder.get());
    file_fd.reset(layer_->openat(folder->sub_fd.get(), temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
    if (file_fd.get() >= 0) break;
    const int err = errno;
    if (err != ENOENT || attempt == 9)
      throw_errno("create value file " + full_path(folder->top + "/" + folder->sub + "/" + final_leaf), err);
  }
  const std::string name = folder->top + "/" + folder->sub + "/" + final_leaf;
  const int sub_fd = folder->sub_fd.get();
  // Throws IoError for the failed step, errno read before the message is built.
  const auto fail = [&](const char* step) {
    const int err = errno;
    throw_errno(step + full_path(name), err);
  };

  try {
    size = 0;
    for (std::string_view chunk = next_chunk(); !chunk.empty(); chunk = next_chunk()) {
      if (const int err = write_all(*layer_, file_fd.get(), chunk)) throw_errno("write " + full_path(name), err);
      size += static_cast<std::int64_t>(chunk.size());
    }
    if (durable_ && layer_->fsync(file_fd.get()) != 0) fail("fsync ");
    if (layer_->close(file_fd.release()) != 0) fail("close ");
    if (layer_->renameat(sub_fd, temp.c_str(), sub_fd, final_leaf.c_str()) != 0) fail("rename into ");
    if (durable_) {
      for (int fd : {sub_fd, folder->top_fd.get(), dir_fd_})
        if (layer_->fsync(fd) != 0) fail("fsync folder of ");
    }
  } catch (...) {
    layer_->unlinkat(sub_fd, temp.c_str(), 0);
    layer_->unlinkat(sub_fd, final_leaf.c_str(), 0);
    layer_->unlinkat(folder->top_fd.get(), folder->sub.c_str(), AT_REMOVEDIR);
    layer_->unlinkat(dir_fd_, folder->top.c_str(), AT_REMOVEDIR);
    throw;
  }
  return name;
}

int ValueFiles::open_file(const std::string& name, struct stat& st) {
  if (!valid_name(name))
    throw CorruptCache("refusing value file name '" + name.substr(0, 80) + "' in " + dir_.string() +
                       ": not of the form xx/yy/<28 hex>.val");
  // One syscall where the kernel has openat2 (Linux 5.6+): no symlink in any
  // component, never outside the directory. Else a walk with O_NOFOLLOW.
  // DISKCACHE_NO_OPENAT2=1 forces the walk (tests run the safety suite both ways).
  static std::atomic<bool> have_openat2{std::getenv("DISKCACHE_NO_OPENAT2") == nullptr};
  int fd = -1;
  // openat2 resolves the whole name in the kernel; an injected layer sees
  // every component opened one by one instead.
  if (layer_ == FileLayer::system() && have_openat2.load(std::memory_order_relaxed)) {
    open_how how{};
    how.flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK;  // a FIFO planted here must not block the open
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
    fd = static_cast<int>(::syscall(SYS_openat2, dir_fd_, name.c_str(), &how, sizeof how));
    if (fd < 0 && (errno == ENOSYS || errno == EPERM)) have_openat2 = false;  // EPERM: seccomp filters
  }
  if (fd < 0 && (layer_ != FileLayer::system() || !have_openat2.load(std::memory_order_relaxed))) fd = open_by_walk(name);
  if (fd < 0) {
    const int err = errno;
    if (err == ENOENT) return -1;
    if (err == ELOOP || err == ENOTDIR || err == EXDEV)
      throw CorruptCache("refusing value file " + full_path(name) + ": a path component is a symlink or not a folder");
    throw_errno("open value file " + full_path(name), err);
  }
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw CorruptCache("refusing value file " + full_path(name) + ": not a regular file (" +
                       file_kind(st.st_mode) + ")");
  }
  // O_NONBLOCK stays set: a regular file ignores it (no extra syscall here).
  return fd;
}

int ValueFiles::open_by_walk(const std::string& name) {
  const int flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
  int fd = -1, err = 0;
  {
    Fd top(layer_->openat(dir_fd_, name.substr(0, 2).c_str(), flags, 0));
    Fd sub(top.get() >= 0 ? layer_->openat(top.get(), name.substr(3, 2).c_str(), flags, 0) : -1);
    if (sub.get() >= 0)
      fd = layer_->openat(sub.get(), name.substr(6).c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0);
    err = errno;
  }
  errno = err;  // closing the folders must not clobber the caller's errno
  return fd;
}

int ValueFiles::open_sized(const std::string& name, std::int64_t expected_size, std::int64_t* size) {
  struct stat st {};
  Fd fd(open_file(name, st));
  if (fd.get() < 0) return -1;
  if (size) *size = st.st_size;
  if (st.st_size != expected_size)
    throw CorruptCache("value file " + full_path(name) + " has " + std::to_string(st.st_size) +
                       " bytes, the cache expects " + std::to_string(expected_size) + " (truncated or altered)");
  return fd.release();
}

std::optional<std::string> ValueFiles::read(const std::string& name, std::int64_t expected_size) {
  std::int64_t size = 0;
  Fd fd(open_sized(name, expected_size, &size));
  if (fd.get() < 0) return std::nullopt;
  if (size > max_read_)
    throw UnsupportedValue("value file " + full_path(name) + " holds " + std::to_string(size) +
                           " bytes, more than one call loads into memory (Options::max_read_bytes = " +
                           std::to_string(max_read_) + "); stream it with read() or open_value()");
  std::string data;
#if defined(__cpp_lib_string_resize_and_overwrite)
  data.resize_and_overwrite(static_cast<std::size_t>(size), [](char*, std::size_t n) { return n; });
#else
  data.resize(static_cast<std::size_t>(size));
#endif
  std::size_t got = 0;
  while (got < data.size()) {
    const std::int64_t n = layer_->read(fd.get(), data.data() + got, data.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw_errno("read " + full_path(name), errno);
    if (n == 0) throw CorruptCache("value file " + full_path(name) + " shrank while being read");
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
    const std::int64_t n = layer_->read(fd.get(), buf.data(), buf.size());
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
  const std::string top_name = name.substr(0, 2), sub_name = name.substr(3, 2);
  std::shared_ptr<const Folder> current;
  {
    std::lock_guard lock(folder_mu_);
    if (folder_ && folder_->top == top_name && folder_->sub == sub_name) current = folder_;
  }
  Fd opened_top, opened_sub;
  int top = -1, sub = -1;
  if (current) {  // the folder new files go to: already open
    top = current->top_fd.get();
    sub = current->sub_fd.get();
  } else {
    opened_top.reset(open_dir_at(*layer_, dir_fd_, top_name.c_str(), false));
    if (opened_top.get() < 0) return;
    opened_sub.reset(open_dir_at(*layer_, opened_top.get(), sub_name.c_str(), false));
    if (opened_sub.get() < 0) return;
    top = opened_top.get();
    sub = opened_sub.get();
  }
  layer_->unlinkat(sub, name.substr(6).c_str(), 0);
  if (!prune_folders) return;
  layer_->unlinkat(top, sub_name.c_str(), AT_REMOVEDIR);  // fails while not empty: fine
  layer_->unlinkat(dir_fd_, top_name.c_str(), AT_REMOVEDIR);
}

std::int64_t ValueFiles::file_size(const std::string& name) {
  struct stat st {};
  Fd fd(open_file(name, st));
  if (fd.get() < 0) return -1;
  return st.st_size;
}

}  // namespace diskcache::detail
