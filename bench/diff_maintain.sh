#!/bin/bash
# bench/diff_maintain.sh: the long run of the randomized differential
# harness (bench/diff_maintain.py, issue 31): random star schemas, random
# table models of the maintained class, random DML batches, each model
# compared with its query after every change-aware run.  CASES (default
# 100,000) cases or TIME_LIMIT seconds, whichever comes first; SEED
# (default: random, printed); QUERIES models per round (8); MAINTAIN the
# maintain => value when medallion_create_model takes one (auto).  Other
# arguments go to the harness (--keep-going, --shrink-time N, ...).
# Prints every mismatch with its shrunk case, and the count at the end.
BENCH_CONF="max_prepared_transactions = 10"
export BENCH_CONF
. "$(dirname "$0")/common.sh"
start_cluster
args=(--dsn "host=$BENCH_DIR port=$BENCH_PORT user=postgres" --cases "${CASES:-100000}"
	--queries "${QUERIES:-8}" --maintain "${MAINTAIN:-auto}")
[ -n "${SEED:-}" ] && args+=(--seed "$SEED")
[ -n "${TIME_LIMIT:-}" ] && args+=(--time-limit "$TIME_LIMIT")
status=0
/usr/bin/python3 "$(dirname "$0")/diff_maintain.py" "${args[@]}" "$@" || status=$?
if [ "$status" != 0 ]; then
	cp "$BENCH_DIR/log" "${TMPDIR:-/tmp}/diff_maintain-server.log"
	echo "the server log is in ${TMPDIR:-/tmp}/diff_maintain-server.log"
fi
exit "$status"
