// diskcache::Value: Python semantics for equality and repr, big integers,
// typed access and the Codec trait.
#include <QtTest>

#include "diskcache/codec.hpp"
#include "diskcache/error.hpp"
#include "diskcache/value.hpp"
#include "test_support.hpp"

using namespace diskcache;

struct Point {
  double x, y;
  bool operator==(const Point&) const = default;
};
template <>
struct diskcache::Codec<Point> {
  static Value encode(const Point& p) { return Value::tuple({p.x, p.y}); }
  static Point decode(const Value& v) { return {v.items().at(0).as_double(), v.items().at(1).as_double()}; }
};

class TestValue : public QObject {
  Q_OBJECT
 private slots:
  void repr_matches_python_data() {
    QTest::addColumn<Value>("value");
    QTest::addColumn<QString>("repr");
    QTest::newRow("none") << Value() << "None";
    QTest::newRow("true") << Value(true) << "True";
    QTest::newRow("int") << Value(-42) << "-42";
    QTest::newRow("float") << Value(1.5) << "1.5";
    QTest::newRow("float int") << Value(2.0) << "2.0";
    QTest::newRow("float big") << Value(1e16) << "1e+16";
    QTest::newRow("float small") << Value(0.0001) << "0.0001";
    QTest::newRow("float tiny") << Value(1.5e-5) << "1.5e-05";
    QTest::newRow("text") << Value("it's") << "\"it's\"";
    QTest::newRow("text escapes") << Value("a\nb\\") << "'a\\nb\\\\'";
    QTest::newRow("bytes") << Value(Bytes(std::string("\x00\xff" "a", 3))) << "b'\\x00\\xffa'";
    QTest::newRow("1-tuple") << Value::tuple({1}) << "(1,)";
    QTest::newRow("list") << Value::list({1, "a"}) << "[1, 'a']";
    QTest::newRow("dict") << Value::dict({{"k", Value()}}) << "{'k': None}";
    QTest::newRow("big") << Value::integer("-123456789012345678901234567890") << "-123456789012345678901234567890";
    QTest::newRow("u64") << Value(std::uint64_t{18446744073709551615ull}) << "18446744073709551615";
  }
  void repr_matches_python() {
    QFETCH(Value, value);
    QFETCH(QString, repr);
    QCOMPARE(QString::fromStdString(value.repr()), repr);
  }

  void equality_follows_python() {
    QVERIFY(Value(1) == Value(1.0));
    QVERIFY(Value(true) == Value(1));
    QVERIFY(!(Value("1") == Value(Bytes("1"))));
    QVERIFY(!(Value::tuple({1}) == Value::list({1})));
    QVERIFY(Value::dict({{"a", 1}, {"b", 2}}) == Value::dict({{"b", 2}, {"a", 1}}));
    QVERIFY(Value::integer("5") == Value(5));
    QCOMPARE(Value::integer("5").type(), Value::Type::Int);
  }

  void typed_access_names_the_type() {
    try {
      (void)Value("text").as_int();
      QFAIL("expected TypeMismatch");
    } catch (const TypeMismatch& e) {
      QVERIFY(std::string(e.what()).find("str") != std::string::npos);
    }
    QVERIFY_THROWS_EXCEPTION(InvalidArgument, Value::integer("12a"));
    QVERIFY_THROWS_EXCEPTION(InvalidArgument, Value::integer("-"));
  }

  void codecs_round_trip() {
    const std::vector<int> v{1, 2, 3};
    QCOMPARE(Codec<std::vector<int>>::decode(Codec<std::vector<int>>::encode(v)), v);
    const std::map<std::string, double> m{{"a", 1.5}};
    QCOMPARE((Codec<std::map<std::string, double>>::decode(Codec<std::map<std::string, double>>::encode(m))), m);
    const std::optional<std::string> none;
    QVERIFY(Codec<std::optional<std::string>>::encode(none).is_none());
    QCOMPARE(Codec<Point>::decode(Codec<Point>::encode({1, 2})), (Point{1, 2}));
    QVERIFY_THROWS_EXCEPTION(TypeMismatch, Codec<std::int8_t>::decode(Value(300)));
  }
};

QTEST_GUILESS_MAIN(TestValue)
#include "tst_value.moc"
