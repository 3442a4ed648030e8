#include "poller.hpp"

#include <QDir>
#include <QFileSystemWatcher>
#include <QTimer>

#include "diskcache/layout.hpp"
#include "monitor_models.hpp"

namespace dcview {

using SharedSnapshot = std::shared_ptr<const Snapshot>;

// Everything here runs on the poller's thread.
class PollWorker : public QObject {
  Q_OBJECT
 public:
  PollWorker(const QString& directory, std::chrono::milliseconds interval)
      : directory_(directory), source_(directory), interval_(interval) {}

  void start() {  // creates the timers and the watcher on this thread
    timer_ = new QTimer(this);
    timer_->setInterval(interval_);
    connect(timer_, &QTimer::timeout, this, &PollWorker::take);
    soon_ = new QTimer(this);
    soon_->setSingleShot(true);
    soon_->setInterval(100);  // coalesces bursts of database changes
    connect(soon_, &QTimer::timeout, this, &PollWorker::take);
    asked_ = new QTimer(this);
    asked_->setSingleShot(true);  // requests made during a snapshot: one more after it
    connect(asked_, &QTimer::timeout, this, &PollWorker::take);
    watcher_ = new QFileSystemWatcher(this);
    connect(watcher_, &QFileSystemWatcher::fileChanged, this, [this] {
      if (!soon_->isActive()) soon_->start();
    });
    connect(watcher_, &QFileSystemWatcher::directoryChanged, this, &PollWorker::watch_files);
    timer_->start();
    take();
  }

  void ask() {
    if (asked_ && !asked_->isActive()) asked_->start(0);
  }

  void take() {
    // The snapshot handed out last is freed here once the GUI has let go of
    // it (it has, unless it is very late): thousands of small frees that
    // need not stall the GUI thread.
    previous_.reset();
    auto s = std::make_shared<Snapshot>(source_.collect());
    if (s->ok()) s->prepared = MonitorModels::prepare(*s);
    previous_ = s;
    emit ready(s);
    watch_files();  // the WAL file may have appeared or been replaced
  }

 signals:
  void ready(dcview::SharedSnapshot snapshot);

 private:
  void watch_files() {
    QStringList files;
    const QDir dir(directory_);
    if (watcher_->directories().isEmpty() && dir.exists()) watcher_->addPath(directory_);
    for (const auto& file : diskcache::detect_layout(directory_.toStdString()).change_files())
      if (std::filesystem::exists(file)) files << QString::fromStdString(file.string());
    // A deleted or replaced file drops out of the watcher's list by itself,
    // so an unchanged list means every file is still watched.
    QStringList watched = watcher_->files();
    watched.sort();
    files.sort();
    if (watched == files) return;
    if (!watched.isEmpty()) watcher_->removePaths(watched);
    if (!files.isEmpty()) watcher_->addPaths(files);
  }

  QString directory_;
  SnapshotSource source_;
  std::chrono::milliseconds interval_;
  QTimer* timer_ = nullptr;
  QTimer* soon_ = nullptr;
  QTimer* asked_ = nullptr;
  QFileSystemWatcher* watcher_ = nullptr;
  SharedSnapshot previous_;
};

Poller::Poller(const QString& directory, std::chrono::milliseconds interval, QObject* parent)
    : QObject(parent), directory_(directory), worker_(new PollWorker(directory, interval)) {
  qRegisterMetaType<SharedSnapshot>();
  worker_->moveToThread(&thread_);
  connect(&thread_, &QThread::finished, worker_, &QObject::deleteLater);
  connect(worker_, &PollWorker::ready, this, [this](const SharedSnapshot& s) { emit snapshotReady(*s); });
  thread_.setObjectName("diskcache poller");
  thread_.start();
}

Poller::~Poller() {
  thread_.quit();
  thread_.wait();
}

void Poller::start() { QMetaObject::invokeMethod(worker_, &PollWorker::start, Qt::QueuedConnection); }

// Queued: requests made while a snapshot is being taken make one more after it.
void Poller::refresh_now() { QMetaObject::invokeMethod(worker_, &PollWorker::ask, Qt::QueuedConnection); }

}  // namespace dcview

#include "poller.moc"
