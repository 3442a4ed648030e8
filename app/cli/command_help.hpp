// Help for one command: `diskcache help CMD` and `diskcache CMD --help`.
#pragma once

#include <QString>
#include <optional>

namespace cli {

// The usage, description, options and an example of `command`, or nothing
// when there is no such command.
std::optional<QString> command_help(const QString& command);

}  // namespace cli
