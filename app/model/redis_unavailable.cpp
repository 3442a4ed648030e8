// RedisSource in a build without diskcache::redis (hiredis not found):
// every Redis location is a clear error.
#include "diskcache/error.hpp"
#include "redis_source.hpp"

namespace dcview {

bool is_redis_location(const QString& location) { return location.startsWith("redis://"); }

struct RedisSource::Impl {};

RedisSource::RedisSource(const std::string& urls) {
  throw diskcache::Error("cannot open " + urls + ": this build has no Redis support (install libhiredis-dev and rebuild)");
}
RedisSource::~RedisSource() = default;
int RedisSource::servers() const { return 0; }
std::vector<diskcache::PrimitiveInfo> RedisSource::primitives() { return {}; }
std::optional<diskcache::PrimitiveInfo> RedisSource::primitive(const std::string&) { return std::nullopt; }
std::vector<diskcache::HistoryEvent> RedisSource::history(std::int64_t, std::size_t) { return {}; }
diskcache::ForceReleaseResult RedisSource::force_release(const std::string&, bool, const std::optional<std::string>&) {
  return diskcache::ForceReleaseResult::NotHeld;
}

}  // namespace dcview
