// Nothing read from a cache directory is trusted: hostile rows, planted
// symlinks, truncated or missing value files, damaged databases, hostile
// Settings, unwritable directories and a full disk each give a clear error
// (or a miss where Python has one) and never lose or corrupt data.
#include <signal.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <unistd.h>

#include <QtTest>
#include <cstring>
#include <fstream>

#include "diskcache/cache.hpp"
#include "diskcache/error.hpp"
#include "faulty_files.hpp"
#include "test_support.hpp"

using namespace diskcache;
using namespace test_support;

namespace {

void raw_sql(const std::string& dir, const std::string& sql) {
  sqlite3* db = nullptr;
  sqlite3_open((dir + "/cache.db").c_str(), &db);
  char* err = nullptr;
  sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  if (err) qFatal("%s", err);
  sqlite3_close(db);
}

// A row naming `filename` as a file-backed bytes value under key `key`.
void plant_row(const std::string& dir, const std::string& key, const std::string& filename, int size = 5) {
  raw_sql(dir, "INSERT INTO Cache(key, raw, store_time, size, mode, filename) VALUES ('" + key + "', 1, 0, " +
                   std::to_string(size) + ", 2, '" + filename + "')");
}

std::vector<std::string> files_named(const std::string& dir, const std::string& suffix) {
  std::vector<std::string> out;
  for (auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    const std::string p = e.path().string();
    if (p.size() >= suffix.size() && p.compare(p.size() - suffix.size(), suffix.size(), suffix) == 0)
      out.push_back(p);
  }
  return out;
}

}  // namespace

class TestSafety : public QObject {
  Q_OBJECT
  QTemporaryDir tmp_;
  int n_ = 0;
  std::string fresh() {
    const std::string dir = (tmp_.path() + "/c" + QString::number(n_++)).toStdString();
    Cache create(dir);
    return dir;
  }

 private slots:
  void hostile_filenames_are_refused_data() {
    QTest::addColumn<QString>("filename");
    QTest::newRow("parent traversal") << "../../../etc/passwd";
    QTest::newRow("absolute") << "/etc/passwd";
    QTest::newRow("almost the form") << "ab/cd/0123456789abcdef0123456789ab.val/../x";
    QTest::newRow("upper-case hex") << "AB/CD/0123456789ABCDEF0123456789AB.val";
  }
  void hostile_filenames_are_refused() {
    QFETCH(QString, filename);
    const std::string dir = fresh();
    plant_row(dir, "evil", filename.toStdString());
    Cache cache(dir);
    const std::string msg = message_of<CorruptCache>([&] { cache.get("evil"); });
    QVERIFY2(msg.find("refusing") != std::string::npos, msg.c_str());
    QVERIFY(msg.find(dir) != std::string::npos);
    QVERIFY(cache.erase("evil"));  // the row goes; nothing outside is touched
    QVERIFY(std::filesystem::exists("/etc/passwd"));
  }

  void erase_never_deletes_outside_the_directory() {
    const std::string dir = fresh();
    const std::string victim = tmp_.path().toStdString() + "/victim.val";
    std::ofstream(victim) << "precious";
    plant_row(dir, "evil", "../victim.val");
    Cache cache(dir);
    QVERIFY(cache.erase("evil"));
    cache.set("x", 1);
    cache.clear();
    cache.check(true);
    QVERIFY(std::filesystem::exists(victim));
  }

  void symlinks_are_not_followed() {
    const std::string dir = fresh();
    Cache cache(dir);
    cache.set("big", Value(Bytes(std::string(40000, 'b'))));
    const std::string file = files_named(dir, ".val").at(0);
    std::filesystem::remove(file);
    std::filesystem::create_symlink("/etc/passwd", file);
    std::string msg = message_of<CorruptCache>([&] { cache.get("big"); });
    QVERIFY2(msg.find("symlink") != std::string::npos, msg.c_str());

    // A planted folder symlink: xx -> /etc
    cache.set("big2", Value(Bytes(std::string(40000, 'c'))));
    const std::string file2 = files_named(dir, ".val").at(0);
    const auto top = std::filesystem::path(file2).parent_path().parent_path();
    std::filesystem::rename(top, dir + "/moved");
    std::filesystem::create_directory_symlink("/tmp", top);
    msg = message_of<CorruptCache>([&] { cache.get("big2"); });
    QVERIFY2(msg.find("symlink") != std::string::npos, msg.c_str());
  }

  void missing_file_is_a_miss_truncated_file_an_error() {
    const std::string dir = fresh();
    Cache cache(dir);
    cache.set("gone", Value(Bytes(std::string(40000, 'g'))));
    std::filesystem::remove(files_named(dir, ".val").at(0));
    QVERIFY(!cache.get("gone"));  // Python: a vanished file reads as a miss
    cache.set("short", Value(Bytes(std::string(40000, 's'))));
    std::filesystem::resize_file(files_named(dir, ".val").at(0), 1000);
    const std::string msg = message_of<CorruptCache>([&] { cache.get("short"); });
    QVERIFY2(msg.find("1000 bytes") != std::string::npos && msg.find(".val") != std::string::npos, msg.c_str());
  }

  void hostile_pickles_in_rows() {
    const std::string dir = fresh();
    // value: pickle of os.system('true') -- GLOBAL + REDUCE
    raw_sql(dir, "INSERT INTO Cache(key, raw, store_time, size, mode, value) VALUES ('rce', 1, 0, 0, 4, "
                 "x'800563706f730a73797374656d0a8c04747275659485522e')");
    // key: a pickled key that is not a pickle
    raw_sql(dir, "INSERT INTO Cache(key, raw, store_time, size, mode, value) VALUES (x'8005ff', 0, 0, 0, 1, 1)");
    Cache cache(dir);
    const std::string msg = message_of<UnsupportedValue>([&] { cache.get("rce"); });
    QVERIFY2(msg.find("GLOBAL") != std::string::npos && msg.find("'rce'") != std::string::npos, msg.c_str());
    // Iteration passes over the undecodable key and reports its row.
    auto keys = cache.keys();
    const std::vector<Value> seen(keys.begin(), keys.end());
    QCOMPARE(seen, std::vector<Value>{Value("rce")});
    QCOMPARE(keys.skipped().size(), std::size_t{1});
    QCOMPARE(keys.skipped()[0].rowid, std::int64_t{2});
  }

  void hostile_settings_data() {
    QTest::addColumn<QString>("sql");
    QTest::addColumn<QString>("expected");
    QTest::newRow("size_limit text") << "UPDATE Settings SET value = 'abc' WHERE key = 'size_limit'"
                                     << "Settings.size_limit";
    QTest::newRow("unknown policy") << "UPDATE Settings SET value = 'evil' WHERE key = 'eviction_policy'"
                                    << "Settings.eviction_policy";
    QTest::newRow("journal mode injection")
        << "UPDATE Settings SET value = 'wal; DROP TABLE Cache' WHERE key = 'sqlite_journal_mode'"
        << "Settings.sqlite_journal_mode";
    QTest::newRow("negative cull limit") << "UPDATE Settings SET value = -5 WHERE key = 'cull_limit'"
                                         << "Settings.cull_limit";
  }
  void hostile_settings() {
    QFETCH(QString, sql);
    QFETCH(QString, expected);
    const std::string dir = fresh();
    raw_sql(dir, sql.toStdString());
    const std::string msg = message_of<CorruptCache>([&] { Cache c(dir); });
    QVERIFY2(msg.find(expected.toStdString()) != std::string::npos && msg.find(dir) != std::string::npos, msg.c_str());
  }

  void unknown_pragma_rows_are_never_executed() {
    const std::string dir = fresh();
    raw_sql(dir, "INSERT INTO Settings VALUES ('sqlite_foo', '0; DROP TABLE Cache')");
    Cache cache(dir);
    cache.set("still", "here");
    QCOMPARE(*cache.get("still"), Value("here"));
    const auto warnings = cache.check();
    QCOMPARE(warnings.size(), std::size_t{1});
    QVERIFY(warnings[0].find("sqlite_foo") != std::string::npos);
  }

  void damaged_databases_data() {
    QTest::addColumn<QByteArray>("content");
    QTest::newRow("not a database") << QByteArray("this is a text file, not SQLite\n").repeated(200);
    QByteArray header("SQLite format 3\0", 16);
    QTest::newRow("header then garbage") << header + QByteArray(8000, '\xAB');
  }
  void damaged_databases() {
    QFETCH(QByteArray, content);
    const std::string dir = (tmp_.path() + "/damaged" + QString::number(n_++)).toStdString();
    std::filesystem::create_directories(dir);
    std::ofstream(dir + "/cache.db", std::ios::binary).write(content.constData(), content.size());
    const std::string msg = message_of<CorruptCache>([&] { Cache c(dir); });
    QVERIFY2(msg.find(dir + "/cache.db") != std::string::npos, msg.c_str());
    QVERIFY_THROWS_EXCEPTION(Error, Cache(dir, Options{.read_only = true}));
  }

  void truncated_database_never_crashes() {
    const std::string dir = fresh();
    {
      Cache cache(dir);
      for (int i = 0; i < 2000; ++i) cache.set(i, Value(std::string(200, 'x')));
      cache.check(true);  // vacuum + checkpoint into cache.db
    }
    std::filesystem::remove(dir + "/cache.db-wal");
    std::filesystem::remove(dir + "/cache.db-shm");
    std::filesystem::resize_file(dir + "/cache.db", std::filesystem::file_size(dir + "/cache.db") / 2);
    try {
      Cache cache(dir);
      std::int64_t seen = 0;
      for (int i = 0; i < 2000; ++i) seen += cache.get(i).has_value();
      const auto warnings = cache.check();
      QVERIFY(!warnings.empty());
    } catch (const Error& e) {
      QVERIFY2(std::string(e.what()).find(dir) != std::string::npos, e.what());
    }
  }

  void unwritable_directory() {
    // Root ignores permissions: run the attempt as 'nobody' then, from a
    // folder 'nobody' can enter (QTemporaryDir makes its folder 0700, and the
    // build tree may sit in a home directory others cannot enter): the
    // helper and its library are copied there.
    namespace fs = std::filesystem;
    const fs::perms open_to_all = fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                  fs::perms::others_read | fs::perms::others_exec;
    const bool as_nobody = geteuid() == 0;
    fs::permissions(tmp_.path().toStdString(), open_to_all);
    const std::string tools = (tmp_.path() + "/tools").toStdString();
    QString helper = helper_path();
    if (as_nobody) {
      fs::create_directories(tools);
      fs::permissions(tools, open_to_all);
      helper = QString::fromStdString(tools + "/dc_helper");
      fs::copy_file(helper_path().toStdString(), helper.toStdString());
      for (const auto& entry : fs::directory_iterator(fs::path(DISKCACHE_CORE_LIB).parent_path()))
        if (entry.path().filename().string().rfind("libdiskcache.so", 0) == 0)
          fs::copy(entry.path(), tools / entry.path().filename(), fs::copy_options::copy_symlinks);
    }
    const std::string dir = (tmp_.path() + "/locked").toStdString();
    fs::create_directories(dir);
    fs::permissions(dir, fs::perms::owner_read | fs::perms::owner_exec | fs::perms::group_read |
                             fs::perms::group_exec | fs::perms::others_read | fs::perms::others_exec);
    Result r = as_nobody ? run("setpriv", {"--reuid=65534", "--regid=65534", "--clear-groups", "env",
                                           "LD_LIBRARY_PATH=" + QString::fromStdString(tools), helper, "open",
                                           QString::fromStdString(dir + "/sub")})
                         : run_helper({"open", QString::fromStdString(dir + "/sub")});
    QCOMPARE(r.exit_code, 3);
    QVERIFY2(r.err.contains(QByteArray::fromStdString(dir)), r.err.constData());
    // A path that cannot be a directory at all.
    std::ofstream(tmp_.path().toStdString() + "/plainfile") << "x";
    const std::string msg = message_of<IoError>([&] { Cache c(tmp_.path().toStdString() + "/plainfile/cache"); });
    QVERIFY2(msg.find("plainfile") != std::string::npos, msg.c_str());
  }

  // Issue 23.7: failures injected through Options::file_layer (no
  // LD_PRELOAD): each names the errno, the key and the directory, keeps the
  // old value and leaves no file behind.
  void file_layer_failures_name_the_key_and_lose_nothing_data() {
    QTest::addColumn<QString>("operation");
    QTest::addColumn<int>("err");
    QTest::newRow("write ENOSPC") << "write" << ENOSPC;
    QTest::newRow("write EIO") << "write" << EIO;
    QTest::newRow("create EACCES") << "create" << EACCES;
    QTest::newRow("fsync EIO (durable)") << "fsync" << EIO;
  }
  void file_layer_failures_name_the_key_and_lose_nothing() {
    QFETCH(QString, operation);
    QFETCH(int, err);
    const std::string dir = fresh();
    auto faults = std::make_shared<FaultyFiles>();
    Cache cache(dir, Options{.settings = {.min_file_size = 1024}, .durable = true, .file_layer = faults});
    const std::string old_value(50000, 'o');
    cache.set("big", Value(Bytes(old_value)));
    (operation == "write" ? faults->write_errno : operation == "create" ? faults->create_errno : faults->fsync_errno) =
        err;
    try {
      cache.set("big", Value(Bytes(std::string(60000, 'n'))));
      QFAIL("the injected failure was not reported");
    } catch (const IoError& e) {
      const std::string message = e.what();
      QCOMPARE(e.error_code(), err);
      QVERIFY2(message.find(std::strerror(err)) != std::string::npos, e.what());
      QVERIFY2(message.find("'big'") != std::string::npos && message.find(dir) != std::string::npos, e.what());
    }
    QVERIFY(faults->failures > 0);
    faults->write_errno = faults->create_errno = faults->fsync_errno = 0;
    QCOMPARE(cache.get("big")->as_bytes().data, old_value);
    QVERIFY(files_named(dir, ".tmp").empty());
    const auto warnings = cache.check();
    QVERIFY2(warnings.empty(), warnings.empty() ? "" : warnings[0].c_str());
  }

  // A read failure of a value file (get, and a streaming reader) names the file.
  void file_layer_read_failures_are_reported() {
    const std::string dir = fresh();
    auto faults = std::make_shared<FaultyFiles>();
    Cache cache(dir, Options{.settings = {.min_file_size = 1024}, .file_layer = faults});
    cache.set("big", Value(Bytes(std::string(50000, 'r'))));
    auto reader = cache.open_value("big");
    faults->read_errno = EIO;
    try {
      cache.get("big");
      QFAIL("the injected read failure was not reported");
    } catch (const IoError& e) {
      QCOMPARE(e.error_code(), EIO);
      QVERIFY2(std::string(e.what()).find(".val") != std::string::npos, e.what());
    }
    char piece[100];
    QVERIFY_THROWS_EXCEPTION(IoError, reader->read(piece, sizeof piece));
    faults->read_errno = 0;
    QCOMPARE(reader->read(piece, sizeof piece), sizeof piece);
    QCOMPARE(cache.get("big")->as_bytes().size(), std::size_t(50000));
  }

  void full_disk_loses_nothing() {
    const std::string dir = fresh();
    Cache cache(dir, Options{.settings = {.min_file_size = 1 << 24}});
    cache.set("file", Value(Bytes(std::string(40000, 'o'))));
    cache.set("inline", Value(Bytes(std::string(1000, 'i'))));
    Cache files(dir, Options{.settings = {.min_file_size = 1024}});
    files.set("file", Value(Bytes(std::string(40000, 'o'))));
    // RLIMIT_FSIZE makes every write past 2 MiB fail (EFBIG), like a full disk.
    struct rlimit old {};
    getrlimit(RLIMIT_FSIZE, &old);
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit limited = old;
    limited.rlim_cur = 2 << 20;
    setrlimit(RLIMIT_FSIZE, &limited);
    const std::string big(3 << 20, 'N');
    QVERIFY_THROWS_EXCEPTION(IoError, files.set("file", Value(Bytes(big))));
    QVERIFY_THROWS_EXCEPTION(Error, cache.set("inline", Value(Bytes(big))));
    setrlimit(RLIMIT_FSIZE, &old);
    QCOMPARE(files.get("file")->as_bytes().size(), std::size_t{40000});
    QCOMPARE(cache.get("inline")->as_bytes().size(), std::size_t{1000});
    QVERIFY(files_named(dir, ".tmp").empty());
    const auto warnings = cache.check();
    QVERIFY2(warnings.empty(), warnings.empty() ? "" : warnings[0].c_str());
  }
};

QTEST_GUILESS_MAIN(TestSafety)
#include "tst_safety.moc"
