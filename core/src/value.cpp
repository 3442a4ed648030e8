#include "diskcache/value.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>

#include "diskcache/error.hpp"

namespace diskcache {
namespace {

// Drops redundant sign-extension bytes from a little-endian two's complement.
void minimise(std::string& le) {
  while (le.size() > 1) {
    const auto top = static_cast<unsigned char>(le.back());
    const auto next = static_cast<unsigned char>(le[le.size() - 2]);
    if ((top == 0x00 && !(next & 0x80)) || (top == 0xFF && (next & 0x80))) {
      le.pop_back();
    } else {
      break;
    }
  }
}

bool is_negative(const std::string& le) {
  return !le.empty() && (static_cast<unsigned char>(le.back()) & 0x80);
}

// Two's complement negation in place (invert, add one).
void negate(std::string& le) {
  unsigned carry = 1;
  for (char& c : le) {
    unsigned v = static_cast<unsigned char>(~static_cast<unsigned char>(c)) + carry;
    c = static_cast<char>(v & 0xFF);
    carry = v >> 8;
  }
}

std::string double_repr(double d) {
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  std::string sci(buf, end);  // e.g. "-1.5e+00"
  const auto e_pos = sci.find('e');
  const int exponent = std::stoi(sci.substr(e_pos + 1));
  std::string mantissa = sci.substr(0, e_pos);
  const bool negative = mantissa[0] == '-';
  if (negative) mantissa.erase(0, 1);
  std::string digits;
  for (char c : mantissa)
    if (c != '.') digits += c;
  std::string out = negative ? "-" : "";
  // Python's repr: positional for 1e-4 <= |d| < 1e16, else exponent form.
  if (exponent >= -4 && exponent < 16) {
    if (exponent < 0) {
      out += "0." + std::string(static_cast<std::size_t>(-exponent - 1), '0') + digits;
    } else if (static_cast<int>(digits.size()) <= exponent + 1) {
      out += digits + std::string(static_cast<std::size_t>(exponent + 1) - digits.size(), '0') + ".0";
    } else {
      out += digits.substr(0, static_cast<std::size_t>(exponent + 1)) + "." +
             digits.substr(static_cast<std::size_t>(exponent + 1));
    }
    return out;
  }
  out += digits.substr(0, 1);
  if (digits.size() > 1) out += "." + digits.substr(1);
  char exp_buf[16];
  std::snprintf(exp_buf, sizeof exp_buf, "e%c%02d", exponent < 0 ? '-' : '+', std::abs(exponent));
  return out + exp_buf;
}

void append_hex_escape(std::string& out, unsigned char c) {
  static const char* hex = "0123456789abcdef";
  out += "\\x";
  out += hex[c >> 4];
  out += hex[c & 15];
}

std::string quoted(std::string_view s, bool bytes) {
  const bool has_single = s.find('\'') != std::string_view::npos;
  const bool has_double = s.find('"') != std::string_view::npos;
  const char quote = (has_single && !has_double) ? '"' : '\'';
  std::string out = bytes ? "b" : "";
  out += quote;
  for (unsigned char c : s) {
    if (c == static_cast<unsigned char>(quote) || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7F || (bytes && c >= 0x80)) {
      append_hex_escape(out, c);
    } else {
      out += static_cast<char>(c);
    }
  }
  out += quote;
  return out;
}

double big_to_double(const BigInt& big) {
  std::string mag = big.le_bytes;
  const bool neg = is_negative(mag);
  if (neg) negate(mag);
  double result = 0;
  for (auto it = mag.rbegin(); it != mag.rend(); ++it) result = result * 256 + static_cast<unsigned char>(*it);
  return neg ? -result : result;
}

}  // namespace

Value::Value(BigInt big) {
  minimise(big.le_bytes);
  if (big.le_bytes.empty()) {
    v_ = std::int64_t{0};
  } else if (big.le_bytes.size() <= 8) {
    std::uint64_t u = is_negative(big.le_bytes) ? ~std::uint64_t{0} : 0;
    for (std::size_t i = 0; i < big.le_bytes.size(); ++i) {
      u &= ~(std::uint64_t{0xFF} << (8 * i));
      u |= std::uint64_t{static_cast<unsigned char>(big.le_bytes[i])} << (8 * i);
    }
    v_ = static_cast<std::int64_t>(u);
  } else {
    v_ = std::move(big);
  }
}

Value::Storage Value::big_from_u64(std::uint64_t u) {
  BigInt big;
  for (int i = 0; i < 8; ++i) big.le_bytes += static_cast<char>((u >> (8 * i)) & 0xFF);
  big.le_bytes += '\0';  // keeps the value positive
  return big;
}

Value Value::tuple(ValueList items) {
  Value v;
  v.v_ = Tuple{std::move(items)};
  return v;
}

Value Value::list(ValueList items) {
  Value v;
  v.v_ = List{std::move(items)};
  return v;
}

Value Value::dict(ValuePairs items) {
  Value v;
  v.v_ = Dict{std::move(items)};
  return v;
}

Value Value::integer(std::string_view decimal) {
  std::string_view digits = decimal;
  bool negative = false;
  if (!digits.empty() && (digits[0] == '-' || digits[0] == '+')) {
    negative = digits[0] == '-';
    digits.remove_prefix(1);
  }
  if (digits.empty()) throw InvalidArgument("not an integer: '" + std::string(decimal) + "'");
  std::string mag;  // little-endian magnitude
  for (char c : digits) {
    if (c < '0' || c > '9') throw InvalidArgument("not an integer: '" + std::string(decimal) + "'");
    unsigned carry = static_cast<unsigned>(c - '0');
    for (char& byte : mag) {
      unsigned v = static_cast<unsigned char>(byte) * 10u + carry;
      byte = static_cast<char>(v & 0xFF);
      carry = v >> 8;
    }
    while (carry) {
      mag += static_cast<char>(carry & 0xFF);
      carry >>= 8;
    }
  }
  mag += '\0';  // room for the sign bit
  if (negative) negate(mag);
  return Value(BigInt{std::move(mag)});
}

std::string to_decimal(const BigInt& big) {
  std::string mag = big.le_bytes;
  const bool neg = is_negative(mag);
  if (neg) negate(mag);
  std::string out;
  // Repeated division of the big-endian magnitude by 10.
  std::vector<unsigned> be(mag.rbegin(), mag.rend());
  for (auto& b : be) b &= 0xFF;
  while (!be.empty()) {
    unsigned rem = 0;
    std::vector<unsigned> quotient;
    for (unsigned b : be) {
      unsigned cur = rem * 256 + b;
      unsigned q = cur / 10;
      rem = cur % 10;
      if (!quotient.empty() || q) quotient.push_back(q);
    }
    out += static_cast<char>('0' + rem);
    be = std::move(quotient);
  }
  if (out.empty()) out = "0";
  if (neg) out += '-';
  return std::string(out.rbegin(), out.rend());
}

namespace {
[[noreturn]] void mismatch(const Value& v, const char* wanted) {
  throw TypeMismatch(std::string("expected ") + wanted + ", got " + std::string(v.type_name()) + " " +
                     v.repr().substr(0, 80));
}
}  // namespace

bool Value::as_bool() const {
  if (auto* b = std::get_if<bool>(&v_)) return *b;
  mismatch(*this, "bool");
}

std::int64_t Value::as_int() const {
  if (auto* i = std::get_if<std::int64_t>(&v_)) return *i;
  mismatch(*this, "int in int64 range");
}

double Value::as_double() const {
  if (auto* d = std::get_if<double>(&v_)) return *d;
  if (auto* i = std::get_if<std::int64_t>(&v_)) return static_cast<double>(*i);
  mismatch(*this, "float");
}

const std::string& Value::as_text() const {
  if (auto* t = std::get_if<Text>(&v_)) return t->s;
  mismatch(*this, "str");
}

const Bytes& Value::as_bytes() const {
  if (auto* b = std::get_if<Bytes>(&v_)) return *b;
  mismatch(*this, "bytes");
}

const BigInt& Value::as_big_int() const {
  if (auto* b = std::get_if<BigInt>(&v_)) return *b;
  mismatch(*this, "int outside int64 range");
}

const ValueList& Value::items() const {
  if (auto* t = std::get_if<Tuple>(&v_)) return t->items;
  if (auto* l = std::get_if<List>(&v_)) return l->items;
  mismatch(*this, "tuple or list");
}

ValueList& Value::items() {
  return const_cast<ValueList&>(std::as_const(*this).items());
}

const ValuePairs& Value::pairs() const {
  if (auto* d = std::get_if<Dict>(&v_)) return d->items;
  mismatch(*this, "dict");
}

ValuePairs& Value::pairs() {
  return const_cast<ValuePairs&>(std::as_const(*this).pairs());
}

const Value* Value::find(const Value& key) const {
  for (const auto& [k, v] : pairs())
    if (k == key) return &v;
  return nullptr;
}

std::string_view Value::type_name() const noexcept {
  switch (type()) {
    case Type::None: return "NoneType";
    case Type::Bool: return "bool";
    case Type::Int:
    case Type::BigInt: return "int";
    case Type::Float: return "float";
    case Type::Text: return "str";
    case Type::Bytes: return "bytes";
    case Type::Tuple: return "tuple";
    case Type::List: return "list";
    case Type::Dict: return "dict";
  }
  return "?";
}

std::string Value::repr() const {
  switch (type()) {
    case Type::None: return "None";
    case Type::Bool: return std::get<bool>(v_) ? "True" : "False";
    case Type::Int: return std::to_string(std::get<std::int64_t>(v_));
    case Type::BigInt: return to_decimal(std::get<BigInt>(v_));
    case Type::Float: return double_repr(std::get<double>(v_));
    case Type::Text: return quoted(std::get<Text>(v_).s, false);
    case Type::Bytes: return quoted(std::get<Bytes>(v_).data, true);
    case Type::Tuple:
    case Type::List: {
      const bool is_tuple = type() == Type::Tuple;
      std::string out = is_tuple ? "(" : "[";
      const auto& list = items();
      for (std::size_t i = 0; i < list.size(); ++i) {
        if (i) out += ", ";
        out += list[i].repr();
      }
      if (is_tuple && list.size() == 1) out += ",";
      return out + (is_tuple ? ")" : "]");
    }
    case Type::Dict: {
      std::string out = "{";
      bool first = true;
      for (const auto& [k, v] : pairs()) {
        if (!first) out += ", ";
        first = false;
        out += k.repr() + ": " + v.repr();
      }
      return out + "}";
    }
  }
  return "?";
}

namespace {
// Numeric view for Python's cross-type comparison of bool/int/float.
bool numeric(const Value& v, double& d) {
  switch (v.type()) {
    case Value::Type::Bool: d = v.as_bool() ? 1 : 0; return true;
    case Value::Type::Int: d = static_cast<double>(v.as_int()); return true;
    case Value::Type::BigInt: d = big_to_double(v.as_big_int()); return true;
    case Value::Type::Float: d = v.as_double(); return true;
    default: return false;
  }
}
std::int64_t exact_int(const Value& v) {
  return v.type() == Value::Type::Bool ? (v.as_bool() ? 1 : 0) : v.as_int();
}
}  // namespace

bool operator==(const Value& a, const Value& b) {
  using T = Value::Type;
  const T ta = a.type(), tb = b.type();
  const auto intlike = [](T t) { return t == T::Bool || t == T::Int; };
  if (intlike(ta) && intlike(tb)) return exact_int(a) == exact_int(b);
  if (ta != tb || ta == T::Float) {
    double da = 0, db = 0;
    if (numeric(a, da) && numeric(b, db)) return da == db;
    return false;
  }
  switch (ta) {
    case T::None: return true;
    case T::BigInt: return a.as_big_int() == b.as_big_int();
    case T::Text: return a.as_text() == b.as_text();
    case T::Bytes: return a.as_bytes() == b.as_bytes();
    case T::Tuple:
    case T::List: return a.items() == b.items();
    case T::Dict: {
      if (a.pairs().size() != b.pairs().size()) return false;
      for (const auto& [k, v] : a.pairs()) {
        const Value* other = b.find(k);
        if (!other || !(*other == v)) return false;
      }
      return true;
    }
    default: return false;
  }
}

}  // namespace diskcache
