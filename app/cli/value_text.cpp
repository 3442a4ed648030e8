#include "value_text.hpp"

#include <QByteArray>

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

}  // namespace cli
