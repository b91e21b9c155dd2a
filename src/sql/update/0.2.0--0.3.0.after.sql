/*
 * medallion--0.2.0--0.3.0.sql, after the functions (src/sql/functions):
 * what the update makes or runs that needs them.
 */

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
CREATE EVENT TRIGGER medallion_follow_grants ON ddl_command_end
	WHEN TAG IN ('GRANT', 'REVOKE', 'ALTER TABLE', 'CREATE POLICY', 'ALTER POLICY', 'DROP POLICY')
	EXECUTE FUNCTION medallion.follow_grants();
COMMENT ON EVENT TRIGGER medallion_follow_grants IS
	'medallion: history copies and stored failing rows keep only the grants their published table allows now';
/* copies made before: their grants were the table's when they were made */
SELECT medallion.private_copies_follow();
