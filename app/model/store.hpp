// A cache directory as the CLI and the monitor see it: a plain cache, or a fanout
// directory's shards (the shard of a key chosen with Python's function).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "diskcache/cache.hpp"

namespace dcview {

class Store {
 public:
  // Opens `dir` read-only unless `writable`. Throws diskcache::Error when
  // the directory holds no cache (nothing is created in read-only mode).
  Store(const std::string& dir, bool writable);

  bool fanout() const noexcept { return shards_.size() > 1 || is_fanout_; }
  std::vector<std::unique_ptr<diskcache::Cache>>& shards() noexcept { return shards_; }
  diskcache::Cache& shard_for(const diskcache::Value& key);

 private:
  std::vector<std::unique_ptr<diskcache::Cache>> shards_;
  bool is_fanout_ = false;
};

}  // namespace dcview
