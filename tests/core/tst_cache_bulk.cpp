// Bulk operations: eviction policies and culling as Python does them, tags,
// clear/expire with progress, and check() finding and fixing damage.
#include <sqlite3.h>

#include <QtTest>
#include <fstream>

#include "diskcache/cache.hpp"
#include "diskcache/error.hpp"
#include "test_support.hpp"

using namespace diskcache;

namespace {
void raw_sql(const std::string& dir, const char* sql) {
  sqlite3* db = nullptr;
  sqlite3_open((dir + "/cache.db").c_str(), &db);
  char* err = nullptr;
  sqlite3_exec(db, sql, nullptr, nullptr, &err);
  if (err) qFatal("%s", err);
  sqlite3_close(db);
}
}  // namespace

class TestCacheBulk : public QObject {
  Q_OBJECT
  QTemporaryDir tmp_;
  int n_ = 0;
  double now_ = 1.0e9;
  std::string fresh() { return (tmp_.path() + "/c" + QString::number(n_++)).toStdString(); }

 private slots:
  void cull_follows_policy_data() {
    QTest::addColumn<int>("policy");
    QTest::addColumn<QList<int>>("culled");  // which of the 30 keys cull() removes
    QList<int> first_ten, middle_ten;
    for (int i = 0; i < 10; ++i) first_ten << i, middle_ten << 10 + i;
    QTest::newRow("least-recently-stored") << int(EvictionPolicy::LeastRecentlyStored) << first_ten;
    QTest::newRow("least-recently-used") << int(EvictionPolicy::LeastRecentlyUsed) << middle_ten;
    QTest::newRow("least-frequently-used") << int(EvictionPolicy::LeastFrequentlyUsed) << QList<int>{};
    QTest::newRow("none") << int(EvictionPolicy::None) << QList<int>{};
  }
  void cull_follows_policy() {
    QFETCH(int, policy);
    QFETCH(QList<int>, culled);
    const auto p = static_cast<EvictionPolicy>(policy);
    const std::string dir = fresh();
    Options o{.settings = {.size_limit = 1ll << 40, .eviction_policy = p}};
    o.clock = [this] { return now_ += 1; };
    {
      Cache cache(dir, o);
      for (int i = 0; i < 30; ++i) cache.set(i, Value(Bytes(std::string(40000, 'v'))));
      for (int round = 0; round < 2; ++round)
        for (int i = 0; i < 10; ++i) cache.get(i);  // 0..9: recently and frequently used
    }
    o.settings.size_limit = 1000000;  // 30 x 40 kB is over; 20 x 40 kB is under
    Cache cache(dir, o);
    const std::int64_t removed = cache.cull();
    QCOMPARE(removed, p == EvictionPolicy::None ? 0 : 10);
    if (p == EvictionPolicy::LeastFrequentlyUsed) {
      for (int i = 0; i < 10; ++i) QVERIFY(cache.contains(i));  // used ones survive
    }
    for (int i : culled) QVERIFY2(!cache.contains(i), qPrintable(QString::number(i)));
    QVERIFY(cache.check().empty());
  }

  void set_culls_when_over_the_limit() {
    Cache cache(fresh(), Options{.settings = {.size_limit = 500000}});
    for (int i = 0; i < 40; ++i) cache.set(i, Value(Bytes(std::string(40000, 'v'))));
    QVERIFY(cache.size() < 40);
    QVERIFY(cache.contains(39));
    QVERIFY(!cache.contains(0));
    QVERIFY(cache.check().empty());
  }

  void set_culls_expired_first() {
    Options o;
    o.clock = [this] { return now_; };
    Cache cache(fresh(), o);
    for (int i = 0; i < 5; ++i) cache.set(i, i, {.expire = 1});
    now_ += 2;
    cache.set("fresh", 1);  // culls up to cull_limit (10) expired rows
    QCOMPARE(cache.size(), 1);
  }

  void evict_by_tag_with_progress() {
    Cache cache(fresh(), Options{.settings = {.tag_index = true}});
    for (int i = 0; i < 250; ++i) cache.set(i, i, {.tag = i % 2 ? Value("odd") : Value(Bytes("even"))});
    std::vector<std::int64_t> reported;
    QCOMPARE(cache.evict("odd", [&](std::int64_t done, std::int64_t expected) {
      reported.push_back(done);
      QCOMPARE(expected, 125);
    }),
             125);
    QCOMPARE(reported, (std::vector<std::int64_t>{100, 125}));
    QCOMPARE(cache.size(), 125);
    QCOMPARE(cache.evict(Bytes("even")), 125);
    QVERIFY_THROWS_EXCEPTION(InvalidArgument, cache.evict(Value::tuple({1})));
    cache.drop_tag_index();
    QVERIFY(!cache.tag_index());
  }

  void clear_and_expire_report_progress() {
    Options o;
    o.clock = [this] { return now_; };
    Cache cache(fresh(), o);
    for (int i = 0; i < 230; ++i) cache.set(i, Value(std::string(i % 50 ? 10 : 40000, 'x')), {.expire = i < 30 ? 1 : 1000});
    now_ += 5;
    std::int64_t last = 0;
    QCOMPARE(cache.expire(std::nullopt, [&](std::int64_t done, std::int64_t) { last = done; }), 30);
    QCOMPARE(last, 30);
    QCOMPARE(cache.clear([&](std::int64_t done, std::int64_t expected) {
      last = done;
      QCOMPARE(expected, 200);
    }),
             200);
    QCOMPARE(last, 200);
    QCOMPARE(cache.size(), 0);
    QVERIFY(cache.check().empty());
    QCOMPARE(cache.volume() < 1000000, true);
  }

  void check_finds_and_fixes_damage() {
    const std::string dir = fresh();
    Cache cache(dir);
    cache.set("a", Value(Bytes(std::string(40000, 'a'))));
    cache.set("b", Value(Bytes(std::string(40000, 'b'))));
    cache.set("c", Value(Bytes(std::string(40000, 'c'))));
    std::vector<std::string> files;
    for (auto& e : std::filesystem::recursive_directory_iterator(dir))
      if (e.path().extension() == ".val") files.push_back(e.path().string());
    QCOMPARE(files.size(), std::size_t{3});
    std::filesystem::remove(files[0]);                          // missing file
    std::filesystem::resize_file(files[1], 100);                // wrong size
    std::filesystem::create_directories(dir + "/ab/cd");
    std::ofstream(dir + "/ab/cd/orphan.val") << "stray";        // unknown file
    std::filesystem::create_directories(dir + "/ee/ff");        // empty folders
    raw_sql(dir, "UPDATE Settings SET value = 99 WHERE key = 'count'");
    const auto warnings = cache.check(true);
    auto has = [&](const char* text) {
      return std::any_of(warnings.begin(), warnings.end(),
                         [&](const std::string& w) { return w.find(text) != std::string::npos; });
    };
    QVERIFY(has("file not found"));
    QVERIFY(has("wrong file size"));
    QVERIFY(has("unknown file"));
    QVERIFY(has("empty directory"));
    QVERIFY(has("Settings.count"));
    const auto after = cache.check();
    QVERIFY2(after.empty(), after.empty() ? "" : after.front().c_str());
    QCOMPARE(cache.size(), 2);
  }

  void value_folders_are_pruned_when_they_empty() {
    const std::string dir = fresh();
    Cache cache(dir);
    auto folders = [&] {
      int n = 0;
      for (auto& e : std::filesystem::recursive_directory_iterator(dir)) n += e.is_directory();
      return n;
    };
    const Value big(Bytes(std::string(40000, 'v')));
    for (int round = 0; round < 3; ++round) cache.set("k", big);  // overwrites: one file, its two folders
    QCOMPARE(folders(), 2);
    cache.transact([&] {  // stored, replaced and erased in one transaction
      cache.set("t", big);
      cache.set("t", big);
      cache.erase("t");
      cache.set("k", big);
    });
    QCOMPARE(folders(), 2);
    QVERIFY(cache.check().empty());
    cache.erase("k");  // the last file: its folders go too
    QCOMPARE(folders(), 0);
    cache.transact([&] {
      cache.set("u", big);
      cache.erase("u");
    });
    QCOMPARE(folders(), 0);
    QVERIFY(cache.check().empty());

    // The folder new files go to stays open between stores. Removed from
    // outside (as another process or a user might), the next store makes a
    // folder again instead of failing.
    cache.set("w", big);
    QCOMPARE(folders(), 2);
    for (auto& e : std::filesystem::directory_iterator(dir))
      if (e.is_directory()) std::filesystem::remove_all(e.path());
    QCOMPARE(folders(), 0);
    cache.set("x", big);
    QCOMPARE(folders(), 2);
    QVERIFY(cache.get("x") == big);
  }
};

QTEST_GUILESS_MAIN(TestCacheBulk)
#include "tst_cache_bulk.moc"
