// FanoutCache, Deque and Index shared with the real Python diskcache: same
// shard for every key, same deque order, same index order, clean check()
// on every shard; C++ and Python producers with C++ consumers on one Deque
// deliver every item exactly once.
#include <QtTest>

#include <set>

#include "diskcache/deque.hpp"
#include "diskcache/fanout.hpp"
#include "diskcache/index.hpp"
#include "test_support.hpp"

using namespace diskcache;
using namespace test_support;

namespace {
ValuePairs fanout_pairs() {
  ValuePairs pairs;
  for (int i = 0; i < 60; ++i) pairs.emplace_back(Value(i), Value("int " + std::to_string(i)));
  for (const char* k : {"a", "hello", "ключ", ""}) pairs.emplace_back(Value(k), Value(Bytes(k)));
  pairs.emplace_back(Value(1.5), Value(std::string(40000, 'f')));  // file-backed
  pairs.emplace_back(Value::tuple({"123-456", 1}), Value::list({1, 2}));
  pairs.emplace_back(Value(), Value(true));
  pairs.emplace_back(Value(-1), Value(-1));
  return pairs;
}
QString literal(const ValuePairs& pairs) {
  ValueList tuples;
  for (const auto& [k, v] : pairs) tuples.push_back(Value::tuple({k, v}));
  return QString::fromStdString(Value::list(tuples).repr());
}
}  // namespace

class TestInteropPersistent : public QObject {
  Q_OBJECT
  QTemporaryDir tmp_;
  int n_ = 0;
  QString fresh() { return tmp_.path() + "/p" + QString::number(n_++); }

 private slots:
  void python_fanout_read_by_cpp() {
    const QString dir = fresh();
    const auto pairs = fanout_pairs();
    EXPECT_RUN_OK(run_python("persistent.py", {"fanout_write", dir, "4", literal(pairs)}));
    FanoutCache cache(dir.toStdString());  // 4 shards inferred
    QCOMPARE(cache.shard_count(), std::size_t{4});
    for (const auto& [k, v] : pairs) {
      QVERIFY2(cache.shard(shard_index(k, 4)).contains(k), k.repr().c_str());
      QCOMPARE(*cache.get(k), v);
    }
    QVERIFY(cache.check().empty());
    // Now recorded: Python still opens it, and keeps the record.
    EXPECT_RUN_OK(run_python("persistent.py", {"fanout_check", dir, "4", literal(pairs)}));
    QCOMPARE(FanoutCache(dir.toStdString()).shard_count(), std::size_t{4});
  }

  void cpp_fanout_read_by_python() {
    const QString dir = fresh();
    const auto pairs = fanout_pairs();
    {
      FanoutCache cache(dir.toStdString(), {.shards = 4});
      for (const auto& [k, v] : pairs) QVERIFY(cache.set(k, v));
    }
    EXPECT_RUN_OK(run_python("persistent.py", {"fanout_check", dir, "4", literal(pairs)}));
  }

  void deque_order_is_shared() {
    const QString dir = fresh();
    EXPECT_RUN_OK(run_python("persistent.py", {"deque_extend", dir, "[1, 'two', (3,)]"}));
    Deque deque(dir.toStdString());
    QVERIFY(deque.equals(ValueList{1, "two", Value::tuple({3})}));
    deque.appendleft(0);
    deque.append(Bytes("four"));
    const auto r = run_python("persistent.py", {"deque_dump", dir});
    EXPECT_RUN_OK(r);
    QCOMPARE(r.out.trimmed(), QByteArray("[0, 1, 'two', (3,), b'four']"));
  }

  void index_order_is_shared() {
    const QString dir = fresh();
    EXPECT_RUN_OK(run_python("persistent.py", {"index_update", dir, "[('z', 1), ('a', 2), (3, 'x')]"}));
    Index index(dir.toStdString());
    QVERIFY(index.equals(ValuePairs{{"z", 1}, {"a", 2}, {3, "x"}}));
    index.set("z", 100);  // keeps its position
    index.set("new", Value());
    const auto r = run_python("persistent.py", {"index_dump", dir});
    EXPECT_RUN_OK(r);
    QCOMPARE(r.out.trimmed(), QByteArray("[('z', 100), ('a', 2), (3, 'x'), ('new', None)]"));
  }

  void producers_and_consumers_deliver_exactly_once() {
    const QString dir = fresh(), control = fresh();
    constexpr int kEach = 300;
    { Deque create(dir.toStdString()); }
    QProcess py, cpp, c1, c2;
    py.start(python(), {interop_script("persistent.py"), "deque_produce", dir, "py", QString::number(kEach)});
    cpp.start(helper_path(), {"deque-produce", dir, "cpp", QString::number(kEach)});
    for (QProcess* c : {&c1, &c2}) c->start(helper_path(), {"deque-consume", dir, control, QString::number(2 * kEach)});
    for (QProcess* p : {&py, &cpp, &c1, &c2}) {
      QVERIFY(p->waitForFinished(180000));
      QVERIFY2(p->exitCode() == 0, p->readAllStandardError().constData());
    }
    std::multiset<QByteArray> seen;
    for (QProcess* c : {&c1, &c2})
      for (const QByteArray& line : c->readAllStandardOutput().split('\n'))
        if (!line.isEmpty()) seen.insert(line);
    QCOMPARE(seen.size(), std::size_t{2 * kEach});
    for (const char* source : {"py", "cpp"})
      for (int i = 0; i < kEach; ++i) {
        const QByteArray item = QByteArray("('") + source + "', " + QByteArray::number(i) + ")";
        QVERIFY2(seen.count(item) == 1, item.constData());
      }
    QCOMPARE(Deque(dir.toStdString()).size(), 0);
  }
};

QTEST_GUILESS_MAIN(TestInteropPersistent)
#include "tst_interop_persistent.moc"
