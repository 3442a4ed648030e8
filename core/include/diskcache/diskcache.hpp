// Umbrella header: everything a user of diskcache::core needs.
#pragma once

#include "diskcache/cache.hpp"
#include "diskcache/codec.hpp"
#include "diskcache/deque.hpp"
#include "diskcache/error.hpp"
#include "diskcache/fanout.hpp"
#include "diskcache/file_layer.hpp"
#include "diskcache/index.hpp"
#include "diskcache/browse.hpp"
#include "diskcache/inspect.hpp"
#include "diskcache/layout.hpp"
#include "diskcache/pickle.hpp"
#include "diskcache/primitives.hpp"
#include "diskcache/recipes.hpp"
#include "diskcache/settings.hpp"
#include "diskcache/value.hpp"
