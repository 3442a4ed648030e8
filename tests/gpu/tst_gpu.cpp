// diskcache::gpu: the Offloader's ordering (each test fails if one of its
// waits is removed), round trips from 1 byte to 64 MiB, concurrency, failures
// injected at the file layer, the staging pool's reference counts and the
// published statistics. Built twice: against the emulated device (always)
// and, with DISKCACHE_TEST_CUDA, against a real GPU (skipped without one).
#include <sys/wait.h>
#include <unistd.h>

#include <QtTest>
#include <cerrno>
#include <filesystem>
#include <future>
#include <random>
#include <thread>

#include "diskcache/error.hpp"
#include "diskcache/gpu/cuda_device.hpp"
#include "diskcache/gpu/emulated_device.hpp"
#include "diskcache/gpu/offloader.hpp"
#include "diskcache/gpu/staging_pool.hpp"
#include "faulty_files.hpp"

using namespace diskcache;
using namespace diskcache::gpu;
using namespace std::chrono_literals;

namespace {

std::unique_ptr<Device> make_device(std::chrono::microseconds max_delay = 0us, std::uint64_t seed = 1) {
#ifdef DISKCACHE_TEST_CUDA
  (void)max_delay;
  (void)seed;
  return make_cuda_device(0);
#else
  return make_emulated_device({.max_delay = max_delay, .seed = seed});
#endif
}

// Device (or, with Pinned, pinned host) memory, freed on scope exit.
template <bool Pinned>
struct Memory {
  Device& device;
  std::size_t bytes;
  unsigned char* data;
  Memory(Device& d, std::size_t n)
      : device(d), bytes(n), data(static_cast<unsigned char*>(Pinned ? d.allocate_pinned(n) : d.allocate_device(n))) {}
  ~Memory() { Pinned ? device.free_pinned(data) : device.free_device(data); }
  std::string str() const { return std::string(reinterpret_cast<const char*>(data), bytes); }
};
using DeviceBuffer = Memory<false>;
using PinnedBuffer = Memory<true>;

std::string random_bytes(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 random(seed);
  std::string out(n, '\0');
  for (auto& c : out) c = static_cast<char>(random());
  return out;
}

void upload(Device& device, Stream& stream, DeviceBuffer& dst, const std::string& bytes) {
  PinnedBuffer staging(device, bytes.size());
  std::memcpy(staging.data, bytes.data(), bytes.size());
  device.copy_to_device(dst.data, staging.data, bytes.size(), stream);
  device.synchronize(stream);
}

std::string download(Device& device, Stream& stream, const DeviceBuffer& src) {
  PinnedBuffer staging(device, src.bytes);
  device.copy_to_host(staging.data, src.data, src.bytes, stream);
  device.synchronize(stream);
  return staging.str();
}

std::string stored_bytes(Cache& cache, const Value& key) {
  auto v = cache.get(key);
  return v ? v->as_bytes().data : std::string("<missing>");
}


template <class E>
std::string error_of(const Ticket& ticket) {
  try {
    ticket.done.get();
  } catch (const E& e) {
    return e.what();
  } catch (const std::exception& e) {
    return std::string("wrong exception type: ") + e.what();
  }
  return "no error";
}

}  // namespace

class TestGpu : public QObject {
  Q_OBJECT
  QTemporaryDir tmp_;
  int n_ = 0;
  std::string fresh() { return (tmp_.path() + "/g" + QString::number(n_++)).toStdString(); }

 private slots:
  void initTestCase() {
#ifdef DISKCACHE_TEST_CUDA
    if (cuda_device_count() == 0) QSKIP("no CUDA device on this machine");
#endif
  }

  // Without the copy stream waiting on the producer's event, the copy reads
  // the buffer before the delayed "kernel" filled it (poison, or old bytes).
  void offload_waits_for_the_producer() {
    auto device = make_device();
    Cache cache(fresh());
    Offloader offloader(*device, cache, {.block_bytes = 1 << 20});
    auto producer = device->create_stream();
    const std::size_t n = 3 << 20;
    DeviceBuffer src(*device, n);
    device->fill(src.data, 0x11, n, *producer);
    device->synchronize(*producer);
    device->delay(*producer, 100ms);
    device->fill(src.data, 0x42, n, *producer);
    Ticket ticket = offloader.offload("produced", src.data, n, *producer);
    ticket.done.get();
    QVERIFY(ticket.source_free->ready());
    QVERIFY(stored_bytes(cache, "produced") == std::string(n, '\x42'));
  }

  // Without the copy stream waiting on the consumer's event, load overwrites
  // the destination while the consumer still reads it; without the consumer
  // waiting on the ticket, its next read sees the old bytes.
  void load_waits_for_the_consumer_and_the_consumer_for_load() {
    auto device = make_device();
    Cache cache(fresh());
    Offloader offloader(*device, cache, {.block_bytes = 1 << 20});
    auto consumer = device->create_stream();
    const std::size_t n = 3 << 20;
    cache.set("fresh", Value(Bytes(std::string(n, '\x22'))));
    DeviceBuffer dst(*device, n);
    device->fill(dst.data, 0x11, n, *consumer);
    PinnedBuffer before(*device, n), after(*device, n);
    device->delay(*consumer, 100ms);
    device->copy_to_host(before.data, dst.data, n, *consumer);  // still reading dst
    Ticket ticket = offloader.load("fresh", dst.data, n, *consumer);
    device->copy_to_host(after.data, dst.data, n, *consumer);   // must see the loaded bytes
    device->synchronize(*consumer);
    ticket.done.get();
    QVERIFY(before.str() == std::string(n, '\x11'));
    QVERIFY(after.str() == std::string(n, '\x22'));
  }

  // Many small chunks through two blocks. Offload: a block reused before its
  // chunk was written to disk would have been overwritten by a later chunk.
  // Load: a block refilled before its copy to the device finished would put
  // a later chunk's bytes into the destination.
  void staging_blocks_are_reused_only_after_their_io() {
    auto device = make_device();  // copies run ahead of the disk writes
    Cache cache(fresh());
    Offloader offloader(*device, cache, {.block_bytes = 4096, .blocks = 2});
    auto stream = device->create_stream();
    const std::string data = random_bytes(600 * 4096 + 123, 3);
    DeviceBuffer src(*device, data.size());
    upload(*device, *stream, src, data);
    offloader.offload("chunked", src.data, data.size(), *stream).done.get();
    QVERIFY(stored_bytes(cache, "chunked") == data);
    DeviceBuffer back(*device, data.size());
    offloader.load("chunked", back.data, data.size(), *stream).done.get();
    QVERIFY(download(*device, *stream, back) == data);
    QCOMPARE(offloader.stats().pool.in_use, std::int64_t(0));
    QCOMPARE(offloader.stats().pool.high_water, std::int64_t(2));
  }

  void round_trips_are_bit_exact_data() {
    QTest::addColumn<qulonglong>("bytes");
    for (qulonglong n : {1ull, 1000ull, (1ull << 20) - 1, 1ull << 20, (1ull << 20) + 1, (3ull << 20) + 5, 64ull << 20})
      QTest::newRow(std::to_string(n).c_str()) << n;
  }
  void round_trips_are_bit_exact() {
    QFETCH(qulonglong, bytes);
    auto device = make_device(50us, bytes);
    Cache cache(fresh());
    Offloader offloader(*device, cache, {.block_bytes = 1 << 20});
    auto stream = device->create_stream();
    const std::string data = random_bytes(bytes, bytes);
    DeviceBuffer src(*device, bytes), dst(*device, bytes);
    upload(*device, *stream, src, data);
    Ticket stored = offloader.offload("buffer", src.data, bytes, *stream);
    stored.done.get();
    Ticket loaded = offloader.load("buffer", dst.data, bytes, *stream);
    loaded.done.get();
    QVERIFY(download(*device, *stream, dst) == data);
    QVERIFY(cache.check().empty());
  }

  void fanout_round_trip() {
    auto device = make_device();
    FanoutCache cache(fresh(), {.shards = 4});
    Offloader offloader(*device, cache, {.block_bytes = 1 << 16});
    auto stream = device->create_stream();
    for (int i = 0; i < 8; ++i) {
      const std::string data = random_bytes(100000 + i, i);
      DeviceBuffer src(*device, data.size()), dst(*device, data.size());
      upload(*device, *stream, src, data);
      offloader.offload(Value::tuple({"layer", i}), src.data, data.size(), *stream).done.get();
      offloader.load(Value::tuple({"layer", i}), dst.data, data.size(), *stream).done.get();
      QVERIFY(download(*device, *stream, dst) == data);
    }
    QVERIFY(cache.side_get(kStatsSpace, offloader.stats().name) || (offloader.publish(), true));
  }

  void concurrent_offloads_from_threads() {
    auto device = make_device(20us, 11);
    Cache cache(fresh());
    Offloader offloader(*device, cache, {.block_bytes = 1 << 18, .blocks = 4});
    constexpr int kThreads = 4, kEach = 8;
    std::vector<std::thread> threads;
    std::atomic<int> wrong{0};
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        auto stream = device->create_stream();
        for (int i = 0; i < kEach; ++i) {
          const std::string data = random_bytes(1 + (t * 7919 + i * 104729) % (3 << 20), t * 100 + i);
          DeviceBuffer src(*device, data.size());
          upload(*device, *stream, src, data);
          Ticket ticket = offloader.offload(Value::tuple({t, i}), src.data, data.size(), *stream);
          ticket.source_free->synchronize();  // src may be freed now
          ticket.done.get();
          if (stored_bytes(cache, Value::tuple({t, i})) != data) ++wrong;
        }
      });
    }
    for (auto& thread : threads) thread.join();
    offloader.drain();
    QCOMPARE(wrong.load(), 0);
    const TransferReport report = offloader.stats();
    QCOMPARE(report.offload.operations, std::int64_t(kThreads * kEach));
    QCOMPARE(report.offload.failures, std::int64_t(0));
    QCOMPARE(report.pool.in_use, std::int64_t(0));
    QVERIFY(report.pool.high_water <= 4);
  }

  // Issue 19.1 and 19.2: sixteen threads through two staging blocks, each
  // transfer needing both. Taking a job's blocks one at a time deadlocks
  // (two threads each hold one); handing a block back before its chunk is
  // written lets another transfer overwrite it (a stored value differs).
  // Every value is checked; a hang fails after a bound, not at CI's limit.
  void many_threads_through_two_blocks_never_hang_or_mix() {
    auto device = make_device(0us, 5);
    Cache cache(fresh());
    constexpr std::size_t kBlock = 2048;
    Offloader offloader(*device, cache, {.block_bytes = kBlock, .blocks = 2});
    constexpr int kThreads = 16, kEach = 625;  // 10,000 transfers
    std::atomic<int> done{0}, wrong{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        auto stream = device->create_stream();
        DeviceBuffer src(*device, 2 * kBlock + 100);
        for (int i = 0; i < kEach; ++i) {
          // One chunk (one block) or three (both blocks): a block handed
          // back early is taken at once by a one-block transfer.
          const std::string data = random_bytes(i % 2 ? src.bytes : kBlock - 10, t * 100000 + i);
          upload(*device, *stream, src, data);
          Ticket ticket = offloader.offload(Value::tuple({t, i}), src.data, data.size(), *stream);
          ticket.done.get();
          if (stored_bytes(cache, Value::tuple({t, i})) != data) ++wrong;
          ++done;
        }
      });
    }
    const auto deadline = std::chrono::steady_clock::now() + 240s;
    while (done < kThreads * kEach && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(10ms);
    if (done < kThreads * kEach)
      qFatal("offloads hung: %d of %d transfers done after 240 s", done.load(), kThreads * kEach);
    for (auto& thread : threads) thread.join();
    QCOMPARE(wrong.load(), 0);
    QCOMPARE(offloader.stats().pool.in_use, std::int64_t(0));
  }

  // A gate holds a stream's later work until the host opens it to the value
  // waited for, compared across the counter's wrap as CUDA compares.
  void gates_hold_streams_until_opened() {
    auto device = make_device();
    auto stream = device->create_stream();
    auto gate = device->create_gate();
    QCOMPARE(gate->value(), 0u);
    gate->open_to(0xFFFFFFF0u);
    device->wait_gate(*stream, *gate, 0xFFFFFFF8u);
    auto past_first = device->record(*stream);
    device->wait_gate(*stream, *gate, 5u);  // 21 steps on, past the wrap
    auto past_second = device->record(*stream);
    QVERIFY(!past_first->ready());
    gate->open_to(0xFFFFFFF8u);
    past_first->synchronize();
    QVERIFY(!past_second->ready());
    gate->open_to(5u);
    past_second->synchronize();
    QVERIFY(gate_reached(5u, 0xFFFFFFF0u) && !gate_reached(0xFFFFFFF0u, 5u));
  }

#ifndef DISKCACHE_TEST_CUDA
  // Issue 19.5: the emulated device runs every stream's host functions on
  // one thread, as CUDA's driver may, so a blocking host function stalls
  // them all in tests as it would on a GPU.
  void emulated_host_functions_share_one_thread() {
    auto device = make_device(50us, 3);
    auto a = device->create_stream(), b = device->create_stream();
    std::thread::id on_a, on_b;
    device->host_call(*a, [&] { on_a = std::this_thread::get_id(); });
    device->host_call(*b, [&] { on_b = std::this_thread::get_id(); });
    device->synchronize(*a);
    device->synchronize(*b);
    QVERIFY(on_a == on_b);
    QVERIFY(on_a != std::this_thread::get_id());
  }
#endif

  // Issue 19.5: a host function that blocks (here a user's, waiting for the
  // test) stalls every host function; transfers whose gates were host
  // functions stalled with it. Gates on the device side let multi-chunk
  // offloads and loads finish meanwhile.
  void a_blocked_host_function_stalls_no_transfer() {
    auto device = make_device(20us, 4);
    Cache cache(fresh());
    Offloader offloader(*device, cache, {.block_bytes = 4096, .blocks = 4});
    auto user = device->create_stream(), stream = device->create_stream();
    const std::string data = random_bytes(10 * 4096 + 7, 11);
    cache.set("stored", Value(Bytes(data)));
    DeviceBuffer src(*device, data.size()), dst(*device, data.size());
    upload(*device, *stream, src, data);
    std::promise<void> released;
    std::shared_future<void> release = released.get_future().share();
    device->host_call(*user, [release] { release.wait(); });
    Ticket offload = offloader.offload("offloaded", src.data, data.size(), *stream);
    Ticket load = offloader.load("stored", dst.data, data.size(), *stream);
    const bool offload_finished = offload.done.wait_for(20s) == std::future_status::ready;
    const bool load_finished = load.done.wait_for(20s) == std::future_status::ready;
    released.set_value();
    offload.done.get();
    load.done.get();
    QVERIFY2(offload_finished, "an offload waited for another stream's blocked host function");
    QVERIFY2(load_finished, "a load waited for another stream's blocked host function");
    QVERIFY(stored_bytes(cache, "offloaded") == data);
    QVERIFY(download(*device, *stream, dst) == data);
    device->synchronize(*user);
  }

  // Issue 19.5: offloads and loads have a stream and an I/O thread each, so
  // a load never queues behind an offload still waiting for its producer
  // (or for the disk).
  void a_load_never_waits_behind_an_offload() {
    auto device = make_device();
    Cache cache(fresh());
    Offloader offloader(*device, cache, {.block_bytes = 4096});
    auto producer = device->create_stream(), consumer = device->create_stream();
    const std::string data = random_bytes(5 * 4096, 12), stored = random_bytes(3 * 4096 + 1, 13);
    cache.set("stored", Value(Bytes(stored)));
    DeviceBuffer src(*device, data.size()), dst(*device, stored.size());
    upload(*device, *producer, src, data);
    auto producer_gate = device->create_gate();
    device->wait_gate(*producer, *producer_gate, 1);  // the producer's "kernel" has not finished
    Ticket offload = offloader.offload("offloaded", src.data, data.size(), *producer);
    Ticket load = offloader.load("stored", dst.data, stored.size(), *consumer);
    const bool load_finished = load.done.wait_for(20s) == std::future_status::ready;
    const bool offload_waited = offload.done.wait_for(0s) != std::future_status::ready;
    producer_gate->open_to(1);
    offload.done.get();
    load.done.get();
    QVERIFY2(load_finished, "a load waited behind an offload whose producer had not finished");
    QVERIFY(offload_waited);
    QVERIFY(stored_bytes(cache, "offloaded") == data);
    QVERIFY(download(*device, *consumer, dst) == stored);
  }

  // Issue 19.3: a value file is written under a temporary name and renamed
  // complete, so a reader walking the directory never finds a .val file
  // that holds part of a value (written in place, most would).
  void value_files_appear_only_complete() {
    auto device = make_device(200us, 9);  // slow copies: a write spans many chunks' time
    const std::string dir = fresh();
    Cache cache(dir);
    constexpr std::size_t kBlock = 16 << 10, kBytes = 12 * kBlock;  // a value file (>= 32 KiB)
    Offloader offloader(*device, cache, {.block_bytes = kBlock, .blocks = 2});
    std::atomic<bool> writing{true};
    std::atomic<int> partial{0}, complete{0};
    std::thread reader([&] {
      while (writing) {
        std::error_code ec;
        for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
             !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
          if (it->path().extension() != ".val") continue;
          const auto size = std::filesystem::file_size(it->path(), ec);
          if (ec) continue;  // removed meanwhile
          size == kBytes ? ++complete : ++partial;
        }
      }
    });
    auto stream = device->create_stream();
    DeviceBuffer src(*device, kBytes);
    for (int i = 0; i < 40; ++i) {
      const std::string data = random_bytes(kBytes, i);
      upload(*device, *stream, src, data);
      offloader.offload(Value::tuple({"v", i % 4}), src.data, kBytes, *stream).done.get();
    }
    writing = false;
    reader.join();
    QCOMPARE(partial.load(), 0);
    QVERIFY(complete.load() > 0);  // the reader did see value files
  }

  // A missing key, a wrong size and a non-bytes value fail the ticket before
  // anything is queued: the destination keeps its bytes.
  void load_errors_never_touch_the_destination() {
    auto device = make_device();
    Cache cache(fresh());
    Offloader offloader(*device, cache);
    auto stream = device->create_stream();
    DeviceBuffer dst(*device, 1000);
    device->fill(dst.data, 0x5A, 1000, *stream);
    device->synchronize(*stream);
    cache.set("short", Value(Bytes(std::string(999, 'x'))));
    cache.set("number", 5);
    const Ticket missing = offloader.load("nope", dst.data, 1000, *stream);
    QVERIFY(!missing.source_free);
    const std::string m = error_of<KeyNotFound>(missing);
    QVERIFY2(m.find("'nope'") != std::string::npos && m.find(cache.directory().string()) != std::string::npos, m.c_str());
    const std::string s = error_of<InvalidArgument>(offloader.load("short", dst.data, 1000, *stream));
    QVERIFY2(s.find("999 bytes") != std::string::npos, s.c_str());
    QCOMPARE(error_of<TypeMismatch>(offloader.load("number", dst.data, 1000, *stream)).find("wrong"), std::string::npos);
    QVERIFY(download(*device, *stream, dst) == std::string(1000, '\x5A'));
    QCOMPARE(offloader.stats().load.failures, std::int64_t(3));
  }

  // A load reads its blocks with two threads; a value file cut short while
  // they read fails the ticket naming the key (whichever thread hits the
  // end), stops the other thread and returns every block, never hangs.
  void a_value_cut_short_mid_load_fails_cleanly() {
    auto device = make_device(20us, 8);
    const std::string dir = fresh();
    Cache cache(dir);
    Offloader offloader(*device, cache, {.block_bytes = 4096});
    auto consumer = device->create_stream();
    const std::string data = random_bytes(9 * 4096, 21);
    cache.set("cut", Value(Bytes(data)));
    std::string file;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(dir))
      if (entry.path().extension() == ".val") file = entry.path().string();
    QVERIFY(!file.empty());
    DeviceBuffer dst(*device, data.size());
    auto consumer_gate = device->create_gate();
    device->wait_gate(*consumer, *consumer_gate, 1);  // no copy runs until the file is cut
    Ticket ticket = offloader.load("cut", dst.data, data.size(), *consumer);
    std::filesystem::resize_file(file, 4096);
    consumer_gate->open_to(1);
    QVERIFY(ticket.done.wait_for(60s) == std::future_status::ready);
    const std::string message = error_of<CorruptCache>(ticket);
    QVERIFY2(message.find("'cut'") != std::string::npos || message.find(file) != std::string::npos, message.c_str());
    offloader.drain();
    QCOMPARE(offloader.stats().pool.in_use, std::int64_t(0));
    QCOMPARE(offloader.stats().load.failures, std::int64_t(1));
  }

  void file_layer_failures_surface_and_store_nothing_data() {
    QTest::addColumn<int>("write_errno");
    QTest::addColumn<int>("create_errno");
    QTest::addColumn<QString>("expected");
    QTest::newRow("disk full") << ENOSPC << 0 << "No space left";
    QTest::newRow("I/O error") << EIO << 0 << "Input/output error";
    QTest::newRow("unwritable directory") << 0 << EACCES << "Permission denied";
  }
  void file_layer_failures_surface_and_store_nothing() {
    QFETCH(int, write_errno);
    QFETCH(int, create_errno);
    QFETCH(QString, expected);
    auto device = make_device();
    const std::string dir = fresh();
    auto faults = std::make_shared<test_support::FaultyFiles>();
    Cache cache(dir, Options{.file_layer = faults});
    cache.set("kept", Value(Bytes(std::string(100000, 'k'))));
    Offloader offloader(*device, cache, {.block_bytes = 1 << 16});
    auto stream = device->create_stream();
    const std::string data = random_bytes(300000, 5);
    DeviceBuffer src(*device, data.size());
    upload(*device, *stream, src, data);
    faults->write_errno = write_errno;
    faults->create_errno = create_errno;
    Ticket failed = offloader.offload("kept", src.data, data.size(), *stream);
    const std::string message = error_of<IoError>(failed);
    faults->write_errno = faults->create_errno = 0;
    QVERIFY2(message.find(expected.toStdString()) != std::string::npos, message.c_str());
    QVERIFY2(message.find(dir) != std::string::npos, message.c_str());
    QVERIFY(stored_bytes(cache, "kept") == std::string(100000, 'k'));  // the old value survives
    const auto warnings = cache.check();
    QVERIFY2(warnings.empty(), warnings.empty() ? "" : warnings.front().c_str());  // no partial file left
    QCOMPARE(offloader.stats().offload.failures, std::int64_t(1));
    QCOMPARE(offloader.stats().pool.in_use, std::int64_t(0));
    offloader.offload("kept", src.data, data.size(), *stream).done.get();  // works again once disarmed
    QVERIFY(stored_bytes(cache, "kept") == data);
  }

  // A device error part-way through queuing a transfer fails its ticket,
  // stores nothing, and returns every staging block; the Offloader goes on.
  void device_errors_while_queuing_fail_the_ticket() {
#ifdef DISKCACHE_TEST_CUDA
    QSKIP("needs the emulated device's fault injection");
#endif
    auto device = make_emulated_device({.max_delay = 100us, .fail_copy = 3});
    Cache cache(fresh());
    Offloader offloader(*device, cache, {.block_bytes = 4096, .blocks = 2});
    auto stream = device->create_stream();
    DeviceBuffer src(*device, 5 * 4096);
    device->fill(src.data, 0x33, src.bytes, *stream);
    const Ticket failed = offloader.offload("x", src.data, src.bytes, *stream);  // its 3rd copy fails
    const std::string message = error_of<DeviceError>(failed);
    QVERIFY2(message.find("injected failure") != std::string::npos, message.c_str());
    QVERIFY(!cache.contains("x"));
    offloader.drain();
    QCOMPARE(offloader.stats().pool.in_use, std::int64_t(0));
    offloader.offload("x", src.data, src.bytes, *stream).done.get();
    QVERIFY(stored_bytes(cache, "x") == std::string(src.bytes, '\x33'));
  }

  void staging_pool_counts_references_loudly() {
    auto device = make_device();
    {
      StagingPool pool(*device, 64, 2);
      StagingPool::Block& a = pool.acquire();
      pool.add_ref(a);
      pool.release(a);
      QCOMPARE(pool.in_use(), std::size_t(1));
      pool.release(a);
      QCOMPARE(pool.in_use(), std::size_t(0));
      QVERIFY_THROWS_EXCEPTION(std::logic_error, pool.release(a));
      QVERIFY_THROWS_EXCEPTION(std::logic_error, pool.add_ref(a));
    }
    // Destroying a pool with a block in use aborts (in a child process).
    const pid_t child = fork();
    if (child == 0) {
      auto child_device = make_emulated_device();
      auto* pool = new StagingPool(*child_device, 64, 1);
      pool->acquire();
      delete pool;
      _exit(0);
    }
    int status = 0;
    waitpid(child, &status, 0);
    QVERIFY(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
  }

  void emulated_device_poisons_fresh_and_freed_memory() {
    auto device = make_emulated_device();
    auto* p = static_cast<unsigned char*>(device->allocate_device(16));
    QCOMPARE(p[0], kFreshPoison);
    QCOMPARE(p[15], kFreshPoison);
    device->free_device(p);
    QCOMPARE(p[0], kFreedPoison);  // quarantined, not returned to malloc
    QVERIFY_THROWS_EXCEPTION(DeviceError, device->free_device(p));
  }

  void statistics_are_published_in_the_side_table() {
    auto device = make_device();
    const std::string dir = fresh();
    Cache cache(dir);
    {
      Offloader offloader(*device, cache, {.block_bytes = 1 << 16, .stats_name = "trainer"});
      auto stream = device->create_stream();
      DeviceBuffer buf(*device, 200000);
      device->fill(buf.data, 1, buf.bytes, *stream);
      for (int i = 0; i < 5; ++i) offloader.offload(i, buf.data, buf.bytes, *stream).done.get();
      offloader.load(0, buf.data, buf.bytes, *stream).done.get();
    }  // the destructor publishes the final figures
    QCOMPARE(cache.size(), std::int64_t(5));  // statistics are not cache items
    Cache reader(dir, Options{.read_only = true});
    auto row = reader.side_get(kStatsSpace, "trainer");
    QVERIFY(row);
    const TransferReport report = report_from_value("trainer", *row);
    QCOMPARE(report.offload.operations, std::int64_t(5));
    QCOMPARE(report.offload.bytes, std::int64_t(5 * 200000));
    QCOMPARE(report.load.operations, std::int64_t(1));
    QVERIFY(report.offload.throughput_bps > 0);
    QVERIFY(report.offload.latency_p99_ms >= report.offload.latency_p50_ms);
    QCOMPARE(report.pool.in_use, std::int64_t(0));
    QCOMPARE(report.device, device->name());
    // A hostile row reads as zeros, never as garbage.
    const TransferReport hostile =
        report_from_value("x", Value::dict({{"offload", Value::dict({{"bytes", "many"}, {"operations", 1.5}})},
                                            {"pool", Value::list({1, 2})}}));
    QCOMPARE(hostile.offload.bytes, std::int64_t(0));
    QCOMPARE(hostile.pool.blocks, std::int64_t(0));
  }
};

QTEST_GUILESS_MAIN(TestGpu)
#include "tst_gpu.moc"
