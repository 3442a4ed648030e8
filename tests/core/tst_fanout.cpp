// FanoutCache: Python's shard function, shard-count bookkeeping (recorded,
// inferred, mismatched, ambiguous), visible timeouts, totals, transactions
// and named sub-stores.
#include <QtTest>
#include <thread>

#include "diskcache/deque.hpp"
#include "diskcache/error.hpp"
#include "diskcache/fanout.hpp"
#include "diskcache/index.hpp"
#include "test_support.hpp"

using namespace diskcache;

class TestFanout : public QObject {
  Q_OBJECT
  QTemporaryDir tmp_;
  int n_ = 0;
  std::string fresh() { return (tmp_.path() + "/f" + QString::number(n_++)).toStdString(); }

 private slots:
  void python_shard_function_data() {
    QTest::addColumn<Value>("key");
    QTest::addColumn<int>("shard");
    // Values from COMPAT.md, computed by Python diskcache with 4 shards.
    QTest::newRow("'a'") << Value("a") << 2;
    QTest::newRow("'hello'") << Value("hello") << 1;
    QTest::newRow("7") << Value(7) << 3;
    QTest::newRow("1.5") << Value(1.5) << 0;
    QTest::newRow("('123-456', 1)") << Value::tuple({"123-456", 1}) << 1;
    QTest::newRow("None") << Value() << 2;
    QTest::newRow("-1") << Value(-1) << int(4294967294u % 4);
  }
  void python_shard_function() {
    QFETCH(Value, key);
    QFETCH(int, shard);
    QCOMPARE(shard_index(key, 4), std::size_t(shard));
  }

  void items_spread_over_shards() {
    FanoutCache cache(fresh(), {.shards = 4});
    for (int i = 0; i < 200; ++i) QVERIFY(cache.set(i, i * 2));
    QCOMPARE(cache.size(), 200);
    for (int i = 0; i < 200; ++i) {
      QCOMPARE(*cache.get(i), Value(i * 2));
      QVERIFY(cache.shard(shard_index(i, 4)).contains(i));
    }
    std::int64_t seen = 0;
    for (const Value& key : cache) seen += key.as_int() >= 0;
    QCOMPARE(seen, 200);
    QCOMPARE(*cache.incr("n", 5), 5);
    QVERIFY(cache.erase("n"));
    QCOMPARE(cache.evict(Value()), 0);
    QVERIFY(cache.check().empty());
    std::int64_t last = 0;
    QCOMPARE(cache.clear([&](std::int64_t done, std::int64_t) { last = done; }), 200);
    QCOMPARE(last, 200);
  }

  void size_limit_is_split() {
    FanoutCache cache(fresh(), {.shards = 4, .cache = {.settings = {.size_limit = 4000000}}});
    QCOMPARE(cache.shard(3).size_limit(), 1000000);
  }

  void shard_count_is_recorded() {
    const std::string dir = fresh();
    { FanoutCache create(dir); }
    FanoutCache again(dir);
    QCOMPARE(again.shard_count(), std::size_t{8});
    QVERIFY_THROWS_EXCEPTION(InvalidArgument, FanoutCache(dir, {.shards = 4}));
  }

  void shard_count_is_inferred_for_python_layouts() {
    const std::string dir = fresh();
    for (const char* s : {"000", "001", "002"}) Cache(dir + "/" + s).set("x", 1);  // as Python leaves them
    FanoutCache inferred(dir);
    QCOMPARE(inferred.shard_count(), std::size_t{3});
    QVERIFY_THROWS_EXCEPTION(InvalidArgument, FanoutCache(dir, {.shards = 8}));
  }

  void ambiguous_layouts_are_refused() {
    const std::string gaps = fresh();
    for (const char* s : {"000", "001", "003"}) Cache(gaps + "/" + s).set("x", 1);
    try {
      FanoutCache f(gaps);
      QFAIL("expected InvalidArgument");
    } catch (const InvalidArgument& e) {
      QVERIFY2(std::string(e.what()).find("000 001 003") != std::string::npos, e.what());
    }
    const std::string extra = fresh();
    { FanoutCache create(extra, {.shards = 2}); }
    Cache(extra + "/002").set("x", 1);
    QVERIFY_THROWS_EXCEPTION(InvalidArgument, FanoutCache{extra});
    const std::string plain = fresh();
    Cache(plain).set("x", 1);
    QVERIFY_THROWS_EXCEPTION(InvalidArgument, FanoutCache{plain});
  }

  void timeouts_are_counted_not_silent() {
    const std::string dir = fresh();
    FanoutCache cache(dir, {.shards = 2});
    const Value key("busy");
    Cache holder(dir + "/00" + std::to_string(shard_index(key, 2)));
    auto tx = holder.transact();
    holder.set("lock", 1);
    std::thread other([&] {
      QVERIFY(!cache.set(key, 1));   // Python: False
      QVERIFY(!cache.incr(key));     // Python: None
      QCOMPARE(cache.timeouts(), std::uint64_t{2});
      FanoutCache strict(dir, {.swallow_timeouts = false});
      QVERIFY_THROWS_EXCEPTION(Timeout, strict.set(key, 1));
    });
    other.join();
    tx.commit();
    QVERIFY(cache.set(key, 1));
    QCOMPARE(cache.timeouts(), std::uint64_t{2});
  }

  void transact_spans_all_shards() {
    FanoutCache cache(fresh(), {.shards = 3});
    {
      auto tx = cache.transact();
      for (int i = 0; i < 30; ++i) cache.set(i, i);
    }  // rolled back everywhere
    QCOMPARE(cache.size(), 0);
    cache.transact([&] {
      for (int i = 0; i < 30; ++i) cache.set(i, i);
    });
    QCOMPARE(cache.size(), 30);
  }

  void sub_stores_live_where_python_puts_them() {
    const std::string dir = fresh();
    FanoutCache cache(dir, {.shards = 2});
    cache.cache("results/v1").set("k", 1);
    cache.deque("jobs").append("job");
    cache.index("names").set("n", "v");
    QVERIFY(std::filesystem::exists(dir + "/cache/results/v1/cache.db"));
    QVERIFY(std::filesystem::exists(dir + "/deque/jobs/cache.db"));
    QVERIFY(std::filesystem::exists(dir + "/index/names/cache.db"));
    QCOMPARE(&cache.deque("jobs"), &cache.deque("jobs"));
    QVERIFY_THROWS_EXCEPTION(InvalidArgument, cache.cache("../escape"));
    QVERIFY_THROWS_EXCEPTION(InvalidArgument, cache.cache("/abs"));
  }

  void sorted_keys_merge_shards_in_sqlite_order() {
    FanoutCache fanout(fresh(), {.shards = 3});
    Cache plain(fresh());
    const std::vector<Value> keys = {Value(5),      Value(-2),         Value(1.5),       Value(3),
                                     Value("b"),    Value("a"),        Value("ab"),      Value(Bytes{"\x01"}),
                                     Value(Bytes{"\x00\xff"}), Value::tuple({"t", 1}), Value(2.25), Value("")};
    for (const Value& key : keys) {
      QVERIFY(fanout.set(key, 1));
      plain.set(key, 1);
    }
    for (bool reverse : {false, true}) {
      std::vector<Value> merged, expected;
      for (const Value& key : fanout.sorted_keys(reverse)) merged.push_back(key);
      for (const Value& key : plain.sorted_keys(reverse)) expected.push_back(key);
      QCOMPARE(merged, expected);
    }
  }

  void items_follow_key_order() {
    FanoutCache cache(fresh(), {.shards = 4});
    for (int i = 0; i < 40; ++i) QVERIFY(cache.set(i, i * 3));
    std::vector<Value> keys;
    for (const Value& key : cache.keys(true)) keys.push_back(key);
    std::size_t n = 0;
    for (const Item& item : cache.items(true)) {
      QCOMPARE(item.key, keys.at(n++));
      QCOMPARE(item.value, Value(item.key.as_int() * 3));
    }
    QCOMPARE(n, std::size_t(40));
  }

  void peekitem_picks_by_store_time_across_shards() {
    double now = 1000;
    FanoutOptions options{.shards = 4};
    options.cache.clock = [&] { return now; };
    FanoutCache cache(fresh(), options);
    QVERIFY_THROWS_EXCEPTION(KeyNotFound, cache.peekitem());
    for (int i = 0; i < 20; ++i) {
      now += 1;
      QVERIFY(cache.set(i, i, {.expire = i == 19 ? std::optional<double>(0.5) : std::nullopt}));
    }
    QCOMPARE(cache.peekitem(false).key, Value(0));
    now += 1;  // key 19 has expired: peekitem passes over it and returns 18
    QCOMPARE(cache.peekitem().key, Value(18));
    QVERIFY(!cache.contains(19));
  }

  void side_table_and_close() {
    const std::string dir = fresh();
    FanoutCache cache(dir, {.shards = 2});
    cache.side_put("notes", "a", 1);
    QCOMPARE(*cache.side_get("notes", "a"), Value(1));
    QCOMPARE(*cache.shard(0).side_get("notes", "a"), Value(1));
    QCOMPARE(cache.side_list("notes").size(), std::size_t(1));
    cache.deque("d").append(1);
    cache.close();  // connections reopen on next use
    QCOMPARE(*cache.side_get("notes", "a"), Value(1));
    QCOMPARE(cache.deque("d").size(), std::int64_t(1));
    QVERIFY(cache.side_erase("notes", "a"));
    QVERIFY(!cache.side_get("notes", "a"));
  }

  void queues_and_memoize() {
    FanoutCache cache(fresh(), {.shards = 4});
    cache.push("a", std::string("q"));
    cache.push("b", std::string("q"));
    QCOMPARE(cache.pull(std::string("q"))->value, Value("a"));
    int calls = 0;
    auto twice = cache.memoize("twice", [&](int x) {
      ++calls;
      return 2 * x;
    });
    QCOMPARE(twice(21), 42);
    QCOMPARE(twice(21), 42);
    QCOMPARE(calls, 1);
  }

  // Code written for both caches gets the same: items() carry their tag and
  // expire time on a Cache and a FanoutCache, Index::set says what
  // Cache::set says, Value::bytes makes bytes.
  void items_carry_tag_and_expiry_on_both_caches() {
    auto check = [](auto& cache) {
      cache.set("tagged", Value(1), {.expire = 600, .tag = Value("t")});
      cache.set("plain", Value::bytes(std::string_view("\0\1", 2)));
      int seen = 0;
      for (const Item& item : cache.items()) {
        ++seen;
        if (item.key == Value("tagged")) {
          QCOMPARE(item.tag, Value("t"));
          const double now = QDateTime::currentMSecsSinceEpoch() / 1000.0;
          QVERIFY(item.expire_time && *item.expire_time > now + 590 && *item.expire_time < now + 610);
        } else {
          QCOMPARE(item.value, Value(Bytes(std::string("\0\1", 2))));
          QCOMPARE(item.tag, Value());
          QVERIFY(!item.expire_time);
        }
      }
      QCOMPARE(seen, 2);
    };
    Cache plain(fresh());
    check(plain);
    FanoutCache fanout(fresh(), {.shards = 2});
    check(fanout);
    Index index(fresh());
    QVERIFY(index.set("k", Value(1)));
  }
};

QTEST_GUILESS_MAIN(TestFanout)
#include "tst_fanout.moc"
