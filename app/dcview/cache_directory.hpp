// A cache directory as the CLI and the monitor see it: a plain cache, or a
// fanout directory's shards (the shard of a key chosen with Python's
// function). Which one is there comes from diskcache::detect_layout.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "diskcache/fanout.hpp"
#include "diskcache/inspect.hpp"
#include "diskcache/layout.hpp"

namespace dcview {

class CacheDirectory {
 public:
  // Opens `dir` read-only unless `writable`. Throws diskcache::Error when
  // the directory holds no cache (nothing is created in read-only mode).
  CacheDirectory(const std::string& dir, bool writable);

  bool fanout() const noexcept { return fanout_ != nullptr; }
  const diskcache::Layout& layout() const noexcept { return layout_; }
  // Each shard (one for a plain cache), in shard order.
  const std::vector<diskcache::Cache*>& shards() const noexcept { return shards_; }
  diskcache::Cache& shard_for(const diskcache::Value& key);

  diskcache::CacheTotals totals();
  std::vector<diskcache::PrimitiveInfo> primitives(bool find_python_rlocks, diskcache::SkippedRows* skipped);
  std::vector<diskcache::HistoryEvent> history(std::vector<std::int64_t>& after_ids, std::size_t limit,
                                               diskcache::SkippedRows* skipped);

 private:
  diskcache::Layout layout_;
  std::unique_ptr<diskcache::Cache> plain_;
  std::unique_ptr<diskcache::FanoutCache> fanout_;
  std::vector<diskcache::Cache*> shards_;
};

}  // namespace dcview
