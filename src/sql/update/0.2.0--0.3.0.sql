/*
 * medallion--0.2.0--0.3.0.sql: this file, then the privileges section of
 * the install script (src/sql/install/90_privileges.sql), made into one by
 * the Makefile.
 */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION medallion UPDATE TO '0.3.0'" to load this file. \quit

/* ---------------------------------------------------------------------
 * Failing rows: tables named "<model>$<test>", recorded by OID (0.2.0's
 * "<model>__<test>" let two pairs meet).  0.2.0's tables stay where they
 * are, with their rows; new failing rows go to the new tables.
 * --------------------------------------------------------------------- */

CREATE TABLE medallion.audit_tables (
	model		text NOT NULL,
	test		text NOT NULL,
	relid		oid NOT NULL UNIQUE,
	PRIMARY KEY (model, test),
	FOREIGN KEY (model, test) REFERENCES medallion.tests (model, name)
		ON DELETE CASCADE ON UPDATE CASCADE
);
COMMENT ON TABLE medallion.audit_tables IS
	'The table in medallion_audit that keeps each test''s failing rows, by OID: written only when it is this relation and belongs to the model owner (derived; not dumped)';
COMMENT ON COLUMN medallion.audit_tables.model IS 'The model tested';
COMMENT ON COLUMN medallion.audit_tables.test IS 'The test';
COMMENT ON COLUMN medallion.audit_tables.relid IS 'OID of the table in medallion_audit named <model>$<test> (or $ and an md5 of that when too long)';
GRANT SELECT ON medallion.audit_tables TO medallion_admin;
COMMENT ON COLUMN medallion.tests.store_failures IS 'Keep failing rows in medallion_audit."<model>$<test>" (medallion.audit_tables)';

/* ---------------------------------------------------------------------
 * Model names starting with "pg_" are refused from 0.3.0 on: a model so
 * named could take the transient name (pg_temp_<OID>) of another model's
 * candidate.  Refuse to update while one exists.
 * --------------------------------------------------------------------- */
DO $reserved$
DECLARE
	found text;
BEGIN
	SELECT pg_catalog.string_agg(pg_catalog.quote_literal(name), ', ' ORDER BY name) INTO found
	  FROM medallion.models WHERE name OPERATOR(pg_catalog.~~) 'pg\_%';
	IF found IS NOT NULL THEN
		RAISE EXCEPTION 'models named with the reserved prefix "pg_" exist: %', found
			USING ERRCODE = 'reserved_name',
				  DETAIL = 'Names starting with "pg_" are reserved for PostgreSQL''s transient relations, which a run builds in the layer schemas.',
				  HINT = 'Drop these models (medallion_drop_model) and define them again under other names, then update.';
	END IF;
END
$reserved$;

/* ---------------------------------------------------------------------
 * Change capture: a change found before the log rows showing it were
 * trimmed is noted with the build; tables tracked by 0.2.0 get the row
 * trigger (enabled REPLICA) that logs a subscription's writes.
 * --------------------------------------------------------------------- */
ALTER TABLE medallion.build_state ADD COLUMN changed text;
COMMENT ON COLUMN medallion.build_state.changed IS 'An input change found since the build, kept here when the change log rows showing it were trimmed (NULL: none noted)';
DO $row_triggers$
DECLARE
	t record;
BEGIN
	FOR t IN SELECT g.tgrelid::pg_catalog.regclass AS rel
			   FROM pg_catalog.pg_trigger g JOIN pg_catalog.pg_class c ON c.oid = g.tgrelid
			  WHERE g.tgname = 'medallion_changes' AND c.relkind = 'r'
				AND NOT EXISTS (SELECT FROM pg_catalog.pg_trigger r
								 WHERE r.tgrelid = g.tgrelid AND r.tgname = 'medallion_changes_row') LOOP
		EXECUTE pg_catalog.format('CREATE TRIGGER medallion_changes_row AFTER INSERT OR UPDATE OR DELETE ON %s '
								  'FOR EACH ROW EXECUTE FUNCTION medallion.track_changes()', t.rel);
		EXECUTE pg_catalog.format('ALTER TABLE %s ENABLE REPLICA TRIGGER medallion_changes_row', t.rel);
		/* dropped with the extension, as the statement trigger is */
		EXECUTE pg_catalog.format('ALTER TRIGGER medallion_changes_row ON %s DEPENDS ON EXTENSION medallion', t.rel);
	END LOOP;
END
$row_triggers$;
