--
-- Bad input: every mistake gets a clear error (SQLSTATE, message, detail,
-- hint) and changes nothing.
--
CREATE SCHEMA errs;
CREATE TABLE errs.items (id int PRIMARY KEY, label text, price numeric);
INSERT INTO errs.items VALUES (1, 'a', 1.5), (2, 'b', 2.5);
SELECT medallion_create_model('err_a', $$SELECT id, label FROM errs.items$$, layer => 'silver');
SELECT medallion_create_model('err_b', $$SELECT id, label FROM err_a$$, layer => 'gold');
SELECT medallion_create_model('err_c', $$SELECT b.id FROM err_b b$$, layer => 'gold');
SELECT medallion_create_model('err_e', $$SELECT id FROM errs.items$$, layer => 'silver', materialized => 'ephemeral');

-- try(sql): runs one statement and shows the error it raises
CREATE FUNCTION errs.try(sql text)
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
	RETURN NEXT;
END
$$;

-- A fingerprint of everything medallion owns, to show nothing changed
CREATE VIEW errs.fingerprint AS
SELECT (SELECT md5(string_agg(m::text, ',' ORDER BY name)) FROM medallion.models m) AS models,
       (SELECT md5(string_agg(s::text, ',' ORDER BY name)) FROM medallion.sources s) AS sources,
       (SELECT md5(string_agg(d::text, ',' ORDER BY d::text)) FROM medallion.model_dependencies d) AS deps,
       (SELECT md5(string_agg(l::text, ',' ORDER BY l::text)) FROM medallion.column_lineage l) AS lineage,
       (SELECT string_agg(c.oid::regclass::text || ':' || c.relkind::text, ',' ORDER BY 1)
          FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname IN ('bronze', 'silver', 'gold')) AS relations;
CREATE TEMP TABLE before AS SELECT * FROM errs.fingerprint;

-- Syntax errors point into the model SQL, not into the calling statement
SELECT medallion_create_model('err_x', $$SELECT id,
  label FROM errs.items WHERE$$, layer => 'silver');
SELECT medallion_create_model('err_x', $$SELECT id, nosuch FROM errs.items$$, layer => 'silver');
SELECT medallion_create_model('err_x', $$SELECT * FROM errs.nosuch$$, layer => 'silver');

-- Anything but exactly one plain query
SELECT * FROM errs.try($q$SELECT medallion_create_model('err_x', '', layer => 'silver')$q$);
SELECT * FROM errs.try($q$SELECT medallion_create_model('err_x', 'SELECT 1 AS a; SELECT 2 AS b', layer => 'silver')$q$);
SELECT * FROM errs.try($q$SELECT medallion_create_model('err_x', 'INSERT INTO errs.items VALUES (3)', layer => 'silver')$q$);
SELECT * FROM errs.try($q$SELECT medallion_create_model('err_x', 'UPDATE errs.items SET label = label', layer => 'silver')$q$);
SELECT * FROM errs.try($q$SELECT medallion_create_model('err_x', 'DELETE FROM errs.items', layer => 'silver')$q$);
SELECT * FROM errs.try($q$SELECT medallion_create_model('err_x', 'MERGE INTO errs.items t USING errs.items s ON t.id = s.id WHEN MATCHED THEN DO NOTHING', layer => 'silver')$q$);
SELECT * FROM errs.try($q$SELECT medallion_create_model('err_x', 'CREATE TABLE errs.t2 (a int)', layer => 'silver')$q$);
SELECT * FROM errs.try($q$SELECT medallion_create_model('err_x', 'DROP TABLE errs.items', layer => 'silver')$q$);
SELECT * FROM errs.try($q$SELECT medallion_create_model('err_x', 'WITH d AS (DELETE FROM errs.items RETURNING *) SELECT * FROM d', layer => 'silver')$q$);
SELECT * FROM errs.try($q$SELECT medallion_create_model('err_x', 'SELECT * INTO errs.copy FROM errs.items', layer => 'silver')$q$);
SELECT * FROM errs.try($q$SELECT medallion_create_model('err_x', 'SELECT * FROM errs.items FOR UPDATE', layer => 'silver')$q$);
SELECT * FROM errs.try($q$SELECT medallion_create_model('err_x', 'SELECT * FROM (SELECT * FROM errs.items FOR SHARE) s', layer => 'silver')$q$);
SELECT * FROM errs.try($q$SELECT medallion_create_model('err_x', 'SELECT * FROM errs.items WHERE id = $1', layer => 'silver')$q$);

-- Output columns must be nameable table columns
SELECT * FROM errs.try($q$SELECT medallion_create_model('err_x', 'SELECT id, id FROM errs.items', layer => 'silver')$q$);
SELECT * FROM errs.try($q$SELECT medallion_create_model('err_x', 'SELECT id + 1 FROM errs.items', layer => 'silver')$q$);

-- Unknown layer or materialization, missing arguments
SELECT * FROM errs.try($q$SELECT medallion_create_model('err_x', 'SELECT 1 AS one', layer => 'platinum')$q$);
SELECT * FROM errs.try($q$SELECT medallion_create_model('err_x', 'SELECT 1 AS one')$q$);
SELECT * FROM errs.try($q$SELECT medallion_create_model('err_x', 'SELECT 1 AS one', layer => 'silver', materialized => 'matview')$q$);
SELECT * FROM errs.try($q$SELECT medallion_create_model('err_x', 'SELECT 1 AS one', layer => 'silver', on_schema_change => 'sometimes')$q$);
SELECT * FROM errs.try($q$SELECT medallion_create_model(NULL, 'SELECT 1 AS one', layer => 'silver')$q$);
SELECT * FROM errs.try($q$SELECT medallion_create_model('err_x', NULL, layer => 'silver')$q$);
SELECT * FROM errs.try($q$SELECT medallion_create_model('err_a', 'SELECT id, label FROM errs.items', layer => 'gold')$q$);

-- Settings that name columns are checked against the query
SELECT * FROM errs.try($q$SELECT medallion_create_model('err_x', 'SELECT id FROM errs.items', layer => 'silver', unique_key => ARRAY['nosuch'])$q$);
SELECT * FROM errs.try($q$SELECT medallion_create_model('err_x', 'SELECT id FROM errs.items', layer => 'silver', indexes => ARRAY['id, nosuch'])$q$);
SELECT * FROM errs.try($q$SELECT medallion_create_model('err_x', 'SELECT id FROM errs.items', layer => 'silver', column_descriptions => '["id"]')$q$);
SELECT * FROM errs.try($q$SELECT medallion_create_model('err_x', 'SELECT id FROM errs.items', layer => 'silver', column_descriptions => '{"nosuch": "x"}')$q$);
SELECT * FROM errs.try($q$SELECT medallion_create_model('err_x', 'SELECT id FROM errs.items', layer => 'silver', column_descriptions => '{"id": 1}')$q$);
SELECT * FROM errs.try($q$SELECT medallion_create_model('err_x', 'SELECT id FROM errs.items', layer => 'silver', tags => ARRAY['Bad Tag'])$q$);

-- Invalid, over-long and clashing names
SELECT * FROM errs.try($q$SELECT medallion_create_model('Err_X', 'SELECT 1 AS one', layer => 'silver')$q$);
SELECT * FROM errs.try($q$SELECT medallion_create_model('1err', 'SELECT 1 AS one', layer => 'silver')$q$);
SELECT * FROM errs.try($q$SELECT medallion_create_model('err x', 'SELECT 1 AS one', layer => 'silver')$q$);
SELECT * FROM errs.try($q$SELECT medallion_create_model('', 'SELECT 1 AS one', layer => 'silver')$q$);
SELECT * FROM errs.try(format($q$SELECT medallion_create_model(%L, 'SELECT 1 AS one', layer => 'silver')$q$, repeat('x', 64)));
SELECT * FROM errs.try($q$SELECT medallion_create_model('gold', 'SELECT 1 AS one', layer => 'silver')$q$);
CREATE TABLE silver.err_clash (a int);
SELECT * FROM errs.try($q$SELECT medallion_create_model('err_clash', 'SELECT 1 AS one', layer => 'silver')$q$);
DROP TABLE silver.err_clash;

-- Cycles are refused, naming the cycle
SELECT * FROM errs.try($q$SELECT medallion_create_model('err_a', 'SELECT id, label FROM err_b', layer => 'silver')$q$);
SELECT * FROM errs.try($q$SELECT medallion_create_model('err_a', 'SELECT c.id, b.label FROM err_c c JOIN errs.items b USING (id)', layer => 'silver')$q$);
SELECT * FROM errs.try($q$SELECT medallion_create_model('err_b', 'SELECT id, label FROM err_b', layer => 'gold')$q$);

-- Dropping with dependants, or what does not exist
SELECT * FROM errs.try($q$SELECT medallion_drop_model('err_a')$q$);
SELECT * FROM errs.try($q$SELECT medallion_drop_model('nosuch')$q$);

-- Selectors
SELECT * FROM errs.try($q$SELECT * FROM medallion_plan('')$q$);
SELECT * FROM errs.try($q$SELECT * FROM medallion_plan('err_a,,err_b')$q$);
SELECT * FROM errs.try($q$SELECT * FROM medallion_plan('err_a;drop')$q$);
SELECT * FROM errs.try($q$SELECT * FROM medallion_plan('++err_a')$q$);
SELECT * FROM errs.try($q$SELECT * FROM medallion_plan('nosuch')$q$);
SELECT * FROM errs.try($q$SELECT * FROM medallion_plan('layer:platinum')$q$);
SELECT * FROM errs.try($q$SELECT * FROM medallion_plan('tag:nosuch')$q$);
SELECT * FROM errs.try($q$SELECT * FROM medallion_plan('tag:')$q$);

-- Lineage and graph arguments
SELECT * FROM errs.try($q$SELECT * FROM medallion_lineage('nosuch')$q$);
SELECT * FROM errs.try($q$SELECT * FROM medallion_lineage('err_a', 'sideways')$q$);
SELECT * FROM errs.try($q$SELECT * FROM medallion_lineage('err_a', 'sideways', column_name => 'label')$q$);
SELECT * FROM errs.try($q$SELECT * FROM medallion_lineage('err_a', column_name => 'nope')$q$);
SELECT * FROM errs.try($q$SELECT * FROM medallion_lineage('err_a', 'upstream', 0)$q$);
SELECT * FROM errs.try($q$SELECT medallion_graph('all', 'png')$q$);
SELECT * FROM errs.try($q$SELECT medallion_graph('nosuch', 'dot')$q$);

-- Sources
SELECT * FROM errs.try($q$SELECT medallion_create_source('Bad', 'errs')$q$);
SELECT * FROM errs.try($q$SELECT medallion_create_source('src1', 'nosuch')$q$);
SELECT * FROM errs.try($q$SELECT medallion_create_source('src1', 'errs', kind => 'oracle')$q$);
SELECT * FROM errs.try($q$SELECT medallion_create_source('src1', 'errs', tables => ARRAY['items', 'nosuch'])$q$);
SELECT * FROM errs.try($q$SELECT medallion_drop_source('nosuch')$q$);

-- Relations that are not there (test/t/010_fuzz.pl found each of these
-- crashing the server): an ephemeral model referenced, a model whose
-- relation its owner dropped or moved, a table OID that names nothing
SELECT * FROM errs.try($q$SELECT medallion_add_test('err_a', 'relationships', column_name => 'id', to_model => 'err_e', to_column => 'id')$q$);
SELECT * FROM errs.try($q$DO $d$ BEGIN DROP TABLE silver.err_a CASCADE; PERFORM medallion_add_test('err_a', 'not_null', column_name => 'id'); END $d$$q$);
SELECT * FROM errs.try($q$DO $d$ BEGIN ALTER TABLE silver.err_a SET SCHEMA errs; PERFORM medallion_add_test('err_c', 'relationships', column_name => 'id', to_model => 'err_a', to_column => 'id'); END $d$$q$);
SELECT * FROM errs.try($q$SELECT medallion_track(0)$q$);
SELECT * FROM errs.try($q$SELECT medallion_track('errs.items_pkey')$q$);

-- Nothing above changed anything
SELECT f = b AS unchanged FROM errs.fingerprint f, before b;

SELECT * FROM medallion_drop_model('err_a', cascade => true);
SELECT * FROM medallion_drop_model('err_e');
DROP SCHEMA errs CASCADE;
