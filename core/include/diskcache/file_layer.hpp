// The file operations behind value files, injectable (leveldb's Env,
// reduced to what a cache directory needs). By default they are the
// system's calls; a program or a test may pass its own FileLayer in
// Options::file_layer to inject failures (a full disk, an I/O error, an
// unwritable folder) or delays into every value-file write and read of that
// Cache, with no LD_PRELOAD and under any sanitizer.
//
// Every method has the contract of the POSIX call it is named after: the
// same arguments, the same return value, errno set on failure. An override
// usually decides whether to fail and otherwise calls the base method.
// Names are relative to `dir_fd` (the cache's folders); written value files
// are first created as "<name>.tmp" and renamed into place.
//
// Thread-safety: one FileLayer may serve several Caches and threads at once;
// overrides must be thread-safe.
#pragma once

#include "diskcache/export.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>

namespace diskcache {

class DISKCACHE_EXPORT FileLayer {
 public:
  virtual ~FileLayer() = default;

  virtual int openat(int dir_fd, const char* name, int flags, unsigned mode);
  virtual std::int64_t write(int fd, const void* data, std::size_t bytes);
  virtual std::int64_t read(int fd, void* out, std::size_t bytes);
  virtual std::int64_t pread(int fd, void* out, std::size_t bytes, std::int64_t offset);
  virtual int fsync(int fd);
  virtual int close(int fd);
  virtual int renameat(int from_dir_fd, const char* from, int to_dir_fd, const char* to);
  virtual int unlinkat(int dir_fd, const char* name, int flags);
  virtual int mkdirat(int dir_fd, const char* name, unsigned mode);

  // The system's calls, shared by every Cache without a layer of its own.
  static std::shared_ptr<FileLayer> system();
};

}  // namespace diskcache
