// Real processes on one cache: exact counts under concurrent writers, and a
// writer killed with SIGKILL at random moments never leaves a partial or
// wrong value behind, for C++ and for Python readers alike.
#include <QtTest>

#include <chrono>
#include <random>
#include <thread>

#include "diskcache/cache.hpp"
#include "test_support.hpp"

using namespace diskcache;
using namespace test_support;

class TestProcesses : public QObject {
  Q_OBJECT
  QTemporaryDir tmp_;

  void run_writers(const QString& command, const QString& dir, int processes, int each) {
    std::vector<std::unique_ptr<QProcess>> procs;
    for (int i = 0; i < processes; ++i) {
      procs.push_back(std::make_unique<QProcess>());
      procs.back()->start(helper_path(), {command, dir, "n", QString::number(each)});
    }
    for (auto& p : procs) {
      QVERIFY(p->waitForFinished(120000));
      QVERIFY2(p->exitCode() == 0, p->readAllStandardError().constData());
    }
  }

 private slots:
  void concurrent_incr_is_exact() {
    const QString dir = tmp_.path() + "/incr";
    run_writers("incr", dir, 4, 2000);
    QCOMPARE(*Cache(dir.toStdString()).get("n"), Value(8000));
  }

  void concurrent_transactions_are_atomic() {
    const QString dir = tmp_.path() + "/transact";
    run_writers("transact-incr", dir, 4, 500);
    QCOMPARE(*Cache(dir.toStdString()).get("n"), Value(2000));
  }

  void sigkill_never_leaves_partial_values() {
    const QString dir = tmp_.path() + "/killed";
    std::mt19937 rng(20261122);
    for (int round = 0; round < 50; ++round) {
      QProcess writer;
      writer.start(helper_path(), {"writer", dir, QString::number(round + 1)});
      QVERIFY(writer.waitForStarted());
      QVERIFY2(writer.waitForReadyRead(30000), writer.readAllStandardError().constData());
      std::this_thread::sleep_for(std::chrono::microseconds(rng() % 40000));
      writer.kill();  // SIGKILL
      QVERIFY(writer.waitForFinished());
      QCOMPARE(writer.exitStatus(), QProcess::CrashExit);
    }
    const auto cpp = run_helper({"verify", dir});
    EXPECT_RUN_OK(cpp);
    QVERIFY(cpp.out.startsWith("ok "));

    // Debris of interrupted writes: temporary files and files of values
    // replaced just before the kill. check(fix) removes them.
    Cache cache(dir.toStdString());
    for (const auto& w : cache.check(true))
      QVERIFY2(w.find("unknown file") != std::string::npos || w.find("empty directory") != std::string::npos,
               w.c_str());
    QVERIFY(cache.check().empty());
    const auto py = run_python("selfcheck.py", {dir});
    EXPECT_RUN_OK(py);
    QVERIFY(py.out.contains("\"warnings\": []"));
    const auto again = run_helper({"verify", dir});
    QCOMPARE(again.out, cpp.out);
  }
};

QTEST_GUILESS_MAIN(TestProcesses)
#include "tst_processes.moc"
