// A real redis-server on a loopback port, started by a test in its own
// temporary directory and stopped (or killed) by it.
#pragma once

#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <QDir>
#include <QProcess>
#include <QStringList>
#include <QTemporaryDir>
#include <QThread>
#include <QtTest>

#include <chrono>
#include <memory>
#include <string>

#include "diskcache/redis/store.hpp"

namespace test_support {

// A free TCP port on 127.0.0.1 (the kernel's pick).
inline int free_port() {
  const int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
  ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(s);
  return ntohs(a.sin_port);
}

class RedisServer {
 public:
  // `durable`: append-only file with appendfsync always (survives kill -9).
  explicit RedisServer(bool durable = false) : port_(free_port()), durable_(durable) { start(); }
  ~RedisServer() { stop(); }

  void start() {
    process_ = std::make_unique<QProcess>();
    process_->setProcessChannelMode(QProcess::ForwardedErrorChannel);
    // The server dies with the test, even when the test is killed.
    process_->setChildProcessModifier([] { ::prctl(PR_SET_PDEATHSIG, SIGKILL); });
    QStringList args{"--port", QString::number(port_), "--bind", "127.0.0.1", "--dir", dir_.path(),
                     "--save", "", "--daemonize", "no", "--protected-mode", "no", "--logfile", "redis.log"};
    args << "--appendonly" << (durable_ ? "yes" : "no");
    if (durable_) args << "--appendfsync" << "always";
    process_->start("redis-server", args);
    QVERIFY2(process_->waitForStarted(10000), "redis-server does not start (is the redis-server package installed?)");
    for (int i = 0; i < 500; ++i) {  // up to 10 s
      try {
        diskcache::redis::Store(endpoint()).ping();
        return;
      } catch (const diskcache::redis::ConnectionError&) {
        QThread::msleep(20);
      }
    }
    QFAIL("redis-server does not answer PING");
  }

  // SIGKILL, as a crash; waits until it is gone.
  void kill() {
    if (!process_) return;
    process_->kill();
    process_->waitForFinished(10000);
    process_.reset();
  }
  void stop() {
    if (!process_) return;
    process_->terminate();
    if (!process_->waitForFinished(10000)) kill();
    process_.reset();
  }
  bool running() const { return process_ != nullptr; }
  qint64 pid() const { return process_ ? process_->processId() : 0; }

  diskcache::redis::Endpoint endpoint() const { return diskcache::redis::Endpoint{"127.0.0.1", port_, 0}; }
  std::string url() const { return endpoint().url(); }

 private:
  QTemporaryDir dir_;
  int port_;
  bool durable_;
  std::unique_ptr<QProcess> process_;
};

}  // namespace test_support
