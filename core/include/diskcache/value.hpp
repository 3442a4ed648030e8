// diskcache::Value: the plain-data shapes Python diskcache stores, so that a
// C++ and a Python process can read each other's keys and values.
//
//   None, bool, int (any size), float, str (UTF-8 text), bytes,
//   tuple, list, dict (insertion-ordered pairs)
//
// Thread-safety: a Value is a regular value type; distinct objects may be
// used from distinct threads, const access to one object is safe.
#pragma once

#include "diskcache/export.hpp"

#include <compare>
#include <concepts>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace diskcache {

// Raw bytes (Python `bytes`). Kept apart from text so the two never mix:
// Python treats 'a' and b'a' as different keys.
struct DISKCACHE_EXPORT Bytes {
  std::string data;

  Bytes() = default;
  explicit Bytes(std::string bytes) : data(std::move(bytes)) {}
  explicit Bytes(std::string_view bytes) : data(bytes) {}
  explicit Bytes(const char* bytes) : data(bytes) {}
  std::size_t size() const noexcept { return data.size(); }
  friend bool operator==(const Bytes&, const Bytes&) = default;
};

// An integer outside int64: little-endian two's complement, minimal length
// (the encoding of pickle's LONG1/LONG4). Values that fit in int64 are never
// held as BigInt, so equality stays structural.
struct DISKCACHE_EXPORT BigInt {
  std::string le_bytes;
  friend bool operator==(const BigInt&, const BigInt&) = default;
};

class Value;
using ValueList = std::vector<Value>;
using ValuePairs = std::vector<std::pair<Value, Value>>;

class DISKCACHE_EXPORT Value {
 public:
  enum class Type { None, Bool, Int, BigInt, Float, Text, Bytes, Tuple, List, Dict };

  // None.
  Value() noexcept = default;
  Value(std::nullptr_t) noexcept {}
  // bool is its own type, as in Python (True is not the key 1 on disk).
  template <class B>
    requires std::same_as<B, bool>
  Value(B b) : v_(b) {}
  // Any integer type; unsigned values above INT64_MAX become BigInt.
  template <std::integral I>
    requires(!std::same_as<I, bool> && !std::same_as<I, char>)
  Value(I i) : v_(from_integral(i)) {}
  Value(double d) : v_(d) {}
  Value(float f) : v_(static_cast<double>(f)) {}
  // Text must be valid UTF-8 (checked when stored, not here).
  Value(std::string text) : v_(Text{std::move(text)}) {}
  Value(std::string_view text) : v_(Text{std::string(text)}) {}
  Value(const char* text) : v_(Text{std::string(text)}) {}
  Value(Bytes bytes) : v_(std::move(bytes)) {}
  Value(BigInt big);  // normalised: fits in int64 -> Int

  // Python bytes from raw data (short for Value(Bytes(std::string(data)))).
  static Value bytes(std::string_view data) { return Value(Bytes(std::string(data))); }
  static Value tuple(ValueList items = {});
  static Value list(ValueList items = {});
  static Value dict(ValuePairs items = {});
  // Parses an optionally signed decimal integer of any size.
  // Throws InvalidArgument on anything else.
  static Value integer(std::string_view decimal);

  Type type() const noexcept { return static_cast<Type>(v_.index()); }
  bool is_none() const noexcept { return type() == Type::None; }
  bool is_int() const noexcept { return type() == Type::Int || type() == Type::BigInt; }

  // Typed access; each throws TypeMismatch naming the actual type.
  bool as_bool() const;
  std::int64_t as_int() const;  // Int only (BigInt does not fit)
  double as_double() const;     // Float, or Int converted
  const std::string& as_text() const;
  const Bytes& as_bytes() const;
  const BigInt& as_big_int() const;
  const ValueList& items() const;  // Tuple or List
  ValueList& items();
  const ValuePairs& pairs() const;  // Dict
  ValuePairs& pairs();

  // The dict entry whose key equals `key`, or nullptr.
  const Value* find(const Value& key) const;

  // Python's repr(), e.g. "('a', 1, b'\\x00', None)". For display only.
  std::string repr() const;
  // Python's type name: "NoneType", "int", "str", ...
  std::string_view type_name() const noexcept;

  // Structural equality, with Python's numeric rules: 1 == 1.0, True == 1.
  friend DISKCACHE_EXPORT bool operator==(const Value& a, const Value& b);

 private:
  struct Text {
    std::string s;
    friend bool operator==(const Text&, const Text&) = default;
  };
  struct Tuple {
    ValueList items;
  };
  struct List {
    ValueList items;
  };
  struct Dict {
    ValuePairs items;
  };
  using Storage = std::variant<std::monostate, bool, std::int64_t, BigInt, double, Text, Bytes,
                               Tuple, List, Dict>;

  template <std::integral I>
  static Storage from_integral(I i) {
    if constexpr (std::is_unsigned_v<I> && sizeof(I) >= sizeof(std::int64_t)) {
      if (i > static_cast<std::uint64_t>(INT64_MAX)) return big_from_u64(i);
    }
    return static_cast<std::int64_t>(i);
  }
  static Storage big_from_u64(std::uint64_t u);

  Storage v_;
};

// Decimal text of a BigInt (any size).
DISKCACHE_EXPORT std::string to_decimal(const BigInt& big);

}  // namespace diskcache
