// SharedLock in one process: readers share, the writer is alone, writers
// first, timeouts and cancellation withdraw a writer's announcement, leases,
// the standard guards, inspection (holders, sides of waiters, history),
// force-release of one reader, a FanoutCache, and hostile values.
#include <QtTest>

#include <atomic>
#include <future>
#include <mutex>
#include <shared_mutex>
#include <thread>

#include "diskcache/error.hpp"
#include "diskcache/inspect.hpp"
#include "diskcache/primitives.hpp"
#include "test_support.hpp"

using namespace diskcache;
using namespace std::chrono_literals;

namespace {
// Waits (bounded) until `done()`; false when it never was.
template <class F>
bool eventually(F&& done, std::chrono::milliseconds limit = 5000ms) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (done()) return true;
    std::this_thread::sleep_for(2ms);
  }
  return done();
}

// std::shared_mutex's and SharedTimedMutex's requirements, checked by use.
template <class M>
concept SharedTimedMutexLike = requires(M m) {
  m.lock();
  m.unlock();
  { m.try_lock() } -> std::same_as<bool>;
  m.lock_shared();
  m.unlock_shared();
  { m.try_lock_shared() } -> std::same_as<bool>;
  { m.try_lock_for(1ms) } -> std::same_as<bool>;
  { m.try_lock_until(std::chrono::steady_clock::now()) } -> std::same_as<bool>;
  { m.try_lock_shared_for(1ms) } -> std::same_as<bool>;
  { m.try_lock_shared_until(std::chrono::steady_clock::now()) } -> std::same_as<bool>;
};
static_assert(SharedTimedMutexLike<SharedLock>);
}  // namespace

class TestSharedLock : public QObject {
  Q_OBJECT
  QTemporaryDir tmp_;
  int n_ = 0;
  std::string fresh() { return (tmp_.path() + "/c" + QString::number(n_++)).toStdString(); }

 private slots:
  void readers_share_and_the_writer_is_alone() {
    Cache cache(fresh());
    SharedLock r1(cache, "k"), r2(cache, "k"), w(cache, "k");
    r1.lock_shared();
    QVERIFY(r2.try_lock_shared());  // readers overlap
    QCOMPARE(r1.state().readers, 2);
    QVERIFY(!w.try_lock());
    r1.unlock_shared();
    QVERIFY(!w.try_lock());  // one reader is still inside
    r2.unlock_shared();
    QVERIFY(w.try_lock());
    QCOMPARE(w.mode(), SharedLock::Mode::Exclusive);
    QVERIFY(!r1.try_lock_shared());  // no reader beside the writer
    SharedLock w2(cache, "k");
    QVERIFY(!w2.try_lock());
    w.unlock();
    QVERIFY(w.last_unlock_error().empty());
    QVERIFY(!cache.contains("k"));  // a free lock leaves no key
    QVERIFY(r1.try_lock_shared());
    r1.unlock_shared();
  }

  void standard_guards_work() {
    Cache cache(fresh());
    SharedLock a(cache, "k"), b(cache, "k");
    {
      std::shared_lock reader(a);
      std::shared_lock other(b, std::try_to_lock);
      QVERIFY(other.owns_lock());
    }
    {
      std::unique_lock writer(a);
      std::shared_lock reader(b, 20ms);  // try_lock_shared_for
      QVERIFY(!reader.owns_lock());
    }
    std::scoped_lock both(a);
    QCOMPARE(a.mode(), SharedLock::Mode::Exclusive);
  }

  void a_waiting_writer_holds_new_readers_back() {
    Cache cache(fresh());
    SharedLock reader(cache, "k"), writer(cache, "k"), late(cache, "k");
    reader.lock_shared();
    auto got = std::async(std::launch::async, [&] { return writer.try_lock_for(10s); });
    QVERIFY(eventually([&] { return reader.state().writers_waiting == 1; }));
    QVERIFY(!late.try_lock_shared());  // behind the waiting writer
    auto late_got = std::async(std::launch::async, [&] { return late.try_lock_shared_for(10s); });
    std::this_thread::sleep_for(30ms);
    reader.unlock_shared();
    QVERIFY(got.get());  // the writer went first
    QCOMPARE(writer.state().writer.has_value(), true);
    QCOMPARE(late_got.wait_for(30ms), std::future_status::timeout);
    writer.unlock();
    QVERIFY(late_got.get());  // and the reader after it
    late.unlock_shared();
  }

  void a_writer_that_gives_up_lets_readers_in() {
    Cache cache(fresh());
    SharedLock reader(cache, "k"), writer(cache, "k"), next(cache, "k");
    reader.lock_shared();
    QVERIFY(!writer.try_lock_for(50ms));
    QCOMPARE(reader.state().writers_waiting, 0);  // the announcement was withdrawn
    QVERIFY(next.try_lock_shared());
    next.unlock_shared();
    // Cancelled through a stop token: withdrawn too.
    std::stop_source stop;
    auto got = std::async(std::launch::async, [&] { return writer.lock(stop.get_token()); });
    QVERIFY(eventually([&] { return reader.state().writers_waiting == 1; }));
    stop.request_stop();
    QVERIFY(!got.get());
    QCOMPARE(reader.state().writers_waiting, 0);
    QVERIFY(next.try_lock_shared());
    next.unlock_shared();
    reader.unlock_shared();
    // The timeout is in the history, as the writer's.
    bool timeout = false;
    for (const auto& e : primitive_history(cache)) timeout |= e.event == "timeout" && e.kind == PrimitiveKind::SharedLock;
    QVERIFY(timeout);
  }

  void a_lapsed_announcement_stops_holding_readers_back() {
    // A writer killed while waiting leaves its announcement: written here as
    // such a writer would, it holds readers back until it lapses (0.5 s).
    Cache cache(fresh());
    const double now = static_cast<double>(std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::system_clock::now().time_since_epoch()).count()) / 1000.0;
    cache.set("k", Value::tuple({Value(), Value::tuple({}),
                                 Value::tuple({Value::tuple({Value("gone:1:1:1/1"), Value(now + 0.3)})})}));
    SharedLock reader(cache, "k");
    QVERIFY(!reader.try_lock_shared());
    QVERIFY(reader.try_lock_shared_for(3s));
    reader.unlock_shared();
  }

  void release_what_is_not_held_is_refused() {
    Cache cache(fresh());
    SharedLock a(cache, "k"), b(cache, "k");
    QVERIFY(test_support::message_of<NotHeld>([&] { a.release(); }).find("not held") != std::string::npos);
    a.unlock_shared();  // never throws
    QVERIFY(!a.last_unlock_error().empty());
    b.lock_shared();
    QVERIFY(test_support::message_of<NotHeld>([&] { a.release(); }) != "<no exception>");
    QCOMPARE(b.state().readers, 1);  // nothing changed
    QVERIFY(test_support::message_of<Error>([&] { b.lock(); }).find("already holds") != std::string::npos);
    b.release();
  }

  void leases_lapse_and_renew() {
    Cache cache(fresh());
    SharedLock reader(cache, "k", {.expire = 0.2}), writer(cache, "k");
    reader.lock_shared();
    reader.renew(0.6);
    std::this_thread::sleep_for(300ms);
    QVERIFY(!writer.try_lock());  // renewed: still held
    QVERIFY(writer.try_lock_for(3s));  // lapses after 0.6 s
    QVERIFY(test_support::message_of<NotHeld>([&] { reader.release(); }) != "<no exception>");
    writer.unlock();
    QCOMPARE(reader.mode(), SharedLock::Mode::None);
    QVERIFY(test_support::message_of<NotHeld>([&] { reader.renew(std::nullopt); }) != "<no exception>");
  }

  void inspection_shows_readers_writer_and_both_sides_of_waiters() {
    Cache cache(fresh());
    SharedLock r1(cache, "k"), r2(cache, "k"), w(cache, "k"), r3(cache, "k");
    r1.lock_shared();
    r2.lock_shared();
    auto info = inspect_primitive(cache, "k");
    QVERIFY(info && info->kind == PrimitiveKind::SharedLock && info->held && !info->writer);
    QCOMPARE(info->in_use, 2);
    QCOMPARE(info->holders.size(), std::size_t(2));
    for (const auto& h : info->holders) QVERIFY(h.shared && h.state == HolderState::Alive);
    auto waiting_writer = std::async(std::launch::async, [&] { return w.try_lock_for(10s); });
    QVERIFY(eventually([&] { return r1.state().writers_waiting == 1; }));
    auto waiting_reader = std::async(std::launch::async, [&] { return r3.try_lock_shared_for(10s); });
    QVERIFY(eventually([&] {
      auto i = inspect_primitive(cache, "k");
      return i && i->waiters.size() == 2;
    }));
    info = inspect_primitive(cache, "k");
    QCOMPARE(info->writers_waiting, 1);
    int shared_waiters = 0;
    for (const auto& waiter : info->waiters) shared_waiters += waiter.shared;
    QCOMPARE(shared_waiters, 1);
    r1.unlock_shared();
    r2.unlock_shared();
    QVERIFY(waiting_writer.get());
    info = inspect_primitive(cache, "k");
    QVERIFY(info->writer && info->holders.size() == 1 && !info->holders.front().shared);
    w.unlock();
    QVERIFY(waiting_reader.get());
    r3.unlock_shared();
    QStringList events;
    for (const auto& e : primitive_history(cache)) events << QString::fromStdString(e.event);
    QCOMPARE(events.count("acquire-shared"), 3);
    QCOMPARE(events.count("release-shared"), 3);
    QCOMPARE(events.count("acquire"), 1);
    QCOMPARE(events.count("release"), 1);
  }

  void force_release_takes_one_reader_at_a_time() {
    Cache cache(fresh());
    SharedLock r1(cache, "k"), r2(cache, "k"), w(cache, "k");
    r1.lock_shared();
    r2.lock_shared();
    auto info = inspect_primitive(cache, "k");
    const std::string first = info->holders.front().id;
    QCOMPARE(force_release(cache, "k", false, first), ForceReleaseResult::RefusedAlive);  // alive
    QCOMPARE(force_release(cache, "k", true, first), ForceReleaseResult::Released);
    QCOMPARE(inspect_primitive(cache, "k")->in_use, 1);
    QVERIFY(!w.try_lock());  // the other reader still holds it
    QCOMPARE(force_release(cache, "k", true), ForceReleaseResult::Released);
    QVERIFY(w.try_lock());
    w.unlock();
    r1.unlock_shared();
    r2.unlock_shared();
    QVERIFY(!r1.last_unlock_error().empty() && !r2.last_unlock_error().empty());  // both were broken
  }

  void on_a_fanout_cache_it_lives_in_its_keys_shard() {
    FanoutCache fanout(fresh(), FanoutOptions{.shards = 4});
    SharedLock a(fanout, "k"), b(fanout, "k");
    a.lock_shared();
    QVERIFY(fanout.shard_for("k").contains("k"));
    QVERIFY(!b.try_lock());
    a.unlock_shared();
    QVERIFY(b.try_lock());
    bool found = false;
    for (const auto& p : inspect_primitives(fanout)) found |= p.kind == PrimitiveKind::SharedLock && p.writer;
    QVERIFY(found);
    b.unlock();
  }

  void hostile_values_are_refused_by_name() {
    Cache cache(fresh());
    SharedLock lock(cache, "k");
    for (const Value& bad : {Value(5), Value::tuple({Value(), Value(1), Value::tuple({})}),
                             Value::tuple({Value::tuple({Value(7), Value()}), Value::tuple({}), Value::tuple({})}),
                             Value::tuple({Value(), Value::tuple({Value::tuple({Value("x"), Value("soon")})}),
                                           Value::tuple({})})}) {
      cache.set("k", bad);
      const auto message = test_support::message_of<CorruptCache>([&] { (void)lock.try_lock_shared(); });
      QVERIFY2(message.find("SharedLock 'k'") != std::string::npos, message.c_str());
      QCOMPARE(*cache.get("k"), bad);  // nothing was changed
    }
    // Inspection reports the row and goes on.
    register_primitive(cache, "k", PrimitiveKind::SharedLock);
    SkippedRows skipped;
    (void)inspect_primitives(cache, true, &skipped);
    QCOMPARE(skipped.size(), std::size_t(1));
  }

  void threads_never_see_a_writer_with_company() {
    Cache cache(fresh());
    std::atomic<int> readers{0}, writers{0}, most_readers{0};
    std::atomic<bool> broken{false};
    auto work = [&](bool writer) {
      SharedLock lock(cache, "k");
      for (int i = 0; i < 40; ++i) {
        if (writer) {
          std::unique_lock guard(lock);
          broken = broken || writers.fetch_add(1) != 0 || readers.load() != 0;
          std::this_thread::sleep_for(200us);
          writers.fetch_sub(1);
        } else {
          std::shared_lock guard(lock);
          const int now = readers.fetch_add(1) + 1;
          broken = broken || writers.load() != 0;
          most_readers = std::max(most_readers.load(), now);
          std::this_thread::sleep_for(1ms);
          readers.fetch_sub(1);
        }
      }
    };
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i) threads.emplace_back(work, i == 0);
    for (auto& t : threads) t.join();
    QVERIFY(!broken);
    QVERIFY(most_readers >= 2);
  }
};

QTEST_GUILESS_MAIN(TestSharedLock)
#include "tst_shared_lock.moc"
