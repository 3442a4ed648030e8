// The monitor: its models under QAbstractItemModelTester, the SQL-paged key
// browser, the poller against a real cache changed by helper processes
// (a lock taken elsewhere appears, a killed holder shows stale, a corrupted
// database shows an error), and the main window offscreen (views populate,
// actions work). States are awaited with generous bounds, never timed.
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <QAbstractItemModelTester>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QSignalSpy>
#include <QtTest>

#include "diskcache/diskcache.hpp"
#include "diskcache/gpu/emulated_device.hpp"
#include "diskcache/gpu/offloader.hpp"
#include "filtered_table.hpp"
#include "keys_model.hpp"
#include "main_window.hpp"
#include "monitor_models.hpp"
#include "poller.hpp"
#include "holding_process.hpp"
#include "test_support.hpp"
#include "timeline.hpp"

using namespace diskcache;
using namespace dcview;
using namespace std::chrono_literals;
using test_support::helper_path;

namespace {

constexpr int kBound = 30000;  // generous: states arrive within ~1 s

using Holder = test_support::HeldByHelper;

int row_of(const KeyedTableModel& model, const QString& key) { return model.find(key); }
QString cell(const KeyedTableModel& model, const QString& key, int column) {
  const int r = model.find(key);
  return r < 0 ? QString("<no row>") : model.index(r, column).data().toString();
}

}  // namespace

class TestMonitor : public QObject {
  Q_OBJECT
  QTemporaryDir tmp_;
  int n_ = 0;
  QString fresh() { return tmp_.path() + "/m" + QString::number(n_++); }

 private slots:
  void initTestCase() {
    qRegisterMetaType<Snapshot>();
    QStandardPaths::setTestModeEnabled(true);  // QSettings go to a test location
  }

  void models_pass_the_tester_and_merge_rows() {
    const QString dir = fresh();
    Cache cache(dir.toStdString());
    Lock lock(cache, "job");
    RLock config(cache, "config");
    BoundedSemaphore permits(cache, "slots", 3);
    Averager waits(cache, "wait-ms");
    lock.lock();
    config.lock();
    config.unlock();
    permits.acquire();
    waits.add(2.0);
    waits.add(4.0);
    {
      auto device = gpu::make_emulated_device();
      gpu::Offloader offloader(*device, cache, {.stats_name = "trainer"});
      auto stream = device->create_stream();
      void* buffer = device->allocate_device(5000);
      offloader.offload("t", buffer, 5000, *stream).done.get();
      device->free_device(buffer);
    }

    MonitorModels models;
    QAbstractItemModelTester t1(&models.locks, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QAbstractItemModelTester t2(&models.semaphores, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QAbstractItemModelTester t3(&models.averagers, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QAbstractItemModelTester t4(&models.transfers, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QAbstractItemModelTester t5(&models.history, QAbstractItemModelTester::FailureReportingMode::QtTest);
    SnapshotSource source(dir);
    Snapshot first = source.collect();
    QVERIFY2(first.ok(), qPrintable(first.error));
    models.apply(first);
    QCOMPARE(cell(models.locks, "job", 2), QString("held"));
    QVERIFY(cell(models.locks, "job", 3).contains(QString("pid %1").arg(::getpid())));
    QCOMPARE(cell(models.locks, "config", 2), QString("free"));
    QCOMPARE(cell(models.semaphores, "slots", 1), QString("1 / 3"));
    QCOMPARE(cell(models.averagers, "wait-ms", 1), QString("3"));
    QCOMPARE(cell(models.transfers, "trainer offload", 3), QString("1"));
    QVERIFY(models.history.rowCount() >= 2);
    QCOMPARE(first.overview.count, std::int64_t(cache.size()));

    // A refresh keeps rows that stay (a persistent index survives), updates
    // them in place, drops vanished ones and appends new ones.
    const QPersistentModelIndex job_row = models.locks.index(row_of(models.locks, "job"), 0);
    lock.unlock();
    cache.set("py-rlock", Value::tuple({Value(), 0}));  // a Python RLock, recognised by its value
    models.apply(SnapshotSource(dir).collect());  // a first snapshot scans for Python RLocks
    QCOMPARE(cell(models.locks, "py-rlock", 2), QString("free"));
    cache.erase("py-rlock");  // unregistered: its row goes with its key
    Lock other(cache, "other");
    other.lock();
    models.apply(source.collect());
    QVERIFY(job_row.isValid());
    // A Python RLock beyond the first slice of the scan appears once the scan
    // reaches it, stays while the next pass starts over, and goes with its key.
    {
      const QString big = fresh();
      Cache many(big.toStdString());
      many.transact([&] {
        for (int i = 0; i < 2 * SnapshotSource::kScanSlice; ++i) many.set(i, Value(i));
      });
      many.set("py-late", Value::tuple({Value(), 0}));
      SnapshotSource scanner(big);
      auto has_late = [&] {
        const Snapshot s = scanner.collect();
        return std::any_of(s.primitives.begin(), s.primitives.end(),
                           [](const ShardPrimitive& p) { return p.info.key == Value("py-late"); });
      };
      QVERIFY(!has_late());  // rows 1..kScanSlice
      QVERIFY(!has_late());  // the next kScanSlice rows
      QVERIFY(has_late());   // the last row: the pass is complete
      QVERIFY(has_late());   // a new pass from row 1 still follows it
      many.erase("py-late");
      QVERIFY(!has_late());
    }
    QCOMPARE(job_row.data().toString(), QString("job"));
    QCOMPARE(cell(models.locks, "job", 2), QString("free"));
    QCOMPARE(row_of(models.locks, "py-rlock"), -1);
    QCOMPARE(cell(models.locks, "config", 2), QString("free"));  // registered: stays
    QCOMPARE(cell(models.locks, "other", 2), QString("held"));
    other.unlock();
    permits.release();

    // History is a window of the latest events, oldest first, without repeats.
    const int before = models.history.rowCount();
    models.apply(source.collect());
    QCOMPARE(models.history.rowCount(), before + 2);  // other's and permits' releases
    QSet<QString> ids;
    for (int i = 0; i < models.history.rowCount(); ++i) ids.insert(models.history.row(i).key);
    QCOMPARE(ids.size(), models.history.rowCount());
    auto event_id = [&](int row) { return models.history.row(row).key.section(':', 1).toLongLong(); };
    QVERIFY(event_id(0) < event_id(models.history.rowCount() - 1));

    // A refresh that finds nothing changed touches no row, so views repaint nothing.
    QSignalSpy lock_changes(&models.locks, &QAbstractItemModel::dataChanged);
    QSignalSpy semaphore_changes(&models.semaphores, &QAbstractItemModel::dataChanged);
    QSignalSpy averager_changes(&models.averagers, &QAbstractItemModel::dataChanged);
    QSignalSpy transfer_changes(&models.transfers, &QAbstractItemModel::dataChanged);
    models.apply(source.collect());
    QCOMPARE(lock_changes.count() + semaphore_changes.count() + averager_changes.count() + transfer_changes.count(), 0);
    waits.add(9.0);
    models.apply(source.collect());
    QCOMPARE(averager_changes.count(), 1);
    QCOMPARE(cell(models.averagers, "wait-ms", 1), QString("5"));

    QVector<KeyedRow> many;
    for (int i = 0; i < 700; ++i) many.push_back({QString("x%1").arg(i), {"", "", "", "", ""}, false, {}});
    models.history.append_window(many, MonitorModels::kHistoryRows);
    QCOMPARE(models.history.rowCount(), MonitorModels::kHistoryRows);
    QCOMPARE(models.history.row(0).key, QString("x200"));
  }

  void keys_browser_pages_sorts_and_searches_in_sql() {
    const QString dir = fresh();
    {
      Cache cache(dir.toStdString());
      cache.transact([&] {
        for (int i = 0; i < 1000; ++i)
          cache.set(QString("key-%1").arg(i, 4, 10, QChar('0')).toStdString(), Bytes(std::string(i % 97, 'v')));
      });
      cache.set(Value::tuple({"tuple", 1}), 1);  // a pickled key
    }
    KeysModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QSignalSpy loaded(&model, &KeysModel::loaded);
    model.set_location(dir);
    QTRY_VERIFY_WITH_TIMEOUT(model.total() == 1001 && model.rowCount() == KeysModel::kPage, kBound);
    QVERIFY(model.canFetchMore({}));
    model.fetchMore({});
    QTRY_COMPARE_WITH_TIMEOUT(model.rowCount(), 2 * KeysModel::kPage, kBound);

    model.set_search("key-09");  // over all rows in SQL, not the loaded ones
    QTRY_VERIFY_WITH_TIMEOUT(model.total() == 100 && model.rowCount() == 100, kBound);
    QVERIFY(!model.canFetchMore({}));
    model.set_search("tuple");
    QTRY_VERIFY_WITH_TIMEOUT(model.total() == 1 && model.rowCount() == 1, kBound);
    QCOMPARE(model.index(0, KeysModel::Key).data().toString(), QString("('tuple', 1)"));
    QCOMPARE(model.index(0, KeysModel::Kind).data().toString(), QString("int"));

    model.set_search("");
    model.sort(KeysModel::Key, Qt::DescendingOrder);  // SQLite's order: blobs after text
    QTRY_VERIFY_WITH_TIMEOUT(model.rowCount() == KeysModel::kPage, kBound);
    QCOMPARE(model.index(0, KeysModel::Key).data().toString(), QString("('tuple', 1)"));
    QCOMPARE(model.index(1, KeysModel::Key).data().toString(), QString("key-0999"));
    model.sort(KeysModel::Size, Qt::DescendingOrder);  // bytes stored, in the row or in a file
    QTRY_VERIFY_WITH_TIMEOUT(model.rowCount() == KeysModel::kPage && model.total() == 1001, kBound);
    QCOMPARE(model.index(0, KeysModel::Size).data().toString(), QString("96 B"));  // units.hpp's convention
    QVERIFY(model.error().isEmpty());
  }

  void poller_follows_other_processes_and_errors() {
    const QString dir = fresh();
    {
      Cache cache(dir.toStdString());
      cache.set("seed", 1);
    }
    Poller poller(dir, 200ms);
    Snapshot latest;
    connect(&poller, &Poller::snapshotReady, this, [&](const Snapshot& s) { latest = s; });
    MonitorModels models;
    connect(&poller, &Poller::snapshotReady, &models, &MonitorModels::apply);
    poller.start();
    QTRY_VERIFY_WITH_TIMEOUT(latest.ok() && latest.overview.count == 1, kBound);

    Holder holder(dir, "shared");
    QTRY_COMPARE_WITH_TIMEOUT(cell(models.locks, "shared", 2), QString("held"), kBound);
    QVERIFY(cell(models.locks, "shared", 3).contains(QString("pid %1").arg(holder.pid())));
    holder.kill_and_reap();
    QTRY_COMPARE_WITH_TIMEOUT(cell(models.locks, "shared", 2), QString("stale"), kBound);
    QVERIFY(models.locks.index(models.locks.find("shared"), 0).data(KeyedTableModel::AlertRole).toBool());
    {
      Cache cache(dir.toStdString());
      QCOMPARE(force_release(cache, "shared"), ForceReleaseResult::Released);
    }
    QTRY_COMPARE_WITH_TIMEOUT(cell(models.locks, "shared", 2), QString("free"), kBound);

    // A corrupted database: an error state, not a freeze or a crash.
    for (const char* name : {"cache.db", "cache.db-wal", "cache.db-shm"}) QFile::remove(dir + "/" + name);
    QFile garbage(dir + "/cache.db");
    QVERIFY(garbage.open(QIODevice::WriteOnly));
    garbage.write(QByteArray(8192, 'x'));
    garbage.close();
    QTRY_VERIFY_WITH_TIMEOUT(!latest.ok(), kBound);
    QVERIFY2(latest.error.contains(dir), qPrintable(latest.error));
  }

  // Issue 18.1/18.4: a malformed side-table row is named and the other
  // primitives still shown; a FIFO as cache.db is an error, never a hang.
  void hostile_directories_show_what_can_be_read() {
    const QString dir = fresh();
    {
      Cache cache(dir.toStdString());
      Lock lock(cache, "good");
      lock.lock();
    }
    const auto r = test_support::run(
        "sqlite3", {dir + "/cache.db", "INSERT INTO diskcache_primitives(key, raw, kind) VALUES ('odd', 1, 'frob');"
                                       "INSERT INTO diskcache_history(at, key, raw, kind, event, holder, pid, thread, "
                                       "host, waited) VALUES (0, 'k', 1, 'frob', 'acquire', 'h', 1, 1, 'h', 0);"});
    QCOMPARE(r.exit_code, 0);
    SnapshotSource source(dir);
    const Snapshot s = source.collect();
    QVERIFY2(s.ok(), qPrintable(s.error));
    QCOMPARE(s.primitives.size(), std::size_t{1});
    QVERIFY(!s.new_events.empty());
    QCOMPARE(s.skipped.size(), std::size_t{2});
    MonitorModels models;
    models.apply(s);
    QVERIFY(models.locks.find("good") >= 0);

    const QString pipe_dir = fresh();
    QVERIFY(QDir().mkpath(pipe_dir));
    QCOMPARE(::mkfifo(QFile::encodeName(pipe_dir + "/cache.db").constData(), 0644), 0);
    SnapshotSource pipe(pipe_dir);
    const Snapshot refused = pipe.collect();  // returns: nothing blocks on the FIFO
    QVERIFY(!refused.ok());
    QVERIFY2(refused.error.contains("FIFO"), qPrintable(refused.error));
  }

  void main_window_offscreen_views_and_actions() {
    const QString dir = fresh();
    {
      Cache cache(dir.toStdString());
      Averager(cache, "latency").add(1.5);
    }
    Holder holder(dir, "printer");
    holder.kill_and_reap();  // leaves a stale lock behind

    MainWindow window;
    QStringList asked;
    window.confirm = [&](const QString& question) {
      asked << question;
      return true;
    };
    window.open_directory(dir, 200ms);
    window.show();
    QTRY_COMPARE_WITH_TIMEOUT(cell(window.models().locks, "printer", 2), QString("stale"), kBound);
    QVERIFY(window.status_text().startsWith("refreshed"));
    QTRY_VERIFY_WITH_TIMEOUT(window.keys_model()->total() >= 1, kBound);

    // Force-release the selected stale lock (one confirmation); not while
    // another tab is shown (issue 20.10: Del acted on the hidden selection).
    window.tabs()->setCurrentWidget(window.locks_table());
    window.locks_view()->selectRow(window.models().locks.find("printer"));
    window.tabs()->setCurrentIndex(0);  // Overview
    QVERIFY(window.force_release_selected().startsWith("force-release acts on the Locks or Semaphores tab"));
    QVERIFY(asked.isEmpty());
    QCOMPARE(cell(window.models().locks, "printer", 2), QString("stale"));
    window.tabs()->setCurrentWidget(window.locks_table());
    QCOMPARE(window.force_release_selected(), QString("released printer"));
    QCOMPARE(asked.size(), 1);
    QTRY_COMPARE_WITH_TIMEOUT(cell(window.models().locks, "printer", 2), QString("free"), kBound);

    // The timeline draws the lock's holding, ended by the force-release.
    auto force_release_seen = [&] {
      const auto& events = window.models().events;
      return std::any_of(events.begin(), events.end(), [](const HistoryEvent& e) { return e.event == "force-release"; });
    };
    QTRY_VERIFY_WITH_TIMEOUT(force_release_seen(), kBound);
    window.timeline()->show_events(window.models().events, {"printer"}, QDateTime::currentMSecsSinceEpoch() / 1000.0);
    const auto lanes = window.timeline()->lanes();
    QString seen;
    for (const auto& e : window.models().events)
      seen += QString("%1 %2 %3 @%4; ").arg(key_text(e.key), QString::fromStdString(e.event), QString::fromStdString(e.holder)).arg(e.at, 0, 'f', 3);
    QVERIFY2(lanes.contains("printer"), qPrintable(seen));
    const auto lane = lanes.value("printer");
    auto has = [&](TimelineView::Span::Kind kind) {
      return std::any_of(lane.begin(), lane.end(), [&](const TimelineView::Span& s) { return s.kind == kind; });
    };
    QVERIFY2(has(TimelineView::Span::Mark), qPrintable(seen));  // the force-release
    QVERIFY2(has(TimelineView::Span::Held), qPrintable(seen));  // the dead holder's holding

    // A semaphore with a dead and a live holder: only the dead one's permit
    // goes back, without asking to force.
    Holder dead(dir, "gpu", "sem");
    dead.kill_and_reap();
    Cache mine(dir.toStdString());
    BoundedSemaphore gpu(mine, "gpu", 2);
    gpu.acquire();
    QTRY_COMPARE_WITH_TIMEOUT(cell(window.models().semaphores, "gpu", 1), QString("2 / 2"), kBound);
    QTRY_COMPARE_WITH_TIMEOUT(cell(window.models().semaphores, "gpu", 2), QString("held"), kBound);
    window.tabs()->setCurrentWidget(window.semaphores_table());
    window.semaphores_view()->selectRow(window.models().semaphores.find("gpu"));
    QCOMPARE(window.force_release_selected(), QString("returned the permits of 1 dead holder(s) of gpu"));
    QTRY_COMPARE_WITH_TIMEOUT(cell(window.models().semaphores, "gpu", 1), QString("1 / 2"), kBound);
    gpu.release();

    QCOMPARE(window.register_python_primitive("py-sem", PrimitiveKind::Semaphore, 4), QString("registered py-sem"));
    QTRY_COMPARE_WITH_TIMEOUT(cell(window.models().semaphores, "py-sem", 1), QString("0 / 4"), kBound);
    {  // two keys that expired an hour ago (written with a clock in the past)
      Cache past(dir.toStdString(), Options{.clock = [] { return QDateTime::currentSecsSinceEpoch() - 7200.0; }});
      past.set("old-1", 1, {.expire = 60});
      past.set("old-2", 2, {.expire = 60});
    }
    QCOMPARE(window.purge_expired(), qint64(2));

    const QString json = tmp_.path() + "/snapshot.json";
    QVERIFY(window.export_snapshot(json));
    QFile file(json);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QJsonObject root = QJsonDocument::fromJson(file.readAll()).object();
    QCOMPARE(root["location"].toString(), dir);
    int averagers = 0, locks = 0;
    for (const auto& p : root["primitives"].toArray()) {
      averagers += p.toObject()["kind"].toString() == "averager";
      locks += p.toObject()["kind"].toString() == "lock";
    }
    QVERIFY(locks > 0);
    QCOMPARE(averagers, 1);
    const QImage shot = window.grab().toImage();
    QVERIFY(!shot.isNull() && shot.width() > 100);
  }

  void main_window_reads_a_fanout_directory() {
    const QString dir = fresh();
    {
      FanoutCache fanout(dir.toStdString(), {.shards = 3});
      for (int i = 0; i < 60; ++i) fanout.set(i, i);
    }
    const std::int64_t in_shard_0 = Cache((dir + "/000").toStdString(), Options{.read_only = true}).size();
    MainWindow window;
    window.open_directory(dir, 200ms);
    QTRY_VERIFY_WITH_TIMEOUT(window.models().last().ok() && window.models().last().overview.count == 60, kBound);
    QCOMPARE(window.models().last().overview.shards, 3);
    QTRY_COMPARE_WITH_TIMEOUT(window.keys_model()->total(), qint64(in_shard_0), kBound);
  }
};

QTEST_MAIN(TestMonitor)
#include "tst_monitor.moc"
