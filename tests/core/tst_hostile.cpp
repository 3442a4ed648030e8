// A cache directory written by an attacker, or left in a strange state, can
// make no call hang, allocate without bound or act outside the directory:
// FIFOs and symlinks where files belong, sparse files behind huge size
// claims, undecodable keys and malformed side-table rows (passed over and
// reported), invalid UTF-8, a fanout directory opened as a plain cache.
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <QtTest>
#include <fstream>
#include <sstream>
#include <thread>

#include "diskcache/cache.hpp"
#include "diskcache/error.hpp"
#include "diskcache/fanout.hpp"
#include "diskcache/inspect.hpp"
#include "diskcache/primitives.hpp"
#include "test_support.hpp"

using namespace diskcache;
using namespace test_support;

namespace {

void raw_sql(const std::string& db_path, const std::string& sql) {
  sqlite3* db = nullptr;
  sqlite3_open(db_path.c_str(), &db);
  char* err = nullptr;
  sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  if (err) qFatal("%s", err);
  sqlite3_close(db);
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

const std::string kValueName = "ab/cd/0123456789abcdef0123456789ab.val";

// A row under text key `key` naming kValueName as a file-backed bytes value.
void plant_file_row(const std::string& dir, const std::string& key, std::int64_t size) {
  raw_sql(dir + "/cache.db", "INSERT INTO Cache(key, raw, store_time, size, mode, filename) VALUES ('" + key +
                                 "', 1, 0, " + std::to_string(size) + ", 2, '" + kValueName + "')");
  std::filesystem::create_directories(dir + "/ab/cd");
}

}  // namespace

class TestHostile : public QObject {
  Q_OBJECT
  QTemporaryDir tmp_;
  int n_ = 0;
  std::string fresh() { return (tmp_.path() + "/c" + QString::number(n_++)).toStdString(); }

 private slots:
  // Issue 18.1: a FIFO as a value file or as cache.db is refused at once.
  void fifo_value_file_is_refused_not_read() {
    const std::string dir = fresh();
    Cache cache(dir);
    cache.set("fine", 1);
    plant_file_row(dir, "pipe", 5);
    QCOMPARE(::mkfifo((dir + "/" + kValueName).c_str(), 0644), 0);
    for (const auto& call : std::vector<std::function<void()>>{
             [&] { cache.get("pipe"); }, [&] { cache.get_entry("pipe"); },
             [&] {
               std::ostringstream out;
               cache.read("pipe", out);
             },
             [&] { cache.open_value("pipe"); }}) {
      const std::string msg = message_of<CorruptCache>(call);
      QVERIFY2(contains(msg, "FIFO") && contains(msg, "'pipe'") && contains(msg, dir), msg.c_str());
    }
    const auto warnings = cache.check();
    QVERIFY(std::any_of(warnings.begin(), warnings.end(), [](const std::string& w) { return contains(w, "FIFO"); }));
    cache.check(true);  // drops the row, never opens the FIFO for reading
    QVERIFY(!cache.contains("pipe"));
    QCOMPARE(cache.get("fine"), std::optional<Value>(1));
  }

  void fifo_or_symlink_database_is_refused() {
    const std::string dir = fresh();
    std::filesystem::create_directories(dir);
    QCOMPARE(::mkfifo((dir + "/cache.db").c_str(), 0644), 0);
    for (bool read_only : {true, false}) {
      Options o;
      o.read_only = read_only;
      const std::string msg = message_of<CorruptCache>([&] { Cache c(dir, o); });
      QVERIFY2(contains(msg, "FIFO") && contains(msg, "cache.db"), msg.c_str());
    }
    // Issue 18.6: a cache.db linked to a database elsewhere is never written.
    const std::string outside = fresh();
    { Cache elsewhere(outside); }
    const std::string linked = fresh();
    std::filesystem::create_directories(linked);
    std::filesystem::create_symlink(outside + "/cache.db", linked + "/cache.db");
    const auto before = std::filesystem::last_write_time(outside + "/cache.db");
    const std::string msg = message_of<CorruptCache>([&] { Cache c(linked); });
    QVERIFY2(contains(msg, "symlink") && contains(msg, linked), msg.c_str());
    QCOMPARE(std::filesystem::last_write_time(outside + "/cache.db"), before);
    QVERIFY(!std::filesystem::exists(linked + "/cache.db-wal"));
  }

  // Issue 18.2: a 64 GiB claim behind a sparse file: a clear error, no
  // allocation; the value streams; the bound is an option.
  void huge_size_claims_are_bounded() {
    const std::string dir = fresh();
    Cache cache(dir);
    const std::int64_t huge = std::int64_t{64} << 30;
    plant_file_row(dir, "huge", huge);
    {
      std::ofstream touch(dir + "/" + kValueName);
    }
    std::filesystem::resize_file(dir + "/" + kValueName, static_cast<std::uintmax_t>(huge));
    std::string msg = message_of<UnsupportedValue>([&] { cache.get("huge"); });
    QVERIFY2(contains(msg, std::to_string(huge)) && contains(msg, "'huge'") && contains(msg, dir) &&
                 contains(msg, "max_read_bytes"),
             msg.c_str());
    auto reader = cache.open_value("huge");  // streaming has no bound
    QVERIFY(reader);
    QCOMPARE(reader->size(), huge);
    char buf[4096];
    QCOMPARE(reader->read(buf, sizeof buf), sizeof buf);
    QCOMPARE(buf[100], '\0');

    // A claim that disagrees with the file is refused before any allocation.
    raw_sql(dir + "/cache.db", "UPDATE Cache SET size = 5 WHERE key = 'huge'");
    msg = message_of<CorruptCache>([&] { cache.get("huge"); });
    QVERIFY2(contains(msg, "expects 5") && contains(msg, "'huge'"), msg.c_str());
    raw_sql(dir + "/cache.db", "UPDATE Cache SET size = -1 WHERE key = 'huge'");
    msg = message_of<CorruptCache>([&] { cache.get("huge"); });
    QVERIFY2(contains(msg, "negative") && contains(msg, "'huge'"), msg.c_str());

    Options small;
    small.max_read_bytes = 1000;
    Cache bounded(fresh(), small);
    bounded.set("big", Value(Bytes(std::string(40000, 'b'))));
    msg = message_of<UnsupportedValue>([&] { bounded.get("big"); });
    QVERIFY2(contains(msg, "40000") && contains(msg, "'big'"), msg.c_str());
    std::ostringstream out;
    QVERIFY(bounded.read("big", out));
    QCOMPARE(out.str().size(), std::size_t{40000});
    QVERIFY(bounded.contains("big"));  // refusing to load it changed nothing
  }

  // Issue 18.3: undecodable keys are passed over and reported; the rest is
  // listed in every order.
  void undecodable_keys_are_skipped_and_reported() {
    const std::string dir = fresh();
    Cache cache(dir);
    cache.set("a", 1);
    // frozenset({1}), then ('f', int) as memoize(typed=True) writes it.
    raw_sql(dir + "/cache.db",
            "INSERT INTO Cache(key, raw, store_time, size, mode, value) VALUES "
            "(x'8005950500000000000000284b01912e', 0, 0, 0, 1, 1), "
            "(x'80059515000000000000008c01668c086275696c74696e738c03696e7493862e', 0, 0, 0, 1, 2)");
    cache.set("b", 2);
    std::int64_t bad_rowid = 0;
    {
      sqlite3* db = nullptr;
      sqlite3_open((dir + "/cache.db").c_str(), &db);
      sqlite3_stmt* st = nullptr;
      sqlite3_prepare_v2(db, "SELECT min(rowid) FROM Cache WHERE raw = 0", -1, &st, nullptr);
      sqlite3_step(st);
      bad_rowid = sqlite3_column_int64(st, 0);
      sqlite3_finalize(st);
      sqlite3_close(db);
    }
    for (bool sorted : {false, true}) {
      for (bool reverse : {false, true}) {
        KeyRange range = sorted ? cache.sorted_keys(reverse) : cache.keys(reverse);
        std::vector<Value> seen(range.begin(), range.end());
        std::sort(seen.begin(), seen.end(), [](const Value& x, const Value& y) { return x.repr() < y.repr(); });
        QCOMPARE(seen, (std::vector<Value>{"a", "b"}));
        QCOMPARE(range.skipped().size(), std::size_t{2});
        const SkippedRow& row = range.skipped()[sorted ? 0 : 0];
        QCOMPARE(row.table, std::string("Cache"));
        QCOMPARE(row.database, std::filesystem::path(dir) / "cache.db");
        const bool known_rowid = row.rowid == bad_rowid || row.rowid == bad_rowid + 1;
        QVERIFY(known_rowid);
        QVERIFY2(contains(row.reason, "FROZENSET") || contains(row.reason, "GLOBAL"), row.reason.c_str());
      }
    }
    auto items = cache.items();
    std::size_t count = 0;
    for (const Item& item : items) count += item.key == Value("a") || item.key == Value("b");
    QCOMPARE(count, std::size_t{2});
    QCOMPARE(items.skipped().size(), std::size_t{2});
  }

  void undecodable_keys_in_a_fanout_are_reported() {
    const std::string dir = fresh();
    FanoutCache cache(dir, {.shards = 2});
    cache.set("a", 1);
    raw_sql(dir + "/001/cache.db",
            "INSERT INTO Cache(key, raw, store_time, size, mode, value) VALUES "
            "(x'8005950500000000000000284b01912e', 0, 0, 0, 1, 1)");
    for (bool sorted : {false, true}) {
      auto range = sorted ? cache.sorted_keys() : cache.keys();
      std::vector<Value> seen(range.begin(), range.end());
      QCOMPARE(seen, std::vector<Value>{Value("a")});
      QCOMPARE(range.skipped().size(), std::size_t{1});
      QCOMPARE(range.skipped()[0].database, std::filesystem::path(dir) / "001" / "cache.db");
    }
  }

  // Issue 18.4: one malformed row in each side table; the others are shown.
  void malformed_side_rows_are_reported_not_fatal() {
    const std::string dir = fresh();
    Cache cache(dir);
    {
      Lock good(cache, "good");
      good.lock();
      BoundedSemaphore sem(cache, "sem", 2);
      sem.acquire();
      const std::string db = dir + "/cache.db";
      raw_sql(db, "INSERT INTO diskcache_primitives(key, raw, kind, bound, registered) VALUES ('odd', 1, 'frob', "
                  "NULL, 0)");
      raw_sql(db, "INSERT INTO diskcache_holders(key, raw, holder, host, boot_id, pid_ns, pid, start_time, thread, "
                  "acquired_at, expires_at, count) VALUES ('sem', 1, 'x:1:2:3', 'h', 'b', 0, 'not a pid', 0, 0, 0, "
                  "NULL, 1)");
      raw_sql(db, "INSERT INTO diskcache_history(at, key, raw, kind, event, holder, pid, thread, host, waited) "
                  "VALUES (0, x'8005950500000000000000284b01912e', 0, 'lock', 'acquire', 'h', 1, 1, 'h', 0)");
      raw_sql(db, "INSERT INTO diskcache_side(space, name, value, updated) VALUES ('gpu', x'8005ff', x'00', 0)");
      SkippedRows skipped;
      const auto all = inspect_primitives(cache, true, &skipped);
      QCOMPARE(all.size(), std::size_t{2});
      for (const auto& p : all) QCOMPARE(p.holders.size(), std::size_t{1});
      QCOMPARE(skipped.size(), std::size_t{2});
      QCOMPARE(skipped[0].table, std::string("diskcache_primitives"));
      QVERIFY2(contains(skipped[0].reason, "frob") && contains(skipped[0].reason, dir), skipped[0].reason.c_str());
      QCOMPARE(skipped[1].table, std::string("diskcache_holders"));
      QVERIFY2(contains(skipped[1].reason, "pid"), skipped[1].reason.c_str());

      skipped.clear();
      const auto events = primitive_history(cache, 0, 1000, &skipped);
      QCOMPARE(events.size(), std::size_t{2});  // the two acquisitions
      QCOMPARE(skipped.size(), std::size_t{1});
      QCOMPARE(skipped[0].table, std::string("diskcache_history"));

      skipped.clear();
      QVERIFY(cache.side_list("gpu", &skipped).empty());
      QCOMPARE(skipped.size(), std::size_t{1});
      QCOMPARE(skipped[0].table, std::string("diskcache_side"));
      sem.release();
    }
  }

  // Issue 18.5: invalid UTF-8 inline text is refused like a text file.
  void invalid_utf8_inline_text_is_refused() {
    const std::string dir = fresh();
    Cache cache(dir);
    raw_sql(dir + "/cache.db",
            "INSERT INTO Cache(key, raw, store_time, size, mode, value) VALUES "
            "('bad value', 1, 0, 0, 1, CAST(x'ff41' AS TEXT)), (CAST(x'c3' AS TEXT), 1, 1, 0, 1, 1)");
    std::string msg = message_of<CorruptCache>([&] { cache.get("bad value"); });
    QVERIFY2(contains(msg, "UTF-8") && contains(msg, "'bad value'"), msg.c_str());
    msg = message_of<CorruptCache>([&] { cache.peekitem(true); });
    QVERIFY2(contains(msg, "UTF-8"), msg.c_str());
    auto keys = cache.keys();
    const std::vector<Value> seen(keys.begin(), keys.end());
    QCOMPARE(seen, std::vector<Value>{Value("bad value")});
    QCOMPARE(keys.skipped().size(), std::size_t{1});
  }

  // Issue 18.8 (the Python side is in tst_interop): no plain cache.db is
  // created where shards live.
  void plain_cache_refused_on_a_fanout_directory() {
    const std::string dir = fresh();
    { FanoutCache fanout(dir, {.shards = 3}); }
    const std::string msg = message_of<InvalidArgument>([&] { Cache c(dir); });
    QVERIFY2(contains(msg, "FanoutCache"), msg.c_str());
    QVERIFY(!std::filesystem::exists(dir + "/cache.db"));
    Options ro;
    ro.read_only = true;
    QVERIFY_THROWS_EXCEPTION(InvalidArgument, Cache(dir, ro));
    FanoutCache again(dir);
    QVERIFY(again.set("still", "works"));
  }

  // Issue 18.12: tag_index() is read while another thread changes it (run
  // under ThreadSanitizer by scripts/test.sh).
  void tag_index_read_while_it_changes() {
    Cache cache(fresh());
    std::atomic<bool> stop{false};
    std::thread reader([&] {
      while (!stop) (void)cache.tag_index();
    });
    for (int i = 0; i < 20; ++i) {
      cache.create_tag_index();
      QVERIFY(cache.tag_index());
      cache.drop_tag_index();
      QVERIFY(!cache.tag_index());
    }
    stop = true;
    reader.join();
  }
};

QTEST_GUILESS_MAIN(TestHostile)
#include "tst_hostile.moc"
