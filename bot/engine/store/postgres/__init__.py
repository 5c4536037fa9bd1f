"""The PostgreSQL task store: a connection pool shared by several bot processes, versioned migrations
under an advisory lock, leases taken with `FOR UPDATE SKIP LOCKED`, and the process heartbeats that
split the gateway ceiling."""
