// A Redis store (redis://host:port[/db], or a comma-separated quorum) as the
// monitor and the CLI see it: its primitives, their history and
// force-release, in the local inspection API's types. The same views then
// show a cache directory or a Redis store.
#pragma once

#include <QString>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "diskcache/inspect.hpp"

namespace dcview {

// True for "redis://..." (the location is a Redis store, not a directory).
bool is_redis_location(const QString& location);

class RedisSource {
 public:
  // Throws diskcache::Error for a malformed URL, or when this build has no
  // Redis support (hiredis was not found).
  explicit RedisSource(const std::string& urls);
  ~RedisSource();

  int servers() const;
  std::vector<diskcache::PrimitiveInfo> primitives();
  std::optional<diskcache::PrimitiveInfo> primitive(const std::string& key);
  std::vector<diskcache::HistoryEvent> history(std::int64_t after_id, std::size_t limit);
  diskcache::ForceReleaseResult force_release(const std::string& key, bool force,
                                              const std::optional<std::string>& holder = std::nullopt);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace dcview
