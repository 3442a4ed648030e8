// The monitor's tables, fed by snapshots: locks and RLocks, semaphores,
// averagers, GPU transfers and recent history events; plus the series the
// charts draw (GPU throughput between snapshots, averager means).
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

  // Chart series, x = seconds since the first snapshot.
  QMap<QString, QVector<QPointF>> throughput_mbps;  // "<offloader> offload|load"
  QMap<QString, QVector<QPointF>> averager_means;   // per averager key

  // Recent history events (oldest first, at most kTimelineEvents) for the
  // timeline.
  QVector<diskcache::HistoryEvent> events;

  // The latest snapshot's header: directory, time, error, overview (its
  // primitives, transfers and events live on in the tables above).
  const Snapshot& last() const { return last_; }
  // Merges a snapshot into the tables (GUI thread). Uses snapshot.prepared
  // when the poller built the rows already.
  void apply(const Snapshot& snapshot);
  // Builds the primitive tables' rows; thread-safe (no shared state).
  static std::shared_ptr<const PreparedRows> prepare(const Snapshot& snapshot);

  static constexpr int kHistoryRows = 500;
  static constexpr int kSeriesPoints = 300;
  static constexpr int kTimelineEvents = 5000;

 signals:
  void applied();

 private:
  Snapshot last_;
  QDateTime first_;
  QMap<QString, QPair<double, qint64>> last_bytes_;  // series name -> (x, bytes)
  std::int64_t last_event_id_ = 0;
};

}  // namespace dcview
