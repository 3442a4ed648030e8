#include "redis_source.hpp"

#include "diskcache/redis/inspect.hpp"

namespace dcview {

bool is_redis_location(const QString& location) { return location.startsWith("redis://"); }

struct RedisSource::Impl {
  diskcache::redis::Store store;
};

RedisSource::RedisSource(const std::string& urls)
    : impl_(std::make_unique<Impl>(Impl{diskcache::redis::Store::open(urls)})) {}
RedisSource::~RedisSource() = default;

int RedisSource::servers() const { return static_cast<int>(impl_->store.servers().size()); }

std::vector<diskcache::PrimitiveInfo> RedisSource::primitives() {
  return diskcache::redis::inspect_primitives(impl_->store);
}

std::optional<diskcache::PrimitiveInfo> RedisSource::primitive(const std::string& key) {
  return diskcache::redis::inspect_primitive(impl_->store, key);
}

std::vector<diskcache::HistoryEvent> RedisSource::history(std::int64_t after_id, std::size_t limit) {
  return diskcache::redis::primitive_history(impl_->store, after_id, limit);
}

diskcache::ForceReleaseResult RedisSource::force_release(const std::string& key, bool force,
                                                         const std::optional<std::string>& holder) {
  return diskcache::redis::force_release(impl_->store, key, force, holder);
}

}  // namespace dcview
