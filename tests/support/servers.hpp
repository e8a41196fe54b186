// Servers shared by every test of one executable: started on first use (so a run filtered to SQLite
// tests starts no PostgreSQL), stopped when the executable exits. Call from the main test thread:
// the servers are tied to the thread that starts them and die with it.
#pragma once

#include "postgres_cluster.hpp"
#include "redis_server.hpp"

namespace pitwall::test_support {

RedisServer& shared_redis();
PostgresCluster& shared_postgres();

}  // namespace pitwall::test_support
