// The monitor and the CLI on a Redis store (redis://host:port): the same
// views as for a directory, over a real redis-server with real helper
// processes holding locks. States are awaited with generous bounds.
#include <signal.h>

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QtTest>

#include "diskcache/redis/primitives.hpp"
#include "main_window.hpp"
#include "monitor_models.hpp"
#include "redis_server.hpp"
#include "filtered_table.hpp"
#include "holding_process.hpp"
#include "snapshot.hpp"
#include "test_support.hpp"

using namespace diskcache;
using namespace dcview;
using namespace std::chrono_literals;
using test_support::RedisServer;

namespace {

constexpr int kBound = 30000;

// A helper process holding the lock `key` (lease 60 s) until killed.
struct Holder : test_support::HoldingProcess {
  Holder(const std::string& url, const QString& key)
      : HoldingProcess(QStringLiteral(DISKCACHE_REDIS_HELPER), {"hold", QString::fromStdString(url), key, "60000"},
                       kBound) {}
};

test_support::Result cli(const QStringList& args) { return test_support::run(QStringLiteral(DISKCACHE_CLI), args); }

QString cell(const KeyedTableModel& model, const QString& key, int column) {
  const int r = model.find(key);
  return r < 0 ? QString("<no row>") : model.index(r, column).data().toString();
}

}  // namespace

class TestRedisViews : public QObject {
  Q_OBJECT

 private slots:
  void snapshot_of_a_redis_store() {
    RedisServer server;
    redis::Store store(server.endpoint());
    redis::BoundedSemaphore sem(store, "gpu", 2);
    QVERIFY(sem.try_acquire());
    redis::Averager(store, "latency").add(3);
    Holder holder(server.url(), "printer");

    SnapshotSource source(QString::fromStdString(server.url()));
    const Snapshot s = source.collect();
    QVERIFY2(s.ok(), qPrintable(s.error));
    QCOMPARE(s.primitives.size(), std::size_t(3));
    QCOMPARE(s.overview.eviction_policy, QString("redis"));
    bool saw_lock = false;
    for (const auto& p : s.primitives)
      if (p.info.key.as_text() == "printer") saw_lock = p.info.held && p.info.holders.at(0).state == HolderState::Alive;
    QVERIFY(saw_lock);
    QVERIFY(!s.new_events.empty());
    QVERIFY(source.collect().new_events.empty());  // only new events each time

    server.kill();
    QVERIFY(!source.collect().ok());  // an error state, not a hang
  }

  void cli_on_a_redis_store() {
    RedisServer server;
    const QString url = QString::fromStdString(server.url());
    Holder holder(server.url(), "printer");

    auto locks = cli({"locks", url, "--json"});
    QCOMPARE(locks.exit_code, 0);
    const QJsonArray rows = QJsonDocument::fromJson(locks.out).array();
    QCOMPARE(rows.size(), 1);
    QCOMPARE(rows[0]["key"]["value"].toString(), QString("printer"));
    QCOMPARE(rows[0]["held"].toBool(), true);
    QCOMPARE(rows[0]["holders"][0]["pid"].toInteger(), holder.pid());

    QCOMPARE(cli({"release", url, "printer"}).exit_code, 4);  // alive: refused
    holder.kill_and_reap();
    const auto stats = cli({"stats", url, "--json"});
    QCOMPARE(stats.exit_code, 0);
    QCOMPARE(QJsonDocument::fromJson(stats.out).object()["stale"].toInt(), 1);
    const auto released = cli({"release", url, "printer"});
    QCOMPARE(released.exit_code, 0);
    QVERIFY(released.out.startsWith("released 'printer'"));  // named as a directory's key is
    QCOMPARE(cli({"release", url, "printer"}).exit_code, 1);  // nothing held now

    const auto get = cli({"get", url, "k"});
    QCOMPARE(get.exit_code, 2);
    QVERIFY(get.err.contains("needs a cache directory"));
    const auto bad = cli({"locks", "redis://127.0.0.1:notaport"});
    QCOMPARE(bad.exit_code, 2);
    QVERIFY(bad.err.contains("port 'notaport'"));
    server.kill();
    const auto down = cli({"locks", url});
    QCOMPARE(down.exit_code, 3);
    QVERIFY(down.err.contains(url.toUtf8()));
  }

  void monitor_window_on_a_redis_store() {
    RedisServer server;
    Holder holder(server.url(), "printer");
    MainWindow window;
    int asked = 0;
    window.confirm = [&](const QString&) {
      ++asked;
      return true;
    };
    window.open_directory(QString::fromStdString(server.url()), 200ms);
    window.show();
    QTRY_COMPARE_WITH_TIMEOUT(cell(window.models().locks, "printer", 2), QString("held"), kBound);
    QVERIFY(!window.tabs()->isTabEnabled(window.tabs()->count() - 1));  // no keys on Redis
    holder.kill_and_reap();
    QTRY_COMPARE_WITH_TIMEOUT(cell(window.models().locks, "printer", 2), QString("stale"), kBound);
    window.tabs()->setCurrentWidget(window.locks_table());
    window.locks_view()->selectRow(window.models().locks.find("printer"));
    QCOMPARE(window.force_release_selected(), QString("released printer"));
    QCOMPARE(asked, 1);
    QTRY_COMPARE_WITH_TIMEOUT(cell(window.models().locks, "printer", 2), QString("free"), kBound);
    QVERIFY(window.register_python_primitive("x", PrimitiveKind::Lock, 1).contains("nothing to register"));
  }
};

QTEST_MAIN(TestRedisViews)
#include "tst_redis_views.moc"
