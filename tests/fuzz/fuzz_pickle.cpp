// libFuzzer target for the pickle decoder: any input must either decode or
// throw a diskcache::Error -- never crash, hang, leak or read out of bounds.
// A decoded value must re-encode to bytes that decode and re-encode to the
// same bytes (compared as bytes: a NaN float never equals itself).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "diskcache/error.hpp"
#include "diskcache/pickle.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  diskcache::Value value;
  try {
    value = diskcache::pickle::decode(input);
  } catch (const diskcache::Error&) {
    return 0;
  }
  try {
    const std::string once = diskcache::pickle::encode(value, diskcache::pickle::Form::Value);
    const std::string twice = diskcache::pickle::encode(diskcache::pickle::decode(once), diskcache::pickle::Form::Value);
    if (once != twice) std::abort();
  } catch (const diskcache::UnsupportedValue&) {
    // e.g. lone surrogates are decodable but text keys must be UTF-8
  }
  return 0;
}
