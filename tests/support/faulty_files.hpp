// A FileLayer for tests that fails value-file operations on request: while
// an errno is set, writing to, creating or fsyncing a file being written
// (its name ends in ".tmp") fails with it, and so does reading a value file.
// Everything else goes to the system. Thread-safe.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <string>

#include "diskcache/file_layer.hpp"

namespace test_support {

class FaultyFiles : public diskcache::FileLayer {
 public:
  std::atomic<int> write_errno{0};   // write() to a *.tmp file
  std::atomic<int> create_errno{0};  // openat(O_CREAT) of a *.tmp file
  std::atomic<int> fsync_errno{0};   // fsync() of a *.tmp file
  std::atomic<int> read_errno{0};    // read()/pread() of a value file
  std::atomic<int> failures{0};      // how many calls were failed

  int openat(int dir_fd, const char* name, int flags, unsigned mode) override {
    if ((flags & O_CREAT) && ends_with_tmp(name))
      if (const int err = create_errno.load()) return fail(err);
    return FileLayer::openat(dir_fd, name, flags, mode);
  }
  std::int64_t write(int fd, const void* data, std::size_t bytes) override {
    if (const int err = write_errno.load(); err && is_tmp(fd)) return fail(err);
    return FileLayer::write(fd, data, bytes);
  }
  int fsync(int fd) override {
    if (const int err = fsync_errno.load(); err && is_tmp(fd)) return fail(err);
    return FileLayer::fsync(fd);
  }
  std::int64_t read(int fd, void* out, std::size_t bytes) override {
    if (const int err = read_errno.load()) return fail(err);
    return FileLayer::read(fd, out, bytes);
  }
  std::int64_t pread(int fd, void* out, std::size_t bytes, std::int64_t offset) override {
    if (const int err = read_errno.load()) return fail(err);
    return FileLayer::pread(fd, out, bytes, offset);
  }

 private:
  int fail(int err) {
    ++failures;
    errno = err;
    return -1;
  }
  static bool ends_with_tmp(const char* name) {
    const std::size_t n = std::strlen(name);
    return n > 4 && std::strcmp(name + n - 4, ".tmp") == 0;
  }
  static bool is_tmp(int fd) {  // the file's current name, as the kernel has it
    char path[4096];
    const ssize_t n = ::readlink(("/proc/self/fd/" + std::to_string(fd)).c_str(), path, sizeof path - 1);
    return n > 4 && std::string(path, static_cast<std::size_t>(n)).find(".tmp") != std::string::npos;
  }
};

}  // namespace test_support
