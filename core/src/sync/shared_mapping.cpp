#include "shared_mapping.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace diskcache::detail {

SharedMapping::SharedMapping(const std::filesystem::path& path, std::size_t bytes, bool read_only) noexcept
    : bytes_(bytes) {
  const int fd = ::open(path.c_str(), (read_only ? O_RDONLY : O_RDWR | O_CREAT) | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) return;
  struct stat st {};
  const bool usable = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
                      (static_cast<std::size_t>(st.st_size) >= bytes ||
                       (!read_only && ::posix_fallocate(fd, 0, static_cast<off_t>(bytes)) == 0));
  void* p = usable ? ::mmap(nullptr, bytes, read_only ? PROT_READ : PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)
                   : MAP_FAILED;
  ::close(fd);
  if (p == MAP_FAILED) return;
  data_ = p;
  writable_ = !read_only;
}

SharedMapping::~SharedMapping() {
  if (data_) ::munmap(data_, bytes_);
}

}  // namespace diskcache::detail
