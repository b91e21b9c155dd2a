#!/bin/bash
# bench/maintain_matrix.sh: maintained against rebuilt, side by side, on the
# same changes, and whether maintain => 'auto' picked the faster way
# (bench/maintain_matrix.py says how).  LINES (default 1,000,000) order
# lines; SIZES (1,5,20,50) percent; KINDS (insert,update,delete); MODELS
# (by_order,by_product,line_facts,by_category); REPEAT (3) times each
# change, a cell the medians.  Run it alone on the machine: its figures
# are wall times.
. "$(dirname "$0")/common.sh"
start_cluster
/usr/bin/python3 "$(dirname "$0")/maintain_matrix.py" \
	--dsn "host=$BENCH_DIR port=$BENCH_PORT user=postgres dbname=bench" \
	--lines "${LINES:-1000000}" --sizes "${SIZES:-1,5,20,50}" \
	--kinds "${KINDS:-insert,update,delete}" \
	--models "${MODELS:-by_order,by_product,line_facts,by_category}" \
	--repeat "${REPEAT:-3}"
