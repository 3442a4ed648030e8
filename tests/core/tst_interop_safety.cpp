// Safety against the real peer (Debian's python3-diskcache): keys Python
// pickles with shared strings are found and updated, never duplicated; a
// plain Cache never takes over a Python FanoutCache directory; a C++ holder
// whose lease ran out never releases what a Python process took since.
#include <sqlite3.h>

#include <QtTest>
#include <thread>

#include "diskcache/cache.hpp"
#include "diskcache/error.hpp"
#include "diskcache/fanout.hpp"
#include "diskcache/primitives.hpp"
#include "test_support.hpp"

using namespace diskcache;
using namespace test_support;

namespace {

// Runs Python code with `cache` bound to the cache (or fanout cache) at `dir`
// and returns what it printed.
QByteArray python_on(const QString& dir, const QString& code, const char* kind = "Cache") {
  const QString program = QString("import diskcache, sys\ncache = diskcache.%1(sys.argv[1])\n").arg(kind) + code;
  const Result r = run(python(), {"-c", program, dir});
  if (r.exit_code != 0) qFatal("python failed: %s", r.err.constData());
  return r.out.trimmed();
}

// The number of rows whose pickled key holds a memo GET (BINGET 0): the
// form Python writes when the key's equal strings are one object.
int shared_form_rows(const std::string& db_path) {
  sqlite3* db = nullptr;
  sqlite3_open(db_path.c_str(), &db);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, "SELECT count(*) FROM Cache WHERE raw = 0 AND instr(key, x'6800') > 0", -1, &st, nullptr);
  sqlite3_step(st);
  const int n = sqlite3_column_int(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return n;
}

const Value kSharedKey = Value::tuple({"cd", "cd"});

}  // namespace

class TestInteropSafety : public QObject {
  Q_OBJECT
  QTemporaryDir tmp_;
  int n_ = 0;
  QString fresh() { return tmp_.path() + "/c" + QString::number(n_++); }

 private slots:
  // Issue 18.7: ('cd', 'cd') as Python writes it (one str object twice),
  // and memoize's f(s, s).
  void keys_with_shared_strings_are_found_and_updated() {
    const QString dir = fresh();
    const std::string db = dir.toStdString() + "/cache.db";
    python_on(dir, "cache.set(('cd', 'cd'), 1)\ns = ''.join(['x', 'y'])\ncache.set(('f', s, s), 'memo')");
    QCOMPARE(shared_form_rows(db), 2);  // the peer really wrote the shared form
    Cache cache(dir.toStdString());
    const Value memo_key = Value::tuple({"f", "xy", "xy"});
    QCOMPARE(cache.get(kSharedKey), std::optional<Value>(1));
    QCOMPARE(cache.get(memo_key), std::optional<Value>("memo"));
    QVERIFY(cache.contains(kSharedKey));
    QVERIFY(cache.set(kSharedKey, 2));
    QCOMPARE(cache.incr(kSharedKey, 5), std::int64_t{7});
    QVERIFY(!cache.add(memo_key, "again"));
    std::size_t items = 0;
    for (const Item& item : cache.items()) items += item.key == kSharedKey || item.key == memo_key;
    QCOMPARE(items, std::size_t{2});  // items() no longer skips Python's rows
    QCOMPARE(cache.size(), std::int64_t{2});
    QCOMPARE(shared_form_rows(db), 2);  // updated in place, never duplicated
    QCOMPARE(python_on(dir, "print(len(list(cache)), cache[('cd', 'cd')])"), QByteArray("2 7"));
    QVERIFY(cache.erase(memo_key));
    QCOMPARE(python_on(dir, "s = ''.join(['x', 'y'])\nprint(len(cache), cache.get(('f', s, s)))"),
             QByteArray("1 None"));
    // A key C++ writes first keeps the distinct-strings form Python also finds.
    QVERIFY(cache.set(Value::tuple({"ab", "ab"}), 3));
    QCOMPARE(python_on(dir, "a = ''.join(['a', 'b'])\nb = ''.join(['a', 'b'])\nprint(cache[(a, b)])"),
             QByteArray("3"));
  }

  void fanout_keys_with_shared_strings_are_found_in_their_shard() {
    const QString dir = fresh();
    python_on(dir, "cache.set(('cd', 'cd'), 1)", "FanoutCache");
    FanoutCache cache(dir.toStdString());
    QCOMPARE(cache.get(kSharedKey), std::optional<Value>(1));
    QVERIFY(cache.set(kSharedKey, 2));
    QCOMPARE(python_on(dir, "print(len(cache), cache[('cd', 'cd')])", "FanoutCache"), QByteArray("1 2"));
  }

  // Issue 18.8: a Python FanoutCache directory is not taken over.
  void plain_cache_refuses_a_python_fanout_directory() {
    const QString dir = fresh();
    python_on(dir, "cache.set('k', 'v')", "FanoutCache");
    QVERIFY_THROWS_EXCEPTION(InvalidArgument, Cache(dir.toStdString()));
    QVERIFY(!QFile::exists(dir + "/cache.db"));
    QCOMPARE(python_on(dir, "print(cache['k'])", "FanoutCache"), QByteArray("v"));
    QCOMPARE(FanoutCache(dir.toStdString()).get("k"), std::optional<Value>("v"));
  }

  // Issue 18.11: the lease runs out, Python takes the key, and the C++
  // release refuses (NotHeld) and leaves Python's hold alone.
  void expired_lock_is_not_released_from_under_python() {
    const QString dir = fresh();
    Cache cache(dir.toStdString());
    Lock lock(cache, "job", {.expire = 0.2});
    lock.lock();
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the lease has run out
    python_on(dir, "diskcache.Lock(cache, 'job').acquire()");
    QVERIFY_THROWS_EXCEPTION(NotHeld, lock.renew(10));
    QVERIFY_THROWS_EXCEPTION(NotHeld, lock.release());
    QCOMPARE(python_on(dir, "print(diskcache.Lock(cache, 'job').locked())"), QByteArray("True"));
  }

  void expired_rlock_is_not_released_from_under_python() {
    const QString dir = fresh();
    Cache cache(dir.toStdString());
    RLock lock(cache, "re", {.expire = 0.2});
    lock.lock();
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    python_on(dir, "diskcache.RLock(cache, 're').acquire()");
    QVERIFY_THROWS_EXCEPTION(NotHeld, lock.release());
    QCOMPARE(python_on(dir, "print(cache['re'][1])"), QByteArray("1"));
  }

  void expired_permit_is_not_given_back_over_python() {
    const QString dir = fresh();
    Cache cache(dir.toStdString());
    BoundedSemaphore sem(cache, "sem", 1, {.expire = 0.2});
    sem.acquire();
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    python_on(dir, "diskcache.BoundedSemaphore(cache, 'sem', 1).acquire()");
    QVERIFY_THROWS_EXCEPTION(NotHeld, sem.release());
    QCOMPARE(python_on(dir, "print(cache['sem'])"), QByteArray("0"));  // Python's permit is still taken
    QCOMPARE(sem.try_acquire(), false);
  }
};

QTEST_GUILESS_MAIN(TestInteropSafety)
#include "tst_interop_safety.moc"
