// The diskcache CLI driven as a binary: exit codes, JSON shapes, errors on a
// missing or damaged directory, read-only by default, fanout directories,
// locks and force-release.
#include <signal.h>

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QtTest>
#include <fstream>

#include "diskcache/cache.hpp"
#include "diskcache/fanout.hpp"
#include "diskcache/primitives.hpp"
#include "test_support.hpp"

using namespace test_support;

namespace {
Result cli(const QStringList& args) { return run(QStringLiteral(DISKCACHE_CLI), args); }
QJsonDocument json_of(const Result& r) { return QJsonDocument::fromJson(r.out); }
}  // namespace

class TestCli : public QObject {
  Q_OBJECT
  QTemporaryDir tmp_;
  int n_ = 0;
  QString fresh() { return tmp_.path() + "/c" + QString::number(n_++); }

 private slots:
  void read_only_by_default_and_clear_errors() {
    const QString missing = fresh();
    auto r = cli({"stats", missing});
    QCOMPARE(r.exit_code, 3);
    QVERIFY(r.err.contains("no cache at"));
    QVERIFY(!QFileInfo::exists(missing));  // nothing created
    QCOMPARE(cli({"frob", missing}).exit_code, 2);
    QCOMPARE(cli({}).exit_code, 2);
    QCOMPARE(cli({"get", missing}).exit_code, 2);  // missing KEY
    const QString damaged = fresh();
    QDir().mkpath(damaged);
    std::ofstream((damaged + "/cache.db").toStdString()) << std::string(5000, 'x');
    r = cli({"stats", damaged});
    QCOMPARE(r.exit_code, 3);
    QVERIFY(r.err.contains("cache.db"));
    QVERIFY(cli({"--help"}).out.contains("release DIR KEY"));
  }

  void set_get_rm_keys_stats() {
    const QString dir = fresh();
    QCOMPARE(cli({"set", dir, "greeting", "hello", "--tag", "t"}).exit_code, 0);
    QCOMPARE(cli({"set", dir, "n", "42", "--int"}).exit_code, 0);
    QCOMPARE(cli({"set", dir, "7", "ff00", "--key-int", "--bytes"}).exit_code, 0);
    auto r = cli({"get", dir, "greeting"});
    QCOMPARE(r.exit_code, 0);
    QCOMPARE(r.out.trimmed(), QByteArray("hello"));
    r = cli({"get", dir, "n", "--json"});
    const QJsonObject got = json_of(r).object();
    QCOMPARE(got["value"].toObject()["value"].toInt(), 42);
    QCOMPARE(got["value"].toObject()["type"].toString(), QString("int"));
    QCOMPARE(cli({"get", dir, "7", "--key-int"}).out.trimmed(), QByteArray("b'\\xff\\x00'"));
    QCOMPARE(cli({"get", dir, "absent"}).exit_code, 1);
    r = cli({"keys", dir, "--json"});
    QCOMPARE(json_of(r).array().size(), 3);
    r = cli({"stats", dir, "--json"});
    QCOMPARE(json_of(r).object()["count"].toInt(), 3);
    QCOMPARE(json_of(r).object()["eviction_policy"].toString(), QString("least-recently-stored"));
    QCOMPARE(cli({"rm", dir, "n"}).exit_code, 0);
    QCOMPARE(cli({"rm", dir, "n"}).exit_code, 1);
    r = cli({"evict", dir, "--tag", "t", "--json"});
    QCOMPARE(json_of(r).object()["removed"].toInt(), 1);
    QCOMPARE(cli({"set", dir, "x", "not-a-number", "--int"}).exit_code, 2);
  }

  void check_reports_and_fixes() {
    const QString dir = fresh();
    QCOMPARE(cli({"set", dir, "k", "v"}).exit_code, 0);
    QDir().mkpath(dir + "/ab/cd");
    std::ofstream((dir + "/ab/cd/stray.val").toStdString()) << "x";
    auto r = cli({"check", dir, "--json"});
    QCOMPARE(r.exit_code, 1);
    QVERIFY(!json_of(r).object()["warnings"].toArray().isEmpty());
    QVERIFY(QFileInfo::exists(dir + "/ab/cd/stray.val"));  // check alone changes nothing
    QCOMPARE(cli({"check", dir, "--fix"}).exit_code, 0);
    QCOMPARE(cli({"check", dir}).exit_code, 0);
  }

  void locks_and_release() {
    const QString dir = fresh();
    diskcache::Cache cache(dir.toStdString());
    diskcache::Lock lock(cache, "job");
    lock.lock();
    auto r = cli({"locks", dir, "--json"});
    QCOMPARE(r.exit_code, 0);
    const QJsonObject entry = json_of(r).array().at(0).toObject();
    QCOMPARE(entry["kind"].toString(), QString("lock"));
    QVERIFY(entry["held"].toBool());
    QCOMPARE(entry["holders"].toArray().at(0).toObject()["pid"].toInt(), int(QCoreApplication::applicationPid()));
    QCOMPARE(entry["holders"].toArray().at(0).toObject()["state"].toString(), QString("alive"));
    QCOMPARE(cli({"release", dir, "job"}).exit_code, 4);  // a live holder: refused
    QVERIFY(lock.locked());
    QCOMPARE(cli({"release", dir, "job", "--force"}).exit_code, 0);
    QVERIFY(!lock.locked());
    QCOMPARE(cli({"release", dir, "job"}).exit_code, 1);
    QVERIFY(cli({"watch", dir, "--iterations", "1"}).out.startsWith(("-- " + dir).toUtf8()));  // piped: no screen clearing
  }

  void demo_shows_contention_and_a_stale_lock() {
    const QString dir = fresh();
    QProcess demo;
    demo.start(QStringLiteral(DISKCACHE_DEMO), {dir, "--seconds", "30"});
    QVERIFY(demo.waitForStarted());
    bool stale = false, contended = false, offloaded = false;
    for (int i = 0; i < 150 && !(stale && contended && offloaded); ++i) {  // up to 30 s
      QThread::msleep(200);
      for (const auto& report : json_of(cli({"stats", dir, "--json"})).object()["gpu"].toArray()) {
        const QJsonObject r = report.toObject();
        if (r["name"].toString() == "demo:trainer" && r["offload"].toObject()["operations"].toInt() > 0 &&
            r["offload"].toObject()["failures"].toInt() == 0)
          offloaded = true;
      }
      const auto r = cli({"locks", dir, "--json"});
      for (const auto& entry : json_of(r).array()) {
        const QJsonObject p = entry.toObject();
        const QString key = p["key"].toObject()["value"].toString();
        if (key == "demo:stale-lock" && p["stale"].toBool()) stale = true;
        if (key == "demo:wait-ms" && p["samples"].toInt() > 5) contended = true;
      }
    }
    demo.terminate();
    QVERIFY(demo.waitForFinished(30000));
    QVERIFY(stale);
    QVERIFY(contended);
    QVERIFY(offloaded);  // the gpu worker's transfer statistics, read live
    QCOMPARE(cli({"release", dir, "demo:stale-lock"}).exit_code, 0);  // stale: released without --force
  }

  // Issue 18.14: stored escape sequences never reach the terminal unasked.
  void get_escapes_control_characters_unless_raw() {
    const QString dir = fresh();
    {
      diskcache::Cache cache(dir.toStdString());
      cache.set("esc", "a\x1b[2Jb\rc\\d\nline2\u0085");
      cache.set("bin", diskcache::Value(diskcache::Bytes(std::string("\x00\x1b\xff", 3))));
    }
    auto r = cli({"get", dir, "esc"});
    QCOMPARE(r.exit_code, 0);
    QCOMPARE(r.out, QByteArray("a\\x1b[2Jb\\x0dc\\\\d\nline2\\x85\n"));
    r = cli({"get", dir, "esc", "--raw"});
    QCOMPARE(r.out, QByteArray("a\x1b[2Jb\rc\\d\nline2\u0085"));
    r = cli({"get", dir, "bin", "--raw"});
    QCOMPARE(r.out, QByteArray("\x00\x1b\xff", 3));
    QCOMPARE(cli({"get", dir, "bin"}).out.trimmed(), QByteArray("b'\\x00\\x1b\\xff'"));
  }

  // Issue 18.3/18.4: one unreadable row: the others are listed, a warning
  // names the row.
  void unreadable_rows_are_reported_and_the_rest_listed() {
    const QString dir = fresh();
    {
      diskcache::Cache cache(dir.toStdString());
      cache.set("a", 1);
      diskcache::Lock lock(cache, "lock");
      lock.lock();
    }
    const auto r0 = run("sqlite3", {dir + "/cache.db",
                                    "INSERT INTO Cache(key, raw, store_time, size, mode, value) VALUES "
                                    "(x'8005950500000000000000284b01912e', 0, 0, 0, 1, 1);"
                                    "INSERT INTO diskcache_primitives(key, raw, kind) VALUES ('odd', 1, 'frob');"});
    QCOMPARE(r0.exit_code, 0);
    auto r = cli({"keys", dir});
    QCOMPARE(r.exit_code, 0);
    QVERIFY2(r.out.trimmed() == "'a'", r.out.constData());
    QVERIFY2(r.err.contains("passed over Cache row 2") && r.err.contains("FROZENSET"), r.err.constData());
    r = cli({"locks", dir});
    QCOMPARE(r.exit_code, 0);
    QVERIFY2(r.out.contains("'lock'"), r.out.constData());
    QVERIFY2(r.err.contains("diskcache_primitives") && r.err.contains("frob"), r.err.constData());
  }

  // Issue 21.3: every number is checked; a bad one is a usage error.
  void numbers_are_validated() {
    const QString dir = fresh();
    QCOMPARE(cli({"set", dir, "k", "v"}).exit_code, 0);
    for (const QStringList& args : {QStringList{"set", dir, "k", "v", "--expire", "abc"},
                                    QStringList{"set", dir, "k", "v", "--expire", "-1"},
                                    QStringList{"keys", dir, "--limit", "abc"},
                                    QStringList{"keys", dir, "--limit", "-3"},
                                    QStringList{"watch", dir, "--interval", "0"},
                                    QStringList{"watch", dir, "--interval", "abc"},
                                    QStringList{"watch", dir, "--iterations", "0"}}) {
      const auto r = cli(args);
      QVERIFY2(r.exit_code == 2, qPrintable(args.join(' ')));
      QVERIFY2(r.err.contains("--") && r.err.contains("usage"), r.err.constData());
    }
    QCOMPARE(cli({"get", dir, "k"}).out.trimmed(), QByteArray("v"));  // nothing was stored expired
  }

  // Issue 21.4: piped, watch sends no escapes; --json streams one object a
  // refresh.
  void watch_streams_json_and_never_clears_a_pipe() {
    const QString dir = fresh();
    QCOMPARE(cli({"set", dir, "k", "v"}).exit_code, 0);
    auto r = cli({"watch", dir, "--iterations", "2", "--interval", "0.05"});
    QCOMPARE(r.exit_code, 0);
    QVERIFY(!r.out.contains('\x1b'));
    r = cli({"watch", dir, "--iterations", "3", "--interval", "0.05", "--json"});
    const QList<QByteArray> lines = r.out.trimmed().split('\n');
    QCOMPARE(lines.size(), 3);
    for (const auto& line : lines) {
      const QJsonObject o = QJsonDocument::fromJson(line).object();
      QCOMPARE(o["count"].toInt(), 1);
      QVERIFY(o["primitives"].isArray());
      QVERIFY(!o["taken"].toString().isEmpty());
    }
  }

  // Issue 21.5: locks has a header and "held for"; bytes in JSON as base64.
  void locks_header_and_bytes_as_base64() {
    const QString dir = fresh();
    QCOMPARE(cli({"set", dir, "b", "00ff41", "--bytes"}).exit_code, 0);
    const QJsonObject got = QJsonDocument::fromJson(cli({"get", dir, "b", "--json"}).out).object();
    QCOMPARE(got["value"].toObject()["value"].toString(), QString("AP9B"));
    QCOMPARE(got["value"].toObject()["encoding"].toString(), QString("base64"));
    diskcache::Cache cache(dir.toStdString());
    diskcache::Lock lock(cache, "held");
    lock.lock();
    const auto r = cli({"locks", dir});
    QVERIFY2(r.out.startsWith("KIND") && r.out.contains("HELD FOR"), r.out.constData());
    QVERIFY2(r.out.contains(" s "), r.out.constData());  // held for some seconds
    lock.release();
  }

  // Issue 21.5: locks shows who waits, and for how long; a killed waiter
  // drops out.
  void locks_shows_waiters() {
    const QString dir = fresh();
    diskcache::Cache cache(dir.toStdString());
    diskcache::Lock held(cache, "busy");
    held.lock();
    QProcess first, second;
    first.start(helper_path(), {"hold", dir, "busy", "lock"});
    second.start(helper_path(), {"hold", dir, "busy", "lock"});
    QVERIFY(first.waitForStarted() && second.waitForStarted());
    const auto waiters = [&] {
      const QJsonArray all = QJsonDocument::fromJson(cli({"locks", dir, "--json"}).out).array();
      for (const auto& p : all)
        if (p.toObject()["key"].toObject()["value"].toString() == "busy") return p.toObject()["waiters"].toArray();
      return QJsonArray();
    };
    QTRY_COMPARE_WITH_TIMEOUT(waiters().size(), 2, 30000);
    QVERIFY(waiters().at(0).toObject()["waited_s"].toDouble() >= 0);
    QVERIFY(cli({"locks", dir}).out.contains("2, longest"));
    ::kill(static_cast<pid_t>(first.processId()), SIGKILL);
    first.waitForFinished();
    QTRY_COMPARE_WITH_TIMEOUT(waiters().size(), 1, 30000);
    QCOMPARE(waiters().at(0).toObject()["pid"].toInteger(), second.processId());
    ::kill(static_cast<pid_t>(second.processId()), SIGKILL);
    second.waitForFinished();
    held.release();
  }

  // Issue 21.2: a Python lock nobody registered is released with --force;
  // register makes Python's primitives visible.
  void register_and_release_python_locks() {
    const QString dir = fresh();
    const auto py = run(python(), {"-c", "import diskcache, sys\nc = diskcache.Cache(sys.argv[1])\n"
                                         "diskcache.Lock(c, 'plock').acquire()\n"
                                         "diskcache.BoundedSemaphore(c, 'psem', 3).acquire()", dir});
    QCOMPARE(py.exit_code, 0);
    QCOMPARE(cli({"release", dir, "plock"}).exit_code, 4);  // holder unknown: refused
    QCOMPARE(cli({"release", dir, "plock", "--force"}).exit_code, 0);
    QCOMPARE(run(python(), {"-c", "import diskcache, sys\nprint(diskcache.Lock(diskcache.Cache(sys.argv[1]), "
                                  "'plock').locked())", dir})
                 .out.trimmed(),
             QByteArray("False"));
    QCOMPARE(cli({"register", dir, "psem", "--kind", "semaphore"}).exit_code, 2);  // no bound
    QCOMPARE(cli({"register", dir, "psem", "--kind", "frob", "--bound", "3"}).exit_code, 2);
    QCOMPARE(cli({"register", dir, "psem", "--kind", "semaphore", "--bound", "3"}).exit_code, 0);
    const QJsonArray all = QJsonDocument::fromJson(cli({"locks", dir, "--json"}).out).array();
    bool found = false;
    for (const auto& p : all)
      if (p.toObject()["key"].toObject()["value"].toString() == "psem")
        found = p.toObject()["in_use"].toInt() == 1 && p.toObject()["bound"].toInt() == 3;
    QVERIFY(found);
  }

  // Issue 21.7: lock runs a command holding the lock, like flock(1): two
  // processes' read-modify-write loops lose no increment; the command's
  // status is passed on; a timeout runs nothing; history lists the events.
  void lock_runs_a_command_exclusively() {
    const QString dir = fresh();
    const QString counter = tmp_.path() + "/counter-" + QString::number(n_);
    QFile::remove(counter);
    const QString step = QString("n=$(cat %1 2>/dev/null || echo 0); sleep 0.01; echo $((n + 1)) > %1").arg(counter);
    const QString loop = QString("for i in $(seq 15); do %1 lock %2 job -- sh -c '%3' || exit 9; done")
                             .arg(QStringLiteral(DISKCACHE_CLI), dir, step);
    QProcess a, b;
    a.start("sh", {"-c", loop});
    b.start("sh", {"-c", loop});
    QVERIFY(a.waitForFinished(120000) && b.waitForFinished(120000));
    QCOMPARE(a.exitCode(), 0);
    QCOMPARE(b.exitCode(), 0);
    QFile f(counter);
    QVERIFY(f.open(QIODevice::ReadOnly));
    QCOMPARE(f.readAll().trimmed(), QByteArray("30"));

    QCOMPARE(cli({"lock", dir, "job", "--", "sh", "-c", "exit 7"}).exit_code, 7);
    QCOMPARE(cli({"lock", dir, "job", "--", "/nonexistent/program"}).exit_code, 127);
    const QString marker = tmp_.path() + "/ran";
    {
      diskcache::Cache cache(dir.toStdString());
      diskcache::Lock held(cache, "job");
      held.lock();
      const auto r = cli({"lock", dir, "job", "--timeout", "0.2", "--", "touch", marker});
      QCOMPARE(r.exit_code, 1);
      QVERIFY(r.err.contains("not acquired"));
      QVERIFY(!QFile::exists(marker));
      QCOMPARE(cli({"lock", dir, "pool", "--semaphore", "2", "--timeout", "5", "--", "touch", marker}).exit_code, 0);
      QVERIFY(QFile::exists(marker));
    }
    const QJsonArray events = QJsonDocument::fromJson(cli({"history", dir, "job", "--json"}).out).array();
    QVERIFY(events.size() >= 60);  // 30 acquisitions and releases, at least
    QCOMPARE(events.first().toObject()["event"].toString(), QString("acquire"));
    const QString table = QString::fromUtf8(cli({"history", dir}).out);
    QVERIFY(table.startsWith("TIME"));
    // Waits in the unit convention: an acquisition's as "0.4 ms" / "1.2 s", a release has none.
    QVERIFY2(QRegularExpression(R"(\brelease\s+lock\s+'job'\s+-\s)").match(table).hasMatch(), qPrintable(table));
    QVERIFY2(QRegularExpression(R"(\bacquire\s+lock\s+'job'\s+\d+(\.\d)? (ms|s)\s)").match(table).hasMatch(),
             qPrintable(table));
    QCOMPARE(cli({"lock", dir, "job"}).exit_code, 2);  // no command
  }

  // Issue 24: lock --shared runs beside other readers, --exclusive alone;
  // locks shows the sides.
  void lock_shared_and_exclusive() {
    const QString dir = fresh();
    const QString marker = tmp_.path() + "/shared-ran";
    QFile::remove(marker);
    {
      diskcache::Cache cache(dir.toStdString());
      diskcache::SharedLock reader(cache, "catalog");
      reader.lock_shared();
      QCOMPARE(cli({"lock", dir, "catalog", "--shared", "--timeout", "5", "--", "touch", marker}).exit_code, 0);
      QVERIFY(QFile::exists(marker));  // beside the reader
      const auto refused = cli({"lock", dir, "catalog", "--exclusive", "--timeout", "0.2", "--", "true"});
      QCOMPARE(refused.exit_code, 1);
      QVERIFY(refused.err.contains("not acquired"));
      const QString table = QString::fromUtf8(cli({"locks", dir}).out);
      QVERIFY2(QRegularExpression(R"(shared-lock\s+'catalog'\s+held\s+1 reader\s)").match(table).hasMatch(),
               qPrintable(table));
      QVERIFY2(table.contains("reader ") && table.contains("[alive]"), qPrintable(table));
      const QJsonObject p = QJsonDocument::fromJson(cli({"locks", dir, "--json"}).out).array()[0].toObject();
      QCOMPARE(p["kind"].toString(), QString("shared-lock"));
      QCOMPARE(p["writer"].toBool(), false);
      QVERIFY(p["holders"].toArray()[0].toObject()["shared"].toBool());
    }
    QCOMPARE(cli({"lock", dir, "catalog", "--exclusive", "--timeout", "5", "--", "sh", "-c", "exit 3"}).exit_code, 3);
    const auto both = cli({"lock", dir, "catalog", "--shared", "--exclusive", "--", "true"});
    QCOMPARE(both.exit_code, 2);
    QVERIFY(both.err.contains("one of --semaphore, --shared and --exclusive"));
    QStringList events;
    for (const auto& e : QJsonDocument::fromJson(cli({"history", dir, "catalog", "--json"}).out).array())
      events << e.toObject()["event"].toString();
    QVERIFY2(events.contains("acquire-shared") && events.contains("acquire"), qPrintable(events.join(' ')));
  }

  // Issue 21.1: every key `keys` prints can be addressed as printed
  // (--key-py), or as JSON (--key-json; arrays are tuples).
  void keys_round_trip_as_python_literals_and_json() {
    const QString dir = fresh();
    const auto py = run(python(), {"-c", "import diskcache, sys\nc = diskcache.Cache(sys.argv[1])\n"
                                         "for i, k in enumerate([('user', 42), b'\\x00\\xff', None, 2.5, -7, "
                                         "('\\u00e9\\n', 1.5, (True,), [1, {'a': None}]), \"it's\"]): c[k] = i", dir});
    QCOMPARE(py.exit_code, 0);
    const QList<QByteArray> printed = cli({"keys", dir}).out.trimmed().split('\n');
    QCOMPARE(printed.size(), 7);
    for (int i = 0; i < printed.size(); ++i) {
      const auto r = cli({"get", "--key-py", dir, "--", QString::fromUtf8(printed[i])});  // "--": keys like -7
      QVERIFY2(r.exit_code == 0 && r.out.trimmed() == QByteArray::number(i), printed[i].constData());
    }
    QCOMPARE(cli({"get", dir, "[\"user\", 42]", "--key-json"}).out.trimmed(), QByteArray("0"));
    QCOMPARE(cli({"rm", dir, "('user', 42)", "--key-py"}).exit_code, 0);
    QCOMPARE(cli({"get", dir, "('user', 42)", "--key-py"}).exit_code, 1);
    const auto bad = cli({"get", dir, "('user', 42", "--key-py"});
    QCOMPARE(bad.exit_code, 2);
    QVERIFY2(bad.err.contains("offset"), bad.err.constData());
    QCOMPARE(cli({"get", dir, "[1,", "--key-json"}).exit_code, 2);
  }

  // Issue 21.6: help per command, the program's name in the usage, check's
  // exit code on a garbage database, the bash completion.
  void help_exit_codes_and_completion() {
    for (const QString& command : {"stats", "keys", "get", "set", "rm", "locks", "release", "register", "lock",
                                   "history", "check", "evict", "watch"}) {
      const auto a = cli({"help", command}), b = cli({command, "--help"});
      QCOMPARE(a.exit_code, 0);
      QVERIFY2(a.out.startsWith("usage: diskcache " + command.toUtf8()) && a.out.contains("example:"), a.out.constData());
      QCOMPARE(b.out, a.out);
    }
    QCOMPARE(cli({"help", "frob"}).exit_code, 2);
    const auto general = cli({"--help"});
    QVERIFY(general.out.startsWith("Usage: diskcache "));
    QVERIFY(!general.out.contains(QStringLiteral(DISKCACHE_CLI).toUtf8()));
    QVERIFY(general.out.contains("history DIR") && general.out.contains("lock DIR KEY"));

    const QString damaged = fresh();
    QDir().mkpath(damaged);
    std::ofstream((damaged + "/cache.db").toStdString()) << std::string(5000, 'x');
    const auto checked = cli({"check", damaged});
    QCOMPARE(checked.exit_code, 1);  // a problem check found, like any other
    QVERIFY(checked.out.contains("not a database"));

    const QString script = source_dir() + "/app/cli/diskcache.bash-completion";
    const auto complete = run("bash", {"-c", "source '" + script + "'; COMP_WORDS=(diskcache reg); COMP_CWORD=1; "
                                       "_diskcache; echo \"${COMPREPLY[@]}\"; COMP_WORDS=(diskcache register d k --kind s); "
                                       "COMP_CWORD=5; _diskcache; echo \"${COMPREPLY[@]}\""});
    QCOMPARE(complete.out, QByteArray("register\nsemaphore\n"));
  }

  // Issue 21.8: run-demo.sh never removes a directory the demo did not
  // make (a real cache named by DISKCACHE_DEMO_DIR).
  void demo_directory_is_never_a_real_cache() {
    const QString script = source_dir() + "/scripts/prepare-demo-dir.sh";
    const QString real = fresh();
    QCOMPARE(cli({"set", real, "precious", "data"}).exit_code, 0);
    const auto refused = run("bash", {script, real});
    QCOMPARE(refused.exit_code, 2);
    QVERIFY(refused.err.contains("refusing"));
    QCOMPARE(cli({"get", real, "precious"}).out.trimmed(), QByteArray("data"));
    const QString demo = fresh();
    QCOMPARE(run("bash", {script, demo}).exit_code, 0);
    QVERIFY(QFile::exists(demo + "/.diskcache-demo"));
    QCOMPARE(cli({"set", demo, "k", "v"}).exit_code, 0);
    QCOMPARE(run("bash", {script, demo}).exit_code, 0);  // the demo's own: made afresh
    QCOMPARE(cli({"get", demo, "k"}).exit_code, 3);      // no cache there any more
  }

  // Issue 20.8 and 20.9: the monitor's help and argument errors need no
  // display, and no refresh interval can make it spin.
  void monitor_arguments_need_no_display() {
    QProcess monitor;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    for (const char* name : {"DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"}) env.remove(name);
    monitor.setProcessEnvironment(env);
    const auto run_monitor = [&](const QStringList& args) {
      monitor.start(QStringLiteral(DISKCACHE_MONITOR), args);
      monitor.waitForFinished(30000);
      return std::pair{monitor.exitCode(), monitor.readAllStandardOutput() + monitor.readAllStandardError()};
    };
    auto [code, out] = run_monitor({"--help"});
    QCOMPARE(code, 0);
    QVERIFY2(out.startsWith("Usage: diskcache-monitor"), out.constData());
    for (const QString& bad : {"abc", "0", "-5"}) {
      std::tie(code, out) = run_monitor({"--interval", bad, fresh()});
      QCOMPARE(code, 2);
      QVERIFY2(out.contains("--interval") && out.contains(bad.toUtf8()), out.constData());
    }
    std::tie(code, out) = run_monitor({"--frob"});
    QCOMPARE(code, 2);
  }

  // Issue 21.8: the demo's help and argument errors.
  void demo_arguments() {
    const auto help = run(QStringLiteral(DISKCACHE_DEMO), {"--help"});
    QCOMPARE(help.exit_code, 0);
    QVERIFY(help.out.contains("usage"));
    const auto bad = run(QStringLiteral(DISKCACHE_DEMO), {fresh(), "--seconds", "abc"});
    QCOMPARE(bad.exit_code, 2);
    QVERIFY2(bad.err.contains("--seconds"), bad.err.constData());
  }

  void fanout_directories() {
    const QString dir = fresh();
    {
      diskcache::FanoutCache fanout(dir.toStdString(), {.shards = 4});
      for (int i = 0; i < 20; ++i) fanout.set(i, i);
    }
    auto r = cli({"stats", dir, "--json"});
    QCOMPARE(json_of(r).object()["shards"].toInt(), 4);
    QCOMPARE(json_of(r).object()["count"].toInt(), 20);
    QCOMPARE(cli({"get", dir, "13", "--key-int"}).out.trimmed(), QByteArray("13"));
  }
};

QTEST_GUILESS_MAIN(TestCli)
#include "tst_cli.moc"
