#include "snapshot.hpp"

#include <sys/stat.h>

#include <QDir>
#include <QElapsedTimer>
#include <algorithm>
#include <set>

#include "diskcache/error.hpp"

namespace dcview {

std::pair<quint64, quint64> SnapshotSource::identity() const {
  const QDir dir(directory_);
  const QString db = dir.exists("cache.db") ? dir.filePath("cache.db") : dir.filePath("000/cache.db");
  struct stat st {};
  if (::stat(QFile::encodeName(db).constData(), &st) != 0) return {0, 0};
  return {static_cast<quint64>(st.st_dev), static_cast<quint64>(st.st_ino)};
}

Snapshot SnapshotSource::collect() {
  Snapshot s;
  s.directory = directory_;
  QElapsedTimer timer;
  timer.start();
  try {
    is_redis_location(directory_) ? collect_redis(s) : collect_directory(s);
  } catch (const std::exception& e) {
    s.error = QString::fromUtf8(e.what());
    store_.reset();  // reopen next time
    redis_.reset();
  }
  s.taken = QDateTime::currentDateTime();
  s.elapsed_ms = static_cast<double>(timer.nsecsElapsed()) / 1e6;
  return s;
}

void SnapshotSource::collect_redis(Snapshot& s) {
  if (!redis_) {
    redis_ = std::make_unique<RedisSource>(directory_.toStdString());
    last_event_ids_.assign(1, 0);
    s.history_restarted = true;
  }
  s.overview.shards = redis_->servers();
  s.overview.eviction_policy = redis_->servers() > 1 ? "redis (quorum)" : "redis";
  for (auto& info : redis_->primitives()) s.primitives.push_back({0, std::move(info)});
  for (auto& e : redis_->history(last_event_ids_[0], kEventsPerRefresh)) {
    last_event_ids_[0] = e.id;
    s.new_events.push_back({0, std::move(e)});
  }
}

void SnapshotSource::collect_directory(Snapshot& s) {
  const auto now_identity = identity();
  if (store_ && now_identity != opened_identity_) store_.reset();
  if (!store_) {
    store_ = std::make_unique<Store>(directory_.toStdString(), false);
    opened_identity_ = now_identity;
    last_event_ids_.assign(store_->shards().size(), 0);
    s.history_restarted = true;
    python_rlocks_.clear();
  }
  auto& shards = store_->shards();
  s.overview.shards = static_cast<int>(shards.size());
  s.overview.fanout = store_->fanout();
  s.overview.eviction_policy = QString::fromUtf8(std::string(diskcache::to_string(shards.front()->eviction_policy())));
  for (std::size_t i = 0; i < shards.size(); ++i) {
    auto& shard = shards[i];
    s.overview.count += shard->size();
    s.overview.volume += shard->volume();
    s.overview.size_limit += shard->size_limit();
    const auto stats = shard->stats(false, false);
    s.overview.hits += stats.hits;
    s.overview.misses += stats.misses;
    for (auto& info : primitives_of(i, *shard, s.skipped))
      s.primitives.push_back({static_cast<int>(i), std::move(info)});
    for (auto& e : diskcache::primitive_history(*shard, last_event_ids_[i], kEventsPerRefresh, &s.skipped)) {
      last_event_ids_[i] = e.id;
      s.new_events.push_back({static_cast<int>(i), std::move(e)});
    }
  }
  // The shards' events interleaved in time (each shard's are in order).
  std::stable_sort(s.new_events.begin(), s.new_events.end(),
                   [](const ShardEvent& a, const ShardEvent& b) { return a.event.at < b.event.at; });
  for (auto& [name, value] : shards.front()->side_list(diskcache::gpu::kStatsSpace, &s.skipped))
    if (name.type() == diskcache::Value::Type::Text)
      s.transfers.push_back(diskcache::gpu::report_from_value(name.as_text(), value));
}

std::vector<diskcache::PrimitiveInfo> SnapshotSource::primitives_of(std::size_t shard_index, diskcache::Cache& shard,
                                                                    diskcache::SkippedRows& skipped) {
  if (python_rlocks_.size() <= shard_index) python_rlocks_.resize(shard_index + 1);
  RLockFollow& follow = python_rlocks_[shard_index];
  auto slice = diskcache::scan_python_rlocks(shard, follow.next_rowid, kScanSlice, &skipped);
  std::move(slice.keys.begin(), slice.keys.end(), std::back_inserter(follow.pass));
  follow.next_rowid = slice.next_rowid;
  if (follow.next_rowid == 0) follow.known = std::exchange(follow.pass, {});  // a pass is complete

  auto all = diskcache::inspect_primitives(shard, false, &skipped);
  std::set<std::string> listed;  // registered primitives, then RLocks already followed
  for (const auto& p : all) listed.insert(p.key.repr());
  for (const auto* keys : {&follow.known, &follow.pass})
    for (const auto& key : *keys)
      if (listed.insert(key.repr()).second)
        if (auto p = diskcache::inspect_primitive(shard, key, &skipped); p && p->kind == diskcache::PrimitiveKind::RLock)
          all.push_back(std::move(*p));
  return all;
}

QString key_text(const diskcache::Value& key) {
  return key.type() == diskcache::Value::Type::Text ? QString::fromStdString(key.as_text())
                                                     : QString::fromStdString(key.repr());
}

QString holder_text(const diskcache::HolderInfo& h) {
  return QString("%1 pid %2 thread %3").arg(QString::fromStdString(h.host)).arg(h.pid).arg(h.thread);
}

}  // namespace dcview
