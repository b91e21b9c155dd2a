#!/bin/bash
# bench/docs.sh: the pipeline as a page at 300 models.
#
# Generates a pipeline of 300 models (60 bronze views over 20 source
# tables, 160 silver and 80 gold tables reading 1 to 4 models each; a test
# or two on every table), runs it 10 times so that each model has 10 steps,
# then measures, in one warm session, ROUNDS times each:
#   page    SELECT medallion_docs()                (everything)
#   svg     SELECT medallion_graph('all', 'svg')   (the Graphviz layout)
#   dot     SELECT medallion_graph('all', 'dot')   (the same graph, no layout)
# and, as a user would, psql writing the page to a file from a new
# connection.  Prints median and range, the page's size, its clusters (one
# per layer and one for sources: it stays readable) and the time headless
# Chromium takes to render it.  Target (issue 17): the page in under 2 s.
#
# ROUNDS=n (default 7).
source "$(dirname "$0")/common.sh"
ROUNDS=${ROUNDS:-7}
start_cluster

$PSQL <<'SQL' >/dev/null
SET client_min_messages = warning;
CREATE SCHEMA shop;
DO $$
BEGIN
	FOR t IN 1..20 LOOP
		EXECUTE format('CREATE TABLE shop.t%s AS SELECT g AS id, g %% 97 AS k, g * 1.5 AS v, now() AS at FROM generate_series(1, 500) g', t);
	END LOOP;
END
$$;
SELECT medallion_create_source('shop', 'shop', description => 'the shop database');
DO $$
DECLARE
	pick int;
BEGIN
	FOR i IN 1..60 LOOP
		PERFORM medallion_create_model(format('brnz_item_%s', i),
			format('SELECT id, k, v, at FROM shop.t%s', 1 + i % 20), 'bronze',
			description => format('Items of source table t%s', 1 + i % 20));
	END LOOP;
	FOR i IN 1..160 LOOP
		pick := 1 + (i * 37) % 60;
		PERFORM medallion_create_model(format('slvr_fact_%s', i),
			CASE WHEN i <= 60 OR i % 3 = 0 THEN
				format('SELECT a.k, sum(a.v) AS total, count(*) AS n, max(a.at) AS at FROM bronze.brnz_item_%s a JOIN bronze.brnz_item_%s b USING (id) WHERE b.v > 0 GROUP BY a.k',
					   pick, 1 + (i * 11) % 60)
			ELSE
				format('SELECT a.k, a.total + b.total AS total, a.n, a.at FROM silver.slvr_fact_%s a JOIN silver.slvr_fact_%s b USING (k)',
					   1 + (i * 7) % 60, 1 + (i * 13) % (i - 1))
			END, 'silver');
		PERFORM medallion_add_test(format('slvr_fact_%s', i), 'not_null', column_name => 'k');
	END LOOP;
	FOR i IN 1..80 LOOP
		PERFORM medallion_create_model(format('gld_mart_%s', i),
			format('SELECT a.k, a.total, b.total AS other_total, c.n FROM silver.slvr_fact_%s a JOIN silver.slvr_fact_%s b USING (k) JOIN silver.slvr_fact_%s c USING (k) JOIN silver.slvr_fact_%s d USING (k)',
				   1 + (i * 3) % 160, 1 + (i * 5) % 160, 1 + (i * 17) % 160, 1 + (i * 29) % 160), 'gold');
		PERFORM medallion_add_test(format('gld_mart_%s', i), 'unique', column_name => 'k');
		PERFORM medallion_add_test(format('gld_mart_%s', i), 'expression', expression => 'total >= 0', severity => 'warn');
	END LOOP;
END
$$;
SQL
models=$($PSQL -At -c "SELECT count(*) FROM medallion.models")
for _ in $(seq 1 10); do
	$PSQL -c "SET client_min_messages = warning" -c "SELECT count(*) FROM medallion_run('all')" >/dev/null
done

# time each statement ROUNDS times in one session (ms, from the server's clock)
timings=$($PSQL -c "SET client_min_messages = notice" -c "DO \$\$
DECLARE
	t0 timestamptz;
BEGIN
	PERFORM medallion_docs();
	FOR round IN 1..$ROUNDS LOOP
		t0 := clock_timestamp();
		PERFORM medallion_docs();
		RAISE NOTICE 'page %', extract(epoch FROM clock_timestamp() - t0) * 1000;
		t0 := clock_timestamp();
		PERFORM medallion_graph('all', 'svg');
		RAISE NOTICE 'svg %', extract(epoch FROM clock_timestamp() - t0) * 1000;
		t0 := clock_timestamp();
		PERFORM medallion_graph('all', 'dot');
		RAISE NOTICE 'dot %', extract(epoch FROM clock_timestamp() - t0) * 1000;
	END LOOP;
END
\$\$" 2>&1)
pick() { echo "$timings" | sed -n "s/^NOTICE:  $1 //p" | awk '{printf "%.0f\n", $1}'; }
report() {
	local name=$1 values
	values=$(pick "$name")
	printf '%-36s median %6s ms  range %s-%s ms\n' "$2" "$(median $values)" \
		"$(echo "$values" | sort -g | head -1)" "$(echo "$values" | sort -g | tail -1)"
}

page="$BENCH_DIR/pipeline.html"
cold=()
for _ in $(seq 1 "$ROUNDS"); do
	t0=$(now_ms)
	$PSQL -At -c "SELECT medallion_docs()" > "$page"
	cold+=($(( $(now_ms) - t0 )))
done

clusters=$(grep -o '<g id="clust[0-9]*" class="cluster">' "$page" | wc -l)
t0=$(now_ms)
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --user-data-dir="$BENCH_DIR/chromium" \
	--window-size=1400,1600 --screenshot="$BENCH_DIR/pipeline.png" "file://$page" >/dev/null 2>&1
render=$(( $(now_ms) - t0 ))

echo "pipeline: $models models, 10 runs; page $(( $(stat -c %s "$page") / 1024 )) kB, $clusters clusters (3 layers + sources)"
report page "medallion_docs() (warm session)"
report svg "medallion_graph('all', 'svg')"
report dot "medallion_graph('all', 'dot')"
printf '%-36s median %6s ms  range %s-%s ms\n' "psql -c ... > file (new connection)" "$(median "${cold[@]}")" \
	"$(printf '%s\n' "${cold[@]}" | sort -g | head -1)" "$(printf '%s\n' "${cold[@]}" | sort -g | tail -1)"
echo "page ÷ 2 s target: $(awk -v m="$(median $(pick page))" 'BEGIN {printf "%.3f", m / 2000}')"
echo "headless Chromium, load and screenshot: $render ms"
