// Takes snapshots of a directory off the GUI thread (QtConcurrent) on a
// timer, and sooner when the database changes (file-system notifications,
// coalesced). At most one snapshot is in flight; the GUI thread never waits
// for one.
#pragma once

#include <QFileSystemWatcher>
#include <QFutureWatcher>
#include <QObject>
#include <QTimer>
#include <chrono>
#include <memory>
#include <optional>

#include "snapshot.hpp"

namespace dcview {

class Poller : public QObject {
  Q_OBJECT
 public:
  Poller(const QString& directory, std::chrono::milliseconds interval, QObject* parent = nullptr);
  ~Poller() override;  // waits for a snapshot in flight

  void start();
  // Takes a snapshot as soon as the one in flight (if any) is done.
  void refresh_now();
  const QString& directory() const { return directory_; }

 signals:
  void snapshotReady(const dcview::Snapshot& snapshot);

 private:
  void launch();
  void watch_files();

  QString directory_;
  std::shared_ptr<SnapshotSource> source_;
  QTimer timer_, soon_;
  QFileSystemWatcher watcher_;
  QFutureWatcher<Snapshot> future_;
  bool again_ = false;  // a refresh was asked for while one was in flight
  // The snapshot last handed out, freed by the next worker: thousands of
  // small frees need not stall the GUI thread.
  std::optional<Snapshot> retired_;
};

}  // namespace dcview
