// The pickle subset: byte-exact encodings checked against bytes CPython 3.11
// produced (pickle protocol 5, keys through pickletools.optimize), round
// trips, and hostile inputs that must be refused without executing anything.
#include <QtTest>

#include <random>

#include "diskcache/error.hpp"
#include "diskcache/pickle.hpp"
#include "test_support.hpp"

using namespace diskcache;

namespace {
std::string unhex(const char* hex) { return QByteArray::fromHex(hex).toStdString(); }
std::string hex(const std::string& s) { return QByteArray::fromStdString(s).toHex().toStdString(); }

Value random_value(std::mt19937& rng, int depth) {
  const int kind = static_cast<int>(rng() % (depth > 3 ? 7 : 10));
  auto text = [&] {
    std::string s;
    const int n = static_cast<int>(rng() % 5);
    const char* pieces[] = {"a", "é", "€", "x", "", "long string here", "😀"};
    for (int i = 0; i < n; ++i) s += pieces[rng() % 7];
    return s;
  };
  switch (kind) {
    case 0: return Value();
    case 1: return Value(rng() % 2 == 0);
    case 2: return Value(static_cast<std::int64_t>(rng()) - (1ll << 31) * static_cast<std::int64_t>(rng() % 3));
    case 3: return Value::integer(rng() % 2 ? "123456789012345678901234567890" : "-98765432109876543210");
    case 4: return Value(static_cast<double>(rng()) / 7.0);
    case 5: return Value(text());
    case 6: return Value(Bytes(text()));
    default: {
      ValueList items;
      const int n = static_cast<int>(rng() % 6);
      for (int i = 0; i < n; ++i) items.push_back(random_value(rng, depth + 1));
      if (kind == 7) return Value::tuple(std::move(items));
      if (kind == 8) return Value::list(std::move(items));
      ValuePairs pairs;
      for (auto& item : items) {
        Value key(text());
        bool dup = false;
        for (auto& [k, v] : pairs) dup = dup || k == key;
        if (!dup) pairs.emplace_back(std::move(key), std::move(item));
      }
      return Value::dict(std::move(pairs));
    }
  }
}
}  // namespace

class TestPickle : public QObject {
  Q_OBJECT
 private slots:
  void python_bytes_data() {
    QTest::addColumn<Value>("value");
    QTest::addColumn<int>("form");
    QTest::addColumn<QString>("expected");
    const int key = static_cast<int>(pickle::Form::Key), val = static_cast<int>(pickle::Form::Value);
    QTest::newRow("None") << Value() << key << "80054e2e";
    QTest::newRow("True") << Value(true) << key << "8005882e";
    QTest::newRow("False") << Value(false) << key << "8005892e";
    QTest::newRow("tuple key") << Value::tuple({"123-456", 1}) << key
                               << "8005950d000000000000008c073132332d3435364b01862e";
    QTest::newRow("shared 1-char str") << Value::tuple({"x", "x"}) << key << "80059508000000000000008c0178946800862e";
    QTest::newRow("shared empty bytes") << Value::tuple({Bytes(""), Bytes("")}) << key
                                        << "80059507000000000000004300946800862e";
    QTest::newRow("shared latin-1 char") << Value::tuple({"é", "é"}) << key
                                         << "80059509000000000000008c02c3a9946800862e";
    QTest::newRow("distinct euro") << Value::tuple({"€", "€"}) << key
                                   << "8005950c000000000000008c03e282ac8c03e282ac862e";
    QTest::newRow("distinct 2-char") << Value::tuple({"ab", "ab"}) << key
                                     << "8005950a000000000000008c026162" "8c026162862e";
    QTest::newRow("empty tuples") << Value::tuple({Value::tuple(), Value::tuple()}) << key
                                  << "80059504000000000000002929862e";
    QTest::newRow("list key") << Value::list({1, 2}) << key << "80059508000000000000005d284b014b02652e";
    QTest::newRow("dict key") << Value::dict({{"a", 1}}) << key << "80059508000000000000007d8c01614b01732e";
    const Value mixed = Value::tuple({"a", Value::list({1, Value::dict({{"k", Value()}})}),
                                      Value::integer("1180591620717411303424"), -1, 1.5});
    QTest::newRow("mixed key") << mixed << key
                               << "8005952a00000000000000288c01615d284b017d8c016b4e73658a09000000000000000040"
                                  "4affffffff473ff8000000000000742e";
    QTest::newRow("mixed value") << mixed << val
                                 << "8005952f00000000000000288c0161945d94284b017d948c016b944e73658a0900000000000000"
                                    "00404affffffff473ff800000000000074942e";
  }
  void python_bytes() {
    QFETCH(Value, value);
    QFETCH(int, form);
    QFETCH(QString, expected);
    const std::string encoded = pickle::encode(value, static_cast<pickle::Form>(form));
    QCOMPARE(QString::fromStdString(hex(encoded)), expected);
    QCOMPARE(pickle::decode(encoded), value);
  }

  void integers_data() {
    QTest::addColumn<QString>("decimal");
    for (const char* d : {"0", "1", "255", "256", "65535", "65536", "-1", "-128", "-129", "2147483647", "-2147483648",
                          "2147483648", "9223372036854775807", "-9223372036854775808", "9223372036854775808",
                          "-9223372036854775809", "340282366920938463463374607431768211456"})
      QTest::newRow(d) << QString(d);
  }
  void integers() {
    QFETCH(QString, decimal);
    const Value v = Value::integer(decimal.toStdString());
    QCOMPARE(QString::fromStdString(v.repr()), decimal);
    QCOMPARE(pickle::decode(pickle::encode(v, pickle::Form::Key)), v);
  }

  void round_trips() {
    std::mt19937 rng(1234);
    for (int i = 0; i < 2000; ++i) {
      const Value v = random_value(rng, 0);
      for (auto form : {pickle::Form::Key, pickle::Form::Value}) {
        const Value back = pickle::decode(pickle::encode(v, form));
        QVERIFY2(back == v, v.repr().c_str());
      }
    }
  }

  void large_payloads_are_framed_like_python() {
    // A 100 KB bytes object is written outside any frame (pickletools).
    const std::string big(100000, 'z');
    const std::string encoded = pickle::encode(Value::tuple({Bytes(big), 1}), pickle::Form::Key);
    QCOMPARE(QString::fromStdString(hex(encoded.substr(0, 2))), QString("8005"));
    QCOMPARE(static_cast<unsigned char>(encoded[2]), static_cast<unsigned char>('B'));  // BINBYTES, no FRAME
    QCOMPARE(pickle::decode(encoded), Value::tuple({Bytes(big), 1}));
  }

  void refuses_code_execution_data() {
    QTest::addColumn<QString>("hex");
    QTest::newRow("GLOBAL os.system") << "800563706f730a73797374656d0a2e";
    QTest::newRow("STACK_GLOBAL") << "80058c026f7394" "8c0673797374656d94" "932e";
    QTest::newRow("REDUCE") << "80054e29522e";
    QTest::newRow("BUILD") << "80055d4e622e";
    QTest::newRow("INST") << "800528696f730a73797374656d0a2e";
    QTest::newRow("NEWOBJ") << "80054e2981" "2e";
    QTest::newRow("PERSID") << "800550310a2e";
    QTest::newRow("EMPTY_SET") << "80058f2e";
    QTest::newRow("BYTEARRAY8") << "8005960100000000000000612e";
    QTest::newRow("protocol-0 INT") << "8005493031" "0a2e";
  }
  void refuses_code_execution() {
    QFETCH(QString, hex);
    QVERIFY_THROWS_EXCEPTION(UnsupportedValue, pickle::decode(unhex(hex.toLatin1().constData())));
  }

  void refuses_malformed_data() {
    QTest::addColumn<QByteArray>("data");
    QTest::newRow("empty") << QByteArray();
    QTest::newRow("no STOP") << QByteArray::fromHex("80054e");
    QTest::newRow("trailing bytes") << QByteArray::fromHex("80054e2e00");
    QTest::newRow("truncated string") << QByteArray::fromHex("80058c10616263");
    QTest::newRow("huge BINBYTES8 length") << QByteArray::fromHex("80058effffffffffffffff2e");
    QTest::newRow("huge FRAME") << QByteArray::fromHex("800595ffffffffffffff7f4e2e");
    QTest::newRow("invalid UTF-8") << QByteArray::fromHex("80058c01ff2e");
    QTest::newRow("two results") << QByteArray::fromHex("80054e4e2e");
    QTest::newRow("undefined memo") << QByteArray::fromHex("80056805" "2e");
    QTest::newRow("POP_MARK without MARK") << QByteArray::fromHex("8005312e");
    QTest::newRow("APPEND to dict") << QByteArray::fromHex("80057d4e612e");
    QTest::newRow("odd SETITEMS") << QByteArray::fromHex("80057d284e752e");
    QTest::newRow("self-containing list") << QByteArray::fromHex("80055d946800612e");
    QTest::newRow("mutation after use") << QByteArray::fromHex("80055d945d946800" "61" "6800" "4e" "61" "2e");
    QTest::newRow("unhashable dict key") << QByteArray::fromHex("80057d5d4e732e");
    QByteArray deep("\x80\x05", 2);
    deep += QByteArray(2000, ']') + QByteArray(1999, 'a') + ".";
    QTest::newRow("nesting 2000") << deep;
  }
  void refuses_malformed() {
    QFETCH(QByteArray, data);
    QVERIFY_THROWS_EXCEPTION(CorruptCache, pickle::decode(data.toStdString()));
  }

  void bounds_memo_expansion() {
    // Each level is a list holding ten references to the previous level:
    // 24 bytes a level, 10^30 leaves when expanded.
    std::string p = unhex("8005");
    p += "]" + unhex("94") + "C" + std::string(1, 100) + std::string(100, 'A') + "a";
    for (int level = 1; level <= 30; ++level) {
      p += "]" + unhex("94") + "(";
      for (int i = 0; i < 10; ++i) p += "h" + std::string(1, static_cast<char>(level - 1));
      p += "e";
    }
    p += ".";
    QVERIFY_THROWS_EXCEPTION(CorruptCache, pickle::decode(p));
  }

  // The budget is memory, not a count of elements: 4 million small ints
  // (a list of 2,000 referenced 2,000 times, 8 KB of pickle) would take
  // about 200 MB, over the default 64 MiB + 4 x input. (Counted as elements,
  // the fuzzer's inputs reached 2 GB of RSS within the budget.)
  void bounds_memory_not_element_count() {
    std::string p = unhex("8005") + "]" + unhex("94") + "(";
    for (int i = 0; i < 2000; ++i) p += "K" + std::string(1, '\x01');
    p += "e0]" + unhex("94") + "(";  // POP: the first list stays in the memo only
    for (int i = 0; i < 2000; ++i) p += "h" + std::string(1, '\0');
    p += "e.";
    QVERIFY_THROWS_EXCEPTION(CorruptCache, pickle::decode(p));
    pickle::DecodeLimits roomy;
    roomy.max_output = std::size_t{1} << 30;  // a caller who allows it gets it
    QCOMPARE(pickle::decode(p, roomy).items().size(), std::size_t(2000));
  }

  void encoder_refuses_what_python_cannot_load() {
    QVERIFY_THROWS_EXCEPTION(UnsupportedValue, pickle::encode(Value(std::string("\xff\xfe")), pickle::Form::Value));
    QVERIFY_THROWS_EXCEPTION(UnsupportedValue,
                             pickle::encode(Value::dict({{Value::list({}), 1}}), pickle::Form::Value));
  }
};

QTEST_GUILESS_MAIN(TestPickle)
#include "tst_pickle.moc"
