// Takes snapshots of a directory on a thread of its own, on a timer, and
// sooner when the database changes (file-system notifications, coalesced).
// The timers and the file watcher live on that thread too, so the GUI
// thread never waits for, starts or frees a snapshot: it only receives
// them. At most one snapshot is taken at a time.
#pragma once

#include <QObject>
#include <QThread>
#include <chrono>
#include <memory>

#include "snapshot.hpp"

namespace dcview {

class PollWorker;  // poller.cpp: the part that lives on the poller's thread

class Poller : public QObject {
  Q_OBJECT
 public:
  Poller(const QString& directory, std::chrono::milliseconds interval, QObject* parent = nullptr);
  ~Poller() override;  // stops the thread (after a snapshot in flight)

  void start();
  // After start(): takes a snapshot as soon as the one in flight (if any)
  // is done.
  void refresh_now();
  const QString& directory() const { return directory_; }

 signals:
  // Delivered on the thread that owns the Poller.
  void snapshotReady(const dcview::Snapshot& snapshot);

 private:
  QString directory_;
  QThread thread_;
  PollWorker* worker_;  // lives on thread_, deleted there when it finishes
};

}  // namespace dcview
