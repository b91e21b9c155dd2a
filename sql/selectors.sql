--
-- Selectors, as dbt writes them: a space between terms is a union, a
-- comma an intersection; graph operators with depths; the methods tag:,
-- layer:, materialized:, owner:, state:; and exclude.
--
-- The graph:
--   selsrc.t -> sel_a (bronze view) -> sel_b (silver, sales) -> sel_c (silver)
--            -> sel_d (gold, sales daily)
--   selsrc.t -> sel_x (bronze view) -> sel_y (gold, sales)
--   sel_e (gold, daily) reads sel_b and sel_y
--
SET client_min_messages = notice;
SET medallion.log_timing = off;
CREATE SCHEMA selsrc;
CREATE TABLE selsrc.t (id int PRIMARY KEY, v int);
INSERT INTO selsrc.t VALUES (1, 10), (2, 20), (3, 30);
SELECT medallion_create_model('sel_a', $$SELECT id, v FROM selsrc.t$$, layer => 'bronze');
SELECT medallion_create_model('sel_b', $$SELECT id, v FROM sel_a WHERE v > 0$$, layer => 'silver', tags => ARRAY['sales']);
SELECT medallion_create_model('sel_c', $$SELECT id, v * 2 AS v2 FROM sel_b$$, layer => 'silver');
SELECT medallion_create_model('sel_d', $$SELECT sum(v2) AS total FROM sel_c$$, layer => 'gold', tags => ARRAY['sales', 'daily']);
SELECT medallion_create_model('sel_x', $$SELECT id, v FROM selsrc.t WHERE id > 1$$, layer => 'bronze');
SELECT medallion_create_model('sel_y', $$SELECT count(*) AS n FROM sel_x$$, layer => 'gold', tags => ARRAY['sales']);
SELECT medallion_create_model('sel_e', $$SELECT b.id, y.n FROM sel_b b CROSS JOIN sel_y y$$, layer => 'gold', tags => ARRAY['daily']);

-- sel(selector, exclude): the models selected, in plan order, on one line
CREATE FUNCTION selsrc.sel(selector text, exclude text DEFAULT NULL) RETURNS text
LANGUAGE sql AS $$
	SELECT coalesce(string_agg(model, ' ' ORDER BY model), '(none)')
	  FROM medallion_plan(selector, exclude => exclude)
$$;
-- try(sql): runs one statement and shows the error it raises (the long
-- hint of syntax errors is shown once, below, then as "(grammar)")
CREATE FUNCTION selsrc.try(sql text)
RETURNS TABLE (state text, message text, detail text, hint text)
LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE sql;
	state := '00000';
	message := 'no error';
	RETURN NEXT;
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT,
		detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
	IF hint LIKE 'Terms separated by spaces add up;%' THEN
		hint := '(grammar)';
	END IF;
	RETURN NEXT;
END
$$;

-- A space is a union; spaces around a term do not matter
SELECT selsrc.sel('sel_a sel_x');
SELECT selsrc.sel('  sel_a   sel_d  ');
-- A comma is an intersection (since 0.3.0), with a NOTICE saying so
SELECT selsrc.sel('layer:gold,tag:sales');
SELECT selsrc.sel('tag:sales , layer:gold');
SELECT selsrc.sel('tag:daily,tag:sales sel_a');
-- two model names meet in nothing
SELECT selsrc.sel('sel_a,sel_b');

-- Graph operators: ancestors, descendants, up to a depth
SELECT selsrc.sel('+sel_d');
SELECT selsrc.sel('1+sel_d');
SELECT selsrc.sel('2+sel_d');
SELECT selsrc.sel('sel_b+');
SELECT selsrc.sel('sel_b+1');
SELECT selsrc.sel('1+sel_c+1');
-- @: descendants and all their ancestors (sel_e also reads sel_y)
SELECT selsrc.sel('+sel_b+');
SELECT selsrc.sel('@sel_b');
-- operators apply to every model a method selects
SELECT selsrc.sel('+tag:daily');
SELECT selsrc.sel('layer:bronze+1');
-- a layer name makes the layer current: its models and all they need
SELECT selsrc.sel('silver');
SELECT selsrc.sel('silver+1');

-- Methods
SELECT selsrc.sel('materialized:view');
SELECT selsrc.sel('materialized:table,layer:silver');
SELECT selsrc.sel('owner:' || current_user) = selsrc.sel('all') AS mine_are_all;
CREATE ROLE sel_nobody;
SELECT selsrc.sel('owner:sel_nobody');
DROP ROLE sel_nobody;

-- exclude takes models away, in the same grammar
SELECT selsrc.sel('all', exclude => 'tag:sales');
SELECT selsrc.sel('+sel_d', exclude => 'sel_b+');
SELECT selsrc.sel('gold', exclude => 'layer:gold,tag:daily');
SELECT medallion_graph('tag:sales', 'mermaid', exclude => 'sel_y');

-- state:modified: never built, or redefined since the last build
SELECT selsrc.sel('state:modified');
SELECT model, status FROM medallion_run('all', exclude => 'sel_e');
SELECT options->>'exclude' AS exclude FROM medallion.runs ORDER BY run_id DESC LIMIT 1;
SELECT selsrc.sel('state:modified');
SELECT selsrc.sel('state:new');
SELECT model, status FROM medallion_run('sel_e');
SELECT selsrc.sel('state:modified');
SELECT medallion_create_model('sel_b', $$SELECT id, v FROM sel_a WHERE v > 5$$, layer => 'silver', tags => ARRAY['sales']);
SELECT selsrc.sel('state:modified');
SELECT selsrc.sel('state:modified+');
SELECT selsrc.sel('state:modified+,tag:daily');
SELECT model, status FROM medallion_run('state:modified+1');
SELECT selsrc.sel('state:modified');
-- an ephemeral model builds nothing: it is modified when redefined after
-- the last build of a model that reads it
SELECT medallion_create_model('sel_eph', $$SELECT id FROM sel_a$$, layer => 'silver', materialized => 'ephemeral');
SELECT medallion_create_model('sel_f', $$SELECT count(*) AS n FROM sel_eph$$, layer => 'gold');
SELECT selsrc.sel('state:modified');
SELECT model, status FROM medallion_run('sel_f');
SELECT selsrc.sel('state:modified');
SELECT medallion_create_model('sel_eph', $$SELECT id FROM sel_a WHERE id > 1$$, layer => 'silver', materialized => 'ephemeral');
SELECT selsrc.sel('state:modified+');
SELECT selsrc.sel('state:new');
SELECT medallion_drop_model('sel_f');
SELECT medallion_drop_model('sel_eph');

-- medallion_test takes exclude too
SELECT medallion_add_test('sel_b', 'not_null', column_name => 'v');
SELECT medallion_add_test('sel_c', 'not_null', column_name => 'v2');
SELECT model, test, status FROM medallion_test('sel_b+1', exclude => 'sel_c');

-- Disabled models are never selected
SELECT medallion_create_model('sel_c', $$SELECT id, v * 2 AS v2 FROM sel_b$$, enabled => false);
SELECT selsrc.sel('+sel_d');
SELECT medallion_create_model('sel_c', $$SELECT id, v * 2 AS v2 FROM sel_b$$, enabled => true);

-- Bad selectors: SQLSTATE, message, detail, hint; syntax before names
SELECT selsrc.sel('sel_a,');
SELECT * FROM selsrc.try($q$SELECT selsrc.sel('')$q$);
SELECT * FROM selsrc.try($q$SELECT selsrc.sel('   ')$q$);
SELECT * FROM selsrc.try($q$SELECT selsrc.sel('sel_a,')$q$);
SELECT * FROM selsrc.try($q$SELECT selsrc.sel(',sel_a')$q$);
SELECT * FROM selsrc.try($q$SELECT selsrc.sel('sel_a,,sel_b')$q$);
SELECT * FROM selsrc.try($q$SELECT selsrc.sel('sel_a, ,sel_b')$q$);
SELECT * FROM selsrc.try($q$SELECT selsrc.sel('sel_a;drop')$q$);
SELECT * FROM selsrc.try($q$SELECT selsrc.sel('++sel_a')$q$);
SELECT * FROM selsrc.try($q$SELECT selsrc.sel('sel_a++')$q$);
SELECT * FROM selsrc.try($q$SELECT selsrc.sel('sel+_a')$q$);
SELECT * FROM selsrc.try($q$SELECT selsrc.sel('+')$q$);
SELECT * FROM selsrc.try($q$SELECT selsrc.sel('3sel_a')$q$);
SELECT * FROM selsrc.try($q$SELECT selsrc.sel('0+sel_a')$q$);
SELECT * FROM selsrc.try($q$SELECT selsrc.sel('sel_a+0')$q$);
SELECT * FROM selsrc.try($q$SELECT selsrc.sel('99999999999+sel_a')$q$);
SELECT * FROM selsrc.try($q$SELECT selsrc.sel('@+sel_a')$q$);
SELECT * FROM selsrc.try($q$SELECT selsrc.sel('@2+sel_a')$q$);
SELECT * FROM selsrc.try($q$SELECT selsrc.sel('+all')$q$);
SELECT * FROM selsrc.try($q$SELECT selsrc.sel('colour:red')$q$);
SELECT * FROM selsrc.try($q$SELECT selsrc.sel('tag:')$q$);
SELECT * FROM selsrc.try($q$SELECT selsrc.sel('sel_nope sel_a,')$q$);
SELECT * FROM selsrc.try($q$SELECT selsrc.sel('sel_nope')$q$);
SELECT * FROM selsrc.try($q$SELECT selsrc.sel('sales')$q$);
SELECT * FROM selsrc.try($q$SELECT selsrc.sel('tag:nope')$q$);
SELECT * FROM selsrc.try($q$SELECT selsrc.sel('layer:nope')$q$);
SELECT * FROM selsrc.try($q$SELECT selsrc.sel('materialized:matview')$q$);
SELECT * FROM selsrc.try($q$SELECT selsrc.sel('owner:sel_no_such_role')$q$);
SELECT * FROM selsrc.try($q$SELECT selsrc.sel('state:old')$q$);
SELECT * FROM selsrc.try($q$SELECT selsrc.sel('path:models/marts')$q$);
SELECT * FROM selsrc.try($q$SELECT selsrc.sel('all', exclude => 'tag:nope')$q$);
SELECT * FROM selsrc.try($q$SELECT * FROM medallion_plan(NULL)$q$);
SELECT * FROM selsrc.try($q$SELECT * FROM medallion_test(NULL)$q$);
SELECT * FROM selsrc.try($q$SELECT medallion_graph(NULL)$q$);
SELECT * FROM selsrc.try($q$SELECT * FROM medallion_run(NULL)$q$);
-- a bad exclude runs nothing
SELECT count(*) AS runs_before FROM medallion.runs \gset
SELECT * FROM selsrc.try($q$SELECT * FROM medallion_run('all', exclude => 'sel_a,')$q$);
SELECT count(*) = :runs_before AS no_run_recorded FROM medallion.runs;

SELECT medallion_drop_model(m) FROM unnest(ARRAY['sel_e', 'sel_d', 'sel_c', 'sel_b', 'sel_y', 'sel_a', 'sel_x']) m;
DROP SCHEMA selsrc CASCADE;
