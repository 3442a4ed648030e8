// Inspection over a FanoutCache's shards, and the totals of a cache.
#include <algorithm>

#include "diskcache/inspect.hpp"

namespace diskcache {

std::vector<PrimitiveInfo> inspect_primitives(FanoutCache& cache, bool find_python_rlocks, SkippedRows* skipped) {
  std::vector<PrimitiveInfo> out;
  for (std::size_t i = 0; i < cache.shard_count(); ++i)
    for (auto& p : inspect_primitives(cache.shard(i), find_python_rlocks, skipped)) {
      p.shard = i;
      out.push_back(std::move(p));
    }
  return out;
}

void flush_history(FanoutCache& cache) noexcept {
  for (std::size_t i = 0; i < cache.shard_count(); ++i) flush_history(cache.shard(i));
}

std::vector<HistoryEvent> primitive_history(FanoutCache& cache, std::vector<std::int64_t>& after_ids,
                                            std::size_t limit_per_shard, SkippedRows* skipped) {
  after_ids.resize(cache.shard_count(), 0);
  std::vector<HistoryEvent> out;
  for (std::size_t i = 0; i < cache.shard_count(); ++i)
    for (auto& e : primitive_history(cache.shard(i), after_ids[i], limit_per_shard, skipped)) {
      after_ids[i] = e.id;
      e.shard = i;
      out.push_back(std::move(e));
    }
  // Each shard's events are in order: interleave them in time.
  std::stable_sort(out.begin(), out.end(), [](const HistoryEvent& a, const HistoryEvent& b) { return a.at < b.at; });
  return out;
}

CacheTotals totals(Cache& cache) {
  const Stats stats = cache.stats(false, false);  // reading only: counting stays as it is
  return {cache.size(), cache.volume(), cache.size_limit(), stats.hits, stats.misses, 1};
}

CacheTotals totals(FanoutCache& cache) {
  CacheTotals t;
  t.shards = cache.shard_count();
  for (std::size_t i = 0; i < cache.shard_count(); ++i) {
    const CacheTotals shard = totals(cache.shard(i));
    t.count += shard.count;
    t.volume += shard.volume;
    t.size_limit += shard.size_limit;
    t.hits += shard.hits;
    t.misses += shard.misses;
  }
  return t;
}

}  // namespace diskcache
