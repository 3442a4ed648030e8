// UTF-8 helpers shared by the pickle codec and value storage.
#pragma once

#include <cstddef>
#include <string_view>

namespace diskcache::detail {

// True when `s` is well-formed UTF-8. With `allow_surrogates`, encoded
// surrogates (U+D800..U+DFFF) are accepted, as Python's 'surrogatepass' does.
bool valid_utf8(std::string_view s, bool allow_surrogates = false) noexcept;

// Number of code points in well-formed UTF-8 (Python's len(str)).
std::size_t utf8_length(std::string_view s) noexcept;

}  // namespace diskcache::detail
