#include <diskcache/diskcache.hpp>

#include <cstdio>

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  diskcache::Cache cache(argv[1]);
  cache.set("answer", 42);
  const auto value = cache.get<int>("answer");
  std::printf("answer=%d\n", value.value_or(-1));
  return value == 42 ? 0 : 1;
}
