/* ---------------------------------------------------------------------
 * What src/sql/install/65_stages.sql makes that needs its functions: a
 * stage is discarded when a definition it depends on changes or goes.
 * --------------------------------------------------------------------- */

CREATE TRIGGER medallion_stage_follow
	AFTER UPDATE ON medallion.models
	FOR EACH ROW
	WHEN (OLD.sql_hash IS DISTINCT FROM NEW.sql_hash)
	EXECUTE FUNCTION medallion.stage_follow();
COMMENT ON TRIGGER medallion_stage_follow ON medallion.models IS
	'medallion: discards the stages that depend on a model whose definition changes';
CREATE TRIGGER medallion_stage_follow_drop
	AFTER DELETE ON medallion.models
	FOR EACH ROW
	EXECUTE FUNCTION medallion.stage_follow();
COMMENT ON TRIGGER medallion_stage_follow_drop ON medallion.models IS
	'medallion: discards the stages that depend on a model that is dropped';
