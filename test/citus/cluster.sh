#!/bin/bash
#
# test/citus/cluster.sh: a Citus coordinator and two workers on one
# machine, each a PostgreSQL 15 instance on its own localhost port, with
# citus first in shared_preload_libraries (then medallion).  Used by
# test/run (the scale-out suite), bench/citus.sh and
# examples/adventureworks/demo_citus.sh.
#
#   cluster.sh start DIR PORT SOCKDIR   initdb and start coordinator (PORT)
#                                       and workers (the next free ports),
#                                       add the workers; prints the three
#                                       ports
#   cluster.sh node DIR stop|start PORT stop or start one node
#   cluster.sh stop DIR                 stop every node of DIR
#
# As root, the instances run as user postgres (initdb refuses root).
set -u
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}

as_cluster_owner() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

node_dir() {	# node_dir DIR PORT: the data directory of the node on PORT
	grep -l "^port = $2\$" "$1"/*/postgresql.conf 2>/dev/null | head -1 | xargs -r dirname
}

case "${1:-}" in
start)
	dir=$2 port=$3 sockdir=$4
	mkdir -p "$dir"
	[ "$(id -u)" = 0 ] && chown postgres "$dir"
	ports=()
	for node in coordinator worker1 worker2; do
		while (echo > "/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
		as_cluster_owner "$PGBIN/initdb" -D "$dir/$node" -A trust -U postgres -E UTF8 --locale=C.UTF-8 \
			>"$dir/initdb-$node.log" 2>&1 || { cat "$dir/initdb-$node.log" >&2; exit 1; }
		cat >> "$dir/$node/postgresql.conf" <<EOF
port = $port
unix_socket_directories = '$sockdir'
listen_addresses = 'localhost'
shared_preload_libraries = 'citus,medallion'
max_worker_processes = 16
max_connections = 100
fsync = off
synchronous_commit = off
full_page_writes = off
log_min_messages = warning
log_line_prefix = '%m [%p] %d '
EOF
		as_cluster_owner "$PGBIN/pg_ctl" -D "$dir/$node" -l "$dir/$node.log" -w start >/dev/null ||
			{ cat "$dir/$node.log" >&2; exit 1; }
		"$PGBIN/psql" -X -q -h "$sockdir" -p "$port" -U postgres -d postgres -c "CREATE EXTENSION citus" >/dev/null || exit 1
		ports+=("$port")
		port=$((port + 1))
	done
	"$PGBIN/psql" -X -q -h "$sockdir" -p "${ports[0]}" -U postgres -d postgres \
		-c "SELECT citus_set_coordinator_host('localhost', ${ports[0]})" \
		-c "SELECT citus_add_node('localhost', ${ports[1]})" \
		-c "SELECT citus_add_node('localhost', ${ports[2]})" >/dev/null || exit 1
	echo "${ports[*]}"
	;;
node)
	dir=$(node_dir "$2" "$4")
	[ -n "$dir" ] || { echo "cluster.sh: no node on port $4 in $2" >&2; exit 2; }
	as_cluster_owner "$PGBIN/pg_ctl" -D "$dir" -l "$dir.log" -m fast -w "$3" >/dev/null
	;;
stop)
	for node in coordinator worker1 worker2; do
		[ -f "$2/$node/postmaster.pid" ] &&
			as_cluster_owner "$PGBIN/pg_ctl" -D "$2/$node" -m fast -w stop >/dev/null 2>&1
	done
	exit 0
	;;
*)
	echo "usage: cluster.sh start DIR PORT SOCKDIR | node DIR stop|start PORT | stop DIR" >&2
	exit 2
	;;
esac
