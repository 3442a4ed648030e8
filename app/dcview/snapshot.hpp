// One consistent look at a cache directory, taken off the GUI thread by the
// poller: totals, primitives with their holders, GPU transfer statistics and
// new history events. Plain data (copyable across threads).
#pragma once

#include <QDateTime>
#include <QMetaType>
#include <QString>
#include <QVector>
#include <memory>
#include <optional>

#include "diskcache/gpu/transfer_stats.hpp"
#include "diskcache/inspect.hpp"
#include "inspector.hpp"
#include "units.hpp"

namespace dcview {

struct Overview {
  qint64 count = 0, volume = 0, size_limit = 0, hits = 0, misses = 0;
  QString eviction_policy;
  int shards = 1;
  bool fanout = false;
};

// A primitive and the shard (0 for a plain cache) it lives in.
struct ShardPrimitive {
  int shard = 0;
  diskcache::PrimitiveInfo info;
};

// What an action needs to address a key: the key itself and its shard.
// Comparable, so a refresh that finds a row unchanged leaves it alone (a
// QVariant of a type without == never compares equal).
struct KeyRef {
  diskcache::Value key;
  int shard = 0;
  friend bool operator==(const KeyRef&, const KeyRef&) = default;
};

// A history event and the shard (0 for a plain cache) it was read from:
// event ids are per shard.
struct ShardEvent {
  int shard = 0;
  diskcache::HistoryEvent event;
};

struct PreparedRows;  // monitor_models.hpp

struct Snapshot {
  QString directory;
  QString error;  // empty when the look succeeded
  // Rows passed over because they cannot be read (damaged or hostile):
  // the rest is shown, these are named.
  diskcache::SkippedRows skipped;
  QDateTime taken;
  double elapsed_ms = 0;  // how long collecting took
  Overview overview;
  std::vector<ShardPrimitive> primitives;
  std::vector<diskcache::gpu::TransferReport> transfers;
  // Every shard's events since the previous snapshot, oldest first.
  std::vector<ShardEvent> new_events;
  // The history was read from its start (first look, or a reopened or
  // replaced store): earlier events are not continued by these.
  bool history_restarted = false;
  std::shared_ptr<const PreparedRows> prepared;     // table rows, when built off the GUI thread
  bool ok() const { return error.isEmpty(); }
};

// Keeps a read-only view of one location (a cache directory, or a Redis
// store: "redis://...") through an Inspector and takes snapshots of it.
// Opens lazily, and reopens after an error or when the database file was
// replaced. Use from one thread at a time.
class SnapshotSource {
 public:
  explicit SnapshotSource(QString directory);
  ~SnapshotSource();
  Snapshot collect();
  const QString& directory() const { return directory_; }
  // Python RLocks are recognised by their value: each snapshot scans a
  // slice of kScanSlice rows of each shard (a bounded cost per refresh).
  static constexpr std::int64_t kScanSlice = Inspector::kScanSlice;
  // History events read per shard and refresh (the rest come next time).
  static constexpr std::size_t kEventsPerRefresh = 2000;

 private:
  // The identity (device, inode) of the inspector's database: a replaced
  // file (restored, recreated, overwritten) is reopened, not read through
  // connections to the old one. {0, 0} when there is none (Redis).
  std::pair<quint64, quint64> identity() const;

  QString directory_;
  std::unique_ptr<Inspector> inspector_;
  std::pair<quint64, quint64> opened_identity_{0, 0};
  std::vector<std::int64_t> last_event_ids_;  // per shard (or store): the newest event seen
};

// The Averager's running mean history is not stored; the monitor keeps the
// means it saw (see AveragerModel). Helpers shared by models and the app:
QString key_text(const diskcache::Value& key);
QString holder_text(const diskcache::HolderInfo& holder);

}  // namespace dcview

Q_DECLARE_METATYPE(dcview::Snapshot)
Q_DECLARE_METATYPE(dcview::KeyRef)
