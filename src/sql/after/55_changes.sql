/* ---------------------------------------------------------------------
 * What src/sql/install/55_changes.sql makes that needs its functions (event
 * triggers): put in the install script after the functions.
 * --------------------------------------------------------------------- */

CREATE EVENT TRIGGER medallion_track_partitions ON ddl_command_end
	WHEN TAG IN ('CREATE TABLE', 'ALTER TABLE')
	EXECUTE FUNCTION medallion.track_partitions();
COMMENT ON EVENT TRIGGER medallion_track_partitions IS
	'medallion: tracks the partitions created in or attached to tracked partitioned tables (change-aware runs)';
