#include "main_window.hpp"

#include <QAction>
#include <QApplication>
#include <QClipboard>
#include <QElapsedTimer>
#include <QComboBox>
#include <QCloseEvent>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QIdentityProxyModel>
#include <QInputDialog>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLineEdit>
#include <QMenuBar>
#include <QMessageBox>
#include <QProgressDialog>
#include <QSettings>
#include <QSplitter>
#include <QStatusBar>
#include <QTimer>
#include <QToolBar>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>
#include <functional>

#include "charts.hpp"
#include "dashboard.hpp"
#include "filtered_table.hpp"
#include "diskcache/error.hpp"
#include "keys_model.hpp"
#include "snapshot_json.hpp"
#include "diskcache/layout.hpp"
#include "inspector.hpp"
#include "timeline.hpp"

namespace dcview {
namespace {

// A table above a chart: the chart gets two thirds of the height until a
// person moves the handle. (Stretch factors alone leave the chart at its
// minimum when its tab is the first one shown: the splitter is sized from
// the table's size hint then.)
class TableOverChart : public QSplitter {
 public:
  explicit TableOverChart(QWidget* parent) : QSplitter(Qt::Vertical, parent) {
    connect(this, &QSplitter::splitterMoved, this, [this] { moved_by_hand_ = true; });
  }

 protected:
  void resizeEvent(QResizeEvent* event) override {
    QSplitter::resizeEvent(event);
    if (!moved_by_hand_ && count() == 2 && height() > 0) setSizes({height() / 3, height() - height() / 3});
  }

 private:
  bool moved_by_hand_ = false;
};

}  // namespace

std::optional<double> MainWindow::gpu_rate_now(const Snapshot& s) const {
  const double x = static_cast<double>(s.taken.toMSecsSinceEpoch());
  std::optional<double> total;
  for (const auto& series : models_.throughput_mibps)
    if (!series.isEmpty() && series.back().x() == x) total = total.value_or(0) + series.back().y() * MonitorModels::kMiB;
  return total;
}

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent) {
  setWindowTitle("diskcache monitor");
  setWindowIcon(QIcon(":/icons/diskcache.png"));
  confirm = [this](const QString& question) {
    return QMessageBox::question(this, "diskcache monitor", question) == QMessageBox::Yes;
  };

  tabs_ = new QTabWidget(this);
  dashboard_ = new DashboardView(this);
  connect(dashboard_, &DashboardView::jump_requested, this, [this](const QString& tab, const QString& row_key) {
    jump_to(tab, row_key);
  });
  tabs_->addTab(dashboard_, "Overview");
  locks_ = new FilteredTable(&models_.locks, "Filter by key, holder (host, pid), state...", this);
  tabs_->addTab(locks_, "Locks");
  semaphores_ = new FilteredTable(&models_.semaphores, "Filter by key, holder (host, pid), state...", this);
  tabs_->addTab(semaphores_, "Semaphores");

  tabs_->addTab(table_over_chart(&models_.averagers, "Filter by key", "Running means", "mean", averagers_,
                                 averager_chart_),
                "Averagers");

  auto* timeline = new QSplitter(Qt::Horizontal, this);
  auto* lanes = new QWidget(timeline);
  auto* lanes_layout = new QVBoxLayout(lanes);
  lanes_layout->setContentsMargins(0, 0, 0, 0);
  timeline_window_ = new QComboBox(lanes);
  for (int seconds : {15, 30, 60, 120, 300}) timeline_window_->addItem(QString("last %1 s").arg(seconds), seconds);
  timeline_window_->setCurrentIndex(1);
  connect(timeline_window_, &QComboBox::currentIndexChanged, this, &MainWindow::update_timeline);
  timeline_keys_ = new QListWidget(lanes);
  timeline_keys_->setToolTip("Tick the locks and semaphores to draw");
  lanes_layout->addWidget(timeline_window_);
  lanes_layout->addWidget(timeline_keys_);
  timeline_ = new TimelineView(timeline);
  timeline->addWidget(lanes);
  timeline->addWidget(timeline_);
  timeline->setStretchFactor(1, 4);
  connect(timeline_keys_, &QListWidget::itemChanged, this, &MainWindow::update_timeline);
  tabs_->addTab(timeline, "Timeline");

  tabs_->addTab(table_over_chart(&models_.transfers, "Filter by offloader, device, direction",
                                 "GPU transfer rate", "MiB/s between refreshes", transfers_, throughput_chart_),
                "GPU transfers");

  history_ = new FilteredTable(&models_.history, "Filter by key, event, holder (host, pid)...", this);
  history_->sort_by(0, Qt::DescendingOrder);  // the newest event at the top
  tabs_->addTab(history_, "History");

  auto* keys = new QWidget(this);
  auto* keys_layout = new QVBoxLayout(keys);
  auto* search = new QLineEdit(keys);
  search->setPlaceholderText("Search keys (SQL LIKE over all keys)");
  search->setClearButtonEnabled(true);
  keys_model_ = new KeysModel(this);
  auto* keys_view = keys_view_ = new QTableView(keys);
  keys_view->setModel(keys_model_);
  keys_view->setSortingEnabled(true);
  keys_view->sortByColumn(KeysModel::Key, Qt::AscendingOrder);
  keys_view->horizontalHeader()->setStretchLastSection(true);
  keys_view->setWordWrap(false);
  keys_view->verticalHeader()->setSectionResizeMode(QHeaderView::Fixed);  // one line a row
  auto* keys_status = new QLabel(keys);
  // Columns fit the first page of each query (later pages scroll in under
  // them; measuring every loaded row each time would grow with the scroll).
  connect(keys_model_, &KeysModel::loaded, keys_view, [this, keys_view] {
    if (keys_model_->rowCount() > KeysModel::kPage) return;
    for (int c = 0; c + 1 < KeysModel::ColumnCount; ++c) keys_view->resizeColumnToContents(c);  // the last stretches
  });
  connect(search, &QLineEdit::textChanged, keys_model_, &KeysModel::set_search);
  connect(keys_model_, &KeysModel::loaded, keys_status, [this, keys_status] {
    keys_status->setText(keys_model_->error().isEmpty()
                             ? QString("%1 of %2 matching keys loaded").arg(keys_model_->rowCount()).arg(keys_model_->total())
                             : keys_model_->error());
  });
  keys_shard_ = new QComboBox(keys);
  keys_shard_->setToolTip("A fanout directory's keys are browsed one shard at a time");
  connect(keys_shard_, &QComboBox::currentIndexChanged, this, [this] {
    if (keys_shard_->currentIndex() >= 0)
      keys_model_->set_location(keys_model_->location(), keys_shard_->currentData().value<std::size_t>());
  });
  auto* search_row = new QHBoxLayout;
  search_row->addWidget(keys_shard_);
  search_row->addWidget(search, 1);
  keys_layout->addLayout(search_row);
  keys_layout->addWidget(keys_view);
  keys_layout->addWidget(keys_status);
  keys_tab_ = tabs_->addTab(keys, "Keys");

  setCentralWidget(tabs_);
  connect(tabs_, &QTabWidget::currentChanged, this, [this] {
    update_timeline();
    update_charts();
  });
  status_ = new QLabel("no directory open", this);
  statusBar()->addWidget(status_, 1);
  connect(&models_, &MonitorModels::applied, this, &MainWindow::update_charts);
  connect(averagers_->view()->selectionModel(), &QItemSelectionModel::selectionChanged, this,
          &MainWindow::update_charts);
  build_menus();

  QSettings settings;
  restoreGeometry(settings.value("window/geometry").toByteArray());
  restoreState(settings.value("window/state").toByteArray());
  if (!settings.contains("window/geometry")) resize(1100, 700);
}

MainWindow::~MainWindow() = default;

QTableView* MainWindow::locks_view() const { return locks_->view(); }
QTableView* MainWindow::semaphores_view() const { return semaphores_->view(); }
QTableView* MainWindow::history_view() const { return history_->view(); }

QWidget* MainWindow::table_over_chart(QAbstractItemModel* model, const QString& filter_hint, const QString& title,
                                      const QString& y_label, FilteredTable*& table, SeriesChart*& chart) {
  auto* split = new TableOverChart(this);
  table = new FilteredTable(model, filter_hint, split);
  chart = new SeriesChart(title, y_label, split);
  split->addWidget(table);
  split->addWidget(chart);
  return split;
}

bool MainWindow::jump_to(const QString& tab, const QString& row_key) {
  int index = -1;
  for (int i = 0; i < tabs_->count(); ++i)
    if (tabs_->tabText(i) == tab) index = i;
  if (index < 0 || !tabs_->isTabEnabled(index)) return false;
  tabs_->setCurrentIndex(index);
  if (row_key.isEmpty()) return true;
  const QMap<QString, FilteredTable*> tables{
      {"Locks", locks_}, {"Semaphores", semaphores_}, {"Averagers", averagers_}, {"GPU transfers", transfers_}};
  FilteredTable* table = tables.value(tab);
  return table && table->select_key(row_key);
}

void MainWindow::build_menus() {
  QMenu* file = menuBar()->addMenu("&File");
  QAction* open = file->addAction("&Open directory...", this, &MainWindow::choose_directory);
  open->setShortcut(QKeySequence::Open);
  file->addAction("Open &Redis store...", this, [this] {
    bool ok = false;
    const QString url = QInputDialog::getText(this, "Open a Redis store",
                                              "redis://host:port[/db] (comma-separated for a quorum):",
                                              QLineEdit::Normal, "redis://127.0.0.1:6379", &ok);
    if (ok && !url.trimmed().isEmpty()) open_directory(url.trimmed());
  });
  recent_menu_ = file->addMenu("Open &recent");
  rebuild_recent_menu();
  QAction* export_action = file->addAction(QIcon(":/icons/export.png"), "&Export snapshot as JSON...", this, [this] {
    const QString path = QFileDialog::getSaveFileName(this, "Export snapshot", "snapshot.json", "JSON (*.json)");
    if (!path.isEmpty() && !export_snapshot(path)) QMessageBox::warning(this, "Export", "Could not write " + path);
  });
  export_action->setShortcut(QKeySequence("Ctrl+E"));
  file->addSeparator();
  file->addAction("&Quit", QKeySequence::Quit, this, &QWidget::close);

  QMenu* view = menuBar()->addMenu("&View");
  QAction* refresh = view->addAction(QIcon(":/icons/refresh.png"), "&Refresh now", this, &MainWindow::refresh_now);
  refresh->setShortcut(QKeySequence::Refresh);
  for (int i = 0; i < tabs_->count(); ++i)
    view->addAction(tabs_->tabText(i), QKeySequence(QString("Alt+%1").arg(i + 1)), this,
                    [this, i] { tabs_->setCurrentIndex(i); });

  QMenu* actions = menuBar()->addMenu("&Actions");
  QAction* release = actions->addAction(QIcon(":/icons/release.png"), "&Force-release selected", this, [this] {
    statusBar()->showMessage(force_release_selected(), 8000);
  });
  release->setShortcut(QKeySequence::Delete);
  actions->addAction("Register a &Python lock or semaphore...", this, [this] {
    bool ok = false;
    const QString key = QInputDialog::getText(this, "Register", "Key (text) used by the Python primitive:",
                                              QLineEdit::Normal, {}, &ok);
    if (!ok || key.isEmpty()) return;
    const QString kind = QInputDialog::getItem(this, "Register", "Kind:", {"Lock", "BoundedSemaphore"}, 0, false, &ok);
    if (!ok) return;
    qint64 bound = 1;
    if (kind == "BoundedSemaphore") bound = QInputDialog::getInt(this, "Register", "Bound (permits):", 1, 1, 1 << 30, 1, &ok);
    if (!ok) return;
    statusBar()->showMessage(register_python_primitive(
        key, kind == "Lock" ? diskcache::PrimitiveKind::Lock : diskcache::PrimitiveKind::Semaphore, bound), 8000);
  });
  actions->addAction("&Purge expired keys...", this, [this] {
    const qint64 n = purge_expired();
    if (n >= 0) statusBar()->showMessage(QString("purged %1 expired keys").arg(n), 8000);
  });
  QAction* copy = actions->addAction("&Copy row", this, &MainWindow::copy_selected_row);
  copy->setShortcut(QKeySequence::Copy);

  QToolBar* bar = addToolBar("Main");
  bar->setObjectName("main-toolbar");
  bar->addAction(refresh);
  bar->addAction(release);
  bar->addAction(export_action);
}

void MainWindow::open_directory(const QString& directory, std::chrono::milliseconds interval) {
  poller_ = std::make_unique<Poller>(directory, interval);
  connect(poller_.get(), &Poller::snapshotReady, this, &MainWindow::on_snapshot);
  remember_directory(directory);
  setWindowTitle(QString("diskcache monitor - %1").arg(directory));
  status_->setText("opening " + directory + "...");
  {  // the key browser: the cache's database, or one shard's at a time (a Redis store has none)
    const auto databases = diskcache::detect_layout(directory.toStdString()).databases;
    tabs_->setTabEnabled(keys_tab_, !databases.empty());
    QSignalBlocker block(keys_shard_);
    keys_shard_->clear();
    if (databases.size() > 1)
      for (std::size_t shard = 0; shard < databases.size(); ++shard)
        keys_shard_->addItem(QString("shard %1").arg(shard, 3, 10, QChar('0')), QVariant::fromValue(shard));
    keys_shard_->setVisible(keys_shard_->count() > 0);
    keys_model_->set_location(databases.empty() ? QString() : directory, 0);
  }
  poller_->start();
}

void MainWindow::on_snapshot(const Snapshot& s) {
  QElapsedTimer handling;
  handling.start();
  struct Record {  // the GUI thread's time spent on this snapshot
    QElapsedTimer& t;
    double& longest;
    double& first;
    ~Record() {
      const double ms = t.nsecsElapsed() / 1e6;
      if (first < 0) first = ms;
      else longest = std::max(longest, ms);
    }
  } record{handling, longest_refresh_ms_, first_refresh_ms_};
  models_.apply(s);
  if (tabs_->currentIndex() == keys_tab_) keys_model_->refresh();  // the key browser follows while shown
  if (!s.ok()) {
    status_->setText("<span style='color:#b00020'>" + s.error.toHtmlEscaped() + "</span>");
    dashboard_->show_error(s.error);
    emit refreshed();
    return;
  }
  dashboard_->show_snapshot(s, gpu_rate_now(s));
  status_->setText(QString("refreshed %1 in %2 ms").arg(s.taken.toString("HH:mm:ss")).arg(s.elapsed_ms, 0, 'f', 1));
  if (!s.skipped.empty()) {  // the rest is shown; say what was passed over
    status_->setText(status_->text() +
                     QString(" <span style='color:#b00020'>%1 unreadable row(s) passed over, first: %2</span>")
                         .arg(s.skipped.size())
                         .arg(QString::fromStdString(s.skipped.front().reason).toHtmlEscaped()));
    status_->setToolTip(QString::fromStdString(s.skipped.front().reason));
  }

  // Offer every lock and semaphore as a timeline lane; the first few found
  // are ticked so the view shows something at once.
  QSignalBlocker block(timeline_keys_);
  for (const auto& sp : s.primitives) {
    if (sp.info.kind == diskcache::PrimitiveKind::Averager) continue;
    const QString key = key_text(sp.info.key);
    if (!lane_keys_.contains(key)) {
      lane_keys_.insert(key);
      auto* item = new QListWidgetItem(key, timeline_keys_);
      item->setFlags(item->flags() | Qt::ItemIsUserCheckable);
      item->setCheckState(timeline_keys_->count() <= kAutoLanes ? Qt::Checked : Qt::Unchecked);
    }
  }
  update_timeline();
  emit refreshed();
}

void MainWindow::update_charts() {
  if (!averager_chart_->isVisible() && !throughput_chart_->isVisible()) return;  // drawn when shown
  // The averagers selected in the table, else the first few: one line each.
  QMap<QString, QVector<QPointF>> means;
  for (const QModelIndex& row : averagers_->view()->selectionModel()->selectedRows())
    means.insert(row.data().toString(), models_.averager_means.value(row.data().toString()));
  if (means.isEmpty())
    for (auto it = models_.averager_means.begin(); it != models_.averager_means.end() && means.size() < kChartedAveragers; ++it)
      means.insert(it.key(), it.value());
  averager_chart_->show_series(means);
  throughput_chart_->show_series(models_.throughput_mibps);
}

void MainWindow::update_timeline() {
  if (!timeline_->isVisible()) return;  // drawn when its tab is shown
  QStringList keys;
  for (int i = 0; i < timeline_keys_->count(); ++i)
    if (timeline_keys_->item(i)->checkState() == Qt::Checked) keys << timeline_keys_->item(i)->text();
  const double now = QDateTime::currentMSecsSinceEpoch() / 1000.0;
  timeline_->show_events(models_.events, keys, now, timeline_window_->currentData().toInt(), models_.holdings);
}

QString MainWindow::status_text() const { return status_->text(); }

void MainWindow::refresh_now() {
  if (poller_) poller_->refresh_now();
  keys_model_->refresh();
}

QTableView* MainWindow::current_table() const {
  if (tabs_->currentWidget() == semaphores_) return semaphores_->view();
  if (tabs_->currentWidget() == locks_) return locks_->view();
  return nullptr;  // the other tabs select nothing to release
}

QString MainWindow::force_release_selected() {
  if (!poller_) return "no directory open";
  QTableView* view = current_table();
  if (!view) return "force-release acts on the Locks or Semaphores tab: select a row there";
  const QModelIndexList rows = view->selectionModel() ? view->selectionModel()->selectedRows() : QModelIndexList();
  if (rows.isEmpty()) return "select a lock or semaphore first";
  const auto ref = rows.front().data(KeyedTableModel::PayloadRole).value<KeyRef>();
  const QString name = key_text(ref.key);
  if (!confirm(QString("Force-release %1? Its holders lose it; waiters are woken.").arg(name))) return "cancelled";
  try {
    // The primitive behind the row (opened for writing: an explicit write).
    const auto inspector = open_inspector(poller_->directory(), true);
    const auto shard = static_cast<std::size_t>(ref.shard);
    auto inspect = [&] { return inspector->primitive(ref.key, shard); };
    auto release = [&](bool force, const std::optional<std::string>& holder) {
      return inspector->force_release(ref.key, shard, force, holder);
    };
    auto result = diskcache::ForceReleaseResult::NotHeld;
    // A semaphore or a SharedLock's readers: release the dead holders one by
    // one, leaving the live holders theirs.
    int returned = 0;
    const auto info = inspect();
    const bool semaphore = info && info->kind == diskcache::PrimitiveKind::Semaphore;
    if (semaphore || (info && info->kind == diskcache::PrimitiveKind::SharedLock))
      for (const auto& holder : info->holders)
        if (holder.state == diskcache::HolderState::Stale &&
            release(false, holder.id) == diskcache::ForceReleaseResult::Released)
          ++returned;
    if (returned > 0) {
      poller_->refresh_now();
      return QString(semaphore ? "returned the permits of %1 dead holder(s) of %2" : "released %1 dead holder(s) of %2")
          .arg(returned)
          .arg(name);
    }
    result = release(false, std::nullopt);
    if (result == diskcache::ForceReleaseResult::RefusedAlive) {
      if (!confirm(QString("A holder of %1 is alive or cannot be checked (a Python process or another host). "
                           "Force it anyway?").arg(name)))
        return "refused: a holder is alive";
      result = release(true, std::nullopt);
    }
    poller_->refresh_now();
    switch (result) {
      case diskcache::ForceReleaseResult::Released: return "released " + name;
      case diskcache::ForceReleaseResult::NotHeld: return name + " was not held";
      case diskcache::ForceReleaseResult::RefusedAlive: return "refused: a holder is alive";
    }
  } catch (const std::exception& e) {
    return QString("force-release failed: %1").arg(e.what());
  }
  return {};
}

QString MainWindow::register_python_primitive(const QString& key, diskcache::PrimitiveKind kind, qint64 bound) {
  if (!poller_) return "no directory open";
  if (!confirm(QString("Register %1 as a Python %2?").arg(key, kind == diskcache::PrimitiveKind::Lock ? "Lock" : "BoundedSemaphore")))
    return "cancelled";
  try {
    open_inspector(poller_->directory(), true)
        ->register_primitive(diskcache::Value(key.toStdString()), kind,
                             kind == diskcache::PrimitiveKind::Semaphore ? std::optional<std::int64_t>(bound)
                                                                         : std::nullopt);
    poller_->refresh_now();
    return "registered " + key;
  } catch (const std::exception& e) {
    return QString("register failed: %1").arg(e.what());
  }
}

qint64 MainWindow::purge_expired() {
  if (!poller_ || !confirm("Remove every expired key now?")) return -1;
  QProgressDialog progress("Purging expired keys...", QString(), 0, 100, this);
  progress.setWindowModality(Qt::WindowModal);
  progress.setMinimumDuration(300);
  const QString location = poller_->directory();
  QString error;
  QFuture<qint64> work = QtConcurrent::run([location, &progress, &error]() -> qint64 {
    try {
      return open_inspector(location, true)->purge_expired([&](std::int64_t done, std::int64_t expected) {
        const int percent = expected > 0 ? static_cast<int>(100 * done / expected) : 0;
        QMetaObject::invokeMethod(&progress, [&progress, percent] { progress.setValue(percent); });
      });
    } catch (const std::exception& e) {
      error = QString::fromUtf8(e.what());  // read after the task finished
      return -1;
    }
  });
  while (!work.isFinished()) QApplication::processEvents(QEventLoop::AllEvents, 20);
  progress.setValue(100);
  if (!error.isEmpty()) statusBar()->showMessage("purge failed: " + error, 8000);
  if (poller_) poller_->refresh_now();
  return work.result();
}

bool MainWindow::export_snapshot(const QString& path) {
  return write_snapshot_json(models_.last(), path).isEmpty();
}

void MainWindow::copy_selected_row() {
  auto* table = qobject_cast<FilteredTable*>(tabs_->currentWidget());
  if (!table) table = tabs_->currentWidget() ? tabs_->currentWidget()->findChild<FilteredTable*>() : nullptr;
  if (!table) return;
  QTableView* view = table->view();
  const QModelIndexList rows = view->selectionModel() ? view->selectionModel()->selectedRows() : QModelIndexList();
  if (rows.isEmpty()) return;
  QStringList cells;
  for (int c = 0; c < view->model()->columnCount(); ++c) cells << view->model()->index(rows.front().row(), c).data().toString();
  QApplication::clipboard()->setText(cells.join('\t'));
}

void MainWindow::choose_directory() {
  const QString dir = QFileDialog::getExistingDirectory(this, "Open a cache directory",
                                                        QSettings().value("last_directory").toString());
  if (!dir.isEmpty()) open_directory(dir);
}

void MainWindow::remember_directory(const QString& directory) {
  QSettings settings;
  settings.setValue("last_directory", directory);
  QStringList recent = settings.value("recent").toStringList();
  recent.removeAll(directory);
  recent.prepend(directory);
  settings.setValue("recent", recent.mid(0, 8));
  rebuild_recent_menu();
}

void MainWindow::rebuild_recent_menu() {
  if (!recent_menu_) return;
  recent_menu_->clear();
  for (const QString& dir : QSettings().value("recent").toStringList())
    recent_menu_->addAction(dir, this, [this, dir] { open_directory(dir); });
}

void MainWindow::closeEvent(QCloseEvent* event) {
  QSettings settings;
  settings.setValue("window/geometry", saveGeometry());
  settings.setValue("window/state", saveState());
  QMainWindow::closeEvent(event);
}

}  // namespace dcview
