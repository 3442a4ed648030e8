// The documented benchmark commands keep working: each driver of bench/
// runs one repetition against this build, and its JSON holds every figure
// docs/benchmarks.md reports, each a positive finite number. The numbers
// are not judged here: performance is measured by the benchmarks alone.
#include <QJsonDocument>
#include <QJsonObject>
#include <QtTest>

#include <cmath>

#include "test_support.hpp"

using namespace test_support;

namespace {
bool positive(const QJsonValue& v) { return v.isDouble() && std::isfinite(v.toDouble()) && v.toDouble() > 0; }
}  // namespace

class TestBenchDrivers : public QObject {
  Q_OBJECT
  QTemporaryDir tmp_;

  // Runs bench/SCRIPT BUILD_DIR --reps 1 --json OUT and returns OUT's object.
  QJsonObject run_driver(const QString& script) {
    const QString out = tmp_.path() + "/" + script + ".json";
    const Result r = run(python(), {source_dir() + "/bench/" + script, QStringLiteral(DISKCACHE_BUILD_DIR), "--reps",
                                    "1", "--json", out},
                         300000);
    [&] { EXPECT_RUN_OK(r); }();  // a failure returns from the lambda; callers check currentTestFailed()
    QFile f(out);
    if (!f.open(QIODevice::ReadOnly)) return {};
    return QJsonDocument::fromJson(f.readAll()).object();
  }

 private slots:
  void core() {
    const QJsonObject j = run_driver("compare_core.py");
    if (QTest::currentTestFailed()) return;  // the run failed, and said why
    for (const char* op : {"get_hit", "set_small", "set_1mb", "get_1mb"}) {
      const QJsonObject impls = j[op].toObject();
      QVERIFY2(positive(impls["lib"].toObject()["paired_ratio"]), op);
      for (const char* impl : {"lib", "python"}) QVERIFY2(positive(impls[impl].toObject()["median_us"]), op);
      const char* base = QByteArray(op).endsWith("1mb") ? "file" : "raw";
      QVERIFY2(positive(impls[base].toObject()["median_us"]), op);
    }
    QVERIFY(positive(j["set_1mb"].toObject()["floor"].toObject()["paired_ratio"]));
  }

  void primitives() {
    const QJsonObject j = run_driver("compare_primitives.py");
    if (QTest::currentTestFailed()) return;  // the run failed, and said why
    // Every figure on each of the three profiles the one command runs.
    for (const char* profile : {"2cpu", "1cpu", "busy"})
      for (const char* key :
           {"uncontended/lib", "uncontended/raw", "uncontended/lib_over_raw", "uncontended/lib-nohist_over_raw",
            "uncontended/python", "floor/commit", "floor/wake", "floor/handoff", "floor/handoff_cpu_us_per_op",
            "handoff/lib/handoff_median_us", "handoff/lib/throughput_per_s", "handoff/lib/cpu_us_per_op",
            "handoff/lib/lock_cpu_us_per_op", "handoff/lib/longest_run_while_other_waits",
            "handoff/python/throughput_per_s", "handoff/python/cpu_us_per_op", "handoff/python/lock_cpu_us_per_op",
            "handoff/lib_over_floor", "semaphore/lib/share_of_ideal", "semaphore/python/share_of_ideal",
            "semaphore/lib/busy_share", "semaphore/python/busy_share"}) {
        const QByteArray name = QByteArray(profile) + "/" + key;
        QVERIFY2(positive(j[QString::fromLatin1(name)].toObject()["median"]), name.constData());
      }
  }

  void fanout() {
    const QJsonObject j = run_driver("compare_fanout.py");
    if (QTest::currentTestFailed()) return;  // the run failed, and said why
    for (const char* key : {"latency/get_hit/lib", "latency/set_small/python", "throughput/fanout/1",
                            "throughput/fanout/2", "throughput/cache/2", "throughput/python/2"})
      QVERIFY2(positive(j[key].toObject()["median"]), key);
  }
};

QTEST_GUILESS_MAIN(TestBenchDrivers)
#include "tst_bench_drivers.moc"
