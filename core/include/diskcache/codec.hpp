// Codec<T>: how a C++ type is stored as a diskcache::Value, so users can
// `set` and `get<T>` their own types. Specialise it for your type:
//
//   template <> struct diskcache::Codec<Point> {
//     static Value encode(const Point& p) { return Value::tuple({p.x, p.y}); }
//     static Point decode(const Value& v) {
//       const auto& t = v.items();
//       return {t.at(0).as_double(), t.at(1).as_double()};
//     }
//   };
//
// decode receives untrusted data: throw (TypeMismatch is what Value's
// accessors throw) rather than assume a shape.
#pragma once

#include <concepts>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "diskcache/error.hpp"
#include "diskcache/value.hpp"

namespace diskcache {

template <class T>
struct Codec;  // no generic definition: unsupported types fail to compile

template <>
struct Codec<Value> {
  static Value encode(const Value& v) { return v; }
  static Value decode(const Value& v) { return v; }
};

template <>
struct Codec<bool> {
  static Value encode(bool b) { return Value(b); }
  static bool decode(const Value& v) { return v.as_bool(); }
};

template <std::integral I>
  requires(!std::same_as<I, bool>)
struct Codec<I> {
  static Value encode(I i) { return Value(i); }
  static I decode(const Value& v) {
    const std::int64_t i = v.as_int();
    if (!std::in_range<I>(i)) throw TypeMismatch("integer " + std::to_string(i) + " out of range for the target type");
    return static_cast<I>(i);
  }
};

template <std::floating_point F>
struct Codec<F> {
  static Value encode(F f) { return Value(static_cast<double>(f)); }
  static F decode(const Value& v) { return static_cast<F>(v.as_double()); }
};

template <>
struct Codec<std::string> {
  static Value encode(const std::string& s) { return Value(s); }
  static std::string decode(const Value& v) { return v.as_text(); }
};

template <>
struct Codec<Bytes> {
  static Value encode(const Bytes& b) { return Value(b); }
  static Bytes decode(const Value& v) { return v.as_bytes(); }
};

// std::optional<T>: None when empty.
template <class T>
struct Codec<std::optional<T>> {
  static Value encode(const std::optional<T>& o) { return o ? Codec<T>::encode(*o) : Value(); }
  static std::optional<T> decode(const Value& v) {
    if (v.is_none()) return std::nullopt;
    return Codec<T>::decode(v);
  }
};

// std::vector<T>: a Python list (a tuple is accepted when decoding).
template <class T>
struct Codec<std::vector<T>> {
  static Value encode(const std::vector<T>& items) {
    ValueList out;
    out.reserve(items.size());
    for (const auto& item : items) out.push_back(Codec<T>::encode(item));
    return Value::list(std::move(out));
  }
  static std::vector<T> decode(const Value& v) {
    std::vector<T> out;
    for (const auto& item : v.items()) out.push_back(Codec<T>::decode(item));
    return out;
  }
};

// std::map<K, V>: a Python dict.
template <class K, class V>
struct Codec<std::map<K, V>> {
  static Value encode(const std::map<K, V>& m) {
    ValuePairs out;
    for (const auto& [k, v] : m) out.emplace_back(Codec<K>::encode(k), Codec<V>::encode(v));
    return Value::dict(std::move(out));
  }
  static std::map<K, V> decode(const Value& v) {
    std::map<K, V> out;
    for (const auto& [k, val] : v.pairs()) out.emplace(Codec<K>::decode(k), Codec<V>::decode(val));
    return out;
  }
};

}  // namespace diskcache
