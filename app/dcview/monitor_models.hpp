// The monitor's tables, fed by snapshots: locks and RLocks, semaphores,
// averagers, GPU transfers and recent history events; plus the series the
// charts draw (GPU throughput between snapshots, averager means) and the
// current holdings the timeline draws. Units as units.hpp states.
#pragma once

#include <QMap>
#include <QObject>
#include <QPointF>
#include <QVector>

#include "keyed_table_model.hpp"
#include "snapshot.hpp"

namespace dcview {

// The rows of the primitive tables for one snapshot, built off the GUI
// thread by the poller (MonitorModels::prepare).
struct PreparedRows {
  QVector<KeyedRow> locks, semaphores, averagers;
};

class MonitorModels : public QObject {
  Q_OBJECT
 public:
  explicit MonitorModels(QObject* parent = nullptr);

  KeyedTableModel locks;       // payload (PayloadRole): a KeyRef
  KeyedTableModel semaphores;
  KeyedTableModel averagers;
  KeyedTableModel transfers;
  KeyedTableModel history;     // the latest kHistoryRows events, oldest first

  // Chart series, x = the snapshot's time (ms since the Unix epoch).
  QMap<QString, QVector<QPointF>> throughput_mibps;  // "<offloader> offload|load": MiB/s between snapshots
  QMap<QString, QVector<QPointF>> averager_means;   // per averager key

  // Recent history events (oldest first, at most kTimelineEvents) for the
  // timeline.
  QVector<diskcache::HistoryEvent> events;
  // Who holds each lock and semaphore now, from their holder records (an
  // acquire event may have aged out of the history long ago).
  struct Holding {
    QString holder;     // the holder's id without its slot, as history events name it
    double since = 0;   // acquired at (Unix seconds)
    qint64 pid = 0;
    diskcache::PrimitiveKind kind = diskcache::PrimitiveKind::Lock;
    bool shared = false;  // a SharedLock's reader
  };
  QMap<QString, QVector<Holding>> holdings;  // per key_text

  // The latest snapshot, whole (what the window shows; exported as is).
  const Snapshot& last() const { return *last_; }
  // Merges a snapshot into the tables (GUI thread). Uses snapshot.prepared
  // when the poller built the rows already.
  void apply(const Snapshot& snapshot);
  // Builds the primitive tables' rows; thread-safe (no shared state).
  static std::shared_ptr<const PreparedRows> prepare(const Snapshot& snapshot);

  static constexpr int kHistoryRows = 500;
  static constexpr int kSeriesPoints = 300;
  static constexpr int kTimelineEvents = 5000;
  static constexpr double kMiB = 1024.0 * 1024.0;

 signals:
  void applied();

 private:
  std::shared_ptr<const Snapshot> last_ = std::make_shared<const Snapshot>();
  QMap<QString, QPair<double, qint64>> last_bytes_;  // series name -> (x, bytes)
  QMap<int, std::int64_t> last_event_id_;  // shard -> newest history id shown (no row twice)
};

}  // namespace dcview
