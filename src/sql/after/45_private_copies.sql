/* ---------------------------------------------------------------------
 * What src/sql/install/45_private_copies.sql makes that needs its functions (event
 * triggers): put in the install script after the functions.
 * --------------------------------------------------------------------- */

CREATE EVENT TRIGGER medallion_follow_grants ON ddl_command_end
	WHEN TAG IN ('GRANT', 'REVOKE', 'ALTER TABLE', 'CREATE POLICY', 'ALTER POLICY', 'DROP POLICY')
	EXECUTE FUNCTION medallion.follow_grants();
COMMENT ON EVENT TRIGGER medallion_follow_grants IS
	'medallion: history copies and stored failing rows keep only the grants their published table allows now';
