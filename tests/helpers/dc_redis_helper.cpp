// Helper program driven by the Redis tests (tests/redis). URLS is one
// redis:// URL or a comma-separated quorum. Commands:
//   lock-incr URLS KEY N FILE [fence]   N x { Lock KEY held: the counter in FILE += 1 }
//                             (read, then rewrite: not atomic without the lock); with
//                             "fence", FILE also keeps the last fencing token and the
//                             helper fails (exit 3) when a token does not increase
//   sem-hold URL KEY BOUND N LOG   N x hold a permit, appending "+" to LOG after
//                             acquiring and "-" before releasing (O_APPEND)
//   avg-add URL KEY N VALUE   N x Averager.add(VALUE)
//   hold URL KEY LEASE_MS [shared]  acquires the Lock KEY (or reads the
//                             SharedLock KEY) with that lease, prints "held <fence>",
//                             sleeps until killed
// Exit 0 on success, 2 on a usage error, 3 on a broken invariant, 4 on an error.
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>

#include "diskcache/redis/primitives.hpp"

using namespace diskcache::redis;

namespace {

struct CounterFile {
  long long counter = 0;
  unsigned long long fence = 0;
};

CounterFile read_counter(const std::string& path) {
  CounterFile c;
  std::ifstream in(path);
  in >> c.counter >> c.fence;
  return c;
}

void write_counter(const std::string& path, const CounterFile& c) {
  std::ofstream out(path, std::ios::trunc);
  out << c.counter << " " << c.fence << "\n";
}

void append(int fd, char mark) {
  if (::write(fd, &mark, 1) != 1) throw std::runtime_error("cannot append to the log");
}

int run(int argc, char** argv) {
  const std::string command = argc > 1 ? argv[1] : "";
  if (command == "lock-incr" && argc >= 6) {
    Store store = Store::open(argv[2]);
    Lock lock(store, argv[3]);
    const bool check_fence = argc >= 7 && std::string(argv[6]) == "fence";
    for (long n = std::stol(argv[4]); n > 0; --n) {
      std::scoped_lock guard(lock);
      CounterFile c = read_counter(argv[5]);
      if (check_fence && lock.fencing_token() <= c.fence) {
        std::cerr << "fencing token " << lock.fencing_token() << " after " << c.fence << "\n";
        return 3;
      }
      ++c.counter;
      c.fence = lock.fencing_token();
      write_counter(argv[5], c);
    }
    return 0;
  }
  if (command == "sem-hold" && argc == 7) {
    Store store = Store::open(argv[2]);
    BoundedSemaphore semaphore(store, argv[3], std::stoll(argv[4]));
    const int log = ::open(argv[6], O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (log < 0) throw std::runtime_error(std::string("cannot open ") + argv[6]);
    for (long n = std::stol(argv[5]); n > 0; --n) {
      BoundedSemaphore::Guard guard(semaphore);
      append(log, '+');
      std::this_thread::sleep_for(std::chrono::microseconds(200));
      append(log, '-');
    }
    ::close(log);
    return 0;
  }
  if (command == "avg-add" && argc == 6) {
    Store store = Store::open(argv[2]);
    Averager averager(store, argv[3]);
    for (long n = std::stol(argv[4]); n > 0; --n) averager.add(std::stod(argv[5]));
    return 0;
  }
  if (command == "hold" && (argc == 5 || (argc == 6 && std::string(argv[5]) == "shared"))) {
    StoreOptions options;
    options.lease = std::chrono::milliseconds(std::stol(argv[4]));
    Store store = Store::open(argv[2], options);
    Lock lock(store, argv[3]);
    SharedLock shared(store, argv[3]);
    if (argc == 6) shared.lock_shared();
    else lock.lock();
    std::cout << "held " << (argc == 6 ? shared.fencing_token() : lock.fencing_token()) << std::endl;
    while (true) std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  std::cerr << "usage: see the comment at the top of dc_redis_helper.cpp\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 4;
  }
}
