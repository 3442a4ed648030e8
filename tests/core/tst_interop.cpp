// Interoperability with the real peer: Debian's python3-diskcache run by
// /usr/bin/python3 writes what C++ reads and reads what C++ writes, on every
// key and value kind, expiry, tags and eviction policy; both check() agree
// the directory is clean; concurrent increments from both sides are exact.
#include <QtTest>

#include <fstream>

#include "diskcache/cache.hpp"
#include "test_support.hpp"

using namespace diskcache;
using namespace test_support;

namespace {

struct Case {
  Value key, value;
  std::optional<double> expire;  // negative: already expired
  Value tag;
};

std::vector<Case> all_cases() {
  std::string many_e;
  for (int i = 0; i < 20000; ++i) many_e += "é";  // 20000 characters, 40000 bytes: inline
  std::string file_text;
  for (int i = 0; i < 40000; ++i) file_text += "é";  // 40000 characters: a value file
  std::string binary(300000, '\0');
  for (std::size_t i = 0; i < binary.size(); ++i) binary[i] = static_cast<char>(i * 7 % 256);
  ValueList long_list;
  for (int i = 0; i < 5000; ++i) long_list.push_back(Value::tuple({i, "item", i * 0.5}));
  return {
      {"text key", "text value", {}, {}},
      {Bytes("bytes key"), Bytes(std::string("\x00\x01\xff", 3)), {}, {}},
      {42, 4200, {}, {}},
      {-7, -1.25, {}, {}},
      {2.5, 0.1, {}, {}},
      {Value(), Value(), {}, {}},
      {true, false, {}, {}},
      {Value::tuple({"123-456", 1}), Value::tuple({"4737-140179565850688", 1}), {}, {}},
      {Value::tuple({"x", "x", Bytes("b"), Bytes("b"), ""}), Value::list({"x", "x"}), {}, {}},
      {Value::tuple({Value::tuple({1, 2}), Value::list({3}), Value::dict({{"k", Value()}})}), 1e300, {}, {}},
      {Value::integer("123456789012345678901234567890"), Value::integer("-99999999999999999999999"), {}, {}},
      {"ключ ✓", "значение ✓ 😀", {}, {}},
      {Value::list({1, "a"}), Value::dict({{"a", 1}, {2, Value::list({})}, {Value::tuple({1}), Bytes("x")}}), {}, {}},
      {"inline é text", many_e, {}, {}},
      {"file text", file_text, {}, {}},
      {"file bytes", Bytes(binary), {}, {}},
      {"file pickle", Value::list(long_list), {}, {}},
      {"expiring", "soon", 1000.0, "tag"},
      {"int tag", 1, 1000.0, 5},
      {"bytes tag", 2, {}, Bytes("bt")},
      {"float tag", 3, {}, 1.5},
      {"expired", "gone", -1.0, {}},
  };
}

QString write_case_file(const QString& dir, const std::vector<Case>& cases) {
  const QString path = dir + "/cases.txt";
  std::ofstream out(path.toStdString());
  for (const auto& c : cases)
    out << c.key.repr() << '\t' << c.value.repr() << '\t' << (c.expire ? std::to_string(*c.expire) : "") << '\t'
        << (c.tag.is_none() ? "" : c.tag.repr()) << '\n';
  return path;
}

}  // namespace

class TestInterop : public QObject {
  Q_OBJECT
  QTemporaryDir tmp_;
  int n_ = 0;
  QString fresh() { return tmp_.path() + "/c" + QString::number(n_++); }

 private slots:
  void initTestCase() {
    const auto r = run(python(), {"-c", "import diskcache; print(diskcache.__version__)"});
    EXPECT_RUN_OK(r);
  }

  void python_writes_cpp_reads_data() {
    QTest::addColumn<int>("policy");
    for (auto p : {EvictionPolicy::LeastRecentlyStored, EvictionPolicy::LeastRecentlyUsed,
                   EvictionPolicy::LeastFrequentlyUsed, EvictionPolicy::None})
      QTest::newRow(std::string(to_string(p)).c_str()) << int(p);
  }
  void python_writes_cpp_reads() {
    QFETCH(int, policy);
    const auto p = static_cast<EvictionPolicy>(policy);
    const QString dir = fresh();
    const auto cases = all_cases();
    QDir().mkpath(dir);
    const auto r = run_python("write_cases.py", {dir + "/cache", write_case_file(dir, cases),
                                                 QString::fromStdString(std::string(to_string(p)))});
    EXPECT_RUN_OK(r);
    Cache cache((dir + "/cache").toStdString());
    QCOMPARE(cache.eviction_policy(), p);
    for (const auto& c : cases) {
      auto entry = cache.get_entry(c.key);
      if (c.expire && *c.expire < 0) {
        QVERIFY2(!entry, c.key.repr().c_str());
        continue;
      }
      QVERIFY2(entry, ("missing " + c.key.repr()).c_str());
      QCOMPARE(entry->value, c.value);
      QCOMPARE(entry->value.type(), c.value.type());
      QCOMPARE(entry->tag, c.tag);
      QCOMPARE(entry->expire_time.has_value(), c.expire.has_value());
    }
    // Insertion order; the expired item was culled by Python's own set.
    std::vector<Value> keys(cache.begin(), cache.end()), live;
    for (const auto& c : cases)
      if (!c.expire || *c.expire > 0) live.push_back(c.key);
    QCOMPARE(keys, live);
    const auto warnings = cache.check();
    QVERIFY2(warnings.empty(), warnings.empty() ? "" : warnings.front().c_str());
  }

  void cpp_writes_python_reads_data() { python_writes_cpp_reads_data(); }
  void cpp_writes_python_reads() {
    QFETCH(int, policy);
    const auto p = static_cast<EvictionPolicy>(policy);
    const QString dir = fresh();
    QDir().mkpath(dir);
    const auto cases = all_cases();
    {
      Cache cache((dir + "/cache").toStdString(), Options{.settings = {.eviction_policy = p}});
      for (const auto& c : cases) {
        QVERIFY(cache.set(c.key, c.value, {c.expire, c.tag}));
        cache.get(c.key);
      }
    }
    const auto r = run_python("read_cases.py", {dir + "/cache", write_case_file(dir, cases),
                                                QString::fromStdString(std::string(to_string(p)))});
    EXPECT_RUN_OK(r);
  }

  void queue_is_shared() {
    const QString dir = fresh();
    {
      Cache cache(dir.toStdString());
      cache.push("first");
      cache.push("second");
      cache.push("zeroth", std::nullopt, Side::Front);
      cache.push("job", std::string("q"));
    }
    auto r = run_python("pyexec.py", {dir, "[cache.pull()[1] for _ in range(3)] + [cache.pull(prefix='q')]"});
    EXPECT_RUN_OK(r);
    QCOMPARE(r.out.trimmed(), QByteArray("['zeroth', 'first', 'second', ('q-500000000000000', 'job')]"));
    r = run_python("pyexec.py", {dir, "cache.push('from python', side='front')"});
    EXPECT_RUN_OK(r);
    Cache cache(dir.toStdString());
    auto item = cache.pull();
    QVERIFY(item);
    QCOMPARE(item->value, Value("from python"));
    QCOMPARE(item->key, Value(std::int64_t{500000000000000}));
  }

  void concurrent_increments_are_exact_data() {
    QTest::addColumn<QString>("mode");
    QTest::newRow("incr") << "incr";
    QTest::newRow("transact") << "transact";
  }
  void concurrent_increments_are_exact() {
    QFETCH(QString, mode);
    const QString dir = fresh();
    { Cache create(dir.toStdString()); }
    QProcess py, cpp;
    py.start(python(), {interop_script("incr.py"), dir, "n", "2000", mode});
    cpp.start(helper_path(), {mode == "incr" ? "incr" : "transact-incr", dir, "n", "2000"});
    QVERIFY(py.waitForFinished(240000));
    QVERIFY(cpp.waitForFinished(240000));
    QVERIFY2(py.exitCode() == 0, py.readAllStandardError().constData());
    QVERIFY2(cpp.exitCode() == 0, cpp.readAllStandardError().constData());
    QCOMPARE(*Cache(dir.toStdString()).get("n"), Value(4000));
  }

  void settings_written_by_cpp_are_honoured_by_python() {
    const QString dir = fresh();
    { Cache cache(dir.toStdString(), Options{.settings = {.size_limit = 123456, .cull_limit = 4, .statistics = true}}); }
    const auto r = run_python("pyexec.py", {dir, "(cache.size_limit, cache.cull_limit, cache.statistics)"});
    EXPECT_RUN_OK(r);
    QCOMPARE(r.out.trimmed(), QByteArray("(123456, 4, 1)"));
  }
};

QTEST_GUILESS_MAIN(TestInterop)
#include "tst_interop.moc"
