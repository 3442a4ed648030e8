// Deque and Index: Python's semantics on a real cache directory.
#include <QtTest>

#include "diskcache/deque.hpp"
#include "diskcache/error.hpp"
#include "diskcache/index.hpp"
#include "test_support.hpp"

using namespace diskcache;

class TestDequeIndex : public QObject {
  Q_OBJECT
  QTemporaryDir tmp_;
  int n_ = 0;
  std::string fresh() { return (tmp_.path() + "/d" + QString::number(n_++)).toStdString(); }

 private slots:
  void deque_ends() {
    Deque d(fresh());
    QCOMPARE(d.cache().eviction_policy(), EvictionPolicy::None);
    QVERIFY(!d.pop());
    d.append(2);
    d.append(3);
    d.appendleft(1);
    QVERIFY(d.equals(ValueList{1, 2, 3}));
    QCOMPARE(*d.peek(), Value(3));
    QCOMPARE(*d.peekleft(), Value(1));
    QCOMPARE(*d.pop(), Value(3));
    QCOMPARE(*d.popleft(), Value(1));
    QCOMPARE(d.size(), 1);
    // Python's key scheme
    QCOMPARE(*d.cache().get(std::int64_t{500000000000000}), Value(2));
  }

  void deque_indexing() {
    Deque d(fresh());
    for (int i = 0; i < 5; ++i) d.append(i);
    QCOMPARE(d.at(0), Value(0));
    QCOMPARE(d.at(-1), Value(4));
    QCOMPARE(d.at(-5), Value(0));
    QVERIFY_THROWS_EXCEPTION(OutOfRange, d.at(5));
    QVERIFY_THROWS_EXCEPTION(OutOfRange, d.at(-6));
    d.set_at(1, "one");
    d.erase_at(-1);
    QVERIFY(d.equals(ValueList{0, "one", 2, 3}));
  }

  void deque_rotate_reverse_remove_count() {
    Deque d(fresh());
    for (int i = 0; i < 5; ++i) d.append(i);
    d.rotate(2);
    QVERIFY(d.equals(ValueList{3, 4, 0, 1, 2}));
    d.rotate(-2);
    QVERIFY(d.equals(ValueList{0, 1, 2, 3, 4}));
    d.rotate(7);  // modulo size, as Python
    QVERIFY(d.equals(ValueList{3, 4, 0, 1, 2}));
    d.reverse();
    QVERIFY(d.equals(ValueList{2, 1, 0, 4, 3}));
    d.append(1);
    QCOMPARE(d.count(1), 2);
    QVERIFY(d.remove(1));
    QVERIFY(d.equals(ValueList{2, 0, 4, 3, 1}));
    QVERIFY(!d.remove("absent"));
    ValueList back;
    for (const Value& v : d.reversed()) back.push_back(v);
    QCOMPARE(back, (ValueList{1, 3, 4, 0, 2}));
    d.clear();
    QCOMPARE(d.size(), 0);
  }

  void deque_maxlen() {
    Deque d(fresh(), 3);
    for (int i = 0; i < 5; ++i) d.append(i);
    QVERIFY(d.equals(ValueList{2, 3, 4}));
    d.appendleft(9);
    QVERIFY(d.equals(ValueList{9, 2, 3}));
    d.set_maxlen(1);
    QVERIFY(d.equals(ValueList{3}));
    Deque other(d.cache().directory().string() + "-copy");
    other.append(3);
    QVERIFY(d.equals(other));
  }

  void index_mapping() {
    Index idx(fresh());
    idx.set("b", 1);
    idx.set("a", 2);
    idx.set("b", 3);  // keeps its first-insertion position
    ValuePairs items;
    for (const Item& item : idx.items()) items.emplace_back(item.key, item.value);
    QCOMPARE(items, (ValuePairs{{"b", 3}, {"a", 2}}));
    ValueList rev;
    for (const Value& k : idx.keys(true)) rev.push_back(k);
    QCOMPARE(rev, (ValueList{"a", "b"}));
    QCOMPARE(idx.setdefault("c", 7), Value(7));
    QCOMPARE(idx.setdefault("c", 8), Value(7));
    QCOMPARE(idx.peekitem().key, Value("c"));
    auto first = idx.popitem(false);
    QCOMPARE(first->key, Value("b"));
    QVERIFY(idx.equals(ValuePairs{{"a", 2}, {"c", 7}}));
    QVERIFY(!idx.equals(ValuePairs{{"c", 7}, {"a", 2}}));  // order matters
    Index other(fresh());
    other.set("a", 2);
    other.set("c", 7);
    QVERIFY(idx.equals(other));
    QCOMPARE(*idx.pop("a"), Value(2));
    QVERIFY(!idx.contains("a"));
    QCOMPARE(idx.push("job", std::string("q")), Value("q-500000000000000"));
    QCOMPARE(idx.pull(std::string("q"))->value, Value("job"));
    idx.clear();
    QVERIFY(!idx.popitem());
    int calls = 0;
    auto cube = idx.memoize("cube", [&](int x) {
      ++calls;
      return x * x * x;
    });
    QCOMPARE(cube(3), 27);
    QCOMPARE(cube(3), 27);
    QCOMPARE(calls, 1);
    QVERIFY(idx.contains(Value::tuple({"cube", 3, Value()})));
  }
};

QTEST_GUILESS_MAIN(TestDequeIndex)
#include "tst_deque_index.moc"
