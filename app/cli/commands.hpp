// The CLI's commands. Each returns the process exit code:
//   0 success, 1 not found (a miss, nothing held) or problems found (check),
//   2 usage error, 3 error (damaged or missing cache, I/O), 4 refused
//   (force-release of a live holder without --force).
#pragma once

#include <QCommandLineParser>
#include <QStringList>

namespace cli {

enum Exit { kOk = 0, kNotFound = 1, kUsage = 2, kError = 3, kRefused = 4 };

// `args` are the positional arguments after the command name.
int run_command(const QString& command, const QStringList& args, const QCommandLineParser& options);

}  // namespace cli
