#include "value_text.hpp"

#include <QByteArray>
#include <QJsonObject>

#include "diskcache/error.hpp"

namespace cli {

diskcache::Value parse_value(const QString& text, ValueKind kind) {
  bool ok = true;
  switch (kind) {
    case ValueKind::Text: return diskcache::Value(text.toStdString());
    case ValueKind::Int: return diskcache::Value::integer(text.toStdString());
    case ValueKind::Float: {
      const double d = text.toDouble(&ok);
      if (!ok) throw diskcache::InvalidArgument("not a number: '" + text.toStdString() + "'");
      return diskcache::Value(d);
    }
    case ValueKind::BytesHex: {
      const QByteArray raw = QByteArray::fromHex(text.toLatin1());
      if (raw.toHex() != text.toLower().toLatin1())
        throw diskcache::InvalidArgument("not hexadecimal bytes: '" + text.toStdString() + "'");
      return diskcache::Value(diskcache::Bytes(raw.toStdString()));
    }
  }
  return {};
}

QJsonValue to_json(const diskcache::Value& value) {
  QJsonObject out{{"type", QString::fromStdString(std::string(value.type_name()))},
                  {"repr", QString::fromStdString(value.repr())}};
  switch (value.type()) {
    case diskcache::Value::Type::None: out["value"] = QJsonValue::Null; break;
    case diskcache::Value::Type::Bool: out["value"] = value.as_bool(); break;
    case diskcache::Value::Type::Int: out["value"] = static_cast<qint64>(value.as_int()); break;
    case diskcache::Value::Type::Float: out["value"] = value.as_double(); break;
    case diskcache::Value::Type::Text: out["value"] = QString::fromStdString(value.as_text()); break;
    case diskcache::Value::Type::Bytes:  // JSON has no bytes: base64, said so
      out["value"] = QString::fromLatin1(QByteArray::fromStdString(value.as_bytes().data).toBase64());
      out["encoding"] = "base64";
      break;
    default: break;
  }
  return out;
}

}  // namespace cli
