// Shared helpers for the Qt Test suites: temporary cache directories, the
// helper program, and the real Python diskcache peer.
#pragma once

#include <QByteArray>
#include <QProcess>
#include <QString>
#include <QStringList>
#include <QTemporaryDir>
#include <QtTest>

#include <string>

namespace test_support {

// Debian's python3-diskcache is installed for /usr/bin/python3 (the pyenv
// python3 on PATH does not have it).
inline QString python() { return QStringLiteral("/usr/bin/python3"); }

inline QString source_dir() { return QStringLiteral(DISKCACHE_SOURCE_DIR); }
inline QString helper_path() { return QStringLiteral(DISKCACHE_HELPER); }
inline QString interop_script(const QString& name) { return source_dir() + "/tests/interop/" + name; }

struct Result {
  int exit_code = -1;
  QByteArray out, err;
};

// Runs a program to completion (bounded by `timeout_ms`) and returns its
// exit code and output.
inline Result run(const QString& program, const QStringList& args, int timeout_ms = 120000) {
  QProcess p;
  p.start(program, args);
  Result r;
  if (!p.waitForStarted(10000)) {
    r.err = "failed to start " + program.toUtf8();
    return r;
  }
  if (!p.waitForFinished(timeout_ms)) {
    p.kill();
    p.waitForFinished();
    r.err = "timed out: " + program.toUtf8() + " " + args.join(' ').toUtf8();
    return r;
  }
  r.exit_code = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
  r.out = p.readAllStandardOutput();
  r.err = p.readAllStandardError();
  return r;
}

inline Result run_python(const QString& script, const QStringList& args, int timeout_ms = 120000) {
  return run(python(), QStringList{interop_script(script)} + args, timeout_ms);
}

inline Result run_helper(const QStringList& args, int timeout_ms = 120000) {
  return run(helper_path(), args, timeout_ms);
}

inline std::string path_of(const QTemporaryDir& dir, const char* sub = "cache") {
  return (dir.path() + "/" + sub).toStdString();
}

// The message of the exception of type E that `f` throws, or
// "<no exception>".
template <class E, class F>
std::string message_of(F&& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  return "<no exception>";
}

}  // namespace test_support

// Evaluates `result` once (it may run a program) and fails with its output.
#define EXPECT_RUN_OK(result)                                                                          \
  do {                                                                                                 \
    const test_support::Result run_result_ = (result);                                                 \
    QVERIFY2(run_result_.exit_code == 0,                                                               \
             qPrintable(QString("exit %1\nstdout: %2\nstderr: %3")                                    \
                            .arg(run_result_.exit_code)                                                \
                            .arg(QString::fromUtf8(run_result_.out.left(4000)),                        \
                                 QString::fromUtf8(run_result_.err.left(4000)))));                     \
  } while (false)

#include "diskcache/value.hpp"
Q_DECLARE_METATYPE(diskcache::Value)
namespace diskcache {
// Lets QCOMPARE print Values.
inline char* toString(const Value& v) { return qstrdup(v.repr().c_str()); }
}  // namespace diskcache
