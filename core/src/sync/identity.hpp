// The holder identity (public: diskcache/identity.hpp), under the names the
// library's internals use.
#pragma once

#include "diskcache/identity.hpp"

namespace diskcache::detail {

using diskcache::Liveness;
using diskcache::liveness_of;
using diskcache::ProcessIdentity;
using diskcache::self_identity;
using diskcache::self_thread_id;

}  // namespace diskcache::detail
