// Keys and values on the command line (JSON output: snapshot_json.hpp).
#pragma once

#include <QString>

#include "diskcache/value.hpp"

namespace cli {

enum class ValueKind { Text, Int, Float, BytesHex };
// Parses a command-line argument as the given kind. Throws
// diskcache::InvalidArgument naming the bad input.
diskcache::Value parse_value(const QString& text, ValueKind kind);

}  // namespace cli
