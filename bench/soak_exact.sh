#!/bin/bash
# bench/soak_exact.sh: the long randomized differential soak of change-aware
# runs (bench/soak_exact.py: every model compared with its query at each
# quiet point, under concurrent writers of every kind).  CHECKS (default
# 1,000) check points, SEED (default: random, printed), WRITERS (3);
# INCREMENTAL=0 leaves out the incremental models.  Prints the
# seed, every mismatch in full, and the change log's size at the end.
BENCH_CONF="wal_level = logical
max_prepared_transactions = 10
max_wal_senders = 10"
export BENCH_CONF
. "$(dirname "$0")/common.sh"
start_cluster
args=(--dsn "host=$BENCH_DIR port=$BENCH_PORT user=postgres" --checks "${CHECKS:-1000}" --writers "${WRITERS:-3}")
[ -n "${SEED:-}" ] && args+=(--seed "$SEED")
[ "${INCREMENTAL:-1}" = 0 ] && args+=(--no-incremental)
status=0
/usr/bin/python3 "$(dirname "$0")/soak_exact.py" "${args[@]}" || status=$?
if [ "$status" != 0 ]; then
	cp "$BENCH_DIR/log" "${TMPDIR:-/tmp}/soak_exact-server.log"
	echo "the server log is in ${TMPDIR:-/tmp}/soak_exact-server.log"
fi
exit "$status"
