// The cache.db schema Python diskcache creates, plus this library's
// versioned side tables, and the typed reading of Settings.
#pragma once

#include <map>
#include <string>

#include "cache_impl.hpp"

namespace diskcache::detail {

// The version of this library's side tables (diskcache_meta's
// side_schema_version): 2 added primitives, holders and history.
inline constexpr int kSideSchemaVersion = 2;

// Settings rows as stored; empty when the table does not exist yet.
// Throws CorruptCache when cache.db is not a database.
std::map<std::string, SqlScalar> read_settings(Connection& conn);

// Applies precedence (defaults < stored < opener) and checks every type and
// range: a wrong stored row throws CorruptCache, a wrong opener value
// InvalidArgument. Unknown sqlite_* rows are never executed; they are listed
// in ignored_pragmas.
ResolvedSettings resolve_settings(const std::map<std::string, SqlScalar>& stored, const Settings& opener,
                                  const std::string& db_path);

// Creates tables, indexes and triggers (as Python does) and writes the
// Settings that differ from what is stored, in one transaction.
void create_schema(Connection& conn, const ResolvedSettings& settings,
                   const std::map<std::string, SqlScalar>& stored);

bool has_cache_table(Connection& conn);

}  // namespace diskcache::detail
