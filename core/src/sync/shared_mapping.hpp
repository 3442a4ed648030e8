// A small file beside cache.db mapped shared by every process of the host
// (cache.db-wake, cache.db-waiters): made and sized unless read-only, never
// followed through a symlink, refused unless a regular file.
#pragma once

#include <cstddef>
#include <filesystem>

namespace diskcache::detail {

class SharedMapping {
 public:
  // Maps `path` (`bytes` long), creating it unless `read_only`. Leaves the
  // mapping empty (data() == nullptr) when that cannot be done.
  SharedMapping(const std::filesystem::path& path, std::size_t bytes, bool read_only) noexcept;
  ~SharedMapping();
  SharedMapping(const SharedMapping&) = delete;
  SharedMapping& operator=(const SharedMapping&) = delete;

  void* data() const noexcept { return data_; }
  bool writable() const noexcept { return writable_; }

 private:
  void* data_ = nullptr;
  std::size_t bytes_;
  bool writable_ = false;
};

}  // namespace diskcache::detail
