/* ---------------------------------------------------------------------
 * State of incremental models
 * --------------------------------------------------------------------- */

CREATE TABLE medallion.model_state (
	model		text PRIMARY KEY REFERENCES medallion.models (name)
				ON DELETE CASCADE ON UPDATE CASCADE,
	watermark	text,
	max_seen	text,
	run_id		bigint,
	updated_at	timestamptz NOT NULL DEFAULT pg_catalog.now(),
	snapshot	pg_snapshot,
	capture		text
);
COMMENT ON TABLE medallion.model_state IS
	'High-water marks of incremental models, written in the transaction that publishes their data';
COMMENT ON COLUMN medallion.model_state.model IS 'The incremental model';
COMMENT ON COLUMN medallion.model_state.watermark IS 'The largest watermark value published so far; for a watermark from a foreign table, the next run reads rows past it (minus the lookback)';
COMMENT ON COLUMN medallion.model_state.max_seen IS 'The largest watermark value published';
COMMENT ON COLUMN medallion.model_state.run_id IS 'The run that published it';
COMMENT ON COLUMN medallion.model_state.updated_at IS 'When it was published';
COMMENT ON COLUMN medallion.model_state.snapshot IS 'The snapshot the last build read with: the next one reads again every row written by a transaction it does not see (row capture, medallion.written_lows)';
COMMENT ON COLUMN medallion.model_state.capture IS 'The state of row capture the last build relied on (storage and capture triggers of the watermark''s tables); when it differs, the next build reads all rows again';
GRANT SELECT ON medallion.model_state TO medallion_admin;
SELECT pg_catalog.pg_extension_config_dump('medallion.model_state', '');

/*
 * Extraction in progress: an incremental model reading a source with
 * batch_size pulls its new rows in batches, each committed by a background
 * worker into a staging table with the position reached, before the run
 * applies them.  A row here means batches are staged and not yet applied;
 * the next run resumes after them.
 */
CREATE TABLE medallion.extract_state (
	model		text PRIMARY KEY REFERENCES medallion.models (name)
				ON DELETE CASCADE ON UPDATE CASCADE,
	stage		oid NOT NULL,
	mark		text,
	last_key	text,
	rows		bigint NOT NULL DEFAULT 0,
	batches		integer NOT NULL DEFAULT 0,
	version		integer NOT NULL DEFAULT 0,
	started_at	timestamptz NOT NULL DEFAULT pg_catalog.now(),
	updated_at	timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE medallion.extract_state IS
	'Batched extractions staged and not yet applied: where the next batch starts';
COMMENT ON COLUMN medallion.extract_state.model IS 'The incremental model';
COMMENT ON COLUMN medallion.extract_state.stage IS 'The staging table (in medallion_build) holding the batches';
COMMENT ON COLUMN medallion.extract_state.mark IS 'Watermark of the last staged row';
COMMENT ON COLUMN medallion.extract_state.last_key IS 'unique_key of the last staged row (rows with the same watermark follow in key order)';
COMMENT ON COLUMN medallion.extract_state.rows IS 'Rows staged';
COMMENT ON COLUMN medallion.extract_state.batches IS 'Batches committed';
COMMENT ON COLUMN medallion.extract_state.version IS 'Version of the model definition the batches were staged with (another starts over)';
COMMENT ON COLUMN medallion.extract_state.started_at IS 'When the first batch was staged';
COMMENT ON COLUMN medallion.extract_state.updated_at IS 'When the last batch was committed';
GRANT SELECT ON medallion.extract_state TO medallion_admin;

/*
 * What a model owner's reads found (the largest watermark, the key where an
 * extraction stopped) is shown only to roles acting for that owner: the
 * values come from data other admins may not read.  medallion's own
 * writes and reads run as the extension owner.
 */
ALTER TABLE medallion.model_state ENABLE ROW LEVEL SECURITY;
CREATE POLICY model_state_owner ON medallion.model_state FOR SELECT TO medallion_admin
	USING (EXISTS (SELECT FROM medallion.models m
					WHERE m.name OPERATOR(pg_catalog.=) model_state.model
					  AND pg_catalog.pg_has_role(m.owner, 'USAGE')));
ALTER TABLE medallion.extract_state ENABLE ROW LEVEL SECURITY;
CREATE POLICY extract_state_owner ON medallion.extract_state FOR SELECT TO medallion_admin
	USING (EXISTS (SELECT FROM medallion.models m
					WHERE m.name OPERATOR(pg_catalog.=) extract_state.model
					  AND pg_catalog.pg_has_role(m.owner, 'USAGE')));
