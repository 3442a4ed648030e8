// Cache item operations with Python diskcache's semantics, against a real
// SQLite database in a temporary directory. Time is injected, never slept.
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <QtTest>
#include <atomic>
#include <fstream>
#include <set>
#include <thread>
#include <sstream>

#include "diskcache/cache.hpp"
#include "diskcache/error.hpp"
#include "test_support.hpp"

using namespace diskcache;

class TestCache : public QObject {
  Q_OBJECT
  QTemporaryDir tmp_;
  int n_ = 0;
  double now_ = 1.0e9;

  // A fresh cache directory with the fake clock.
  std::string fresh() { return (tmp_.path() + "/c" + QString::number(n_++)).toStdString(); }
  Options with_clock(Options o = {}) {
    o.clock = [this] { return now_; };
    return o;
  }

 private slots:
  void init() { now_ = 1.0e9; }

  void set_get_every_kind_data() {
    QTest::addColumn<Value>("key");
    QTest::addColumn<Value>("value");
    QTest::newRow("text/int") << Value("k") << Value(42);
    QTest::newRow("int/float") << Value(7) << Value(1.25);
    QTest::newRow("float/text") << Value(1.5) << Value("hello");
    QTest::newRow("bytes/bytes") << Value(Bytes("k")) << Value(Bytes(std::string("\0\1", 2)));
    QTest::newRow("none/none") << Value() << Value();
    QTest::newRow("bool/bool") << Value(true) << Value(false);
    QTest::newRow("tuple/list") << Value::tuple({"a", 1}) << Value::list({1, 2, Value::dict({{"x", 1.5}})});
    QTest::newRow("bigint/bigint") << Value::integer("99999999999999999999") << Value::integer("-99999999999999999999");
    QTest::newRow("large text") << Value("big") << Value(std::string(40000, 'x'));
    QTest::newRow("large bytes") << Value("bb") << Value(Bytes(std::string(40000, '\x07')));
    QTest::newRow("large pickle") << Value("bp") << Value::list(ValueList(20000, Value("ab")));
  }
  void set_get_every_kind() {
    QFETCH(Value, key);
    QFETCH(Value, value);
    Cache cache(fresh());
    QVERIFY(!cache.get(key));
    QVERIFY(cache.set(key, value));
    QCOMPARE(*cache.get(key), value);
    QVERIFY(cache.contains(key));
    QCOMPARE(cache.size(), 1);
    QVERIFY(cache.set(key, Value("replaced")));
    QCOMPARE(*cache.get(key), Value("replaced"));
    QCOMPARE(cache.size(), 1);
    QVERIFY(cache.check().empty());  // a replaced value file is gone
  }

  void keys_follow_sqlite_identity() {
    Cache cache(fresh());
    cache.set(1, "int");
    QCOMPARE(*cache.get(1.0), Value("int"));  // 1 and 1.0 are one key, as in Python
    cache.set("1", "text");
    cache.set(Bytes("1"), "bytes");
    cache.set(true, "bool");  // pickled: not the integer 1
    QCOMPARE(*cache.get(1), Value("int"));
    QCOMPARE(*cache.get("1"), Value("text"));
    QCOMPARE(*cache.get(Bytes("1")), Value("bytes"));
    QCOMPARE(*cache.get(true), Value("bool"));
    QCOMPARE(cache.size(), 4);
  }

  void typed_api() {
    Cache cache(fresh());
    cache.set("v", std::vector<int>{1, 2, 3});
    QCOMPARE(*cache.get<std::vector<int>>("v"), (std::vector<int>{1, 2, 3}));
    cache.set("s", std::string("text"));
    QCOMPARE(*cache.get<std::string>("s"), std::string("text"));
    QVERIFY_THROWS_EXCEPTION(TypeMismatch, cache.get<int>("s"));
    QVERIFY(!cache.get<int>("missing"));
  }

  void add_only_when_absent_or_expired() {
    Cache cache(fresh(), with_clock());
    QVERIFY(cache.add("k", 1, {.expire = 10}));
    QVERIFY(!cache.add("k", 2));
    QCOMPARE(*cache.get("k"), Value(1));
    now_ += 11;
    QVERIFY(cache.add("k", 3));
    QCOMPARE(*cache.get("k"), Value(3));
    QVERIFY(!cache.add("big", Value(std::string(50000, 'a'))) || true);
    QVERIFY(!cache.add("big", Value(std::string(50000, 'b'))));
    QVERIFY(cache.check().empty());  // the refused value's file was removed
  }

  void expiry_with_injected_clock() {
    Cache cache(fresh(), with_clock());
    cache.set("k", "v", {.expire = 5, .tag = "t"});
    auto entry = cache.get_entry("k");
    QVERIFY(entry);
    QCOMPARE(*entry->expire_time, now_ + 5);
    QCOMPARE(entry->tag, Value("t"));
    now_ += 4.9;
    QVERIFY(cache.contains("k"));
    now_ += 0.2;
    QVERIFY(!cache.contains("k"));
    QVERIFY(!cache.get("k"));
    QVERIFY(!cache.erase("k"));
    QVERIFY(!cache.touch("k", 10));
    QCOMPARE(cache.size(), 1);  // expired rows count until culled, as in Python
    QCOMPARE(cache.expire(), 1);
    QCOMPARE(cache.size(), 0);
  }

  void touch_changes_expiry() {
    Cache cache(fresh(), with_clock());
    cache.set("k", "v", {.expire = 5});
    QVERIFY(cache.touch("k", 100));
    now_ += 50;
    QVERIFY(cache.contains("k"));
    QVERIFY(cache.touch("k"));  // never expires
    QVERIFY(!cache.get_entry("k")->expire_time);
    QVERIFY(!cache.touch("missing"));
  }

  void incr_decr() {
    Cache cache(fresh(), with_clock());
    QCOMPARE(cache.incr("n"), 1);
    QCOMPARE(cache.incr("n", 10), 11);
    QCOMPARE(cache.decr("n", 2), 9);
    QCOMPARE(cache.incr("m", 1, 100), 101);
    QVERIFY_THROWS_EXCEPTION(KeyNotFound, cache.incr("absent", 1, std::nullopt));
    cache.set("t", "text");
    QVERIFY_THROWS_EXCEPTION(TypeMismatch, cache.incr("t"));
    QCOMPARE(*cache.get("t"), Value("text"));
    cache.set("max", INT64_MAX);
    QVERIFY_THROWS_EXCEPTION(UnsupportedValue, cache.incr("max"));
    QCOMPARE(*cache.get("max"), Value(INT64_MAX));
    cache.set("e", 50, {.expire = 1});
    now_ += 2;
    QCOMPARE(cache.incr("e"), 1);  // expired: restarts from the default
  }

  void pop_and_erase() {
    Cache cache(fresh());
    cache.set("k", Value(std::string(40000, 'p')), {.tag = 7});
    auto entry = cache.pop_entry("k");
    QVERIFY(entry);
    QCOMPARE(entry->value.as_text().size(), std::size_t{40000});
    QCOMPARE(entry->tag, Value(7));
    QVERIFY(!cache.pop("k"));
    cache.set("e", 1);
    QVERIFY(cache.erase("e"));
    QVERIFY(!cache.erase("e"));
    QVERIFY(cache.check().empty());
  }

  void streaming_set_and_read() {
    Cache cache(fresh());
    std::string payload(9 << 20, '\0');
    for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>(i * 31 % 251);
    std::istringstream in(payload);
    QVERIFY(cache.set_stream("blob", in));
    std::ostringstream out;
    QVERIFY(cache.read("blob", out));
    QVERIFY(out.str() == payload);
    QCOMPARE(cache.get("blob")->as_bytes().size(), payload.size());
    std::ostringstream none;
    QVERIFY(!cache.read("missing", none));
    cache.set("n", 5);
    QVERIFY_THROWS_EXCEPTION(TypeMismatch, cache.read("n", none));
  }

  void chunked_set_and_piecewise_reads() {
    Cache cache(fresh());
    const std::vector<std::string> chunks = {std::string(70000, 'a'), std::string(3, 'b'), std::string(50000, 'c')};
    std::size_t next = 0;
    QVERIFY(cache.set_chunks("blob", [&] { return next < chunks.size() ? std::string_view(chunks[next++]) : ""; }));
    const std::string whole = chunks[0] + chunks[1] + chunks[2];
    QCOMPARE(cache.get("blob")->as_bytes(), Bytes{whole});

    auto reader = cache.open_value("blob");
    QVERIFY(reader);
    QCOMPARE(reader->size(), std::int64_t(whole.size()));
    cache.erase("blob");  // an open reader keeps its bytes
    std::string back;
    char piece[4096];
    while (std::size_t n = reader->read(piece, sizeof piece)) back.append(piece, n);
    QVERIFY(back == whole);
    // Positioned reads: any range, from threads at once, the position untouched.
    std::string halves[2] = {std::string(whole.size() / 2, '\0'), std::string(whole.size() - whole.size() / 2, '\0')};
    std::size_t first_got = 0;
    std::thread first([&] { first_got = reader->read_at(halves[0].data(), halves[0].size(), 0); });
    QCOMPARE(reader->read_at(halves[1].data(), halves[1].size() + 99, std::int64_t(halves[0].size())), halves[1].size());
    first.join();
    QCOMPARE(first_got, halves[0].size());
    QVERIFY(halves[0] + halves[1] == whole);
    QCOMPARE(reader->read_at(piece, 10, reader->size()), std::size_t(0));
    QVERIFY_THROWS_EXCEPTION(InvalidArgument, reader->read_at(piece, 10, -1));
    QCOMPARE(reader->read(piece, 10), std::size_t(0));  // still at the end

    cache.set("small", Bytes{"xyz"});  // kept in the row, not in a file
    auto small = cache.open_value("small");
    QCOMPARE(small->size(), std::int64_t(3));
    QCOMPARE(small->read_at(piece, 10, 1), std::size_t(2));
    QCOMPARE(std::string(piece, 2), std::string("yz"));
    QCOMPARE(small->read(piece, 10), std::size_t(3));
    QCOMPARE(small->read(piece, 10), std::size_t(0));
    QVERIFY(!cache.open_value("missing"));
    cache.set("n", 5);
    QVERIFY_THROWS_EXCEPTION(TypeMismatch, cache.open_value("n"));

    // A source that fails stores nothing and leaves no file behind.
    QVERIFY_THROWS_EXCEPTION(std::runtime_error, cache.set_chunks("bad", []() -> std::string_view {
      throw std::runtime_error("source failed");
    }));
    QVERIFY(!cache.contains("bad"));
    QVERIFY(cache.check().empty());
  }

  void statistics_count_hits_and_misses() {
    Cache cache(fresh(), Options{.settings = {.statistics = true}});
    cache.set("k", 1);
    cache.get("k");
    cache.get("k");
    cache.get("nope");
    Stats s = cache.stats();
    QCOMPARE(s.hits, 2);
    QCOMPARE(s.misses, 1);
    s = cache.stats(false, true);
    QCOMPARE(s.hits, 2);
    cache.get("k");
    s = cache.stats(false);
    QCOMPARE(s.hits, 0);
    QCOMPARE(s.misses, 0);
  }

  void settings_precedence_and_persistence() {
    const std::string dir = fresh();
    {
      Cache cache(dir, Options{.settings = {.size_limit = 12345, .eviction_policy = EvictionPolicy::LeastRecentlyUsed,
                                            .cull_limit = 3, .min_file_size = 100}});
      QCOMPARE(cache.size_limit(), 12345);
    }
    {
      Cache cache(dir);  // stored values beat defaults
      QCOMPARE(cache.size_limit(), 12345);
      QCOMPARE(cache.eviction_policy(), EvictionPolicy::LeastRecentlyUsed);
      QCOMPARE(cache.cull_limit(), 3);
      QCOMPARE(cache.min_file_size(), 100);
    }
    Cache cache(dir, Options{.settings = {.size_limit = 999}});  // the opener beats stored values
    QCOMPARE(cache.size_limit(), 999);
    QCOMPARE(cache.cull_limit(), 3);
    QVERIFY_THROWS_EXCEPTION(InvalidArgument, Cache(dir, Options{.settings = {.sqlite_journal_mode = "wal; DROP"}}));
    QVERIFY_THROWS_EXCEPTION(InvalidArgument, Cache(dir, Options{.settings = {.size_limit = -1}}));
  }

  void transactions_commit_and_roll_back() {
    Cache cache(fresh());
    {
      auto tx = cache.transact();
      cache.set("a", 1);
      cache.set("big", Value(std::string(50000, 'z')));
      // no commit: rolled back, and the new value file removed
    }
    QVERIFY(!cache.contains("a"));
    QVERIFY(cache.check().empty());
    cache.transact([&] {
      cache.set("a", 1);
      cache.incr("a");
    });
    QCOMPARE(*cache.get("a"), Value(2));
    try {
      cache.transact([&] {
        cache.set("a", 100);
        throw std::runtime_error("boom");
      });
    } catch (const std::runtime_error&) {
    }
    QCOMPARE(*cache.get("a"), Value(2));
  }

  void nested_transaction_is_a_savepoint() {
    Cache cache(fresh());
    auto outer = cache.transact();
    cache.set("outer", 1);
    {
      auto inner = cache.transact();
      cache.set("inner", 1);
    }  // inner rolled back only
    {
      auto inner = cache.transact();
      cache.set("kept", 1);
      inner.commit();
    }
    // A failing operation inside a transaction undoes only itself.
    cache.set("t", "text");
    QVERIFY_THROWS_EXCEPTION(TypeMismatch, cache.incr("t"));
    outer.commit();
    QVERIFY(cache.contains("outer"));
    QVERIFY(!cache.contains("inner"));
    QVERIFY(cache.contains("kept"));
    QVERIFY(cache.contains("t"));
  }

  void iteration_orders() {
    Cache cache(fresh());
    const std::vector<Value> keys{"b", 3, "a", 1.5, Bytes("z"), Value::tuple({1})};
    for (const auto& k : keys) cache.set(k, 0);
    std::vector<Value> seen;
    for (const Value& k : cache) seen.push_back(k);
    QCOMPARE(seen, keys);
    seen.clear();
    for (const Value& k : cache.keys(true)) seen.push_back(k);
    QCOMPARE(seen, std::vector<Value>(keys.rbegin(), keys.rend()));
    seen.clear();
    for (const Value& k : cache.sorted_keys()) seen.push_back(k);
    // SQLite order: numbers, text, blobs (the pickled tuple is a blob too).
    QCOMPARE(seen.size(), keys.size());
    QCOMPARE(seen[0], Value(1.5));
    QCOMPARE(seen[1], Value(3));
    QCOMPARE(seen[2], Value("a"));
    QCOMPARE(seen[3], Value("b"));
    // Many keys: batches of 100 join seamlessly.
    Cache many(fresh());
    for (int i = 0; i < 450; ++i) many.set(i, i);
    int expected = 0;
    for (const Value& k : many.sorted_keys()) QCOMPARE(k, Value(expected++));
    QCOMPARE(expected, 450);
  }

  void peekitem_skips_expired() {
    Cache cache(fresh(), with_clock());
    QVERIFY_THROWS_EXCEPTION(KeyNotFound, cache.peekitem());
    cache.set("first", 1);
    cache.set("last", 2, {.expire = 1});
    now_ += 2;
    Item item = cache.peekitem();
    QCOMPARE(item.key, Value("first"));
    QCOMPARE(cache.size(), 1);
    QCOMPARE(cache.peekitem(false).key, Value("first"));
  }

  void queue_push_pull_peek() {
    Cache cache(fresh());
    QCOMPARE(cache.push("a"), Value(std::int64_t{500000000000000}));
    QCOMPARE(cache.push("b"), Value(std::int64_t{500000000000001}));
    QCOMPARE(cache.push("z", std::nullopt, Side::Front), Value(std::int64_t{499999999999999}));
    QCOMPARE(cache.push("p", std::string("jobs")), Value("jobs-500000000000000"));
    QCOMPARE(cache.push(Value(std::string(40000, 'q')), std::string("jobs")), Value("jobs-500000000000001"));
    QCOMPARE(cache.peek()->value, Value("z"));
    QCOMPARE(cache.pull()->value, Value("z"));
    QCOMPARE(cache.pull(std::nullopt, Side::Back)->value, Value("b"));
    QCOMPARE(cache.pull()->value, Value("a"));
    QVERIFY(!cache.pull());
    QCOMPARE(cache.peek(std::string("jobs"), Side::Back)->value.as_text().size(), std::size_t{40000});
    QCOMPARE(cache.pull(std::string("jobs"))->value, Value("p"));
    QCOMPARE(cache.pull(std::string("jobs"))->value.as_text().size(), std::size_t{40000});
    QVERIFY(cache.check().empty());
  }

  void memoize_caches_results() {
    Cache cache(fresh());
    int calls = 0;
    auto square = cache.memoize("square", [&](int x) {
      ++calls;
      return x * x;
    });
    QCOMPARE(square(4), 16);
    QCOMPARE(square(4), 16);
    QCOMPARE(calls, 1);
    QCOMPARE(square(5), 25);
    QCOMPARE(calls, 2);
    // Python's key for memoize(name='square') called with (4,).
    QVERIFY(cache.contains(Value::tuple({"square", 4, Value()})));
  }

  void side_table_is_not_cache_items() {
    Cache cache(fresh());
    cache.side_put("locks", "k", Value::dict({{"pid", 1}}));
    QCOMPARE(cache.size(), 0);
    QCOMPARE(*cache.side_get("locks", "k"), Value::dict({{"pid", 1}}));
    QCOMPARE(cache.side_list("locks").size(), std::size_t{1});
    {
      auto tx = cache.transact();
      cache.set("item", 1);
      cache.side_put("locks", "k2", 2);
    }  // rolled back together
    QVERIFY(!cache.side_get("locks", "k2"));
    QVERIFY(cache.side_erase("locks", "k"));
    QVERIFY(!cache.side_erase("locks", "k"));
  }

  void read_only_mode() {
    const std::string missing = fresh();
    QVERIFY_THROWS_EXCEPTION(Error, Cache(missing, Options{.read_only = true}));
    QVERIFY(!std::filesystem::exists(missing));  // nothing created
    const std::string dir = fresh();
    { Cache(dir).set("k", 1); }
    Cache ro(dir, Options{.read_only = true});
    QCOMPARE(*ro.get("k"), Value(1));
    QVERIFY_THROWS_EXCEPTION(ReadOnlyCache, ro.set("k", 2));
    QVERIFY_THROWS_EXCEPTION(ReadOnlyCache, ro.clear());
    QVERIFY(ro.check().empty());
  }

  void busy_database_times_out_or_waits() {
    const std::string dir = fresh();
    Cache holder(dir);
    auto tx = holder.transact();  // holds the write lock
    holder.set("held", 1);
    std::string error;
    std::thread impatient([&] {
      Cache other(dir, Options{.timeout = std::chrono::milliseconds(200)});  // opening does not wait
      try {
        other.set("k", 1);
      } catch (const Timeout& e) {
        error = e.what();
      }
    });
    impatient.join();
    QVERIFY2(error.find(dir) != std::string::npos, error.c_str());
    std::atomic<bool> stored{false};
    std::thread patient([&] {
      Cache other(dir, Options{.timeout = std::chrono::milliseconds(1), .retry = true});
      stored = other.set("k", 2);
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // waiting, not failing
    QVERIFY(!stored);
    tx.commit();
    patient.join();
    QVERIFY(stored);
    QCOMPARE(*holder.get("k"), Value(2));
  }

  // While it waits for a busy database the handler sleeps with the
  // thread's timer slack at 1 us (seen from outside in /proc), and it
  // leaves the caller's own setting as it found it.
  void busy_wait_sleeps_with_low_timer_slack() {
    const std::string dir = fresh();
    Cache holder(dir);
    auto tx = holder.transact();  // holds the write lock
    holder.set("held", 1);
    std::atomic<pid_t> tid{0};
    std::atomic<bool> done{false};
    int slack_after = 0;
    std::thread waiter([&] {
      ::prctl(PR_SET_TIMERSLACK, 123456UL, 0, 0, 0);
      Cache other(dir, Options{.timeout = std::chrono::milliseconds(300)});
      tid = static_cast<pid_t>(::gettid());
      try {
        other.set("k", 1);
      } catch (const Timeout&) {
      }
      slack_after = ::prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
      done = true;
    });
    // The waiter spends nearly all of its 300 ms asleep in the handler.
    std::set<long> seen;
    while (!done) {
      if (tid) {
        std::ifstream file("/proc/" + std::to_string(tid.load()) + "/timerslack_ns");
        long slack = 0;
        if (file >> slack) seen.insert(slack);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    waiter.join();
    QCOMPARE(slack_after, 123456);
    if (seen.empty()) QSKIP("another thread's /proc/<tid>/timerslack_ns is unreadable here (needs CAP_SYS_NICE)");
    QVERIFY2(seen.count(1000) == 1, "the busy handler never slept with a 1 us timer slack");
  }

  void handle_survives_fork() {
    Cache cache(fresh());
    cache.set("n", 0);
    std::vector<pid_t> children;
    for (int c = 0; c < 3; ++c) {
      const pid_t pid = ::fork();
      if (pid == 0) {
        int code = 0;
        try {
          for (int i = 0; i < 100; ++i) cache.incr("n");
        } catch (...) {
          code = 1;
        }
        ::_exit(code);
      }
      children.push_back(pid);
    }
    for (int i = 0; i < 100; ++i) cache.incr("n");  // the parent keeps using its connection
    for (pid_t pid : children) {
      int status = 0;
      ::waitpid(pid, &status, 0);
      QVERIFY(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    QCOMPARE(*cache.get("n"), Value(400));
  }

  void durable_mode_round_trips() {
    Cache cache(fresh(), Options{.durable = true});
    cache.set("big", Value(Bytes(std::string(100000, 'd'))));
    QCOMPARE(cache.get("big")->as_bytes().size(), std::size_t{100000});
    QVERIFY(cache.check().empty());
  }

  void threads_share_one_cache() {
    Cache cache(fresh());
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
      threads.emplace_back([&] {
        for (int i = 0; i < 200; ++i) cache.incr("n");
      });
    for (auto& t : threads) t.join();
    QCOMPARE(*cache.get("n"), Value(800));
  }
};

QTEST_GUILESS_MAIN(TestCache)
#include "tst_cache.moc"
