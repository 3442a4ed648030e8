// FileLayer's default: the system's calls.
#include "diskcache/file_layer.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>

namespace diskcache {

int FileLayer::openat(int dir_fd, const char* name, int flags, unsigned mode) {
  return ::openat(dir_fd, name, flags, static_cast<mode_t>(mode));
}
std::int64_t FileLayer::write(int fd, const void* data, std::size_t bytes) { return ::write(fd, data, bytes); }
std::int64_t FileLayer::read(int fd, void* out, std::size_t bytes) { return ::read(fd, out, bytes); }
std::int64_t FileLayer::pread(int fd, void* out, std::size_t bytes, std::int64_t offset) {
  return ::pread(fd, out, bytes, static_cast<off_t>(offset));
}
int FileLayer::fsync(int fd) { return ::fsync(fd); }
int FileLayer::close(int fd) { return ::close(fd); }
int FileLayer::renameat(int from_dir_fd, const char* from, int to_dir_fd, const char* to) {
  return ::renameat(from_dir_fd, from, to_dir_fd, to);
}
int FileLayer::unlinkat(int dir_fd, const char* name, int flags) { return ::unlinkat(dir_fd, name, flags); }
int FileLayer::mkdirat(int dir_fd, const char* name, unsigned mode) {
  return ::mkdirat(dir_fd, name, static_cast<mode_t>(mode));
}

std::shared_ptr<FileLayer> FileLayer::system() {
  static const std::shared_ptr<FileLayer> layer = std::make_shared<FileLayer>();
  return layer;
}

}  // namespace diskcache
