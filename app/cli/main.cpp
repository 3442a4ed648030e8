// diskcache: the facts of a cache directory for terminals and scripts.
// Read-only unless the command writes (set, rm, release, evict, check --fix).
#include <QCommandLineParser>
#include <QCoreApplication>
#include <iostream>

#include "command_help.hpp"
#include "commands.hpp"
#include "diskcache/error.hpp"

int main(int argc, char** argv) {
  QCoreApplication app(argc, argv);
  QCoreApplication::setApplicationName("diskcache");
  QCoreApplication::setApplicationVersion("0.1.0");
  QCommandLineParser parser;
  parser.setApplicationDescription(
      "Inspect and edit a diskcache directory (C++ or Python diskcache, plain or fanout).\n\n"
      "Commands:\n"
      "  stats DIR                 items, volume, hits, misses, policy, shards\n"
      "  keys DIR [--limit N]      keys in insertion order\n"
      "  get DIR KEY               the value (exit 1 on a miss); control characters in text are\n"
      "                            escaped unless --raw (which writes text or bytes unchanged)\n"
      "  set DIR KEY VALUE         store a value [--int|--float|--bytes] [--expire S] [--tag T]\n"
      "  rm DIR KEY                delete a key (exit 1 when missing)\n"
      "  locks DIR                 locks, semaphores, averagers and their holders\n"
      "  release DIR KEY           free a stale lock or a dead holder's permit (exit 4 when a\n"
      "                            holder is alive or unknown, as a Python lock's is; --force\n"
      "                            releases anyway)\n"
      "  register DIR KEY --kind lock|semaphore [--bound N]\n"
      "                            mark a key a Python Lock or BoundedSemaphore uses, so locks,\n"
      "                            release and the monitor show it with its holders' counts\n"
      "  lock DIR KEY [--timeout S] [--semaphore N | --shared | --exclusive] -- CMD [ARGS...]\n"
      "                            run CMD holding the Lock KEY (or a permit of a semaphore of\n"
      "                            bound N, or the SharedLock KEY shared or exclusively), as\n"
      "                            flock(1) does; exits with CMD's status, 1 when the timeout\n"
      "                            passed without acquiring\n"
      "  history DIR [KEY]         the primitives' recent events [--limit N]\n"
      "  check DIR [--fix]         verify the database and value files (exit 1 on problems)\n"
      "  evict DIR --tag T         remove every item with tag T\n"
      "  watch DIR                 live text view [--interval S] [--iterations N]\n\n"
      "DIR may also be a Redis store, redis://host:port[/db] (comma-separated for a quorum),\n"
      "for stats, locks, release and watch.\n"
      "Keys are text unless --key-int, --key-float, --key-bytes (hex), --key-py (a Python\n"
      "literal, the form `keys` prints) or --key-json says otherwise.\n"
      "Exit codes: 0 ok, 1 not found / problems (check: a damaged cache too), 2 usage,\n"
      "3 error (missing cache, I/O), 4 refused.\n"
      "diskcache help COMMAND (or COMMAND --help): that command's options and an example.");
  parser.addHelpOption();
  parser.addVersionOption();
  parser.addPositionalArgument("command", "stats, keys, get, set, rm, locks, release, register, check, evict or watch");
  parser.addPositionalArgument("args", "the cache directory, then the command's arguments", "DIR [ARGS...]");
  parser.addOptions({
      {"json", "Print data as JSON."},
      {"raw", "get: write the text or bytes value unchanged (no escaping, no newline)."},
      {"int", "VALUE is an integer."},
      {"float", "VALUE is a float."},
      {"bytes", "VALUE is bytes, in hex."},
      {"key-int", "KEY is an integer."},
      {"key-float", "KEY is a float."},
      {"key-bytes", "KEY is bytes, in hex."},
      {"key-py", "KEY is a Python literal, as keys prints it: \"('user', 42)\", \"b'\\x00'\", None."},
      {"key-json", "KEY is JSON (arrays are tuples): '[\"user\", 42]'."},
      {"expire", "Expire after S seconds.", "S"},
      {"tag", "Tag (text).", "T"},
      {"limit", "At most N keys.", "N"},
      {"force", "Release even when a holder is alive or unknown."},
      {"holder", "Release only this holder's permits.", "ID"},
      {"fix", "Repair what check reports."},
      {"kind", "register: lock or semaphore.", "KIND"},
      {"timeout", "lock: give up after S seconds (exit 1).", "S"},
      {"semaphore", "lock: take a permit of a semaphore of bound N instead.", "N"},
      {"shared", "lock: hold the SharedLock KEY shared (a reader) instead."},
      {"exclusive", "lock: hold the SharedLock KEY exclusively (its writer) instead."},
      {"bound", "register: the semaphore's bound.", "N"},
      {"interval", "Seconds between refreshes (watch).", "S"},
      {"iterations", "Stop after N refreshes (watch).", "N"},
  });
  if (!parser.parse(QCoreApplication::arguments())) {
    std::cerr << "diskcache: " << parser.errorText().toStdString() << " (see --help)\n";
    return cli::kUsage;
  }
  QStringList positional = parser.positionalArguments();
  // `diskcache help [CMD]` and `diskcache CMD --help`: one command's help.
  const bool help_command = !positional.isEmpty() && positional.front() == "help";
  if (parser.isSet("help") || help_command) {
    const QString topic = help_command ? positional.value(1) : positional.value(0);
    if (auto text = cli::command_help(topic)) {
      std::cout << text->toStdString();
      return 0;
    }
    if (!topic.isEmpty()) {
      std::cerr << "diskcache: no command '" << topic.toStdString() << "' (see diskcache --help)\n";
      return cli::kUsage;
    }
    // The usage names the program, not the path it was started by.
    QString text = parser.helpText();
    text.replace(QCoreApplication::arguments().first(), "diskcache");
    std::cout << text.toStdString();
    return 0;
  }
  if (parser.isSet("version")) parser.showVersion();
  if (positional.isEmpty()) {
    std::cerr << "diskcache: no command given (see --help)\n";
    return cli::kUsage;
  }
  const QString command = positional.takeFirst();
  try {
    return cli::run_command(command, positional, parser);
  } catch (const diskcache::InvalidArgument& e) {
    std::cerr << "diskcache: " << e.what() << "\nusage: diskcache COMMAND DIR [ARGS...] [OPTIONS] (see diskcache --help)\n";
    return cli::kUsage;
  } catch (const std::exception& e) {
    std::cerr << "diskcache: " << e.what() << "\n";
    return cli::kError;
  }
}
