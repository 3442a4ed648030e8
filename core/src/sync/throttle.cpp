#include "diskcache/error.hpp"
#include "diskcache/recipes.hpp"

namespace diskcache {

Throttle::Throttle(Cache& cache, Value name, std::int64_t count, double seconds, ThrottleOptions options)
    : cache_(&cache), key_(std::move(name)), count_(count), rate_(static_cast<double>(count) / seconds),
      options_(std::move(options)) {
  if (count < 1 || !(seconds > 0)) throw InvalidArgument("a Throttle needs count >= 1 and seconds > 0");
  cache_->set(key_, Value::tuple({now(), count_}), SetOptions{options_.expire, options_.tag});
}

void Throttle::wait() {
  while (true) {
    const double delay = cache_->transact([&] {
      double last = now(), tally = static_cast<double>(count_);
      if (auto v = cache_->get(key_)) {
        if (v->type() != Value::Type::Tuple || v->items().size() != 2)
          throw CorruptCache("throttle " + key_.repr() + " holds " + v->repr().substr(0, 60) +
                             ", not Python's (last, tally) tuple");
        last = v->items()[0].as_double();
        tally = v->items()[1].as_double();
      }
      const double t = now();
      tally += (t - last) * rate_;
      if (tally > static_cast<double>(count_)) {
        cache_->set(key_, Value::tuple({t, count_ - 1}), SetOptions{options_.expire, options_.tag});
      } else if (tally >= 1) {
        cache_->set(key_, Value::tuple({t, tally - 1}), SetOptions{options_.expire, options_.tag});
      } else {
        return (1 - tally) / rate_;
      }
      return 0.0;
    });
    if (delay <= 0) return;
    if (options_.sleep)
      options_.sleep(delay);
    else
      std::this_thread::sleep_for(std::chrono::duration<double>(delay));
  }
}

}  // namespace diskcache
