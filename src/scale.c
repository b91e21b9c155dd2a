/*-------------------------------------------------------------------------
 *
 * scale.c
 *	  Scale-out on Citus: models published as hash-distributed tables
 *	  (distributed_by, colocate_with) or reference tables (distribution =>
 *	  'reference').
 *
 * medallion.so never links against Citus: everything here is Citus's
 * public SQL (create_distributed_table, create_reference_table,
 * alter_distributed_table, undistribute_table, pg_dist_partition), run
 * through SPI when the citus extension is installed.
 *
 * Identity.  Citus runs what it does on the workers over connections as
 * the current user.  Its distribution functions create shards (and
 * undistribute_table a new table) in the layer schemas, where the model
 * owner has no CREATE: they run as the extension owner, and copy the
 * table's rows as that superuser, evaluating on every node whatever the
 * table evaluates on rows written (CHECK constraints, triggers, index
 * expressions, column types...).  So each such call is preceded by
 * TrustCheckRelation (trust.c), which refuses when any of that is code a
 * role other than a superuser can change.  The row copies of the publish
 * and of a rollback (ScaleExchange) are checked the same way: they too
 * run as the extension owner, for Citus uses one role per group of
 * colocated shards in a transaction, and the tables around them (the
 * previous version's copy, the candidates) are created, moved and dropped
 * as the extension owner.  DROP TABLE, ALTER TABLE SET SCHEMA and RENAME
 * of Citus tables run as the extension owner (moving into
 * medallion_history needs it); they write no row and evaluate nothing of
 * the table.
 *
 * A distributed table's rows live in its shards on the workers, not in the
 * coordinator's table: swapping the coordinator's storage (publish.c)
 * would publish nothing.  So the candidate of a hash-distributed model is
 * a distributed table too, colocated with the published one, created and
 * filled on the workers in the run's transaction (build_candidate.c); a
 * reference model's candidate is a local table.  The publish, in the
 * run's transaction, is TRUNCATE and INSERT ... SELECT from the candidate,
 * which Citus runs shard by shard inside its coordinated transaction:
 * readers wait for the run's commit and then see the new rows, on every
 * node at once (two-phase commit).  The previous rows are copied first
 * into a table like the candidate, the model's previous version.  Citus
 * tables are dropped, moved and renamed with SQL, so that Citus follows
 * on the workers.  See docs/scale-out.md.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/cluster.h"
#include "commands/dbcommands.h"
#include "commands/extension.h"
#include "commands/tablecmds.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "storage/proc.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "catalog.h"
#include "relation.h"
#include "scale.h"
#include "sqltext.h"
#include "trust.h"

/*
 * What ScaleCitusInstalled found, and for which transaction and command:
 * CREATE and DROP EXTENSION are seen by this backend from its next command
 * on, so the same command always gets the same answer; a subtransaction's
 * rollback takes its DDL back, and the answer with it.  A run asks a few
 * times per model (its change check, its tests, its publish).
 */
static bool citus_found = false;
static LocalTransactionId citus_found_lxid = InvalidLocalTransactionId;
static CommandId citus_found_cid = InvalidCommandId;
static bool citus_callback_registered = false;

static void
citus_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
					   SubTransactionId parentSubid, void *arg)
{
	if (event == SUBXACT_EVENT_ABORT_SUB)
		citus_found_lxid = InvalidLocalTransactionId;
}

/* Is the citus extension installed in this database? */
bool
ScaleCitusInstalled(void)
{
	if (citus_found_lxid != InvalidLocalTransactionId && citus_found_lxid == MyProc->lxid &&
		citus_found_cid == GetCurrentCommandId(false))
		return citus_found;
	if (!citus_callback_registered)
	{
		RegisterSubXactCallback(citus_subxact_callback, NULL);
		citus_callback_registered = true;
	}
	citus_found = OidIsValid(get_extension_oid("citus", true));
	citus_found_lxid = MyProc->lxid;
	citus_found_cid = GetCurrentCommandId(false);
	return citus_found;
}

static void
setting_refused(ModelDef *model, const char *why, const char *hint)
{
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("model \"%s\" cannot be distributed: %s", model->name, why),
			 errhint("%s", hint)));
}

/*
 * ScaleCheckSettings
 *		The Citus settings of a model, alone: distributed_by implies
 *		distribution hash; reference has no column; colocate_with only with
 *		hash; only table models; and Citus must be installed.
 */
void
ScaleCheckSettings(ModelDef *model)
{
	if (model->distributed_by != NULL && model->distribution == NULL)
		model->distribution = pstrdup("hash");
	if (model->colocate_with != NULL && model->distribution == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("colocate_with applies only to distributed models"),
				 errhint("Give distributed_by => 'column' too.")));
	if (model->distribution == NULL)
		return;
	if (strcmp(model->distribution, "hash") != 0 && strcmp(model->distribution, "reference") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown distribution \"%s\"", model->distribution),
				 errhint("distribution is hash (with distributed_by) or reference.")));
	if (strcmp(model->distribution, "hash") == 0 && model->distributed_by == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a hash-distributed model needs distributed_by"),
				 errhint("Give distributed_by => 'column': the column whose hash places each row.")));
	if (strcmp(model->distribution, "reference") == 0 && model->distributed_by != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a reference model has no distribution column"),
				 errdetail("A reference table is copied whole to every node."),
				 errhint("Give either distributed_by => 'column' or distribution => 'reference'.")));
	if (strcmp(model->distribution, "reference") == 0 && model->colocate_with != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("colocate_with applies only to distributed models")));
	if (model->colocate_with != NULL && strcmp(model->colocate_with, model->name) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("model \"%s\" cannot be colocated with itself", model->name)));
	if (model->kind == MAT_VIEW || model->kind == MAT_EPHEMERAL)
		setting_refused(model, psprintf("%s models have no table", model->materialized),
						"Only table models are distributed; make it materialized => 'table'.");

	/*
	 * An incremental model's delta is applied by key (scale.c: delete and
	 * insert); an append, without a key, would read the published table
	 * row by row against a local delta, which Citus does not plan.
	 */
	if (model->kind == MAT_INCREMENTAL &&
		(model->unique_key == NIL || (model->strategy != NULL && strcmp(model->strategy, "append") == 0)))
		setting_refused(model, "a distributed incremental model needs a unique_key, and the merge or delete+insert strategy",
						"Give unique_key => ARRAY['key']: its new rows then replace the published ones by key.");
	if (!ScaleCitusInstalled())
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("distributed models need the citus extension"),
				 errdetail("citus is not installed in database \"%s\".",
						   get_database_name(MyDatabaseId)),
				 errhint("Put citus first in shared_preload_libraries, restart, CREATE EXTENSION citus and add the worker nodes (citus_add_node).")));
}

/*
 * What Citus makes of relid now: 'h' (hash), 'r' (reference), 'o' (another
 * Citus table), or '\0'.  Not read-only: a read-only query would use the
 * active snapshot, which misses tables distributed since (candidates).
 */
static char
citus_kind(Oid relid, char **column)
{
	Oid			argtypes[1] = {OIDOID};
	Datum		values[1] = {ObjectIdGetDatum(relid)};
	char		kind = '\0';
	int			ret;

	*column = NULL;
	if (!ScaleCitusInstalled())
		return '\0';
	ret = SPI_execute_with_args("SELECT p.partmethod::text, p.repmodel::text, "
								"       CASE WHEN p.partmethod = 'h' "
								"            THEN pg_catalog.column_to_column_name(p.logicalrelid, p.partkey) END "
								"  FROM pg_catalog.pg_dist_partition p WHERE p.logicalrelid = $1",
								1, argtypes, values, NULL, false, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not read pg_dist_partition: %s", SPI_result_code_string(ret));
	if (SPI_processed == 1)
	{
		char	   *method = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
		char	   *repmodel = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);

		*column = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3);
		kind = strcmp(method, "h") == 0 ? 'h' :
			strcmp(method, "n") == 0 && strcmp(repmodel, "t") == 0 ? 'r' : 'o';
	}
	return kind;
}

/* Run one Citus function call, with parameters; its errors say which model. */
static void
citus_call(ModelDef *model, const char *sql, int nargs, Oid *argtypes, Datum *values)
{
	int			ret = SPI_execute_with_args(sql, nargs, argtypes, values, NULL, false, 0);

	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not distribute model \"%s\": %s", model->name,
			 SPI_result_code_string(ret));
}

/*
 * ScaleDistribute
 *		Make the model's published table what its settings say: local, a
 *		hash-distributed table by distributed_by (colocated with
 *		colocate_with), or a reference table.  Called when the model is
 *		defined, after its relation; the distribution column must be one
 *		of the query's, colocate_with a hash-distributed model.
 */
void
ScaleDistribute(ModelDef *model, AnalyzedModel *analyzed)
{
	Oid			relid = RelPublished(model);
	CatalogSession session;
	char	   *column;
	char		now;
	char		want;
	char	   *colocate = "default";
	bool		undistribute = false;
	const char *call = NULL;
	Oid			argtypes[3] = {REGCLASSOID, TEXTOID, TEXTOID};
	Datum		values[3];

	if (!OidIsValid(relid) || get_rel_relkind(relid) != RELKIND_RELATION || !ScaleCitusInstalled())
		return;
	if (model->distributed_by != NULL && SqlFindColumn(analyzed->columns, model->distributed_by) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("distributed_by names no column of model \"%s\": \"%s\"", model->name,
						model->distributed_by),
				 errhint("The distribution column is one of the query's output columns.")));
	if (model->colocate_with != NULL)
	{
		ModelDef   *other = CatalogGetModel(model->colocate_with, true);

		if (other == NULL || other->distribution == NULL || strcmp(other->distribution, "hash") != 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("colocate_with names no distributed model: \"%s\"", model->colocate_with),
					 errhint("Colocate with a model defined with distributed_by.")));
		colocate = SqlModelName(other);
	}
	want = model->distribution == NULL ? '\0' :
		strcmp(model->distribution, "reference") == 0 ? 'r' : 'h';

	CatalogEnter(&session);
	/* Citus's notice of the rows it copies ends with a hint done below */
	(void) set_config_option("client_min_messages", "warning", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	now = citus_kind(relid, &column);
	values[0] = ObjectIdGetDatum(relid);
	if (want == 'h')
	{
		values[1] = CStringGetTextDatum(model->distributed_by);
		values[2] = CStringGetTextDatum(colocate);
	}

	/* what Citus is to do, if anything */
	if (now != '\0' && now != want)
		undistribute = true;	/* back to a local table first */
	if (want == 'r' && (now == '\0' || undistribute))
		call = "SELECT pg_catalog.create_reference_table($1)";
	else if (want == 'h' && (now == '\0' || undistribute))
		call = "SELECT pg_catalog.create_distributed_table($1, $2, colocate_with => $3)";
	else if (want == 'h' && strcmp(column, model->distributed_by) != 0)
		call = "SELECT pg_catalog.alter_distributed_table($1, distribution_column => $2, colocate_with => $3)";
	else if (want == 'h' && model->colocate_with != NULL)
	{
		/* already by that column: colocate it if it is not */
		Oid			colargs[2] = {REGCLASSOID, REGCLASSOID};
		Datum		colvals[2] = {ObjectIdGetDatum(relid),
		ObjectIdGetDatum(RelPublished(CatalogGetModel(model->colocate_with, false)))};
		int			ret = SPI_execute_with_args("SELECT 1 FROM pg_catalog.pg_dist_partition a, pg_catalog.pg_dist_partition b "
												"WHERE a.logicalrelid = $1 AND b.logicalrelid = $2 "
												"AND a.colocationid = b.colocationid",
												2, colargs, colvals, NULL, true, 0);

		if (ret == SPI_OK_SELECT && SPI_processed == 0)
			call = "SELECT pg_catalog.alter_distributed_table($1, colocate_with => $3)";
	}
	if (!undistribute && call == NULL)
	{
		CatalogLeave(&session);
		return;
	}

	/*
	 * Each of these copies the table's rows (into shards on the workers, or
	 * back into a local table) as the extension owner, which Citus needs
	 * (the shards and the new tables are created in the layer schemas):
	 * nothing the model owner can change may run on them (trust.c).
	 */
	TrustCheckRelation(relid, GetUserId(),
					   psprintf(want == '\0' ? "undistribute model \"%s\"" : "distribute model \"%s\"",
								model->name));
	if (undistribute)
		citus_call(model, "SELECT pg_catalog.undistribute_table($1)", 1, argtypes, values);
	if (call != NULL)
		citus_call(model, call, want == 'h' ? 3 : 1, argtypes, values);

	/*
	 * Citus copies the rows of a table it distributes and leaves them on
	 * the coordinator's disk, unread: a model redefined as distributed
	 * would keep a dead copy of its table there.
	 */
	if (want != '\0' && (now == '\0' || undistribute))
	{
		int			ret = SPI_execute_with_args("SELECT pg_catalog.truncate_local_data_after_distributing_table($1) "
												"WHERE pg_catalog.pg_relation_size($1) > 0",
												1, argtypes, values, NULL, false, 0);

		if (ret != SPI_OK_SELECT)
			elog(ERROR, "could not drop the local rows of model \"%s\": %s", model->name,
				 SPI_result_code_string(ret));
	}
	CatalogLeave(&session);
	CommandCounterIncrement();
}

/*
 * citus_kind_of
 *		citus_kind of relid in a catalog session of its own: '\0' when
 *		Citus is not installed or relid is not its table.
 */
static char
citus_kind_of(Oid relid)
{
	CatalogSession session;
	char	   *column;
	char		kind;

	if (!ScaleCitusInstalled())
		return '\0';
	CatalogEnter(&session);
	kind = citus_kind(relid, &column);
	CatalogLeave(&session);
	return kind;
}

/*
 * ScaleIsCitusTable
 *		Is relid a table Citus manages (distributed, reference, or a Citus
 *		local table)?  Its rows are not in the coordinator's storage.
 */
bool
ScaleIsCitusTable(Oid relid)
{
	return citus_kind_of(relid) != '\0';
}

/*
 * ScaleIsDistributed
 *		Is relid a hash-distributed table?  Its candidates are distributed
 *		too, colocated with it (ScaleDistributeLike).
 */
bool
ScaleIsDistributed(Oid relid)
{
	return citus_kind_of(relid) == 'h';
}

/*
 * ScaleNameTable
 *		Give a table just made by make_new_heap for the hash-distributed
 *		table published a name of its own, medallion_<what>_<published
 *		OID>: make_new_heap's pg_temp_<OID> is the name Citus gives its
 *		own copies when it converts a table, and collides with them.  The
 *		table is new in this transaction: no other session sees it.
 */
void
ScaleNameTable(Oid relid, const char *what, Oid published)
{
	RenameRelationInternal(relid, psprintf("medallion_%s_%u", what, published), false, false);
	CommandCounterIncrement();
}

/*
 * ScaleDistributeLike
 *		Make relid, a new empty local table shaped like the hash-distributed
 *		table published (with its indexes and privileges already), a
 *		distributed table colocated with it: its shards are created on the
 *		workers inside Citus's coordinated transaction, and rolled back
 *		with it.  With not_null, its columns first take published's NOT
 *		NULL constraints (make_new_heap copies none), so that a row
 *		published cannot violate them fails the model's build, not the
 *		publish.  Runs as the extension owner, after TrustCheckRelation.
 */
void
ScaleDistributeLike(Oid relid, Oid published, bool not_null)
{
	CatalogSession session;
	char	   *column;
	Oid			argtypes[3] = {REGCLASSOID, TEXTOID, TEXTOID};
	Datum		values[3];
	int			ret;

	CatalogEnter(&session);
	if (citus_kind(published, &column) != 'h')
		elog(ERROR, "%s is not a hash-distributed table", SqlRelationName(published));

	/*
	 * relid is new and empty, so Citus copies no row of it; still, what
	 * its shards are made of is checked as any table medallion
	 * distributes as the extension owner is (trust.c).
	 */
	TrustCheckRelation(relid, GetUserId(), psprintf("distribute a copy of %s", SqlRelationName(published)));
	if (not_null)
	{
		Relation	rel = table_open(published, AccessShareLock);
		TupleDesc	desc = RelationGetDescr(rel);
		StringInfoData alter;

		initStringInfo(&alter);
		for (int i = 0; i < desc->natts; i++)
		{
			Form_pg_attribute att = TupleDescAttr(desc, i);

			if (att->attnotnull && !att->attisdropped)
				appendStringInfo(&alter, "%s ALTER COLUMN %s SET NOT NULL", alter.len > 0 ? "," : "",
								 quote_identifier(NameStr(att->attname)));
		}
		table_close(rel, AccessShareLock);
		if (alter.len > 0)
			SqlUtility(psprintf("ALTER TABLE %s %s", SqlRelationName(relid), alter.data));
	}

	/*
	 * One connection per worker for the rest of the transaction: the run
	 * fills this table and then reads it (tests, downstream models, the
	 * publish), and Citus refuses to read placements modified over several
	 * connections of one transaction.
	 */
	ScaleSequential();
	values[0] = ObjectIdGetDatum(relid);
	values[1] = CStringGetTextDatum(column);
	values[2] = CStringGetTextDatum(SqlRelationName(published));
	ret = SPI_execute_with_args("SELECT pg_catalog.create_distributed_table($1, $2, colocate_with => $3)",
								3, argtypes, values, NULL, false, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not distribute %s: %s", SqlRelationName(relid), SPI_result_code_string(ret));
	CatalogLeave(&session);
	CommandCounterIncrement();
}

/*
 * ScaleSequential
 *		Citus: one connection per worker for the rest of the transaction.
 *		Set before the first query on a Citus table that a run makes, for
 *		once a query of the transaction ran over several connections,
 *		Citus refuses to distribute a table in it.
 */
void
ScaleSequential(void)
{
	(void) set_config_option("citus.multi_shard_modify_mode", "sequential", PGC_USERSET,
							 PGC_S_SESSION, GUC_ACTION_LOCAL, true, 0, false);
}

/*
 * One utility statement on a Citus table, as the extension owner: DROP,
 * SET SCHEMA or RENAME, which write no row and evaluate nothing of the
 * table, on the coordinator or on the workers.
 */
static void
citus_utility(const char *sql)
{
	CatalogSession session;

	CatalogEnter(&session);
	SqlUtility(sql);
	CatalogLeave(&session);
	CommandCounterIncrement();
}

/*
 * ScaleDropTable
 *		Drop relid if it is a Citus table, with DROP TABLE, so that Citus
 *		drops its shards on the workers too (dropping it through the
 *		catalog would leave them); returns false, doing nothing, for any
 *		other relation.
 */
bool
ScaleDropTable(Oid relid)
{
	if (!ScaleIsCitusTable(relid))
		return false;
	citus_utility(psprintf("DROP TABLE %s", SqlRelationName(relid)));
	return true;
}

/*
 * ScaleMoveTable
 *		Move the Citus table relid to schema nsp under name, with ALTER
 *		TABLE, which Citus applies to its shards too; false, doing nothing,
 *		for any other relation.
 */
bool
ScaleMoveTable(Oid relid, const char *nsp, const char *name)
{
	if (!ScaleIsCitusTable(relid))
		return false;
	citus_utility(psprintf("ALTER TABLE %s SET SCHEMA %s", SqlRelationName(relid), quote_identifier(nsp)));
	citus_utility(psprintf("ALTER TABLE %s RENAME TO %s", SqlRelationName(relid), quote_identifier(name)));
	return true;
}

/*
 * ScaleExchange
 *		Give the Citus table published the rows of other (a table of the
 *		same columns), in the caller's transaction: TRUNCATE, then
 *		INSERT ... SELECT, both run on every shard inside Citus's
 *		coordinated transaction; readers wait for the commit.  With keep,
 *		the rows it had are first copied into a new table, returned (else
 *		InvalidOid).  The caller holds AccessExclusiveLock on published.
 *
 *		Runs as the extension owner, after TrustCheckRelation on published
 *		and other: the copies evaluate published's code (CHECK constraints,
 *		triggers, index expressions, column types...) on every node where
 *		its rows are.  They cannot run as the model owner: Citus uses one
 *		connection, and so one role, per group of colocated shards in a
 *		transaction ("cannot perform query on placements that were
 *		modified in this transaction by a different user"), and the copy
 *		of the previous rows, the moves and drops around these copies are
 *		the extension owner's (ScaleDistributeLike, ScaleMoveTable), as are
 *		the publishes of the other models of the run into colocated and
 *		reference tables.
 */
Oid
ScaleExchange(Oid published, Oid other, bool keep)
{
	CatalogSession session;
	Oid			old = InvalidOid;
	char	   *pubname = SqlRelationName(published);
	Relation	rel;
	int			ret;

	/* before anything is made or copied: what the copies evaluate */
	TrustCheckRelation(published, CatalogExtensionOwner(), psprintf("copy rows into %s", pubname));
	TrustCheckRelation(other, CatalogExtensionOwner(),
					   psprintf("copy the rows of %s", SqlRelationName(other)));
	if (keep)
	{
		/*
		 * Shaped like other, which is shaped like published; owner only (a
		 * reader limited by a policy of published must not read it).  A
		 * distributed table's previous rows stay on the workers: the copy
		 * is distributed and colocated, so both copies below are pushed
		 * down shard by shard.
		 */
		rel = table_open(other, NoLock);
		old = make_new_heap(other, rel->rd_rel->reltablespace, rel->rd_rel->relam,
							RELPERSISTENCE_PERMANENT, NoLock);
		table_close(rel, NoLock);
		CommandCounterIncrement();
		RelKeepFromAutovacuum(old);
		if (ScaleIsDistributed(published))
		{
			ScaleNameTable(old, "previous", published);
			ScaleDistributeLike(old, published, false);
		}
	}
	CatalogEnter(&session);
	if (keep && !ScaleIsDistributed(published))
		TrustCheckRelation(old, GetUserId(), psprintf("copy the rows of %s", pubname));
	if (keep)
	{
		ret = SPI_execute(psprintf("INSERT INTO %s SELECT * FROM %s", SqlRelationName(old), pubname),
						  false, 0);
		if (ret != SPI_OK_INSERT)
			elog(ERROR, "could not keep the rows of %s: %s", pubname, SPI_result_code_string(ret));
	}
	ret = SPI_execute(psprintf("TRUNCATE %s", pubname), false, 0);
	if (ret != SPI_OK_UTILITY)
		elog(ERROR, "could not truncate %s: %s", pubname, SPI_result_code_string(ret));
	ret = SPI_execute(psprintf("INSERT INTO %s SELECT * FROM %s", pubname, SqlRelationName(other)),
					  false, 0);
	if (ret != SPI_OK_INSERT)
		elog(ERROR, "could not publish into %s: %s", pubname, SPI_result_code_string(ret));
	CatalogLeave(&session);
	CommandCounterIncrement();
	return old;
}
