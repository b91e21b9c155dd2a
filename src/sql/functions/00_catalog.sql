/* ---------------------------------------------------------------------
 * Functions and views of src/sql/install/00_catalog.sql, written once: the
 * Makefile puts this file in the install script and in every update
 * script, after their state changes.
 * --------------------------------------------------------------------- */

/*
 * medallion_bind exists before 0.2.0's script when a 0.2.0 library bound a
 * model in a database still at 0.1.0: the update script makes it the
 * extension's with this function.
 */
CREATE OR REPLACE FUNCTION medallion.adopt_bind_schema()
RETURNS boolean
AS 'MODULE_PATHNAME', 'medallion_adopt_bind_schema'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION medallion.adopt_bind_schema() IS
	'Make schema medallion_bind, made by the library before an update to 0.2.0, a member of the extension; for update scripts, internal';
