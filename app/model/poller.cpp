#include "poller.hpp"

#include <QDir>
#include <QtConcurrent/QtConcurrentRun>
#include <optional>
#include <utility>

#include "monitor_models.hpp"

namespace dcview {

Poller::Poller(const QString& directory, std::chrono::milliseconds interval, QObject* parent)
    : QObject(parent), directory_(directory), source_(std::make_shared<SnapshotSource>(directory)) {
  timer_.setInterval(interval);
  connect(&timer_, &QTimer::timeout, this, &Poller::refresh_now);
  soon_.setSingleShot(true);
  soon_.setInterval(100);  // coalesces bursts of database changes
  connect(&soon_, &QTimer::timeout, this, &Poller::refresh_now);
  connect(&watcher_, &QFileSystemWatcher::fileChanged, this, [this] {
    if (!soon_.isActive()) soon_.start();
  });
  connect(&watcher_, &QFileSystemWatcher::directoryChanged, this, [this] { watch_files(); });
  connect(&future_, &QFutureWatcher<Snapshot>::finished, this, [this] {
    QFuture<Snapshot> done = future_.future();
    retired_ = done.takeResult();  // moved out, not copied
    emit snapshotReady(*retired_);
    watch_files();  // the WAL file may have appeared or been replaced
    if (std::exchange(again_, false)) launch();
  });
}

Poller::~Poller() {
  // A taken result leaves the watcher's future reset (not "finished"): wait
  // only for one in flight.
  if (future_.isRunning()) future_.waitForFinished();
}

void Poller::start() {
  watch_files();
  timer_.start();
  refresh_now();
}

void Poller::refresh_now() {
  if (future_.isRunning()) {
    again_ = true;
    return;
  }
  launch();
}

void Poller::launch() {
  auto source = source_;
  auto retired = std::make_shared<std::optional<Snapshot>>(std::exchange(retired_, std::nullopt));
  future_.setFuture(QtConcurrent::run([source, retired] {
    retired->reset();
    Snapshot s = source->collect();
    if (s.ok()) s.prepared = MonitorModels::prepare(s);  // off the GUI thread too
    return s;
  }));
}

void Poller::watch_files() {
  QStringList files;
  const QDir dir(directory_);
  if (watcher_.directories().isEmpty() && dir.exists()) watcher_.addPath(directory_);
  for (const QString& sub : {QString("."), QString("000")})
    for (const char* name : {"cache.db", "cache.db-wal"})
      if (dir.exists(sub + "/" + name)) files << dir.filePath(sub + "/" + name);
  // A deleted or replaced file drops out of the watcher's list by itself, so
  // an unchanged list means every file is still watched.
  QStringList watched = watcher_.files();
  watched.sort();
  files.sort();
  if (watched == files) return;
  if (!watched.isEmpty()) watcher_.removePaths(watched);
  if (!files.isEmpty()) watcher_.addPaths(files);
}

}  // namespace dcview
