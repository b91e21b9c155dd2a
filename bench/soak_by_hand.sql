-- bench/soak_by_hand.sql: soak.sh's baseline (BY_HAND=1).  The DDL of one
-- run of soak_pipeline.sql written by hand, without medallion, to measure
-- what PostgreSQL itself keeps in a session's caches when the same kinds of
-- tables are created, filled, queried and dropped run after run.
--
-- soak_hand.soak_by_hand() rebuilds every model of medallion.models in
-- schema soak_hand (model SQL resolved there first): views replaced; table
-- models created under a new name, analyzed, the old table dropped and the
-- new one renamed; the incremental model merged from a delta table that is
-- then dropped; the snapshot model's changes computed into a change table
-- (text columns: it has a TOAST table), applied, and the table dropped.
-- Tests are left out: they only read.
SET client_min_messages = warning;
CREATE SCHEMA soak_hand;

CREATE FUNCTION soak_hand.soak_by_hand() RETURNS void
LANGUAGE plpgsql SET search_path = soak_hand, public AS $fn$
DECLARE
	m record;
	rel regclass;
	keys text;
	cols text;
	s_cols text;
	c_cols text;
	sets text;
	matches text;
BEGIN
	FOR m IN SELECT name, materialized, sql, unique_key FROM medallion.models
		ORDER BY CASE layer WHEN 'bronze' THEN 0 WHEN 'silver' THEN 1 ELSE 2 END,
			sql LIKE '%slv\_order\_lines%', name
	LOOP
		rel := to_regclass(format('soak_hand.%I', m.name));
		IF m.materialized = 'view' THEN
			EXECUTE format('CREATE OR REPLACE VIEW soak_hand.%I AS %s', m.name, m.sql);
			CONTINUE;
		ELSIF rel IS NULL AND m.materialized = 'snapshot' THEN
			EXECUTE format('CREATE TABLE soak_hand.%I AS SELECT md5(concat_ws(%L, %s)) AS scd_id, q.*, '
						   'now() AS valid_from, NULL::timestamptz AS valid_to, true AS is_current FROM (%s) AS q',
						   m.name, '|', (SELECT string_agg(format('q.%I::text', k), ', ') FROM unnest(m.unique_key) k),
						   m.sql);
			CONTINUE;
		ELSIF rel IS NULL OR m.materialized = 'table' THEN
			EXECUTE format('CREATE TABLE soak_hand.%I AS %s', m.name || '_new', m.sql);
			EXECUTE format('ANALYZE soak_hand.%I', m.name || '_new');
			EXECUTE format('DROP TABLE IF EXISTS soak_hand.%I', m.name);
			EXECUTE format('ALTER TABLE soak_hand.%I RENAME TO %I', m.name || '_new', m.name);
			CONTINUE;
		END IF;

		keys := (SELECT string_agg(quote_ident(k), ', ') FROM unnest(m.unique_key) k);
		matches := (SELECT string_agg(format('t.%1$I = s.%1$I', k), ' AND ') FROM unnest(m.unique_key) k);
		IF m.materialized = 'incremental' THEN
			SELECT string_agg(format('%I = s.%I', attname, attname), ', '),
				   string_agg(format('s.%I', attname), ', ')
			  INTO sets, s_cols
			  FROM pg_attribute WHERE attrelid = rel AND attnum > 0 AND NOT attisdropped;
			EXECUTE format('CREATE TABLE soak_hand.delta AS SELECT DISTINCT ON (%s) * FROM (%s) AS d ORDER BY %s',
						   keys, m.sql, keys);
			EXECUTE format('MERGE INTO %s AS t USING soak_hand.delta AS s ON %s '
						   'WHEN MATCHED THEN UPDATE SET %s WHEN NOT MATCHED THEN INSERT VALUES (%s)',
						   rel, matches, sets, s_cols);
			DROP TABLE soak_hand.delta;
		ELSE
			/* snapshot, check strategy over every column */
			SELECT string_agg(quote_ident(attname), ', '), string_agg(format('s.%I', attname), ', '),
				   string_agg(format('c.%I', attname), ', ')
			  INTO cols, s_cols, c_cols
			  FROM pg_attribute WHERE attrelid = rel AND attnum > 1 AND NOT attisdropped
			   AND attname NOT IN ('valid_from', 'valid_to', 'is_current');
			EXECUTE format('CREATE TABLE soak_hand.change AS '
						   'WITH s AS (%s), c AS (SELECT * FROM %s WHERE is_current) '
						   'SELECT %L::text AS medallion_op, %s, now() AS valid_from, NULL::timestamptz AS new_valid_to, NULL::text AS close_id '
						   'FROM s LEFT JOIN c AS t ON %s WHERE t.scd_id IS NULL '
						   'UNION ALL SELECT %L, %s, now(), NULL, NULL FROM s JOIN c ON %s WHERE ROW(%s) IS DISTINCT FROM ROW(%s) '
						   'UNION ALL SELECT %L, %s, c.valid_from, now(), c.scd_id FROM s JOIN c ON %s WHERE ROW(%s) IS DISTINCT FROM ROW(%s)',
						   m.sql, rel, 'insert', s_cols, matches,
						   'insert', s_cols, replace(matches, 't.', 'c.'), s_cols, c_cols,
						   'close', c_cols, replace(matches, 't.', 'c.'), s_cols, c_cols);
			EXECUTE format('UPDATE %s AS p SET valid_to = d.new_valid_to, is_current = false FROM soak_hand.change AS d '
						   'WHERE d.medallion_op = %L AND p.scd_id = d.close_id', rel, 'close');
			EXECUTE format('INSERT INTO %s (scd_id, %s, valid_from, valid_to, is_current) '
						   'SELECT md5(concat_ws(%L, %s, valid_from::text)), %s, valid_from, NULL, true '
						   'FROM soak_hand.change WHERE medallion_op = %L',
						   rel, cols, '|', (SELECT string_agg(format('%I::text', k), ', ') FROM unnest(m.unique_key) k),
						   cols, 'insert');
			DROP TABLE soak_hand.change;
		END IF;
	END LOOP;
END
$fn$;
