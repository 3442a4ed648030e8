#include "snapshot.hpp"

#include <sys/stat.h>

#include <QElapsedTimer>

#include "diskcache/error.hpp"

namespace dcview {

SnapshotSource::SnapshotSource(QString directory) : directory_(std::move(directory)) {}
SnapshotSource::~SnapshotSource() = default;

std::pair<quint64, quint64> SnapshotSource::identity() const {
  const auto files = inspector_ ? inspector_->change_files() : std::vector<std::filesystem::path>{};
  struct stat st {};
  if (files.empty() || ::stat(files.front().c_str(), &st) != 0) return {0, 0};
  return {static_cast<quint64>(st.st_dev), static_cast<quint64>(st.st_ino)};
}

Snapshot SnapshotSource::collect() {
  Snapshot s;
  s.directory = directory_;
  QElapsedTimer timer;
  timer.start();
  try {
    if (inspector_ && identity() != opened_identity_) inspector_.reset();
    if (!inspector_) {
      inspector_ = open_inspector(directory_, false);
      opened_identity_ = identity();
      last_event_ids_.clear();
      s.history_restarted = true;
    }
    Overview& o = s.overview;
    o.shards = static_cast<int>(inspector_->parts());
    o.fanout = inspector_->fanout();
    o.eviction_policy = inspector_->eviction_policy();
    if (const auto t = inspector_->totals()) {
      o.count = t->count;
      o.volume = t->volume;
      o.size_limit = t->size_limit;
      o.hits = t->hits;
      o.misses = t->misses;
    }
    for (auto& p : inspector_->primitives(s.skipped, Inspector::RLockScan::Sliced)) {
      const int shard = static_cast<int>(p.shard);
      s.primitives.push_back({shard, std::move(p)});
    }
    for (auto& e : inspector_->history(last_event_ids_, kEventsPerRefresh, s.skipped)) {
      const int shard = static_cast<int>(e.shard);
      s.new_events.push_back({shard, std::move(e)});
    }
    s.transfers = inspector_->transfers(s.skipped);
  } catch (const std::exception& e) {
    s.error = QString::fromUtf8(e.what());
    inspector_.reset();  // reopen next time
  }
  s.taken = QDateTime::currentDateTime();
  s.elapsed_ms = static_cast<double>(timer.nsecsElapsed()) / 1e6;
  return s;
}

QString key_text(const diskcache::Value& key) {
  return key.type() == diskcache::Value::Type::Text ? QString::fromStdString(key.as_text())
                                                     : QString::fromStdString(key.repr());
}

QString holder_text(const diskcache::HolderInfo& h) {
  return QString("%1 pid %2 thread %3").arg(QString::fromStdString(h.host)).arg(h.pid).arg(h.thread);
}

}  // namespace dcview
