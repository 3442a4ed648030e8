#include "inspector.hpp"

#include "directory_inspector.hpp"

namespace dcview {

std::unique_ptr<Inspector> open_inspector(const QString& location, bool writable) {
  if (location.startsWith("redis://")) return open_redis_inspector(location.toStdString());
  return std::make_unique<DirectoryInspector>(location.toStdString(), writable);
}

}  // namespace dcview
