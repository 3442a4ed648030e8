// Keys typed the way `diskcache keys` prints them: Python literals
// ("('user', 42)", "b'\x00'", "None") and JSON.
#pragma once

#include <string_view>

#include "diskcache/value.hpp"

namespace cli {

// A Python literal as repr() writes it: None, True, False, integers of any
// size, floats (inf, nan), str and bytes in single or double quotes with
// backslash escapes, tuples, lists and dicts. Throws
// diskcache::InvalidArgument naming the offset of what it could not read.
diskcache::Value parse_python_literal(std::string_view text);

// JSON: null, true/false, numbers (integral ones without '.' or exponent
// are ints), strings, objects (dicts) and arrays, which become tuples (a
// key's usual shape; Python cannot hash a list). Throws InvalidArgument.
diskcache::Value parse_json_key(std::string_view text);

}  // namespace cli
