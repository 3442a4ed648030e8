// Keys and values on the command line and in output.
#pragma once

#include <QJsonValue>
#include <QString>

#include "diskcache/value.hpp"

namespace cli {

enum class ValueKind { Text, Int, Float, BytesHex };
// Parses a command-line argument as the given kind. Throws
// diskcache::InvalidArgument naming the bad input.
diskcache::Value parse_value(const QString& text, ValueKind kind);
// JSON for a Value: {"type": "<python type>", "repr": "<python repr>"}, plus
// "value" for JSON-representable scalars.
QJsonValue to_json(const diskcache::Value& value);

}  // namespace cli
