#include "cache_directory.hpp"

#include "diskcache/error.hpp"

namespace dcview {

CacheDirectory::CacheDirectory(const std::string& dir, bool writable) : layout_(diskcache::detect_layout(dir)) {
  diskcache::Options options;
  options.read_only = !writable;
  if (layout_.kind == diskcache::Layout::Kind::None && !writable)
    throw diskcache::Error("no cache at " + dir + ": neither cache.db nor shard folders (read-only: nothing created)");
  if (layout_.kind != diskcache::Layout::Kind::Fanout) {
    plain_ = std::make_unique<diskcache::Cache>(dir, options);
    shards_.push_back(plain_.get());
    if (layout_.kind == diskcache::Layout::Kind::None) layout_ = diskcache::detect_layout(dir);  // created it
    return;
  }
  // Its shard count is recorded or inferred by FanoutCache (and checked).
  diskcache::FanoutOptions fanout_options;
  fanout_options.cache = options;
  fanout_ = std::make_unique<diskcache::FanoutCache>(dir, fanout_options);
  for (std::size_t i = 0; i < fanout_->shard_count(); ++i) shards_.push_back(&fanout_->shard(i));
}

diskcache::Cache& CacheDirectory::shard_for(const diskcache::Value& key) {
  return fanout_ ? fanout_->shard_for(key) : *plain_;
}

diskcache::CacheTotals CacheDirectory::totals() { return fanout_ ? diskcache::totals(*fanout_) : diskcache::totals(*plain_); }

std::vector<diskcache::PrimitiveInfo> CacheDirectory::primitives(bool find_python_rlocks, diskcache::SkippedRows* skipped) {
  return fanout_ ? diskcache::inspect_primitives(*fanout_, find_python_rlocks, skipped)
                 : diskcache::inspect_primitives(*plain_, find_python_rlocks, skipped);
}

std::vector<diskcache::HistoryEvent> CacheDirectory::history(std::vector<std::int64_t>& after_ids, std::size_t limit,
                                                    diskcache::SkippedRows* skipped) {
  if (fanout_) return diskcache::primitive_history(*fanout_, after_ids, limit, skipped);
  after_ids.resize(1, 0);
  auto events = diskcache::primitive_history(*plain_, after_ids[0], limit, skipped);
  if (!events.empty()) after_ids[0] = events.back().id;
  return events;
}

}  // namespace dcview
