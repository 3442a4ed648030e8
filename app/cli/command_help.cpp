#include "command_help.hpp"

#include <map>

namespace cli {

std::optional<QString> command_help(const QString& command) {
  static const std::map<QString, QString> help{
      {"stats", "usage: diskcache stats DIR [--json]\n"
                "Items, volume, hits and misses, eviction policy, shards, GPU transfer figures.\n"
                "example: diskcache stats /tmp/cache --json\n"},
      {"keys", "usage: diskcache keys DIR [--limit N] [--json]\n"
               "Keys in insertion order, one per line as Python literals (what --key-py takes).\n"
               "Rows whose key cannot be decoded are passed over with a warning on stderr.\n"
               "example: diskcache keys /tmp/cache --limit 10\n"},
      {"get", "usage: diskcache get DIR KEY [--raw] [--json] [--key-int|--key-float|--key-bytes|--key-py|--key-json]\n"
              "The value; exit 1 on a miss. Text is printed with control characters escaped;\n"
              "--raw writes text or bytes unchanged; --json gives bytes as base64.\n"
              "example: diskcache get /tmp/cache \"('user', 42)\" --key-py\n"},
      {"set", "usage: diskcache set DIR KEY VALUE [--int|--float|--bytes] [--expire S] [--tag T]\n"
              "Stores VALUE (text unless a type option says otherwise; bytes in hex).\n"
              "example: diskcache set /tmp/cache greeting hello --expire 60\n"},
      {"rm", "usage: diskcache rm DIR KEY\nDeletes KEY; exit 1 when it was missing.\n"
             "example: diskcache rm /tmp/cache greeting\n"},
      {"locks", "usage: diskcache locks DIR [--json]\n"
                "Locks, semaphores, averagers: state, use, how long held, holders (stale ones marked).\n"
                "example: diskcache locks /tmp/cache\n"},
      {"release", "usage: diskcache release DIR KEY [--force] [--holder ID]\n"
                  "Frees a stale lock or a dead holder's permits; exit 4 when a holder is alive or\n"
                  "unknown (a Python lock's is), unless --force; exit 1 when nothing is held.\n"
                  "example: diskcache release /tmp/cache demo:stale-lock\n"},
      {"register", "usage: diskcache register DIR KEY --kind lock|semaphore [--bound N]\n"
                   "Marks a key a Python Lock or BoundedSemaphore uses, so that locks, release and the\n"
                   "monitor show it.\n"
                   "example: diskcache register /tmp/cache pool --kind semaphore --bound 4\n"},
      {"lock", "usage: diskcache lock DIR KEY [--timeout S] [--semaphore N | --shared | --exclusive]\n"
               "                      -- COMMAND [ARGS...]\n"
               "Runs COMMAND holding the Lock KEY (or one permit of a semaphore of bound N, or the\n"
               "SharedLock KEY: --shared beside other readers, --exclusive alone), as flock(1)\n"
               "does; exits with COMMAND's status, 1 when the timeout passed first (the command\n"
               "did not run), 127 when it cannot be started.\n"
               "example: diskcache lock /tmp/cache nightly --timeout 30 -- ./backup.sh\n"
               "example: diskcache lock /tmp/cache catalog --shared -- ./report.sh\n"},
      {"history", "usage: diskcache history DIR [KEY] [--limit N] [--json]\n"
                  "Recent acquisitions, releases, timeouts and force-releases, oldest first.\n"
                  "example: diskcache history /tmp/cache nightly --limit 20\n"},
      {"check", "usage: diskcache check DIR [--fix] [--json]\n"
                "Verifies the database and value files; exit 1 when it finds problems (a damaged\n"
                "database included), 0 when clean. --fix repairs what it reports.\n"
                "example: diskcache check /tmp/cache --fix\n"},
      {"evict", "usage: diskcache evict DIR --tag T\nRemoves every item tagged T.\n"
                "example: diskcache evict /tmp/cache --tag session\n"},
      {"watch", "usage: diskcache watch DIR [--interval S] [--iterations N] [--json]\n"
                "A live view; piped or with --json, one JSON object per refresh instead.\n"
                "example: diskcache watch /tmp/cache --json | jq .count\n"},
  };
  const auto it = help.find(command);
  if (it == help.end()) return std::nullopt;
  return it->second + "Exit codes: 0 ok, 1 not found / problems, 2 usage, 3 error, 4 refused.\n";
}

}  // namespace cli
