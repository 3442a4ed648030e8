#include "store.hpp"

#include <filesystem>

#include "diskcache/error.hpp"
#include "diskcache/fanout.hpp"

namespace dcview {

Store::Store(const std::string& dir, bool writable) {
  namespace fs = std::filesystem;
  diskcache::Options options;
  options.read_only = !writable;
  const bool plain = fs::exists(fs::path(dir) / "cache.db"), sharded = fs::exists(fs::path(dir) / "000");
  if (!plain && !sharded && !writable)
    throw diskcache::Error("no cache at " + dir + ": neither cache.db nor shard folders (read-only: nothing created)");
  if (plain || !sharded) {
    shards_.push_back(std::make_unique<diskcache::Cache>(dir, options));
    return;
  }
  // A fanout directory: its shard count is recorded or inferred by FanoutCache.
  diskcache::FanoutOptions fanout_options;
  fanout_options.cache = options;
  diskcache::FanoutCache probe(dir, fanout_options);
  is_fanout_ = true;
  for (std::size_t i = 0; i < probe.shard_count(); ++i)
    shards_.push_back(std::make_unique<diskcache::Cache>(probe.shard(i).directory(), options));
}

diskcache::Cache& Store::shard_for(const diskcache::Value& key) {
  return *shards_[diskcache::shard_index(key, shards_.size())];
}

}  // namespace dcview
