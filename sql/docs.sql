--
-- The pipeline as a page: medallion_docs() and medallion_graph(selector,
-- 'svg').  The page escapes every text that comes from users, shows only
-- what the caller may read, links only to what it contains, and colors
-- each model of its graph by the model's last step.
--
SET client_min_messages = warning;
CREATE SCHEMA docs_src;
CREATE TABLE docs_src.orders (id int PRIMARY KEY, customer int, amount numeric, note text);
INSERT INTO docs_src.orders SELECT g, g % 5, g, 'ok' FROM generate_series(1, 50) g;
CREATE ROLE regress_docs_alice LOGIN IN ROLE medallion_admin;
CREATE ROLE regress_docs_bob LOGIN IN ROLE medallion_admin;
CREATE ROLE regress_docs_carol LOGIN;
GRANT USAGE ON SCHEMA docs_src TO regress_docs_alice;
GRANT SELECT ON docs_src.orders TO regress_docs_alice;

-- Helpers: how often a pattern occurs; the fill of a model's graph node;
-- the link targets (href="#...") a document names but does not hold.
CREATE FUNCTION docs_src.occurrences(doc text, pattern text) RETURNS bigint
LANGUAGE sql AS $$ SELECT count(*) FROM regexp_matches(doc, pattern, 'g') $$;
CREATE FUNCTION docs_src.node_fill(svg text, model text) RETURNS text
LANGUAGE sql AS $$
	SELECT (regexp_match(svg, '<g id="graph_model_' || model || '" class="node">.*?fill="(#[0-9a-f]{6})"'))[1]
$$;
CREATE FUNCTION docs_src.broken_links(doc text) RETURNS SETOF text
LANGUAGE sql AS $$
	SELECT DISTINCT m[2] FROM regexp_matches(doc, '(href|xlink:href)="#([^"]*)"', 'g') m
	 WHERE position('id="' || m[2] || '"' IN doc) = 0
$$;

SET ROLE regress_docs_alice;
SELECT medallion_create_model('docs_orders', 'SELECT id, customer, amount, note FROM docs_src.orders',
	'bronze', tags => '{docs}', description => 'Orders <script>alert("x")</script> & more');
SELECT medallion_create_model('docs_customers',
	$$SELECT customer, sum(amount) AS total FROM bronze.docs_orders WHERE note <> '</pre><b>' GROUP BY customer$$,
	'silver', tags => '{docs}', column_descriptions => '{"total": "<img src=x onerror=alert(1)>"}');
SELECT medallion_create_model('docs_top', 'SELECT customer, total FROM silver.docs_customers WHERE total > 10',
	'gold', tags => '{docs}');
SELECT medallion_create_model('docs_broken', 'SELECT customer / (customer - customer) AS x FROM silver.docs_customers',
	'gold', tags => '{docs}');
SELECT medallion_create_model('docs_after_broken', 'SELECT x FROM gold.docs_broken', 'gold', tags => '{docs}');
SELECT medallion_add_test('docs_customers', 'expression', expression => 'total < 200 /* <script> */',
	severity => 'warn', name => 'small_totals');
SELECT medallion_add_test('docs_top', 'expression', expression => 'total >= 0', severity => 'warn',
	name => 'negative_totals');
SELECT status, count(*) FROM medallion_run('tag:docs') GROUP BY status ORDER BY status;
SELECT medallion_create_model('docs_later', 'SELECT customer FROM gold.docs_top', 'gold', tags => '{docs}');
SELECT status FROM medallion_run('docs_orders');
GRANT SELECT ON gold.docs_top TO regress_docs_bob;
RESET ROLE;

-- A run's message (a failed publish writes one) and a schedule, as the
-- ledger and medallion_schedule record them (pg_cron is not needed to
-- show a schedule)
UPDATE medallion.runs SET message = 'could not lock <i>gold</i>; nothing was published'
 WHERE run_id = (SELECT min(run_id) FROM medallion.runs WHERE selector = 'tag:docs');
INSERT INTO medallion.schedules (name, selector, cron, owner, last_status, last_run_id, last_attempts,
								 last_finished_at, last_job_message)
VALUES ('docs_nightly', 'tag:docs', '30 2 * * *', 'regress_docs_alice', 'failed', 1, 2,
		'2026-01-01 02:31:00+00', 'job said <b>no</b>');

-- The graph: a node per model and per relation read, a cluster per layer
-- and one for sources; each node colored by its last step
SELECT medallion_graph('tag:docs', 'svg') AS svg \gset
SELECT left(:'svg', 5) = '<?xml' AS standalone,
	   docs_src.occurrences(:'svg', '<g id="graph_model_') AS model_nodes,
	   docs_src.occurrences(:'svg', '<g id="graph_relation_') AS other_nodes,
	   docs_src.occurrences(:'svg', 'class="cluster"') AS clusters,
	   docs_src.occurrences(:'svg', '<a xlink:href="#model-') AS linked;
SELECT m.name, docs_src.node_fill(:'svg', m.name) AS fill
  FROM medallion.models m WHERE 'docs' = ANY (m.tags) ORDER BY m.name;
SELECT docs_src.occurrences(:'svg', '<script') AS scripts;

-- The page of the owner: everything, escaped
SET ROLE regress_docs_alice;
SELECT medallion_docs('tag:docs') AS page \gset
RESET ROLE;
SELECT left(:'page', 15) AS doctype,
	   docs_src.occurrences(:'page', '<article class="model" id="model-') AS model_sections,
	   docs_src.occurrences(:'page', '<script') AS scripts, -- the page's own
	   docs_src.occurrences(:'page', '<img') AS images,
	   docs_src.occurrences(:'page', 'https?://(?!www\.w3\.org/)') AS addresses,
	   position('Orders &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; more' IN :'page') > 0 AS description_escaped,
	   position('&lt;img src=x onerror=alert(1)&gt;' IN :'page') > 0 AS column_description_escaped,
	   position('note &lt;&gt; &#39;&lt;/pre&gt;&lt;b&gt;&#39;' IN :'page') > 0 AS sql_escaped,
	   position('total &lt; 200 /* &lt;script&gt; */' IN :'page') > 0 AS test_escaped;
SELECT * FROM docs_src.broken_links(:'page');
-- the schedule with its next time, the owner's message escaped; the
-- owner's failed run with its message
SELECT position('<td>' || to_char(medallion.cron_next('30 2 * * *') AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') || '</td>' IN :'page') > 0 AS next_time,
	   position('job said &lt;b&gt;no&lt;/b&gt;' IN :'page') > 0 AS schedule_message,
	   position('could not lock &lt;i&gt;gold&lt;/i&gt;; nothing was published' IN :'page') > 0 AS run_message;
-- the Content-Security-Policy loads nothing and allows the one style and
-- the one script by their hashes
SELECT substring(:'page' FROM 'content="(default-src [^"]*)"') ~
	   '^default-src ''none''; style-src ''sha256-[A-Za-z0-9+/=]{44}''; script-src ''sha256-[A-Za-z0-9+/=]{44}''; img-src data:; base-uri ''none''; form-action ''none''$' AS policy;
-- the filter bar offers what the page's models have; each model's section
-- carries what the filters and the focus read (escaped)
SELECT substring(:'page' FROM '<select id="f-layer".*?</select>') AS layers,
	   substring(:'page' FROM '<select id="f-tag".*?</select>') AS tags,
	   substring(:'page' FROM '<article class="model" id="model-docs_customers"[^>]*>') AS customers_section;
-- the last runs by model: a row per model, a cell per step, linked to the
-- run's Gantt chart, which the page holds
SELECT docs_src.occurrences(substring(:'page' FROM '<table class="grid">.*?</table>'), '<tr data-model=') AS grid_rows,
	   docs_src.occurrences(:'page', '<section class="run-gantt" id="run-') =
	   least(20, (SELECT count(*) FROM medallion.runs)) AS a_chart_per_run;
-- column lineage links to the upstream model's column; filters shown apart
SELECT (regexp_match(:'page', '<tr id="c-docs_customers-2">.*?</tr>'))[1] IS NULL AS row_found,
	   substring(:'page' FROM '<tr id="c-docs_customers-2">.*?</tr>') AS total_column;
-- the last run (of docs_orders alone) as a Gantt chart: a bar per step, linked
SELECT docs_src.occurrences(substring(:'page' FROM '<section id="last-run">.*?</section>'), '<rect ') AS bars,
	   docs_src.occurrences(substring(:'page' FROM '<section id="last-run">.*?</section>'), '<a href="#model-docs_orders">') AS linked;
-- the owner sees the failing row counts of its tests
SELECT regexp_replace(substring(:'page' FROM '<tr><td>negative_totals</td>.*?</tr>'), 'run [0-9]+', 'run N') AS negative_totals,
	   regexp_replace(substring(:'page' FROM '<tr><td>small_totals</td>.*?</tr>'), 'run [0-9]+', 'run N') AS small_totals;

-- Another admin: models it may not read are grey, unlinked, without section
SET ROLE regress_docs_bob;
SELECT medallion_docs('tag:docs') AS page \gset
RESET ROLE;
SELECT docs_src.occurrences(:'page', '<article class="model" id="model-') AS model_sections,
	   position('id="model-docs_top"' IN :'page') > 0 AS readable_top,
	   position('amount, note FROM docs_src.orders' IN :'page') > 0 AS sql_shown,
	   docs_src.occurrences(:'page', 'not readable') AS grey_nodes,
	   position('Orders &lt;script' IN :'page') > 0 AS description_shown,
	   position('job said' IN :'page') > 0 AS schedule_message,
	   position('nothing was published' IN :'page') > 0 AS run_message;
-- a test of a model it may read, without the failing row count
SELECT regexp_replace(substring(:'page' FROM '<tr><td>negative_totals</td>.*?</tr>'), 'run [0-9]+', 'run N') AS negative_totals;
SELECT * FROM docs_src.broken_links(:'page');

-- Errors: change nothing
SELECT medallion_docs('no_such_model');
SELECT medallion_graph('tag:docs', 'png');
SELECT medallion_docs(NULL) IS NULL AS strict;
SET ROLE regress_docs_carol;
SELECT medallion_docs();
RESET ROLE;

-- Graphviz missing: the page says what to install (a new session has not
-- loaded medallion_docs yet)
\c
SET dynamic_library_path = '/nonexistent';
SELECT medallion_graph('tag:docs', 'svg');
\echo :LAST_ERROR_SQLSTATE
RESET dynamic_library_path;
SELECT left(medallion_graph('tag:docs', 'svg'), 5) AS loads_again;

-- A relation named like markup: Graphviz escapes it in the graph as the
-- page escapes the rest
CREATE TABLE docs_src."<script>alert(1)</script>" (id int);
SELECT medallion_create_model('docs_markup', 'SELECT id FROM docs_src."<script>alert(1)</script>"', 'bronze',
	tags => '{docs_markup}');
SELECT medallion_docs('tag:docs_markup') AS page \gset
SELECT docs_src.occurrences(:'page', '<script') AS scripts, -- the page's own
	   position('docs_src.&lt;script&gt;alert(1)&lt;/script&gt;</text>' IN :'page') > 0 AS label_escaped;
SELECT * FROM medallion_drop_model('docs_markup');
DROP TABLE docs_src."<script>alert(1)</script>";

-- The next time of a schedule (GMT), as the page shows it
SELECT c AS cron, medallion.cron_next(c, '2026-02-27 23:50:30+00') AT TIME ZONE 'UTC' AS next
  FROM unnest(ARRAY['*/15 * * * *', '0 3 * * 1-5', '30 2 1 * *', '@daily', '@hourly', '0 0 29 2 *',
					'0 12 * jan,jul sun', '0 0 13 * 5', '5,10 */6 * * *', '0 0 31 2 *',
					'not cron', '61 * * * *', '* * * *']) c;

-- Why a step failed, shown as medallion.run_messages shows it: to the
-- model's owner; another admin who may read the model sees only its
-- SQLSTATE (a division by zero may quote the owner's data)
SET client_min_messages = warning;
CREATE TABLE docs_src.divisor (d int);
INSERT INTO docs_src.divisor VALUES (1);
GRANT SELECT ON docs_src.divisor TO regress_docs_alice;
SET ROLE regress_docs_alice;
SELECT medallion_create_model('docs_flaky', 'SELECT id / (SELECT min(d) FROM docs_src.divisor) AS x FROM docs_src.orders',
	'silver', tags => '{docs_reason}');
SELECT status FROM medallion_run('docs_flaky');
SELECT max(run_id) AS good_run FROM medallion.runs \gset
RESET ROLE;
UPDATE docs_src.divisor SET d = 0;
SET ROLE regress_docs_alice;
SELECT status FROM medallion_run('docs_flaky', changed_only => false);
GRANT SELECT ON silver.docs_flaky TO regress_docs_bob;
SELECT medallion_docs('tag:docs_reason') AS page \gset
RESET ROLE;
SELECT position('<td class="reason">division by zero</td>' IN :'page') > 0 AS in_last_steps,
	   position('<p class="reason"><b><a href="#model-docs_flaky">docs_flaky</a></b> failed: division by zero</p>'
				IN substring(:'page' FROM '<section id="last-run">.*?</section>')) > 0 AS under_the_gantt_chart,
	   :'page' ~ '<td class="failed"><a href="#run-[0-9]+" title="docs_flaky, run [0-9]+: failed, [^"]*: division by zero"></a></td>' AS in_the_grid;
SET ROLE regress_docs_bob;
SELECT medallion_docs('tag:docs_reason') AS page \gset
RESET ROLE;
SELECT position('<article class="model" id="model-docs_flaky"' IN :'page') > 0 AS readable,
	   position('division by zero' IN :'page') = 0 AS message_hidden,
	   position('<td class="reason">failed with SQLSTATE 22012 (the message is shown to roles acting for regress_docs_alice, in medallion.run_messages)</td>'
				IN :'page') > 0 AS sqlstate_shown;
-- the Gantt chart of another run than the last: medallion_docs(run_id => n)
SET ROLE regress_docs_alice;
SELECT medallion_docs('tag:docs_reason', run_id => :good_run) AS page \gset
SELECT medallion_docs('tag:docs_reason', run_id => -1);
RESET ROLE;
SELECT position('<h2>Run ' || :good_run || '</h2>' IN :'page') > 0 AS its_heading,
	   docs_src.occurrences(substring(:'page' FROM '<section id="last-run">.*?</section>'), '<rect [^>]*fill="#b9e4c2"') AS successful_bars,
	   position('failed: division by zero' IN substring(:'page' FROM '<section id="last-run">.*?</section>')) = 0 AS not_the_failure;
SELECT medallion_drop_model('docs_flaky');

DELETE FROM medallion.schedules WHERE name = 'docs_nightly';
DROP OWNED BY regress_docs_alice, regress_docs_bob, regress_docs_carol CASCADE;
SELECT medallion_drop_model(name, cascade => true) FROM medallion.models WHERE 'docs' = ANY (tags) AND layer = 'bronze';
DROP ROLE regress_docs_alice, regress_docs_bob, regress_docs_carol;
DROP SCHEMA docs_src CASCADE;
