#include <sys/wait.h>
// Lock, RLock, BoundedSemaphore, Averager and the recipes in one process:
// Python's values under the keys, C++ lock conventions, clear errors for
// releasing what is not held, timed and cancellable waits, expiry with an
// injected clock, inspection and force-release; the wake board's count of
// contenders, which releasers defer to, and how it forgets killed ones.
#include <QtTest>

#include <filesystem>
#include <memory>
#include <mutex>
#include <stop_token>
#include <thread>

#include "diskcache/error.hpp"
#include "diskcache/identity.hpp"
#include "diskcache/inspect.hpp"
#include "diskcache/primitives.hpp"
#include "diskcache/recipes.hpp"
#include "sync/wake_board.hpp"  // white-box: the contender count in cache.db-wake
#include "test_support.hpp"

using namespace diskcache;
using namespace std::chrono_literals;

class TestPrimitives : public QObject {
  Q_OBJECT
  QTemporaryDir tmp_;
  int n_ = 0;
  double now_ = 1.0e9;
  std::string fresh() { return (tmp_.path() + "/p" + QString::number(n_++)).toStdString(); }
  Options clocked() {
    Options o;
    o.clock = [this] { return now_; };
    return o;
  }

 private slots:
  void lock_is_pythons_and_lockable() {
    Cache cache(fresh());
    Lock a(cache, "L"), b(cache, "L");
    {
      std::scoped_lock guard(a);
      QVERIFY(a.locked());
      QCOMPARE(*cache.get("L"), Value());  // Python's Lock stores None
      QVERIFY(!b.try_lock());
      QVERIFY(!b.try_lock_for(30ms));
      std::unique_lock timed(b, 20ms);
      QVERIFY(!timed.owns_lock());
    }
    QVERIFY(!cache.contains("L"));
    QVERIFY(b.try_lock());
    b.unlock();
    Lock c(cache, "other");
    std::lock(a, c);  // deadlock-free acquisition of two locks
    a.unlock();
    c.unlock();
    const auto events = primitive_history(cache);
    QVERIFY(std::any_of(events.begin(), events.end(), [](const HistoryEvent& e) { return e.event == "timeout"; }));
  }

  void releasing_what_you_do_not_hold() {
    Cache cache(fresh());
    Lock holder(cache, "L"), stranger(cache, "L");
    holder.lock();
    QVERIFY_THROWS_EXCEPTION(NotHeld, stranger.release());
    QVERIFY(holder.locked());  // nothing changed
    stranger.unlock();         // never throws; says why
    QVERIFY(stranger.last_unlock_error().find("not held") != std::string::npos);
    QVERIFY(holder.locked());
    holder.release();
    QVERIFY_THROWS_EXCEPTION(NotHeld, holder.release());
  }

  void lock_expires_with_the_injected_clock() {
    Cache cache(fresh(), clocked());
    Lock first(cache, "L", {.expire = 10}), second(cache, "L");
    first.lock();
    QVERIFY(!second.try_lock());
    first.renew(100);
    now_ += 50;
    QVERIFY(!second.try_lock());  // renewed
    now_ += 60;
    QVERIFY(second.try_lock());   // expired: frees itself
    QVERIFY_THROWS_EXCEPTION(NotHeld, first.release());
    QVERIFY(second.locked());
    auto info = inspect_primitive(cache, "L");
    QCOMPARE(info->holders.size(), std::size_t{1});
    second.unlock();
  }

  void waiting_can_be_cancelled() {
    Cache cache(fresh());
    Lock holder(cache, "L");
    holder.lock();
    std::stop_source stop;
    std::atomic<bool> result{true};
    std::thread waiter([&] {
      Lock mine(cache, "L");
      result = mine.lock(stop.get_token());
    });
    std::this_thread::sleep_for(20ms);
    stop.request_stop();
    waiter.join();
    QVERIFY(!result);
    holder.unlock();
  }

  void rlock_reenters_and_excludes_other_threads() {
    Cache cache(fresh());
    RLock lock(cache, "R");
    lock.lock();
    lock.lock();
    QCOMPARE(lock.count(), 2);
    const Value value = *cache.get("R");  // Python's ("<pid>-<tid>", count)
    QCOMPARE(value.items()[1], Value(2));
    QVERIFY(value.items()[0].as_text().find(std::to_string(::getpid()) + "-") == 0);
    std::thread other([&] {
      RLock theirs(cache, "R");
      QVERIFY(!theirs.try_lock());
      QVERIFY_THROWS_EXCEPTION(NotHeld, theirs.release());
    });
    other.join();
    lock.unlock();
    lock.unlock();
    QCOMPARE(lock.count(), 0);
    QVERIFY_THROWS_EXCEPTION(NotHeld, lock.release());
    QVERIFY(cache.contains("R"));  // Python never deletes it
  }

  void semaphore_bound() {
    Cache cache(fresh());
    BoundedSemaphore sem(cache, "S", 2);
    QCOMPARE(sem.available(), 2);
    QVERIFY(!cache.contains("S"));  // missing key = all permits free
    QVERIFY(sem.try_acquire());
    {
      BoundedSemaphore::Guard guard(sem);
      QCOMPARE(*cache.get("S"), Value(0));
      QVERIFY(!sem.try_acquire());
      QVERIFY(!sem.try_acquire_for(20ms));
      QCOMPARE(inspect_primitive(cache, "S")->in_use, 2);
    }
    sem.release();
    QCOMPARE(sem.available(), 2);
    QVERIFY_THROWS_EXCEPTION(NotHeld, sem.release());  // beyond its bound
    QCOMPARE(*cache.get("S"), Value(2));
    QVERIFY_THROWS_EXCEPTION(InvalidArgument, BoundedSemaphore(cache, "bad", 0));
  }

  void averager() {
    Cache cache(fresh());
    Averager avg(cache, "A");
    QVERIFY(!avg.get());
    for (double v : {1.0, 2.0, 6.0}) avg.add(v);
    QCOMPARE(*avg.get(), 3.0);
    QCOMPARE(avg.count(), 3);
    QCOMPARE(*cache.get("A"), Value::tuple({9.0, 3}));  // Python's (total, count)
    QCOMPARE(*avg.pop(), 3.0);
    QVERIFY(!cache.contains("A"));
  }

  void inspection_and_force_release() {
    Cache cache(fresh());
    Lock lock(cache, "L");
    lock.lock();
    BoundedSemaphore sem(cache, "S", 3);
    sem.acquire();
    cache.set("python-rlock", Value::tuple({"4242-139", 1}));  // as Python's RLock leaves it
    register_primitive(cache, "python-lock", PrimitiveKind::Lock);
    cache.add("python-lock", Value());
    const auto all = inspect_primitives(cache);
    QCOMPARE(all.size(), std::size_t{4});
    for (const auto& p : all) {
      if (p.key == Value("L")) {
        QVERIFY(p.held);
        QCOMPARE(p.holders.size(), std::size_t{1});
        QCOMPARE(p.holders[0].pid, std::int64_t{::getpid()});
        QCOMPARE(p.holders[0].state, HolderState::Alive);
      } else if (p.key == Value("S")) {
        QCOMPARE(p.in_use, 1);
        QCOMPARE(*p.bound, 3);
      } else if (p.key == Value("python-rlock")) {
        QCOMPARE(p.kind, PrimitiveKind::RLock);
        QVERIFY(!p.registered);
        QVERIFY(p.held && p.holders.empty());
      } else {
        QCOMPARE(p.kind, PrimitiveKind::Lock);
        QVERIFY(p.held && p.holders.empty());  // a Python holder: unknown
      }
    }
    QCOMPARE(force_release(cache, "L"), ForceReleaseResult::RefusedAlive);  // alive holder
    QVERIFY(lock.locked());
    QCOMPARE(force_release(cache, "python-lock"), ForceReleaseResult::RefusedAlive);
    QCOMPARE(force_release(cache, "python-lock", true), ForceReleaseResult::Released);
    QCOMPARE(force_release(cache, "L", true), ForceReleaseResult::Released);
    QVERIFY(!lock.locked());
    QCOMPARE(force_release(cache, "L"), ForceReleaseResult::NotHeld);
    QVERIFY_THROWS_EXCEPTION(NotHeld, lock.release());
    const auto events = primitive_history(cache);
    QVERIFY(std::any_of(events.begin(), events.end(), [](const HistoryEvent& e) { return e.event == "force-release"; }));
  }

  void python_rlocks_found_by_slices() {
    Cache cache(fresh());
    std::vector<std::string> expected;
    for (int i = 0; i < 250; ++i) {
      if (i % 37 == 0) {
        const std::string key = "rlock-" + std::to_string(i);
        cache.set(key, Value::tuple({Value(), 0}));
        expected.push_back(key);
      } else {
        cache.set("plain-" + std::to_string(i), Value::tuple({Value(), "not a count"}));
      }
    }
    cache.set("rlock-0", Value::tuple({"4242-139", 2}));  // rewritten in place: found once
    std::vector<std::string> found;
    std::int64_t next = 0;
    int slices = 0;
    do {
      auto slice = scan_python_rlocks(cache, next, 40);
      for (const auto& key : slice.keys) found.push_back(key.as_text());
      QVERIFY(slice.next_rowid == 0 || slice.next_rowid > next);
      next = slice.next_rowid;
      QVERIFY(++slices <= 8);  // 250 rows in slices of 40 end
    } while (next != 0);
    QCOMPARE(slices, 7);
    std::sort(found.begin(), found.end());
    std::sort(expected.begin(), expected.end());
    QCOMPARE(found, expected);
    Cache empty(fresh());
    const auto nothing = scan_python_rlocks(empty, 0, 10);
    QVERIFY(nothing.keys.empty() && nothing.next_rowid == 0);
    QVERIFY_THROWS_EXCEPTION(InvalidArgument, scan_python_rlocks(cache, 0, 0));
  }

  void history_can_be_switched_off() {
    Cache cache(fresh());
    Lock quiet(cache, "Q", {.history = false});
    quiet.lock();
    quiet.unlock();
    QVERIFY(primitive_history(cache).empty());
  }

  // History is written in batches after each change commits (issue 22):
  // a change undone leaves no event, this process reads its own events at
  // once and in order, through any handle on the directory.
  void history_follows_commits_in_order() {
    const std::string dir = fresh();
    Cache cache(dir), other_handle(dir);
    Lock lock(cache, "H");
    {
      Transaction undone = cache.transact();
      lock.lock();
      lock.unlock();
      undone.rollback();
    }
    QVERIFY(primitive_history(other_handle).empty());
    const double before = cache.now();
    for (int i = 0; i < 3; ++i) {
      lock.lock();
      lock.unlock();
    }
    const auto events = primitive_history(other_handle);
    QCOMPARE(events.size(), std::size_t(6));
    for (std::size_t i = 0; i < events.size(); ++i) {
      QCOMPARE(events[i].event, std::string(i % 2 ? "release" : "acquire"));
      QVERIFY(events[i].at >= before);
      if (i) QVERIFY(events[i].id > events[i - 1].id && events[i].at >= events[i - 1].at);
    }
  }

  // A thread reading history flushes the other handles' buffers without
  // holding the process-wide registry of buffers: otherwise a thread whose
  // transaction makes a handle's first event (so registers its buffer) waits
  // for that reader, which waits for a flush, which waits for that very
  // transaction, until the busy timeouts run out (40 s here).
  void reading_history_never_holds_up_a_first_event() {
    const std::string dir = fresh();
    const Options options{.timeout = std::chrono::seconds(20)};
    Cache pending(dir, options), fresh_handle(dir, options);
    Lock first(pending, "P");
    first.lock();
    first.unlock();  // two events held back; the flushing thread writes them after 50 ms
    Transaction tx = fresh_handle.transact();  // holds the write lock: that flush waits
    std::this_thread::sleep_for(150ms);
    std::thread reader([&] { (void)primitive_history(pending); });  // waits for that flush
    std::this_thread::sleep_for(150ms);
    const auto start = std::chrono::steady_clock::now();
    Lock second(fresh_handle, "F");
    second.lock();  // fresh_handle's first event, inside the transaction
    second.unlock();
    const auto took = std::chrono::steady_clock::now() - start;
    tx.commit();
    reader.join();
    QVERIFY2(took < 5s, qPrintable(QString("a first event waited %1 s for a history reader")
                                       .arg(std::chrono::duration<double>(took).count())));
    QCOMPARE(primitive_history(pending).size(), std::size_t(4));
  }

  // A forked child neither writes nor loses its parent's held-back events:
  // each event appears once, written by the process that made it.
  void history_after_fork_is_written_once() {
    const std::string dir = fresh();
    Cache cache(dir);
    Lock lock(cache, "F");
    lock.lock();
    lock.unlock();  // two events held back in the parent
    const pid_t child = ::fork();
    if (child == 0) {
      int code = 0;
      try {
        Lock mine(cache, "F");
        mine.lock();
        mine.unlock();
        flush_history(cache);
      } catch (...) {
        code = 1;
      }
      ::_exit(code);
    }
    int status = 0;
    QCOMPARE(::waitpid(child, &status, 0), child);
    QVERIFY(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    const auto events = primitive_history(cache);
    QCOMPARE(events.size(), std::size_t(4));
    QCOMPARE(std::count_if(events.begin(), events.end(), [&](const HistoryEvent& e) { return e.pid == child; }), 2);
    QCOMPARE(std::count_if(events.begin(), events.end(), [](const HistoryEvent& e) { return e.pid == ::getpid(); }),
             2);
  }

  void works_on_a_fanout_cache() {
    FanoutCache fanout(fresh(), {.shards = 4});
    Lock lock(fanout, "F");
    lock.lock();
    QVERIFY(fanout.shard_for("F").contains("F"));
    lock.unlock();
  }

  void throttle_rate_with_injected_clock() {
    Cache cache(fresh());
    double clock = 1000;
    std::vector<double> sleeps;
    Throttle throttle(cache, "T", 2, 1.0,
                      {.clock = [&] { return clock; }, .sleep = [&](double s) {
                         sleeps.push_back(s);
                         clock += s;
                       }});
    for (int i = 0; i < 6; ++i) throttle.wait();
    // 2 calls per second: the first two are free, each later one waits 0.5 s.
    double slept = 0;
    for (double s : sleeps) slept += s;
    QVERIFY2(std::abs(slept - 2.0) < 1e-9, qPrintable(QString::number(slept)));
    QCOMPARE(clock, 1002.0);
  }

  void barrier_serialises() {
    Cache cache(fresh());
    Lock lock(cache, "B");
    int inside = 0, max_inside = 0;
    auto guarded = barrier(lock, [&](int x) {
      max_inside = std::max(max_inside, ++inside);
      --inside;
      return x + 1;
    });
    QCOMPARE(guarded(1), 2);
    QCOMPARE(max_inside, 1);
    QVERIFY(!lock.locked());
  }

  void stampede_recomputes_once_early() {
    Cache cache(fresh(), clocked());
    int calls = 0;
    double u = 1.0;  // -log(1) = 0: never early
    std::function<int(int)> other_caller;
    std::optional<int> seen_by_other;
    auto slow = memoize_stampede(cache, 100.0, "slow",
                                 [&](int x) {
                                   ++calls;
                                   if (calls == 2) seen_by_other = other_caller(x);  // arrives mid-recompute
                                   now_ += 10;  // takes 10 s of the injected clock
                                   return x * 10 + calls;
                                 },
                                 {.random = [&] { return u; }});
    other_caller = [&](int x) { return slow(x); };
    QCOMPARE(slow(1), 11);
    QCOMPARE(slow(1), 11);
    QCOMPARE(calls, 1);
    now_ += 50;  // 40 s of 100 left; 10 s to compute
    u = 0.001;   // -10 * log(0.001) = 69 > 40: recompute early
    QCOMPARE(slow(1), 12);  // this caller won the marker and recomputed
    QCOMPARE(calls, 2);     // the caller arriving meanwhile did not recompute...
    QCOMPARE(*seen_by_other, 11);  // ...it got the old value
  }

  void killed_contenders_are_forgotten() {
    const std::string dir = fresh();
    std::filesystem::create_directories(dir);
    detail::WakeBoard board(dir, false);
    QVERIFY(board.valid());
    using Contending = detail::WakeBoard::Contending;
    constexpr std::size_t slot = 7;
    constexpr std::uint32_t fresh_ms = detail::WakeBoard::kContendersFreshMs;

    // A contender of a process killed in the middle of an acquisition:
    // its count stays in the shared file (here: never destroyed meanwhile).
    const std::uint32_t before = detail::WakeBoard::now_ms();
    auto killed = std::make_unique<Contending>(board, slot);
    const std::uint32_t after = detail::WakeBoard::now_ms();
    QCOMPARE(board.contenders(slot, before), 1u);
    QCOMPARE(board.contenders(slot + 1, before), 0u);
    // Nobody renews the heartbeat: after kContendersFreshMs it is ignored.
    QCOMPARE(board.contenders(slot, after + fresh_ms + 1), 0u);
    // Nor is one that lies far ahead of the reader's clock (another clock).
    QCOMPARE(board.contenders(slot, before - fresh_ms - 2), 0u);
    {
      Contending live(board, slot);  // a live one renews it: both count again
      const std::uint32_t now = detail::WakeBoard::now_ms();
      QCOMPARE(board.contenders(slot, now), 2u);
      QCOMPARE(board.contenders(slot, now + fresh_ms + 1), 0u);  // unless it stops renewing
      live.refresh();
      QCOMPARE(board.contenders(slot, detail::WakeBoard::now_ms()), 2u);
    }
    QCOMPARE(board.contenders(slot, detail::WakeBoard::now_ms()), 1u);  // a finished one leaves
    killed.reset();
    QCOMPARE(board.contenders(slot, detail::WakeBoard::now_ms()), 0u);
  }

  // A release wakes the waiters of its key's slot and no one else: no
  // word every release bumps (its waiters would all wake each time).
  void a_release_touches_its_slot_only() {
    const std::string dir = fresh();
    Cache cache(dir);
    Lock lock(cache, "printer");
    lock.lock();  // maps the board
    detail::WakeBoard board(dir, true);
    QVERIFY(board.valid());
    std::vector<std::uint32_t> before;
    for (std::size_t s = 0; s < detail::WakeBoard::kSlots; ++s) before.push_back(board.sequence(s));
    lock.unlock();
    int changed = 0;
    for (std::size_t s = 0; s < detail::WakeBoard::kSlots; ++s) changed += board.sequence(s) != before[s];
    QCOMPARE(changed, 1);
    QCOMPARE(board.sequence(0), before[0]);
  }

  // Asking whether a holder lives while its process exits: reading
  // /proc/<pid>/stat may then fail with ESRCH, which must mean "dead", not
  // an exception out of a semaphore's acquire (seen as "basic_filebuf::
  // underflow error reading the file: No such process"). Bounded: 300
  // children, each asked about while it exits.
  void liveness_of_an_exiting_process_never_throws() {
    int dead = 0;
    for (int i = 0; i < 300; ++i) {
      const pid_t child = ::fork();
      if (child == 0) _exit(0);
      QVERIFY(child > 0);
      ProcessIdentity id = self_identity();
      id.pid = child;
      id.start_time = 0;  // whatever its start time: only reading its stat matters here
      std::atomic<bool> reaped{false};
      std::thread reaper([&] {  // reaps it while it is being asked about
        ::waitpid(child, nullptr, 0);
        reaped = true;
      });
      std::string error;
      for (int ask = 0; !reaped || ask < 3; ++ask) {
        try {
          (void)liveness_of(id);
        } catch (const std::exception& e) {
          error = e.what();
        }
      }
      reaper.join();
      QVERIFY2(error.empty(), error.c_str());
      dead += liveness_of(id) == Liveness::Dead;
    }
    QCOMPARE(dead, 300);
  }
};

QTEST_GUILESS_MAIN(TestPrimitives)
#include "tst_primitives.moc"
