#include "servers.hpp"

namespace pitwall::test_support {

RedisServer& shared_redis() {
    static RedisServer server;
    return server;
}

PostgresCluster& shared_postgres() {
    static PostgresCluster cluster;
    return cluster;
}

}  // namespace pitwall::test_support
