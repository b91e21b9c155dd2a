/* ---------------------------------------------------------------------
 * Staged deploys (#28): candidates built and tested under new
 * definitions, kept until medallion_promote publishes them or
 * medallion_discard drops them.  The definitions themselves stay pending
 * in the stage's row; the catalog keeps the deployed ones.
 * --------------------------------------------------------------------- */

/*
 * The staged candidates, named s<stage>_<published table OID>: created by
 * medallion as the extension owner, then owned by their model's owner,
 * who alone may read them (the deploy's data diff).  Nobody creates here.
 */
CREATE SCHEMA medallion_stage;
COMMENT ON SCHEMA medallion_stage IS
	'medallion: the candidates of staged deploys, readable by their model''s owner only, until promoted or discarded';
GRANT USAGE ON SCHEMA medallion_stage TO medallion_admin;

CREATE TABLE medallion.stages (
	stage_id	bigserial PRIMARY KEY,
	created_at	timestamptz NOT NULL DEFAULT pg_catalog.now(),
	created_by	name NOT NULL,
	selector	text NOT NULL,
	exclude		text,
	state		text NOT NULL DEFAULT 'staged'
				CHECK (state IN ('staged', 'promoted', 'discarded')),
	finished_at	timestamptz,
	reason		text,
	run_id		bigint NOT NULL,
	definitions	jsonb NOT NULL,
	tests		jsonb NOT NULL,
	builds		jsonb NOT NULL,
	depends		text[] NOT NULL,
	bindings	jsonb NOT NULL DEFAULT '{}',
	snapshot_xmin xid8
);
COMMENT ON TABLE medallion.stages IS
	'Staged deploys: the pending definitions of the models a stage built, and what became of it (derived from a deploy; not dumped: promote or discard stages before a dump)';
COMMENT ON COLUMN medallion.stages.stage_id IS 'The ID medallion_promote and medallion_discard take';
COMMENT ON COLUMN medallion.stages.created_at IS 'When it was staged';
COMMENT ON COLUMN medallion.stages.created_by IS 'The role that staged it: promoting or discarding it takes its privileges';
COMMENT ON COLUMN medallion.stages.selector IS 'The models the stage''s run selected (with the new definitions)';
COMMENT ON COLUMN medallion.stages.exclude IS 'The models the stage''s run left out (a selector), or NULL';
COMMENT ON COLUMN medallion.stages.state IS 'staged, promoted or discarded';
COMMENT ON COLUMN medallion.stages.finished_at IS 'When it was promoted or discarded';
COMMENT ON COLUMN medallion.stages.reason IS 'Why it was discarded: by whom, or the definition that changed';
COMMENT ON COLUMN medallion.stages.run_id IS 'The run that built its candidates (medallion.runs)';
COMMENT ON COLUMN medallion.stages.definitions IS 'The pending definitions: the medallion.models rows of the selected models, in plan order, as they were with the new definitions';
COMMENT ON COLUMN medallion.stages.tests IS 'The pending tests of those models: their medallion.tests rows';
COMMENT ON COLUMN medallion.stages.builds IS 'The build state of each model it built ({model: build_state row}), restored when it is promoted so that only what changed since is built again';
COMMENT ON COLUMN medallion.stages.depends IS 'The models whose definitions the stage depends on (the selected models and everything they read): a change to one discards it';
COMMENT ON COLUMN medallion.stages.bindings IS 'What each staged model''s binding referred to, by OID ({model: "class:object:sub,..."}): a promote whose definitions bind otherwise is refused';
COMMENT ON COLUMN medallion.stages.snapshot_xmin IS 'The oldest snapshot its builds read with: change log rows it may need are kept';
GRANT SELECT ON medallion.stages TO medallion_admin;

CREATE TABLE medallion.stage_tables (
	stage_id	bigint NOT NULL REFERENCES medallion.stages ON DELETE CASCADE,
	model		text NOT NULL,
	relid		oid NOT NULL UNIQUE,
	published	oid NOT NULL,
	rows		bigint NOT NULL,
	PRIMARY KEY (stage_id, model)
);
COMMENT ON TABLE medallion.stage_tables IS
	'The staged candidates of each stage, by OID (in medallion_stage); a row goes when its table is published or dropped';
COMMENT ON COLUMN medallion.stage_tables.stage_id IS 'The stage';
COMMENT ON COLUMN medallion.stage_tables.model IS 'The model';
COMMENT ON COLUMN medallion.stage_tables.relid IS 'OID of the staged candidate, medallion_stage.s<stage>_<published OID>';
COMMENT ON COLUMN medallion.stage_tables.published IS 'OID of the published table it replaces';
COMMENT ON COLUMN medallion.stage_tables.rows IS 'Its rows';
GRANT SELECT ON medallion.stage_tables TO medallion_admin;
