// The library's inspection for tools: detect_layout (what a directory
// holds, which files change with it), browse_keys (paged keys, searched and
// sorted in SQL, hostile keys shown not thrown), and inspection and totals
// over a FanoutCache's shards.
#include <sqlite3.h>

#include <QtTest>

#include "diskcache/diskcache.hpp"
#include "test_support.hpp"

using namespace diskcache;

class TestBrowse : public QObject {
  Q_OBJECT
  QTemporaryDir tmp_;
  int n_ = 0;
  std::filesystem::path fresh() { return std::filesystem::path(tmp_.path().toStdString()) / ("b" + std::to_string(n_++)); }

 private slots:
  void layout_names_the_databases_of_each_kind() {
    const auto none = fresh();
    std::filesystem::create_directories(none / "001");  // not a shard folder run: 000 is missing
    QCOMPARE(detect_layout(none).kind, Layout::Kind::None);
    QVERIFY(detect_layout(none).databases.empty());
    QCOMPARE(detect_layout(fresh()).kind, Layout::Kind::None);  // does not exist: nothing created
    QVERIFY(!std::filesystem::exists(fresh()));

    const auto plain = fresh();
    { Cache cache(plain); }
    const Layout p = detect_layout(plain);
    QCOMPARE(p.kind, Layout::Kind::Plain);
    QCOMPARE(p.databases, std::vector<std::filesystem::path>{plain / "cache.db"});
    QCOMPARE(p.change_files(), (std::vector<std::filesystem::path>{plain / "cache.db", plain / "cache.db-wal"}));

    const auto fanout = fresh();
    { FanoutCache cache(fanout, {.shards = 3}); }
    const Layout f = detect_layout(fanout);
    QCOMPARE(f.kind, Layout::Kind::Fanout);
    QCOMPARE(f.databases.size(), std::size_t(3));
    QCOMPARE(f.databases[2], fanout / "002" / "cache.db");
    QCOMPARE(f.change_files().size(), std::size_t(6));
  }

  void browse_pages_searches_and_sorts_in_sql() {
    const auto dir = fresh();
    Cache cache(dir);
    cache.transact([&] {
      for (int i = 0; i < 500; ++i) cache.set("user:" + std::to_string(i), Value(std::int64_t(i)));
    });
    cache.set(std::int64_t(42), Value("answer"), {.tag = Value("t1")});
    cache.set(Value(Bytes(std::string("\x00user\x01", 6))), Value(Bytes(std::string(40000, 'x'))));
    cache.set(Value::tuple({Value("user"), Value(std::int64_t(7))}), Value(1.5), {.expire = 600});

    KeyPage all = browse_keys(cache, {.limit = 100});
    QCOMPARE(all.total, std::optional<std::int64_t>(503));
    QCOMPARE(all.rows.size(), std::size_t(100));
    KeyPage last = browse_keys(cache, {.offset = 500, .limit = 100, .count = false});
    QVERIFY(!last.total);
    QCOMPARE(last.rows.size(), std::size_t(3));

    // Search: text keys by LIKE (case-insensitive), bytes and pickled keys by their bytes.
    KeyPage found = browse_keys(cache, {.search = "USER:49", .limit = 1000});
    QCOMPARE(found.total, std::optional<std::int64_t>(11));  // user:49, user:490..499
    KeyPage in_bytes = browse_keys(cache, {.search = "user", .order = KeyOrder::Size, .descending = true, .limit = 2});
    QCOMPARE(in_bytes.total, std::optional<std::int64_t>(502));  // 500 texts, the bytes key, the tuple
    QCOMPARE(in_bytes.rows.front().key, Value(Bytes(std::string("\x00user\x01", 6))).repr());
    QCOMPARE(in_bytes.rows.front().kind, std::string("bytes (file)"));
    QCOMPARE(in_bytes.rows.front().size, std::int64_t(40000));
    KeyPage wildcard = browse_keys(cache, {.search = "%", .limit = 10});  // LIKE's wildcards are literal
    QCOMPARE(wildcard.total, std::optional<std::int64_t>(0));

    KeyPage tuple = browse_keys(cache, {.search = "user", .order = KeyOrder::Expires, .descending = true, .limit = 1});
    QCOMPARE(tuple.rows.front().key, std::string("('user', 7)"));
    QCOMPARE(tuple.rows.front().kind, std::string("float"));
    QVERIFY(tuple.rows.front().expire_time && *tuple.rows.front().expire_time > tuple.rows.front().store_time);

    KeyPage number = browse_keys(cache, {.search = "42", .order = KeyOrder::Tag, .descending = true, .limit = 1});
    QCOMPARE(number.rows.front().key, std::string("42"));
    QCOMPARE(number.rows.front().kind, std::string("str"));
    QCOMPARE(number.rows.front().tag, std::string("t1"));

    KeyPage sorted = browse_keys(cache, {.search = "user:", .order = KeyOrder::Key, .descending = true, .limit = 1});
    QCOMPARE(sorted.rows.front().key, std::string("user:99"));

    QVERIFY_THROWS_EXCEPTION(InvalidArgument, browse_keys(cache, {.limit = 0}));
    QVERIFY_THROWS_EXCEPTION(InvalidArgument, browse_keys(cache, {.offset = -1}));
  }

  // A pickled key that cannot be decoded (a GLOBAL opcode, as Python writes
  // for a frozenset) is listed by its size; the others are listed too.
  void browse_shows_an_undecodable_key_and_goes_on() {
    const auto dir = fresh();
    {
      Cache cache(dir);
      cache.set("fine", Value(1));
    }
    sqlite3* db = nullptr;
    QCOMPARE(sqlite3_open((dir / "cache.db").c_str(), &db), SQLITE_OK);
    const char* sql =
        "INSERT INTO Cache(key, raw, store_time, expire_time, access_time, access_count, tag, size, mode, filename, "
        "value) VALUES (x'80058c086275696c74696e73948c096672FF', 0, 1, NULL, 1, 0, NULL, 0, 1, NULL, 1)";
    QCOMPARE(sqlite3_exec(db, sql, nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
    Cache cache(dir, Options{.read_only = true});
    const KeyPage page = browse_keys(cache, {.order = KeyOrder::Kind});
    QCOMPARE(page.rows.size(), std::size_t(2));
    int undecodable = 0;
    for (const auto& row : page.rows) undecodable += row.key.starts_with("<undecodable pickle, 18 bytes>");
    QCOMPARE(undecodable, 1);
  }

  // Keys written by the real Python diskcache are listed as Python shows them.
  void browse_lists_python_written_keys() {
    const auto dir = fresh();
    QProcess python;
    python.start(test_support::python(),
                 {"-c",
                  "import sys, diskcache; c = diskcache.Cache(sys.argv[1]); c.set('text', 1); c.set(3, b'x' * 70000); "
                  "c.set(('a', 1.5), 'v', tag='t')",
                  QString::fromStdString(dir.string())});
    QVERIFY(python.waitForFinished(30000));
    QCOMPARE(python.exitCode(), 0);
    Cache cache(dir, Options{.read_only = true});
    const KeyPage page = browse_keys(cache, {.order = KeyOrder::Stored});
    QCOMPARE(page.rows.size(), std::size_t(3));
    QCOMPARE(page.rows[0].key, std::string("text"));
    QCOMPARE(page.rows[0].kind, std::string("int"));
    QCOMPARE(page.rows[1].key, std::string("3"));
    QCOMPARE(page.rows[1].kind, std::string("bytes (file)"));
    QCOMPARE(page.rows[1].size, std::int64_t(70000));
    QCOMPARE(page.rows[2].key, std::string("('a', 1.5)"));
    QCOMPARE(page.rows[2].tag, std::string("t"));
  }

  void fanout_inspection_names_shards_and_totals_add_up() {
    const auto dir = fresh();
    FanoutCache cache(dir, {.shards = 4});
    std::vector<std::string> keys;
    for (int i = 0; i < 8; ++i) {
      keys.push_back("job-" + std::to_string(i));
      Lock lock(cache, keys.back());
      lock.lock();
      lock.unlock();
    }
    Lock held(cache, "held");
    held.lock();
    for (int i = 0; i < 40; ++i) cache.set(i, Value(std::string(100, 'v')));

    const auto primitives = inspect_primitives(cache);
    QCOMPARE(primitives.size(), std::size_t(9));
    for (const auto& p : primitives) {
      const std::size_t expected = shard_index(p.key, 4);
      QCOMPARE(p.shard, expected);
      QCOMPARE(&cache.shard_for(p.key), &cache.shard(p.shard));
    }

    std::vector<std::int64_t> after;
    auto events = primitive_history(cache, after, 1000);
    QCOMPARE(after.size(), std::size_t(4));
    QCOMPARE(events.size(), std::size_t(17));  // 8 acquire+release pairs, one acquire
    QVERIFY(std::is_sorted(events.begin(), events.end(), [](const auto& a, const auto& b) { return a.at < b.at; }));
    for (const auto& e : events) QCOMPARE(e.shard, shard_index(e.key, 4));
    QVERIFY(primitive_history(cache, after, 1000).empty());  // nothing new since
    held.unlock();
    events = primitive_history(cache, after, 1000);
    QCOMPARE(events.size(), std::size_t(1));
    QCOMPARE(events.front().event, std::string("release"));

    const CacheTotals t = totals(cache);
    QCOMPARE(t.shards, std::size_t(4));
    QCOMPARE(t.count, cache.size());
    QCOMPARE(t.volume, cache.volume());
    std::int64_t sum = 0;
    for (std::size_t i = 0; i < 4; ++i) sum += totals(cache.shard(i)).count;
    QCOMPARE(sum, t.count);
  }
};

QTEST_GUILESS_MAIN(TestBrowse)
#include "tst_browse.moc"
