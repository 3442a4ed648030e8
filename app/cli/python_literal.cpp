#include "python_literal.hpp"

#include <QByteArray>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QJsonParseError>
#include <cctype>
#include <cmath>
#include <limits>
#include <string>

#include "diskcache/error.hpp"

namespace cli {
namespace {

using diskcache::Value;

class LiteralParser {
 public:
  explicit LiteralParser(std::string_view text) : s_(text) {}

  Value parse() {
    Value v = value(0);
    skip_space();
    if (pos_ != s_.size()) fail("unexpected text after the literal");
    return v;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw diskcache::InvalidArgument("not a Python literal: " + what + " at offset " + std::to_string(pos_) +
                                     " of \"" + std::string(s_.substr(0, 80)) + "\"");
  }
  void skip_space() {
    while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_]))) ++pos_;
  }
  bool take(char c) {
    skip_space();
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  bool word(std::string_view w) {
    skip_space();
    if (s_.substr(pos_, w.size()) != w) return false;
    const std::size_t end = pos_ + w.size();
    if (end < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[end])) || s_[end] == '_')) return false;
    pos_ = end;
    return true;
  }

  Value value(int depth) {
    if (depth > 100) fail("nesting deeper than 100");
    skip_space();
    if (pos_ >= s_.size()) fail("a value is missing");
    const char c = s_[pos_];
    if (word("None")) return Value();
    if (word("True")) return Value(true);
    if (word("False")) return Value(false);
    if (c == '(') return sequence(')', depth, true);
    if (c == '[') return sequence(']', depth, false);
    if (c == '{') return dict(depth);
    if (c == '\'' || c == '"') return Value(quoted(false));
    if ((c == 'b' || c == 'B') && pos_ + 1 < s_.size() && (s_[pos_ + 1] == '\'' || s_[pos_ + 1] == '"')) {
      ++pos_;
      return Value(diskcache::Bytes(quoted(true)));
    }
    return number();
  }

  Value sequence(char close, int depth, bool tuple) {
    ++pos_;
    diskcache::ValueList items;
    bool comma = false;
    while (!take(close)) {
      if (!items.empty() && !comma) fail("',' or '" + std::string(1, close) + "' expected");
      items.push_back(value(depth + 1));
      comma = take(',');
    }
    if (tuple && items.size() == 1 && !comma) return items.front();  // (x) is x, (x,) a tuple
    return tuple ? Value::tuple(std::move(items)) : Value::list(std::move(items));
  }

  Value dict(int depth) {
    ++pos_;
    diskcache::ValuePairs pairs;
    bool comma = true;
    while (!take('}')) {
      if (!comma) fail("',' or '}' expected");
      Value k = value(depth + 1);
      if (!take(':')) fail("':' expected");
      pairs.emplace_back(std::move(k), value(depth + 1));
      comma = take(',');
    }
    return Value::dict(std::move(pairs));
  }

  static void append_utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  std::uint32_t hex(std::size_t digits) {
    if (pos_ + digits > s_.size()) fail("a short \\x, \\u or \\U escape");
    std::uint32_t v = 0;
    for (std::size_t i = 0; i < digits; ++i) {
      const char h = s_[pos_++];
      if (!std::isxdigit(static_cast<unsigned char>(h))) fail("a hex digit expected");
      v = v * 16 + static_cast<std::uint32_t>(std::isdigit(static_cast<unsigned char>(h)) ? h - '0'
                                                                                           : (h | 0x20) - 'a' + 10);
    }
    return v;
  }

  // The text of a quoted literal, escapes resolved (bytes: \xNN are bytes).
  std::string quoted(bool bytes) {
    const char quote = s_[pos_++];
    std::string out;
    while (true) {
      if (pos_ >= s_.size()) fail("the closing quote is missing");
      const char c = s_[pos_++];
      if (c == quote) return out;
      if (c != '\\') {
        out += c;
        continue;
      }
      if (pos_ >= s_.size()) fail("a lone backslash");
      const char e = s_[pos_++];
      switch (e) {
        case 'n': out += '\n'; break;
        case 't': out += '\t'; break;
        case 'r': out += '\r'; break;
        case '0': out += '\0'; break;
        case '\\': case '\'': case '"': out += e; break;
        case 'x': {
          const std::uint32_t v = hex(2);
          bytes ? (void)(out += static_cast<char>(v)) : append_utf8(out, v);
          break;
        }
        case 'u':
        case 'U':
          if (bytes) fail("\\u in bytes");
          append_utf8(out, hex(e == 'u' ? 4 : 8));
          break;
        default: fail(std::string("unknown escape \\") + e);
      }
    }
  }

  Value number() {
    skip_space();
    const std::size_t start = pos_;
    if (pos_ < s_.size() && (s_[pos_] == '-' || s_[pos_] == '+')) ++pos_;
    if (word("inf")) return Value(s_[start] == '-' ? -INFINITY : INFINITY);
    if (word("nan")) return Value(std::numeric_limits<double>::quiet_NaN());
    bool real = false;
    while (pos_ < s_.size() && (std::isdigit(static_cast<unsigned char>(s_[pos_])) ||
                                std::strchr(".eE+-", s_[pos_]) != nullptr)) {
      real = real || std::strchr(".eE", s_[pos_]) != nullptr;
      ++pos_;
    }
    const std::string digits(s_.substr(start, pos_ - start));
    if (digits.empty() || digits == "-" || digits == "+") fail("a value expected");
    if (!real) return Value::integer(digits[0] == '+' ? digits.substr(1) : digits);
    std::size_t used = 0;
    double d = 0;
    try {
      d = std::stod(digits, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != digits.size()) fail("'" + digits + "' is not a number");
    return Value(d);
  }

  std::string_view s_;
  std::size_t pos_ = 0;
};

Value from_json(const QJsonValue& v) {
  switch (v.type()) {
    case QJsonValue::Null: return Value();
    case QJsonValue::Bool: return Value(v.toBool());
    case QJsonValue::Double: {
      const double d = v.toDouble();
      if (std::trunc(d) == d && std::fabs(d) < 9.007199254740992e15) return Value(static_cast<std::int64_t>(d));
      return Value(d);
    }
    case QJsonValue::String: return Value(v.toString().toStdString());
    case QJsonValue::Array: {
      diskcache::ValueList items;
      for (const auto& item : v.toArray()) items.push_back(from_json(item));
      return Value::tuple(std::move(items));
    }
    case QJsonValue::Object: {
      diskcache::ValuePairs pairs;
      const QJsonObject o = v.toObject();
      for (auto it = o.begin(); it != o.end(); ++it) pairs.emplace_back(Value(it.key().toStdString()), from_json(it.value()));
      return Value::dict(std::move(pairs));
    }
    default: throw diskcache::InvalidArgument("not a JSON key");
  }
}

}  // namespace

Value parse_python_literal(std::string_view text) { return LiteralParser(text).parse(); }

Value parse_json_key(std::string_view text) {
  // Wrapped in an array: QJsonDocument reads only arrays and objects.
  QJsonParseError error{};
  const QJsonDocument doc = QJsonDocument::fromJson("[" + QByteArray(text.data(), static_cast<qsizetype>(text.size())) + "]",
                                                    &error);
  if (error.error != QJsonParseError::NoError || doc.array().size() != 1)
    throw diskcache::InvalidArgument("not a JSON value: \"" + std::string(text.substr(0, 80)) + "\" (" +
                                     error.errorString().toStdString() + ")");
  return from_json(doc.array().first());
}

}  // namespace cli
