#!/bin/bash
# Shared by the benchmarks: a throwaway PostgreSQL 15 cluster with medallion
# installed from this tree, stopped when the benchmark exits.  As root the
# cluster runs as user postgres.  Prints nothing but errors.
#
# After "start_cluster", PSQL runs psql against it (database "bench").
#
# PG_CONFIG names the PostgreSQL installation (as for test/run and make);
# BENCH_PORT the first port tried: the cluster takes the first one no other
# cluster on this machine listens on, so benchmarks can run side by side.

set -euo pipefail
PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
PGBIN=$($PG_CONFIG --bindir)
BENCH_DIR=$(mktemp -d /tmp/medallion-bench.XXXXXX)
BENCH_PORT=${BENCH_PORT:-55499}
# is a port taken by a server on TCP or by a socket in the usual places?
port_taken() {
	local s
	(echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
	for s in /tmp/.s.PGSQL."$1" /tmp/*/.s.PGSQL."$1" /var/run/postgresql/.s.PGSQL."$1"; do
		[ -e "$s" ] && return 0
	done
	return 1
}
while port_taken "$BENCH_PORT"; do
	BENCH_PORT=$((BENCH_PORT + 1))
done

as_cluster_owner() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

stop_cluster() {
	as_cluster_owner "$PGBIN/pg_ctl" -D "$BENCH_DIR/data" -m fast stop >/dev/null 2>&1 || true
	rm -rf "$BENCH_DIR"
}

start_cluster() {
	[ "$(id -u)" = 0 ] && chown postgres "$BENCH_DIR"
	as_cluster_owner "$PGBIN/initdb" -D "$BENCH_DIR/data" -A trust -U postgres >/dev/null
	cat >> "$BENCH_DIR/data/postgresql.conf" <<CONF
port = $BENCH_PORT
unix_socket_directories = '$BENCH_DIR'
listen_addresses = ''
shared_preload_libraries = 'medallion'
shared_buffers = 1GB
work_mem = 64MB
maintenance_work_mem = 256MB
max_wal_size = 4GB
checkpoint_timeout = 30min
synchronous_commit = off
max_worker_processes = 16
${BENCH_CONF:-}
# the benchmarks set a build against the same SQL by hand: every run builds
# (a benchmark of change-aware runs passes changed_only => true)
medallion.changed_only = off
CONF
	trap stop_cluster EXIT
	as_cluster_owner "$PGBIN/pg_ctl" -D "$BENCH_DIR/data" -l "$BENCH_DIR/log" -w start >/dev/null
	PSQL="$PGBIN/psql -X -q -v ON_ERROR_STOP=1 -h $BENCH_DIR -p $BENCH_PORT -U postgres"
	$PSQL -d postgres -c "CREATE DATABASE bench" >/dev/null
	PSQL="$PSQL -d bench"
	$PSQL -c "CREATE EXTENSION medallion" >/dev/null
}

# median of the numbers given as arguments
median() {
	printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'
}

# milliseconds since the epoch
now_ms() { date +%s%3N; }

# ms that psql takes to run the SQL given as argument
time_sql() {
	local t0 t1
	t0=$(now_ms)
	$PSQL -c "$1" >/dev/null
	t1=$(now_ms)
	echo $((t1 - t0))
}
