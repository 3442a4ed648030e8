// A build without diskcache::redis (hiredis not found): every Redis
// location is a clear error.
#include "diskcache/error.hpp"
#include "inspector.hpp"

namespace dcview {

std::unique_ptr<Inspector> open_redis_inspector(const std::string& urls) {
  throw diskcache::Error("cannot open " + urls + ": this build has no Redis support (install libhiredis-dev and rebuild)");
}

}  // namespace dcview
