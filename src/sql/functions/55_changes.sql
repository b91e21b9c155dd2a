/* ---------------------------------------------------------------------
 * Change-aware runs: which inputs a model reads and whether they changed
 * (src/changes.c, docs/change-aware-runs.md).  Functions only, written
 * once: the Makefile puts this file in the install script and in every
 * update script, after their state changes.
 * --------------------------------------------------------------------- */

/*
 * The inputs of a model: what it reads, through view and ephemeral models
 * and plain views, one row per relation, and for each table read every
 * table above it and below it (partitions at every level, inheritance
 * parents and children: a statement naming one of them fires its own
 * trigger, and its rows are read through the others); state is what no
 * trigger reports (compared with the last build's), tracked whether writes
 * to it are logged (relid, when set, is looked up in medallion.changes):
 * a table needs its statement trigger enabled ALWAYS and its row trigger
 * enabled REPLICA (subscriptions), a partitioned table the first.  In C
 * (src/changes_inputs.c): as one query it cost more than building a small
 * model, and every build and every check of a change-aware run asks.
 */
CREATE OR REPLACE FUNCTION medallion.model_inputs(model text, probes jsonb DEFAULT '{}',
	OUT label text, OUT state text, OUT relid oid, OUT tracked boolean, OUT why text)
RETURNS SETOF record
LANGUAGE C STABLE
AS 'MODULE_PATHNAME', 'medallion_model_inputs';
COMMENT ON FUNCTION medallion.model_inputs(text, jsonb) IS
	'The inputs of a model (through view and ephemeral models and plain views, with the tables above and below each table read), with the state no trigger reports (for a foreign table, its probe in probes, by OID) and whether their writes are tracked';

/*
 * Does the model need building?  reason is why (NULL: its definition and
 * inputs are unchanged since its last build, run since); inputs and
 * snapshot are what to store if it is built now.
 */
CREATE OR REPLACE FUNCTION medallion.build_check(model text, probes jsonb DEFAULT '{}',
	OUT reason text, OUT since bigint, OUT inputs jsonb, OUT snapshot pg_snapshot)
RETURNS record
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
	m medallion.models;
	s medallion.build_state;
	i record;
	now_inputs jsonb;
	own xid8;
BEGIN
	/*
	 * The snapshot the build reads with, except that the run's own
	 * transaction counts as not seen: it may write the model's inputs
	 * after the build too (and its write before it is logged once), so the
	 * next run builds again.
	 */
	snapshot := pg_current_snapshot();
	own := pg_current_xact_id_if_assigned();
	IF own IS NOT NULL AND pg_visible_in_snapshot(own, snapshot) THEN
		snapshot := (SELECT format('%s:%s:%s', pg_snapshot_xmin(snapshot), pg_snapshot_xmax(snapshot),
								   string_agg(x::text, ',' ORDER BY x))
					   FROM (SELECT pg_snapshot_xip(snapshot) AS x UNION ALL SELECT own) AS xip)::pg_snapshot;
	END IF;
	SELECT coalesce(jsonb_agg(to_jsonb(x)), '[]') INTO now_inputs FROM medallion.model_inputs(build_check.model, probes) x;
	SELECT coalesce(jsonb_object_agg(x.label, x.state), '{}') INTO inputs
	  FROM jsonb_to_recordset(now_inputs) AS x (label text, state text, relid oid, tracked boolean, why text);
	SELECT * INTO m FROM medallion.models WHERE name = build_check.model;
	SELECT * INTO s FROM medallion.build_state b WHERE b.model = build_check.model;
	IF NOT FOUND THEN
		reason := 'first build: no earlier build is recorded';
		RETURN;
	END IF;
	since := s.run_id;
	IF s.version <> m.version THEN
		reason := format('definition changed (version %s, last built from version %s)', m.version, s.version);
		RETURN;
	END IF;
	/* a table whose relation went (its owner dropped it) is built again */
	IF m.materialized NOT IN ('view', 'ephemeral') AND NOT EXISTS (
			SELECT FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
			  JOIN medallion.layers l ON l.schema_name = n.nspname
			 WHERE l.name = m.layer AND c.relname = m.name) THEN
		reason := 'its table is missing';
		RETURN;
	END IF;
	/* a view holds no data: it is replaced only when its definition changed, or it is gone */
	IF m.materialized = 'view' THEN
		IF NOT EXISTS (SELECT FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
						 JOIN medallion.layers l ON l.schema_name = n.nspname
						WHERE l.name = m.layer AND c.relname = m.name) THEN
			reason := 'its view is missing';
		END IF;
		RETURN;
	END IF;
	FOR i IN SELECT * FROM jsonb_to_recordset(now_inputs)
					AS x (label text, state text, relid oid, tracked boolean, why text)
			  WHERE NOT x.tracked ORDER BY x.label LIMIT 1 LOOP
		reason := format('input %s untracked: %s', i.label, i.why);
		RETURN;
	END LOOP;
	FOR i IN SELECT coalesce(a.key, b.key) AS label, a.value AS was, b.value AS now
			   FROM jsonb_each_text(s.inputs) a FULL JOIN jsonb_each_text(inputs) b ON a.key = b.key
			  WHERE a.value IS DISTINCT FROM b.value ORDER BY 1 LIMIT 1 LOOP
		reason := CASE WHEN i.label = 'tests' THEN 'its tests changed'
					   WHEN i.was IS NULL THEN format('new input %s', i.label)
					   WHEN i.now IS NULL THEN format('input %s no longer read', i.label)
					   WHEN i.now LIKE 'run %' THEN format('input %s was built again (%s)', i.label, i.now)
					   WHEN i.now LIKE 'storage %' AND split_part(i.now, ' triggers ', 1) = split_part(i.was, ' triggers ', 1)
					   THEN format('the change triggers of input %s were made, enabled or disabled', i.label)
					   WHEN i.now LIKE 'storage %' THEN format('input %s was rewritten', i.label)
					   WHEN i.now LIKE 'above%' OR i.now LIKE 'below%'
					   THEN format('the change triggers of %s were made, enabled or disabled', i.label)
					   WHEN i.now LIKE 'partitions %' THEN format('the partitions of input %s changed', i.label)
					   WHEN i.now LIKE 'probe %' THEN format('input %s changed (its probe answered otherwise)', i.label)
					   WHEN i.now LIKE 'rule %' OR i.now LIKE 'version %' THEN format('input %s was redefined', i.label)
					   ELSE format('input %s changed (%s)', i.label, i.now) END;
		RETURN;
	END LOOP;
	IF s.changed IS NOT NULL THEN
		reason := s.changed;
		RETURN;
	END IF;
	FOR i IN SELECT x.label FROM jsonb_to_recordset(now_inputs)
					AS x (label text, state text, relid oid, tracked boolean, why text)
			  WHERE x.relid IS NOT NULL
				AND EXISTS (SELECT FROM medallion.changes c
							 WHERE c.relid = x.relid AND NOT pg_visible_in_snapshot(c.xid, s.snapshot))
			  ORDER BY x.label LIMIT 1 LOOP
		reason := format('input %s changed since run %s', i.label, s.run_id);
		RETURN;
	END LOOP;
END
$$;
COMMENT ON FUNCTION medallion.build_check(text, jsonb) IS
	'Why a model needs building (NULL when its definition and inputs are unchanged since its last build), with the state of its inputs and a snapshot to store if it is built';

/* A model built: what it read with.  changed: what it publishes may differ. */
CREATE OR REPLACE FUNCTION medallion.build_record(model text, run_id bigint, snapshot pg_snapshot,
	inputs jsonb, changed boolean)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
AS $$
/* plpgsql, not sql: its plan is kept for the session (a run records every
   model it builds), where a sql function with SET clauses is parsed and
   planned again at each call */
#variable_conflict use_column
DECLARE
	own xid8 := pg_current_xact_id_if_assigned();
	read_with pg_snapshot := build_record.snapshot;
BEGIN
	/*
	 * The snapshot the build read with, except that the run's own
	 * transaction counts as not seen: it may write the model's inputs after
	 * the build too (and its write before it is logged once), so the next
	 * run builds again.
	 */
	IF own IS NOT NULL AND pg_visible_in_snapshot(own, read_with) THEN
		read_with := (SELECT format('%s:%s:%s', pg_snapshot_xmin(read_with), pg_snapshot_xmax(read_with),
									string_agg(x::text, ',' ORDER BY x))
						FROM (SELECT pg_snapshot_xip(read_with) AS x UNION ALL SELECT own) AS xip)::pg_snapshot;
	END IF;
	INSERT INTO medallion.build_state AS b (model, run_id, version, snapshot, inputs)
	SELECT m.name, build_record.run_id, m.version, read_with, build_record.inputs
	  FROM medallion.models m WHERE m.name = build_record.model
	ON CONFLICT (model) DO UPDATE
	   SET run_id = CASE WHEN build_record.changed THEN excluded.run_id ELSE b.run_id END,
		   version = excluded.version, snapshot = excluded.snapshot, inputs = excluded.inputs,
		   built_at = now(), changed = NULL;
END
$$;
COMMENT ON FUNCTION medallion.build_record(text, bigint, pg_snapshot, jsonb, boolean) IS
	'Store what a model''s build read with (medallion.build_state): the snapshot its first read ran under, the run''s own transaction counted as not seen. Called while the catalog is 0.2.0''s (the library updated, ALTER EXTENSION UPDATE not yet run); on the 0.3.0 catalog the row is written by one kept statement (ChangesRecord)';

/*
 * snapshot_horizon: the oldest transaction a snapshot held now may not see
 * (VACUUM's horizon; src/changes_logs.c).  A run holds one from before its
 * first build to its end, so the trims keep every row its builds did not
 * see until the states they store are committed.
 */
CREATE OR REPLACE FUNCTION medallion.snapshot_horizon()
RETURNS pg_catalog.xid8
AS 'MODULE_PATHNAME', 'medallion_snapshot_horizon'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION medallion.snapshot_horizon() IS
	'The oldest transaction some snapshot held now may not see, or still running (VACUUM''s horizon): the trims of the change, lows and delta logs keep the rows of it and newer ones; internal';

/*
 * Drop what no stored snapshot needs from the change log, when it holds
 * more than min_rows.  First, a built table model whose inputs changed
 * since its build (a logged change its snapshot does not see) has that
 * noted in build_state.changed: it builds at its next run whatever the log
 * holds then, and its snapshot no longer holds rows back (a model that is
 * never run again would otherwise keep every row).  Then the rows of a
 * table written by transactions every remaining build reading it has seen
 * go, and the rows of tables no such build reads, but never a row of a
 * transaction that a snapshot held now may not see (snapshot_horizon): a
 * build in progress may store that snapshot.  View and ephemeral
 * models are never checked against the log: they keep nothing.  Returns
 * the rows deleted.
 */
CREATE OR REPLACE FUNCTION medallion.trim_changes(min_rows bigint DEFAULT 10000)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	trimmed bigint;
	/* a build in progress may store a snapshot that does not see a newer one */
	horizon pg_catalog.xid8 := medallion.snapshot_horizon();
BEGIN
	/* each change-aware run calls it: counting stops at min_rows */
	IF (SELECT count(*) FROM (SELECT FROM medallion.changes LIMIT min_rows + 1) c) <= min_rows THEN
		RETURN 0;
	END IF;
	WITH inputs AS MATERIALIZED (
		SELECT b.model, b.snapshot, b.run_id, i.relid, i.label
		  FROM medallion.build_state b
		  JOIN medallion.models m ON m.name = b.model AND m.materialized NOT IN ('view', 'ephemeral')
		 CROSS JOIN LATERAL medallion.model_inputs(b.model) i
		 WHERE b.changed IS NULL AND i.relid IS NOT NULL
	), found AS (
		SELECT DISTINCT ON (t.model) t.model, t.label, t.run_id
		  FROM inputs t
		 WHERE EXISTS (SELECT FROM medallion.changes c
						WHERE c.relid = t.relid AND NOT pg_visible_in_snapshot(c.xid, t.snapshot))
		 ORDER BY t.model, t.label
	), noted AS (
		UPDATE medallion.build_state b
		   SET changed = format('input %s changed since run %s', f.label, f.run_id)
		  FROM found f
		 WHERE b.model = f.model
		RETURNING b.model
	), needed AS (
		SELECT t.relid, min(pg_snapshot_xmin(t.snapshot)) AS xmin
		  FROM inputs t
		 WHERE NOT EXISTS (SELECT FROM noted n WHERE n.model = t.model)
		 GROUP BY t.relid
	), gone AS (
		DELETE FROM medallion.changes c
		 WHERE c.xid < horizon
		   AND NOT EXISTS (SELECT FROM needed n WHERE n.relid = c.relid AND c.xid >= n.xmin)
		   /* a staged deploy's builds are checked again when it is promoted */
		   AND NOT EXISTS (SELECT FROM medallion.stages s WHERE s.state = 'staged' AND c.xid >= s.snapshot_xmin)
		RETURNING 1)
	SELECT count(*) INTO trimmed FROM gone;
	RETURN trimmed;
END
$$;
COMMENT ON FUNCTION medallion.trim_changes(bigint) IS
	'Delete the change log rows no stored build needs, when the log holds more than min_rows (a model found changed has it noted in build_state.changed first)';

/*
 * trim_lows: the captured lows no incremental model needs any more (seen
 * by every stored snapshot, and by every snapshot held now: a build in
 * progress may store one, snapshot_horizon); a model whose stored snapshot still needs
 * more than ten times min_rows of them reads all its rows again at its
 * next build instead, so that the table stays bounded.
 */
CREATE OR REPLACE FUNCTION medallion.trim_lows(min_rows bigint DEFAULT 10000)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	trimmed bigint;
	/* a build in progress may store a snapshot that does not see a newer one */
	horizon pg_catalog.xid8 := medallion.snapshot_horizon();
BEGIN
	IF (SELECT count(*) FROM (SELECT FROM medallion.written_lows LIMIT min_rows + 1) w) <= min_rows THEN
		RETURN 0;
	END IF;
	/*
	 * Snapshot and capture both forgotten: a build of the model in
	 * progress then stores no capture state either (CatalogSetCapture).
	 * A model being built now is skipped, not waited for.
	 */
	UPDATE medallion.model_state s
	   SET capture = NULL, snapshot = NULL
	 WHERE s.model IN (SELECT h.model FROM medallion.model_state h
						WHERE h.capture IS NOT NULL
						  AND (SELECT count(*) FROM (SELECT FROM medallion.written_lows w
													  WHERE NOT pg_visible_in_snapshot(w.xid, h.snapshot)
													  LIMIT 10 * min_rows + 1) n) > 10 * min_rows
						  FOR UPDATE SKIP LOCKED);
	WITH gone AS (
		DELETE FROM medallion.written_lows w
		 WHERE w.xid < horizon
		   AND NOT EXISTS (SELECT FROM medallion.model_state s
							WHERE s.capture IS NOT NULL
							  AND NOT pg_visible_in_snapshot(w.xid, s.snapshot))
		RETURNING 1)
	SELECT count(*) INTO trimmed FROM gone;
	RETURN trimmed;
END
$$;
COMMENT ON FUNCTION medallion.trim_lows(bigint) IS
	'Delete the captured lows no incremental model needs, when there are more than min_rows (a model needing over ten times that reads all its rows again instead)';

CREATE OR REPLACE FUNCTION medallion.track_rows()
RETURNS trigger
AS 'MODULE_PATHNAME', 'medallion_track_rows'
LANGUAGE C;
COMMENT ON FUNCTION medallion.track_rows() IS
	'Row capture triggers of the tables incremental models'' watermarks come from: logs the lowest value of each column named in its arguments that a transaction wrote, in medallion.written_lows';

CREATE OR REPLACE FUNCTION medallion.track_deltas()
RETURNS trigger
AS 'MODULE_PATHNAME', 'medallion_track_deltas'
LANGUAGE C;
COMMENT ON FUNCTION medallion.track_deltas() IS
	'Delta triggers of the tables maintained models read: logs the rows a statement inserted (w +1) and deleted (w -1), an update as both, with the writing transaction, in the table''s log in medallion_delta';

CREATE OR REPLACE FUNCTION medallion.capture_deltas(tab regclass, columns text[])
RETURNS void
AS 'MODULE_PATHNAME', 'medallion_capture_deltas'
LANGUAGE C STRICT;
COMMENT ON FUNCTION medallion.capture_deltas(regclass, text[]) IS
	'Capture the deltas of columns of a table (its log and triggers); internal, for tests: the extension owner only';

CREATE OR REPLACE FUNCTION medallion.delta_sql(tab regclass, since text)
RETURNS text
AS 'MODULE_PATHNAME', 'medallion_delta_sql'
LANGUAGE C STRICT STABLE;
COMMENT ON FUNCTION medallion.delta_sql(regclass, text) IS
	'The SQL of a captured table''s consolidated delta since a snapshot: each row with its weight; internal';

CREATE OR REPLACE FUNCTION medallion.delta_state(tab regclass)
RETURNS text
AS 'MODULE_PATHNAME', 'medallion_delta_state'
LANGUAGE C STRICT STABLE;
COMMENT ON FUNCTION medallion.delta_state(regclass) IS
	'The state of a table''s delta capture (its log, storage and triggers), NULL when not every write is logged; internal';

CREATE OR REPLACE FUNCTION medallion.track_changes()
RETURNS trigger
AS 'MODULE_PATHNAME', 'medallion_track_changes'
LANGUAGE C;
COMMENT ON FUNCTION medallion.track_changes() IS
	'Statement trigger of tracked tables: logs the table and the writing transaction in medallion.changes, once per transaction';

/* statement triggers are not inherited: a partition added later is tracked here */
CREATE OR REPLACE FUNCTION medallion.track_partitions()
RETURNS event_trigger
AS 'MODULE_PATHNAME', 'medallion_track_partitions'
LANGUAGE C;
COMMENT ON FUNCTION medallion.track_partitions() IS
	'Event trigger: a partition created in or attached to a tracked partitioned table is tracked too; internal';

/*
 * medallion_track: the owner of a table (or partitioned table, with each
 * of its partitions) has its writes logged, so that models reading it
 * skip their build when it did not change.
 */
CREATE OR REPLACE FUNCTION @extschema@.medallion_track(relation regclass)
RETURNS text
AS 'MODULE_PATHNAME', 'medallion_track'
LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION @extschema@.medallion_track(regclass) IS
	'Track the writes to a table (and each partition of a partitioned table) for change-aware runs; by its owner';
