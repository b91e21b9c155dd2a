/* ---------------------------------------------------------------------
 * Change-aware runs: what each model's last build read, and which
 * tracked tables changed since (src/changes.c, docs/change-aware-runs.md).
 * Neither table is dumped: after a restore the first run builds all.
 * --------------------------------------------------------------------- */

CREATE TABLE medallion.changes (
	relid		oid NOT NULL,
	xid			xid8 NOT NULL
);
COMMENT ON TABLE medallion.changes IS
	'Tracked tables written, and by which transaction: a row per table and writing transaction, appended by the statement trigger medallion_changes (insert only; trimmed by runs)';
COMMENT ON COLUMN medallion.changes.relid IS 'The table written (a leaf partition, or a partitioned table written through)';
COMMENT ON COLUMN medallion.changes.xid IS 'The writing transaction (top level)';
GRANT SELECT ON medallion.changes TO medallion_admin;

/*
 * Row capture of incremental models' watermark columns: the lowest value
 * each transaction wrote to a column, appended by the triggers
 * medallion_rows_* (src/changes.c); a build reads again the rows past the
 * lowest value written by the transactions its previous build did not
 * see (src/build_incremental.c).  Values of the owners' tables: no grants.
 */
CREATE TABLE medallion.written_lows (
	relid		oid NOT NULL,
	xid			xid8 NOT NULL,
	attname		name NOT NULL,
	low			text
);
COMMENT ON TABLE medallion.written_lows IS
	'The lowest value each transaction wrote to a captured column: a row per table, column and transaction (another when a later statement writes lower), appended by the triggers medallion_rows_*; trimmed by runs; readable by the extension owner only';
COMMENT ON COLUMN medallion.written_lows.relid IS 'The table written (the one the statement named, or a partition a subscription wrote)';
COMMENT ON COLUMN medallion.written_lows.xid IS 'The writing transaction (top level)';
COMMENT ON COLUMN medallion.written_lows.attname IS 'The column captured';
COMMENT ON COLUMN medallion.written_lows.low IS 'The lowest value written (ISO 8601 for dates and timestamps), or NULL: a NULL was written';

CREATE TABLE medallion.build_state (
	model		text PRIMARY KEY REFERENCES medallion.models (name)
				ON DELETE CASCADE ON UPDATE CASCADE,
	run_id		bigint NOT NULL,
	version		integer NOT NULL,
	snapshot	pg_snapshot NOT NULL,
	inputs		jsonb NOT NULL,
	built_at	timestamptz NOT NULL DEFAULT pg_catalog.now(),
	changed		text,
	deltas		text
);
COMMENT ON TABLE medallion.build_state IS
	'Each model''s last build: the snapshot it read with and the state of its inputs, written in the transaction that publishes it (derived, not dumped)';
COMMENT ON COLUMN medallion.build_state.model IS 'Model';
COMMENT ON COLUMN medallion.build_state.run_id IS 'The last run that changed what the model publishes (models reading it compare it)';
COMMENT ON COLUMN medallion.build_state.version IS 'The model version built';
COMMENT ON COLUMN medallion.build_state.snapshot IS 'A snapshot the build''s reads saw at least: a change by a transaction it does not see is new';
COMMENT ON COLUMN medallion.build_state.inputs IS 'Each input with what no trigger reports: storage (relfilenode), partitions, view rules, upstream builds, a keyed digest of a foreign table''s probe';
COMMENT ON COLUMN medallion.build_state.built_at IS 'When it was built';
COMMENT ON COLUMN medallion.build_state.deltas IS 'A maintained table model: the state of the delta capture of the table it reads (log, storage, triggers) when it was built; its next build starts from the delta since snapshot only when the state is the same (NULL: rebuilt whole); ending in " | reread" when the build''s transaction had written its tables, so that the next build, which reads those rows again, recomputes their keys and adds nothing twice; then " | tested <digest>" when every test of the model passed after the build, with the digest of its tests, so that the next maintained build tests only the rows it writes while the tests are the same';
COMMENT ON COLUMN medallion.build_state.changed IS 'An input change found since the build, kept here when the change log rows showing it were trimmed (NULL: none noted)';
GRANT SELECT ON medallion.build_state TO medallion_admin;

/*
 * The key of the digests that probes of foreign tables store in
 * build_state (src/changes.c, probe_digest): the catalog, which every admin
 * reads, tells whether a probe's answer changed, not what the model owner's
 * probe read (a count and the maximum of a column).  Random, made once;
 * readable by the extension owner only.
 */
CREATE TABLE medallion.probe_key (
	key			text NOT NULL
);
INSERT INTO medallion.probe_key (key)
	SELECT pg_catalog.gen_random_uuid()::text OPERATOR(pg_catalog.||) pg_catalog.gen_random_uuid()::text;
COMMENT ON TABLE medallion.probe_key IS
	'The secret key of the digests of probe answers kept in build_state (no grants: the extension owner reads it)';
COMMENT ON COLUMN medallion.probe_key.key IS 'Random text';

/*
 * Row-level deltas of the tables maintained models read (issue 31,
 * src/changes_deltas.c): a log per table, medallion_delta.d<OID>, made
 * when a model needs it, member of the extension (derived: not dumped).
 * The owners' rows: no grants.
 */
CREATE SCHEMA medallion_delta;
COMMENT ON SCHEMA medallion_delta IS
	'medallion: the rows written to and deleted from the tables maintained models read, one log per table, readable by the extension owner only';
