#include "directory_inspector.hpp"

#include <set>

#include "diskcache/error.hpp"

namespace dcview {

diskcache::Cache& DirectoryInspector::shard(std::size_t index) {
  if (index >= directory_.shards().size())
    throw diskcache::InvalidArgument("shard " + std::to_string(index) + " is not one of the " +
                                     std::to_string(directory_.shards().size()) + " of " +
                                     directory_.layout().directory.string());
  return *directory_.shards()[index];
}

std::vector<diskcache::PrimitiveInfo> DirectoryInspector::primitives(diskcache::SkippedRows& skipped, RLockScan scan) {
  if (scan == RLockScan::Full) return directory_.primitives(true, &skipped);
  std::vector<diskcache::PrimitiveInfo> all;
  for (std::size_t i = 0; i < directory_.shards().size(); ++i)
    for (auto& p : sliced_primitives(i, skipped)) all.push_back(std::move(p));
  return all;
}

std::vector<diskcache::PrimitiveInfo> DirectoryInspector::sliced_primitives(std::size_t index,
                                                                            diskcache::SkippedRows& skipped) {
  diskcache::Cache& cache = shard(index);
  if (python_rlocks_.size() <= index) python_rlocks_.resize(index + 1);
  RLockFollow& follow = python_rlocks_[index];
  auto slice = diskcache::scan_python_rlocks(cache, follow.next_rowid, kScanSlice, &skipped);
  std::move(slice.keys.begin(), slice.keys.end(), std::back_inserter(follow.pass));
  follow.next_rowid = slice.next_rowid;
  if (follow.next_rowid == 0) follow.known = std::exchange(follow.pass, {});  // a pass is complete

  auto all = diskcache::inspect_primitives(cache, false, &skipped);
  std::set<std::string> listed;  // registered primitives, then RLocks already followed
  for (const auto& p : all) listed.insert(p.key.repr());
  for (const auto* keys : {&follow.known, &follow.pass})
    for (const auto& key : *keys)
      if (listed.insert(key.repr()).second)
        if (auto p = diskcache::inspect_primitive(cache, key, &skipped); p && p->kind == diskcache::PrimitiveKind::RLock)
          all.push_back(std::move(*p));
  for (auto& p : all) p.shard = index;
  return all;
}

std::optional<diskcache::PrimitiveInfo> DirectoryInspector::primitive(const diskcache::Value& key, std::size_t index) {
  auto p = diskcache::inspect_primitive(shard(index), key);
  if (p) p->shard = index;
  return p;
}

std::vector<diskcache::HistoryEvent> DirectoryInspector::history(std::vector<std::int64_t>& after_ids,
                                                                 std::size_t limit, diskcache::SkippedRows& skipped) {
  return directory_.history(after_ids, limit, &skipped);
}

diskcache::ForceReleaseResult DirectoryInspector::force_release(const diskcache::Value& key, std::size_t index,
                                                                bool force, const std::optional<std::string>& holder) {
  return diskcache::force_release(shard(index), key, force, holder);
}

void DirectoryInspector::register_primitive(const diskcache::Value& key, diskcache::PrimitiveKind kind,
                                            std::optional<std::int64_t> bound) {
  diskcache::register_primitive(directory_.shard_for(key), key, kind, bound);
}

std::size_t DirectoryInspector::shard_of(const diskcache::Value& key) {
  return directory_.fanout() ? diskcache::shard_index(key, directory_.shards().size()) : 0;
}

QString DirectoryInspector::eviction_policy() {
  return QString::fromStdString(std::string(diskcache::to_string(directory_.shards().front()->eviction_policy())));
}

QString DirectoryInspector::description() const {
  return fanout() ? QString("fanout cache (%1 shards)").arg(parts()) : QString("cache");
}

diskcache::KeyPage DirectoryInspector::browse_keys(std::size_t database, const diskcache::KeyQuery& query) {
  return diskcache::browse_keys(shard(database), query);
}

std::int64_t DirectoryInspector::purge_expired(const diskcache::Progress& progress) {
  std::int64_t removed = 0;
  for (auto* cache : directory_.shards()) removed += cache->expire(std::nullopt, progress);
  return removed;
}

std::vector<diskcache::gpu::TransferReport> DirectoryInspector::transfers(diskcache::SkippedRows& skipped) {
  // Offloaders publish into shard 000's side table.
  std::vector<diskcache::gpu::TransferReport> out;
  for (auto& [name, value] : directory_.shards().front()->side_list(diskcache::gpu::kStatsSpace, &skipped))
    if (name.type() == diskcache::Value::Type::Text)
      out.push_back(diskcache::gpu::report_from_value(name.as_text(), value));
  return out;
}

}  // namespace dcview
