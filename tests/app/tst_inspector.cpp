// The app's one inspection interface over a cache directory: a fanout
// directory's primitives, history, keys and writes land in the shard each
// key lives in, totals add up, and a location that holds nothing is
// refused without creating anything. (tst_redis_views covers Redis.)
#include <QtTest>

#include "diskcache/diskcache.hpp"
#include "alerts.hpp"
#include "inspector.hpp"
#include "units.hpp"

using namespace diskcache;
using namespace dcview;

class TestInspector : public QObject {
  Q_OBJECT
  QTemporaryDir tmp_;
  int n_ = 0;
  QString fresh() { return tmp_.path() + "/i" + QString::number(n_++); }

 private slots:
  void fanout_directory_through_one_interface() {
    const QString dir = fresh();
    FanoutCache cache(dir.toStdString(), {.shards = 3});
    for (int i = 0; i < 30; ++i) cache.set("item-" + std::to_string(i), Value(i));
    for (int i = 0; i < 6; ++i) {
      Lock lock(cache, "job-" + std::to_string(i));
      lock.lock();
      lock.unlock();
    }
    const auto inspector = open_inspector(dir, true);
    QVERIFY(inspector->fanout());
    QCOMPARE(inspector->parts(), std::size_t(3));
    QCOMPARE(inspector->key_databases(), std::size_t(3));
    QCOMPARE(inspector->change_files().size(), std::size_t(6));
    QCOMPARE(inspector->totals()->count, cache.size());

    SkippedRows skipped;
    const auto primitives = inspector->primitives(skipped, Inspector::RLockScan::Full);
    QCOMPARE(primitives.size(), std::size_t(6));
    for (const auto& p : primitives) {
      QCOMPARE(p.shard, inspector->shard_of(p.key));
      QCOMPARE(&cache.shard(p.shard), &cache.shard_for(p.key));
      QVERIFY(inspector->primitive(p.key, p.shard).has_value());
    }
    QCOMPARE(inspector->primitives(skipped, Inspector::RLockScan::Sliced).size(), std::size_t(6));
    std::vector<std::int64_t> after;
    QCOMPARE(inspector->history(after, 100, skipped).size(), std::size_t(12));
    QVERIFY(inspector->history(after, 100, skipped).empty());
    QVERIFY(skipped.empty());

    std::int64_t browsed = 0;
    for (std::size_t db = 0; db < inspector->key_databases(); ++db)
      browsed += *inspector->browse_keys(db, {.limit = 1000}).total;
    QCOMPARE(browsed, cache.size());
    QVERIFY_THROWS_EXCEPTION(InvalidArgument, inspector->browse_keys(3, {}));

    const Value py("py-lock");
    inspector->register_primitive(py, PrimitiveKind::Lock, std::nullopt);
    const auto registered = inspector->primitive(py, inspector->shard_of(py));
    QVERIFY(registered && registered->registered);
    cache.set("old", Value(1), {.expire = 0.01});
    QTest::qWait(50);
    QCOMPARE(inspector->purge_expired(), std::int64_t(1));
  }

  // The Overview's alerts from a snapshot: a failed GPU transfer names its
  // offloader and direction (the GPU tab's row), unreadable rows one alert
  // in all, a stale holder first.
  void alerts_of_a_snapshot() {
    Snapshot s;
    s.taken = QDateTime::currentDateTime();
    gpu::TransferReport report;
    report.name = "trainer";
    report.load.operations = 10;
    report.load.failures = 2;
    s.transfers.push_back(report);
    s.skipped.push_back({"/x/cache.db", "Cache", 7, "Cache row 7 in /x: bad pickle"});
    PrimitiveInfo dead;
    dead.key = Value("printer");
    dead.held = true;
    dead.holders.push_back({.id = "h", .host = "vm", .pid = 42, .state = HolderState::Stale});
    s.primitives.push_back({0, dead});
    const auto alerts = alerts_of(s);
    QCOMPARE(alerts.size(), std::size_t(3));
    QCOMPARE(alerts[0].severity, Alert::Severity::Critical);
    QCOMPARE(alerts[0].tab, QString("Locks"));
    QCOMPARE(alerts[0].row_key, QString("printer"));
    QCOMPARE(alerts[1].tab, QString("GPU transfers"));
    QCOMPARE(alerts[1].row_key, QString("trainer load"));
    QVERIFY2(alerts[1].text.contains("2 of 10 loads failed"), qPrintable(alerts[1].text));
    QVERIFY(alerts[2].tab.isEmpty());
    QVERIFY(alerts[2].text.contains("bad pickle"));
    const DashboardFigures f = dashboard_figures(s);
    QCOMPARE(f.locks_stale, 1);
    QCOMPARE(f.transfer_failures, 2);
  }

  // One unit convention: IEC sizes and rates, ages in whole units, measured
  // waits precisely; never "1024.0 MiB".
  void units_read_as_documented() {
    QCOMPARE(bytes_text(0), QString("0 B"));
    QCOMPARE(bytes_text(1023), QString("1023 B"));
    QCOMPARE(bytes_text(1536), QString("1.5 KiB"));
    QCOMPARE(bytes_text(1073741823), QString("1.0 GiB"));  // a fanout's summed size limit
    QCOMPARE(bytes_text(1073741824), QString("1.0 GiB"));
    QCOMPARE(rate_text(150.5 * 1024 * 1024), QString("150.5 MiB/s"));
    QCOMPARE(duration_text(0.4), QString("< 1 s"));
    QCOMPARE(duration_text(42.9), QString("42 s"));
    QCOMPARE(duration_text(600), QString("10 min"));
    QCOMPARE(duration_text(-3), QString("overdue by 3 s"));
    QCOMPARE(precise_duration_text(0.0046), QString("4.6 ms"));
    QCOMPARE(precise_duration_text(0.037), QString("37 ms"));
    QCOMPARE(precise_duration_text(1.24), QString("1.2 s"));
  }

  void nothing_there_is_refused_and_nothing_created() {
    const QString dir = fresh();
    QVERIFY_THROWS_EXCEPTION(Error, open_inspector(dir, false));
    QVERIFY(!QFileInfo::exists(dir));
  }
};

QTEST_GUILESS_MAIN(TestInspector)
#include "tst_inspector.moc"
