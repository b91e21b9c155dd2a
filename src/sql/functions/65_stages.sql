/* ---------------------------------------------------------------------
 * Staged deploys (#28): src/run_stage.c; docs/deploy.md, Staged deploys.
 * --------------------------------------------------------------------- */

CREATE OR REPLACE FUNCTION @extschema@.medallion_stage_build(selector text, exclude text DEFAULT NULL,
	OUT model text, OUT layer text, OUT materialized text, OUT status text,
	OUT rows bigint, OUT ms numeric, OUT tests_passed integer, OUT tests_warned integer,
	OUT tests_failed integer, OUT message text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'medallion_stage_build'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@.medallion_stage_build(text, text) IS
	'Inside a savepoint made before new definitions: build the selected models as a change-aware run does and run their tests, without publishing; the table candidates are held for medallion_stage_keep, after the savepoint is rolled back; returns a row per model, as medallion_run';

CREATE OR REPLACE FUNCTION @extschema@.medallion_stage_keep()
RETURNS bigint
AS 'MODULE_PATHNAME', 'medallion_stage_keep'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@.medallion_stage_keep() IS
	'After medallion_stage_build and the rollback of the definitions it built with: keep its candidates in medallion_stage and record the stage, with those definitions pending (medallion.stages); returns the stage ID';

CREATE OR REPLACE FUNCTION @extschema@.medallion_promote(stage_id bigint)
RETURNS text
AS 'MODULE_PATHNAME', 'medallion_promote'
LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION @extschema@.medallion_promote(bigint) IS
	'Publish a stage in this transaction: apply its pending definitions, swap its candidates in without computing them again, and build what changed since it was staged (a change-aware run of its selector); refused, with nothing changed, when a model fails';

CREATE OR REPLACE FUNCTION @extschema@.medallion_discard(stage_id bigint)
RETURNS text
AS 'MODULE_PATHNAME', 'medallion_discard'
LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION @extschema@.medallion_discard(bigint) IS
	'Drop a stage''s candidates and mark it discarded; its pending definitions are never applied';

/*
 * stage_apply: a stage's pending definitions, applied by medallion_promote
 * as its caller (the calls the caller could make by hand): each model as
 * it was defined, under its search_path, then its tests (those no longer
 * in the stage dropped).
 */
CREATE OR REPLACE FUNCTION medallion.stage_apply(definitions jsonb, tests jsonb)
RETURNS integer
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	d jsonb;
	t jsonb;
	gone record;
	changed integer := 0;
BEGIN
	FOR d IN SELECT e.value FROM jsonb_array_elements(definitions) WITH ORDINALITY AS e (value, n) ORDER BY e.n LOOP
		PERFORM set_config('search_path', d ->> 'search_path', true);
		IF @extschema@.medallion_create_model(
				name => d ->> 'name', sql => d ->> 'sql', layer => d ->> 'layer',
				materialized => d ->> 'materialized',
				tags => medallion.jsonb_texts(d -> 'tags'),
				description => d ->> 'description',
				unique_key => medallion.jsonb_texts(d -> 'unique_key'),
				indexes => medallion.jsonb_texts(d -> 'indexes'),
				column_descriptions => d -> 'column_descriptions',
				on_schema_change => d ->> 'on_schema_change',
				statement_timeout => (d ->> 'statement_timeout')::interval,
				enabled => (d ->> 'enabled')::boolean,
				strategy => d ->> 'strategy', watermark => d ->> 'watermark',
				lookback => (d ->> 'lookback')::interval,
				full_refresh_threshold => (d ->> 'full_refresh_threshold')::real,
				snapshot_strategy => d ->> 'snapshot_strategy',
				updated_at => d ->> 'updated_at_column',
				check_columns => medallion.jsonb_texts(d -> 'check_columns'),
				hard_deletes => d ->> 'hard_deletes',
				distributed_by => d ->> 'distributed_by', colocate_with => d ->> 'colocate_with',
				distribution => d ->> 'distribution',
				deterministic => (d ->> 'deterministic')::boolean,
				contract => nullif(d -> 'contract', 'null'::jsonb),
				maintain => coalesce(d ->> 'maintain', 'auto')) <> 'unchanged' THEN
			changed := changed + 1;
		END IF;
	END LOOP;
	PERFORM set_config('search_path', 'pg_catalog, pg_temp', true);
	FOR gone IN SELECT x.model, x.name FROM medallion.tests x
				 WHERE x.model IN (SELECT e ->> 'name' FROM jsonb_array_elements(definitions) e)
				   AND NOT EXISTS (SELECT FROM jsonb_array_elements(tests) p
									WHERE p ->> 'model' = x.model AND p ->> 'name' = x.name) LOOP
		PERFORM @extschema@.medallion_drop_test(gone.model, gone.name);
	END LOOP;
	FOR t IN SELECT e FROM jsonb_array_elements(tests) e LOOP
		PERFORM @extschema@.medallion_add_test(
			model => t ->> 'model', kind => t ->> 'kind',
			columns => medallion.jsonb_texts(t -> 'columns'),
			accepted => medallion.jsonb_texts(t -> 'accepted'),
			to_model => t ->> 'to_model', to_relation => t ->> 'to_relation',
			to_column => t ->> 'to_column', expression => t ->> 'expression',
			min_rows => (t ->> 'min_rows')::bigint, max_rows => (t ->> 'max_rows')::bigint,
			max_age => (t ->> 'max_age')::interval, sql => t ->> 'sql',
			severity => t ->> 'severity', warn_if => t ->> 'warn_if', error_if => t ->> 'error_if',
			blocking => (t ->> 'blocking')::boolean,
			store_failures => (t ->> 'store_failures')::boolean,
			name => t ->> 'name', description => t ->> 'description');
	END LOOP;
	RETURN changed;
END
$$;
COMMENT ON FUNCTION medallion.stage_apply(jsonb, jsonb) IS
	'Apply a stage''s pending definitions (medallion.stages.definitions, .tests) as the caller, with each model''s search_path; medallion_promote calls it; returns the models whose definition changed';

CREATE OR REPLACE FUNCTION medallion.jsonb_texts(value jsonb)
RETURNS text[]
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT CASE WHEN jsonb_typeof(value) = 'array'
				THEN ARRAY(SELECT jsonb_array_elements_text(value)) END
$$;
COMMENT ON FUNCTION medallion.jsonb_texts(jsonb) IS
	'A JSON array as text[] (NULL for anything else): the arrays of a stage''s pending definitions';

/* stage_discard: drop a stage's candidates and mark it discarded, saying why. Internal. */
CREATE OR REPLACE FUNCTION medallion.stage_discard(stage bigint, why text)
RETURNS integer
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	t record;
	dropped integer := 0;
BEGIN
	FOR t IN SELECT s.relid FROM medallion.stage_tables s
			  WHERE s.stage_id = stage ORDER BY s.model LOOP
		IF EXISTS (SELECT FROM pg_class c WHERE c.oid = t.relid
					  AND c.relnamespace = 'medallion_stage'::regnamespace) THEN
			EXECUTE format('DROP TABLE %s', t.relid::regclass);
			dropped := dropped + 1;
		END IF;
	END LOOP;
	DELETE FROM medallion.stage_tables s WHERE s.stage_id = stage;
	UPDATE medallion.stages s SET state = 'discarded', finished_at = now(), reason = why
	 WHERE s.stage_id = stage;
	RETURN dropped;
END
$$;
COMMENT ON FUNCTION medallion.stage_discard(bigint, text) IS
	'Drop the candidates of a stage and mark it discarded with a reason (medallion_discard, medallion.stage_follow); returns how many were dropped';

/*
 * stage_follow: a stage is discarded when a definition it depends on
 * changes (or goes), unless the change is to the stage's own pending
 * definition (a promote applying it).  Internal: the trigger
 * medallion_stage_follow on medallion.models.
 */
CREATE OR REPLACE FUNCTION medallion.stage_follow()
RETURNS trigger
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	s record;
BEGIN
	FOR s IN SELECT g.stage_id FROM medallion.stages g
			  WHERE g.state = 'staged' AND OLD.name = ANY (g.depends)
				AND (TG_OP = 'DELETE'
					 OR NOT EXISTS (SELECT FROM jsonb_array_elements(g.definitions) d
									 WHERE d ->> 'name' = NEW.name AND d ->> 'sql_hash' = NEW.sql_hash))
			  ORDER BY g.stage_id LOOP
		PERFORM medallion.stage_discard(s.stage_id,
			format('model %s was %s after it was staged', OLD.name,
				   CASE TG_OP WHEN 'DELETE' THEN 'dropped' ELSE 'redefined' END));
		RAISE NOTICE 'stage % discarded: model % was % after it was staged', s.stage_id, OLD.name,
			CASE TG_OP WHEN 'DELETE' THEN 'dropped' ELSE 'redefined' END;
	END LOOP;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION medallion.stage_follow() IS
	'Trigger on medallion.models: discards the stages that depend on a model whose definition changed (other than to the stage''s own pending one) or that was dropped';
