#include "stored_value.hpp"

#include <sqlite3.h>

#include "diskcache/error.hpp"
#include "diskcache/pickle.hpp"
#include "utf8.hpp"
#include "value_files.hpp"

namespace diskcache::detail {

void SqlScalar::bind(Query& q, int index) const {
  switch (kind) {
    case Null: q.bind_null(index); break;
    case Integer: q.bind(index, i); break;
    case Real: q.bind(index, d); break;
    case Text: q.bind_text(index, s); break;
    case Blob: q.bind_blob(index, s); break;
  }
}

SqlScalar SqlScalar::column(const Query& q, int col) {
  SqlScalar out;
  switch (q.column_type(col)) {
    case SQLITE_INTEGER: out.kind = Integer; out.i = q.int64(col); break;
    case SQLITE_FLOAT: out.kind = Real; out.d = q.real(col); break;
    case SQLITE_TEXT: out.kind = Text; out.s = q.text(col); break;
    case SQLITE_BLOB: out.kind = Blob; out.s = q.blob(col); break;
    default: break;
  }
  return out;
}

DbKey encode_key(const Value& key) {
  DbKey out;
  switch (key.type()) {
    case Value::Type::Bytes: out.key = {SqlScalar::Blob, 0, 0, key.as_bytes().data}; return out;
    case Value::Type::Text:
      if (!valid_utf8(key.as_text())) throw UnsupportedValue("key text is not valid UTF-8: " + key.repr().substr(0, 60));
      out.key = {SqlScalar::Text, 0, 0, key.as_text()};
      return out;
    case Value::Type::Int: out.key = {SqlScalar::Integer, key.as_int(), 0, {}}; return out;
    case Value::Type::Float: out.key = {SqlScalar::Real, 0, key.as_double(), {}}; return out;
    default:
      out.key = {SqlScalar::Blob, 0, 0, pickle::encode(key, pickle::Form::Key)};
      out.raw = 0;
      if (std::string shared = pickle::encode(key, pickle::Form::SharedKey); shared != out.key.s)
        out.shared_form = std::move(shared);
      return out;
  }
}

DbKey stored_key(Connection& c, DbKey key) {
  if (!key.shared_form) return key;
  const auto has_row = [&](const std::string& blob) {
    Query q(c, "SELECT 1 FROM Cache WHERE key = ? AND raw = 0");
    q.bind_blob(1, blob);
    return q.step();
  };
  if (!has_row(key.key.s) && has_row(*key.shared_form)) std::swap(key.key.s, *key.shared_form);
  return key;
}

Value decode_scalar(const SqlScalar& s) {
  switch (s.kind) {
    case SqlScalar::Null: return Value();
    case SqlScalar::Integer: return Value(s.i);
    case SqlScalar::Real: return Value(s.d);
    case SqlScalar::Text:
      // Python's sqlite3 refuses such a column ("Could not decode to UTF-8"),
      // and a text value file with the same bytes is refused too.
      if (!valid_utf8(s.s)) throw CorruptCache("stored text is not valid UTF-8");
      return Value(s.s);
    case SqlScalar::Blob: return Value(Bytes(s.s));
  }
  return Value();
}

Value decode_key(const SqlScalar& key, std::int64_t raw) {
  if (raw) return decode_scalar(key);
  if (key.kind != SqlScalar::Blob) throw CorruptCache("pickled key (raw = 0) is not a BLOB");
  return pickle::decode(key.s);
}

SqlScalar encode_tag(const Value& tag) {
  switch (tag.type()) {
    case Value::Type::None: return {};
    case Value::Type::Int: return {SqlScalar::Integer, tag.as_int(), 0, {}};
    case Value::Type::Float: return {SqlScalar::Real, 0, tag.as_double(), {}};
    case Value::Type::Text: return {SqlScalar::Text, 0, 0, tag.as_text()};
    case Value::Type::Bytes: return {SqlScalar::Blob, 0, 0, tag.as_bytes().data};
    default:
      throw InvalidArgument("a tag must be None, int, float, str or bytes (as in Python), not " +
                            std::string(tag.type_name()));
  }
}

StoredValue store_value(const Value& value, std::int64_t min_file_size, ValueFiles& files) {
  StoredValue out;
  const auto min_size = static_cast<std::size_t>(std::max<std::int64_t>(min_file_size, 0));
  switch (value.type()) {
    case Value::Type::Int: out.value = {SqlScalar::Integer, value.as_int(), 0, {}}; return out;
    case Value::Type::Float: out.value = {SqlScalar::Real, 0, value.as_double(), {}}; return out;
    case Value::Type::Text: {
      const std::string& text = value.as_text();
      if (!valid_utf8(text)) throw UnsupportedValue("text value is not valid UTF-8");
      if (utf8_length(text) < min_size) {
        out.value = {SqlScalar::Text, 0, 0, text};
        return out;
      }
      out.mode = kModeText;
      out.filename = files.write(text);
      out.size = static_cast<std::int64_t>(text.size());
      return out;
    }
    case Value::Type::Bytes: {
      const std::string& bytes = value.as_bytes().data;
      if (bytes.size() < min_size) {
        out.value = {SqlScalar::Blob, 0, 0, bytes};
        return out;
      }
      out.mode = kModeBinary;
      out.filename = files.write(bytes);
      out.size = static_cast<std::int64_t>(bytes.size());
      return out;
    }
    default: {
      std::string pickled = pickle::encode(value, pickle::Form::Value);
      out.mode = kModePickle;
      if (pickled.size() < min_size) {
        out.value = {SqlScalar::Blob, 0, 0, std::move(pickled)};
        return out;
      }
      out.filename = files.write(pickled);
      out.size = static_cast<std::int64_t>(pickled.size());
      return out;
    }
  }
}

std::optional<Value> fetch_value(int mode, const std::optional<std::string>& filename, const SqlScalar& value,
                                 std::int64_t size, ValueFiles& files) {
  switch (mode) {
    case kModeRaw: return decode_scalar(value);
    case kModeBinary:
    case kModeText:
    case kModePickle: {
      if (mode == kModePickle && !filename) {
        if (value.kind != SqlScalar::Blob) throw CorruptCache("inline pickled value is not a BLOB");
        return pickle::decode(value.s);
      }
      if (!filename) throw CorruptCache("file-backed value (mode " + std::to_string(mode) + ") has no filename");
      if (size < 0) throw CorruptCache("file-backed value claims a negative size (" + std::to_string(size) + ")");
      auto data = files.read(*filename, size);
      if (!data) return std::nullopt;
      if (mode == kModeBinary) return Value(Bytes(std::move(*data)));
      if (mode == kModeText) {
        if (!valid_utf8(*data)) throw CorruptCache("text value file " + files.full_path(*filename) + " is not UTF-8");
        return Value(std::move(*data));
      }
      return pickle::decode(*data);
    }
    default: throw CorruptCache("unknown value mode " + std::to_string(mode));
  }
}

}  // namespace diskcache::detail
