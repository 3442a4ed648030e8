// SharedLock across real processes, C++ (dc_helper) and Python
// (tests/interop/shared_work.py over core/python/diskcache_shared.py) on one
// key: every holding is logged with CLOCK_MONOTONIC times taken inside it,
// so the logged intervals lie within the real holdings and any overlap
// involving a writer is a broken exclusion. Also: readers really overlap,
// writers get in while readers keep arriving, and a killed reader (C++ or
// Python) is stale at once and force-release lets the writer in.
#include <signal.h>

#include <QtTest>
#include <algorithm>
#include <set>

#include "diskcache/inspect.hpp"
#include "diskcache/primitives.hpp"
#include "test_support.hpp"

using namespace diskcache;
using namespace test_support;

namespace {

struct Holding {
  qint64 pid;
  bool writer;
  qint64 enter, exit, waited;  // ns
};

std::vector<Holding> read_log(const QString& path) {
  QFile f(path);
  std::vector<Holding> out;
  if (!f.open(QIODevice::ReadOnly)) return out;
  for (const QByteArray& line : f.readAll().split('\n')) {
    const auto w = line.simplified().split(' ');
    if (w.size() != 5) continue;
    out.push_back({w[0].toLongLong(), w[1] == "w", w[2].toLongLong(), w[3].toLongLong(), w[4].toLongLong()});
  }
  return out;
}

// The most holdings inside at one instant, and whether a writer ever had company.
std::pair<int, bool> overlaps(std::vector<Holding> log) {
  std::vector<std::pair<qint64, int>> edges;  // (time, +1 enter / -1 exit); exits first at equal times
  for (const auto& h : log) {
    edges.push_back({h.enter, +1});
    edges.push_back({h.exit, -1});
  }
  std::sort(edges.begin(), edges.end());
  int inside = 0, most = 0;
  for (const auto& [t, d] : edges) most = std::max(most, inside += d);
  bool writer_with_company = false;
  for (const auto& w : log) {
    if (!w.writer) continue;
    for (const auto& o : log)
      if (&o != &w && o.enter < w.exit && w.enter < o.exit) writer_with_company = true;
  }
  return {most, writer_with_company};
}

struct Started {
  std::unique_ptr<QProcess> p = std::make_unique<QProcess>();
};

Started start(const QString& program, const QStringList& args) {
  Started s;
  s.p->start(program, args);
  return s;
}
Started cpp(const QStringList& args) { return start(helper_path(), args); }
Started py(const QStringList& args) { return start(python(), QStringList{interop_script("shared_work.py")} + args); }

bool finished_ok(Started& s) {
  if (!s.p->waitForFinished(120000) || s.p->exitStatus() != QProcess::NormalExit || s.p->exitCode() != 0) {
    qWarning() << "failed:" << s.p->arguments() << s.p->readAllStandardError();
    return false;
  }
  return true;
}

}  // namespace

class TestSharedLockProcesses : public QObject {
  Q_OBJECT
  QTemporaryDir tmp_;
  int n_ = 0;
  QString fresh() {
    const QString dir = tmp_.path() + "/x" + QString::number(n_++);
    Cache create(dir.toStdString());  // the side tables exist, so Python writes holder records too
    return dir;
  }

 private slots:
  void cpp_and_python_readers_and_writers_exclude_correctly() {
    const QString dir = fresh(), log = dir + "/holdings.log";
    // Readers (2 C++, 2 Python) hold 15 ms at a time until told to stop
    // (at most 30 s); writers (1 C++, 1 Python) take it 8 times each.
    std::vector<Started> readers, writers;
    readers.push_back(cpp({"shared-work", dir, "rw", "r", "15", log, "30"}));
    readers.push_back(cpp({"shared-work", dir, "rw", "r", "15", log, "30"}));
    readers.push_back(py({"shared-work", dir, "rw", "r", "15", log, "30"}));
    readers.push_back(py({"shared-work", dir, "rw", "r", "15", log, "30"}));
    QTest::qWait(500);  // the readers are going
    writers.push_back(cpp({"shared-work", dir, "rw", "w", "5", log, "8"}));
    writers.push_back(py({"shared-work", dir, "rw", "w", "5", log, "8"}));
    for (auto& w : writers) QVERIFY(finished_ok(w));
    Cache(dir.toStdString()).set("stop", 1);
    for (auto& r : readers) QVERIFY(finished_ok(r));

    const auto log_rows = read_log(log);
    const auto [most, writer_with_company] = overlaps(log_rows);
    QVERIFY2(!writer_with_company, "a writer held the lock beside someone else");
    QVERIFY2(most >= 2, "readers never overlapped");
    qint64 writer_rows = 0, longest_writer_wait = 0, last_writer_exit = 0, reader_after = 0;
    std::set<qint64> reader_pids;
    for (const auto& h : log_rows) {
      if (!h.writer) {
        reader_pids.insert(h.pid);
        continue;
      }
      ++writer_rows;
      longest_writer_wait = std::max(longest_writer_wait, h.waited);
      last_writer_exit = std::max(last_writer_exit, h.exit);
    }
    for (const auto& h : log_rows) reader_after += !h.writer && h.enter > last_writer_exit;
    qInfo("%zu holdings, at most %d inside at once, longest writer wait %.3f s", log_rows.size(), most,
          static_cast<double>(longest_writer_wait) / 1e9);
    QCOMPARE(writer_rows, 16);
    QCOMPARE(reader_pids.size(), std::size_t(4));  // C++ and Python readers all took part
    // Readers kept arriving all along (they were still going after the
    // writers finished), and no writer waited long: writers first. With
    // readers first, the overlapping readers would keep the writers out
    // until told to stop, i.e. for ever here (30 s).
    QVERIFY(reader_after > 0);
    QVERIFY2(longest_writer_wait < 5'000'000'000LL,
             qPrintable(QString("a writer waited %1 s").arg(longest_writer_wait / 1e9)));
    QVERIFY(!Cache(dir.toStdString()).contains("rw"));  // every holding was released: no key
  }

  void killed_readers_are_stale_and_force_released_one_by_one() {
    const QString dir = fresh();
    Started cpp_reader = cpp({"hold", dir, "rw", "shared"});
    Started py_reader = py({"hold", dir, "rw", "shared"});
    for (auto* s : {&cpp_reader, &py_reader}) {
      QVERIFY(s->p->waitForReadyRead(30000));
      QCOMPARE(s->p->readAllStandardOutput().trimmed(), QByteArray("held"));
    }
    Cache cache(dir.toStdString());
    auto info = inspect_primitive(cache, "rw");
    QVERIFY(info && info->kind == PrimitiveKind::SharedLock);
    QCOMPARE(info->in_use, 2);
    for (const auto& h : info->holders) QCOMPARE(h.state, HolderState::Alive);  // Python's record too

    const qint64 cpp_pid = cpp_reader.p->processId(), py_pid = py_reader.p->processId();
    ::kill(static_cast<pid_t>(cpp_pid), SIGKILL);
    QVERIFY(cpp_reader.p->waitForFinished(10000));  // reaped
    SharedLock writer(cache, "rw");
    QVERIFY(!writer.try_lock());
    // Stale within a second of the kill (at once, in fact: the pid is gone).
    QElapsedTimer since_kill;
    since_kill.start();
    std::string dead;
    while (dead.empty() && since_kill.elapsed() < 1000) {
      const auto now = inspect_primitive(cache, "rw");
      for (const auto& h : now->holders)
        if (h.pid == cpp_pid && h.state == HolderState::Stale) dead = h.id;
    }
    QVERIFY2(!dead.empty(), "the killed reader was not stale within a second");
    QCOMPARE(force_release(cache, "rw", false, dead), ForceReleaseResult::Released);
    // The Python reader is alive: refused, and it still holds the lock.
    QCOMPARE(force_release(cache, "rw"), ForceReleaseResult::RefusedAlive);
    QVERIFY(!writer.try_lock());

    ::kill(static_cast<pid_t>(py_pid), SIGKILL);
    QVERIFY(py_reader.p->waitForFinished(10000));
    info = inspect_primitive(cache, "rw");
    QVERIFY(info->stale());
    QCOMPARE(info->holders.front().pid, py_pid);
    QCOMPARE(force_release(cache, "rw"), ForceReleaseResult::Released);
    QVERIFY(writer.try_lock());  // the writer gets in
    writer.unlock();
    QStringList events;
    for (const auto& e : primitive_history(cache)) events << QString::fromStdString(e.event);
    QCOMPARE(events.count("force-release"), 2);
  }

  // The Python module's own contract (timeouts withdraw announcements,
  // NotHeld, leases, writers first, hostile values refused), in one process.
  void python_module_keeps_its_contract() {
    EXPECT_RUN_OK(run_python("shared_work.py", {"selftest", fresh()}));
  }

  void a_python_writer_excludes_a_cpp_reader_and_back() {
    const QString dir = fresh();
    Started py_writer = py({"hold", dir, "rw", "exclusive"});
    QVERIFY(py_writer.p->waitForReadyRead(30000));
    Cache cache(dir.toStdString());
    SharedLock reader(cache, "rw");
    QVERIFY(!reader.try_lock_shared());
    const auto info = inspect_primitive(cache, "rw");
    QVERIFY(info && info->writer && info->holders.size() == 1 && !info->holders.front().shared);
    QCOMPARE(info->holders.front().pid, py_writer.p->processId());
    py_writer.p->kill();
    QVERIFY(py_writer.p->waitForFinished(10000));
    QCOMPARE(force_release(cache, "rw"), ForceReleaseResult::Released);
    reader.lock_shared();
    // A Python writer now waits for the C++ reader (and announces itself).
    Started py_writer2 = py({"shared-work", dir, "rw", "w", "1", dir + "/w.log", "1"});
    QTRY_VERIFY_WITH_TIMEOUT(reader.state().writers_waiting == 1, 20000);
    SharedLock late(cache, "rw");
    QVERIFY(!late.try_lock_shared());  // behind the Python writer
    reader.unlock_shared();
    QVERIFY(finished_ok(py_writer2));
    QVERIFY(late.try_lock_shared());
    late.unlock_shared();
  }
};

QTEST_GUILESS_MAIN(TestSharedLockProcesses)
#include "tst_shared_lock_processes.moc"
