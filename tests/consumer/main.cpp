#include <diskcache/diskcache.hpp>
#include <diskcache/gpu/emulated_device.hpp>
#include <diskcache/gpu/offloader.hpp>

#ifdef CONSUMER_HAS_REDIS
#include <diskcache/redis/primitives.hpp>
#endif

#include <cstdio>
#include <cstring>

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  diskcache::Cache cache(argv[1]);
  cache.set("answer", 42);
  const auto value = cache.get<int>("answer");
  std::printf("answer=%d\n", value.value_or(-1));

  // diskcache::gpu: a buffer through the emulated device and back.
  auto device = diskcache::gpu::make_emulated_device();
  auto stream = device->create_stream();
  void* buffer = device->allocate_device(1000);
  device->fill(buffer, 7, 1000, *stream);
  bool round_trip = false;
  {
    diskcache::gpu::Offloader offloader(*device, cache);
    offloader.offload("buffer", buffer, 1000, *stream).done.get();
    round_trip = cache.get("buffer")->as_bytes().data == std::string(1000, '\7');
  }
  device->free_device(buffer);
  std::printf("gpu round trip=%d\n", round_trip);
#ifdef CONSUMER_HAS_REDIS
  // diskcache::redis links and parses (no server needed for this).
  const auto store = diskcache::redis::Store::open("redis://127.0.0.1:6379/2");
  std::printf("redis=%s\n", store.url().c_str());
#endif
  return value == 42 && round_trip ? 0 : 1;
}
