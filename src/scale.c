/*-------------------------------------------------------------------------
 *
 * scale.c
 *	  Scale-out on Citus: models published as hash-distributed tables
 *	  (distributed_by, colocate_with) or reference tables (distribution =>
 *	  'reference').
 *
 * medallion.so never links against Citus: everything here is Citus's
 * public SQL (create_distributed_table, create_reference_table,
 * alter_distributed_table, undistribute_table, run_command_on_placements,
 * pg_dist_partition), run through SPI when the citus extension is
 * installed.
 *
 * Identity.  Citus runs what a statement asks of the workers over
 * connections as the current user, and whoever writes a table's rows runs
 * the code its owner attached to it (triggers, CHECK constraints,
 * defaults, index expressions, ...), on every node, on each shard, where
 * the owner may attach more than on the coordinator (a trigger on one
 * shard).  So every statement that reads or writes a model's Citus table
 * in a run or a rollback runs as the model owner, who owns that table:
 * the candidate's fill, the publish, the previous version's copy, the
 * rollback.  Citus lets one role write a group of colocated shards in a
 * transaction ("cannot perform query on placements that were modified in
 * this transaction by a different user"); so nothing of a model's tables
 * is created, moved or dropped in a run as another role either: a
 * hash-distributed model's candidate and previous version are tables
 * that stay (medallion_history."<model>$candidate" and
 * medallion_history.<model>, distributed and colocated with the
 * published table, the owner's), made when the model is defined, emptied
 * and filled by the owner's runs.  ScaleClaim records which role wrote
 * each colocation group in the transaction, so that a model of another
 * owner whose table shares the group fails saying why (all reference
 * tables are one group), before Citus refuses the run's publish.
 *
 * Only defining a model runs Citus's distribution functions, as the
 * extension owner: they create shards (and new tables) in the layer
 * schemas and medallion_history, where model owners have no CREATE.
 * Those that copy the rows of a local table into new shards
 * (create_distributed_table, create_reference_table) are preceded by
 * TrustCheckRelation (trust_relation.c) on the coordinator's table, whose
 * code the new shards take; those that read existing shards
 * (undistribute_table, alter_distributed_table) also lock every shard
 * placement on every node and check what is attached to each
 * (check_placements).  DROP TABLE of Citus tables writes no row and
 * evaluates nothing of the table.
 *
 * A distributed table's rows live in its shards on the workers, not in the
 * coordinator's table: swapping the coordinator's storage (publish.c)
 * would publish nothing.  So the publish, in the run's transaction, is
 * TRUNCATE and INSERT ... SELECT from the candidate, which Citus runs
 * shard by shard inside its coordinated transaction (pushed down between
 * colocated tables): readers wait for the run's commit and then see the
 * new rows, on every node at once (two-phase commit).  A reference
 * model's candidate and previous version are local tables on the
 * coordinator (publish.c).  See docs/scale-out.md.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/cluster.h"
#include "commands/dbcommands.h"
#include "commands/extension.h"
#include "common/md5.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "storage/proc.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/ruleutils.h"

#include "catalog.h"
#include "medallion.h"
#include "relation.h"
#include "scale.h"
#include "scope.h"
#include "sqltext.h"
#include "trust.h"

/* What Citus makes of a table. */
typedef struct CitusTable
{
	char		kind;			/* 'h' hash, 'r' reference, 'o' other, '\0' none */
	char	   *column;			/* the distribution column of a hash table */
	int64		group;			/* its colocation group (-OID when it has none) */
} CitusTable;

/* A colocation group written in this transaction, and by whom. */
typedef struct CitusClaim
{
	int64		group;
	Oid			role;
	char	   *what;			/* what wrote it, for the error */
} CitusClaim;

static void citus_table(Oid relid, CitusTable *table);
static void check_placements(Oid relid, const char *action);
static void drop_as_extension_owner(Oid relid);

/* the claims of this transaction, in a context that goes with it */
static MemoryContext claims_cxt = NULL;
static List *claims = NIL;

/* Is the citus extension installed in this database? */
bool
ScaleCitusInstalled(void)
{
	/* a run asks a few times per model (its change check, tests, publish) */
	static CommandMemo memo;
	static bool citus_found;

	if (CatalogMemoValid(&memo))
		return citus_found;
	citus_found = OidIsValid(get_extension_oid("citus", true));
	CatalogMemoSet(&memo);
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
 * citus_table
 *		What Citus makes of relid now, read from pg_dist_partition through
 *		SPI (connected by the caller).  Not read-only: a read-only query
 *		would use the active snapshot, which misses tables distributed
 *		since (a model's copies made in this transaction).
 */
static void
citus_table(Oid relid, CitusTable *table)
{
	Oid			argtypes[1] = {OIDOID};
	Datum		values[1] = {ObjectIdGetDatum(relid)};
	int			ret;

	table->kind = '\0';
	table->column = NULL;
	table->group = -(int64) relid;
	if (!ScaleCitusInstalled())
		return;
	ret = SPI_execute_with_args("SELECT p.partmethod::text, p.repmodel::text, "
								"       CASE WHEN p.partmethod = 'h' "
								"            THEN pg_catalog.column_to_column_name(p.logicalrelid, p.partkey) END, "
								"       p.colocationid::bigint "
								"  FROM pg_catalog.pg_dist_partition p WHERE p.logicalrelid = $1",
								1, argtypes, values, NULL, false, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not read pg_dist_partition: %s", SPI_result_code_string(ret));
	if (SPI_processed == 1)
	{
		HeapTuple	tup = SPI_tuptable->vals[0];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		char	   *method = SPI_getvalue(tup, desc, 1);
		char	   *repmodel = SPI_getvalue(tup, desc, 2);
		bool		isnull;
		int64		group = DatumGetInt64(SPI_getbinval(tup, desc, 4, &isnull));

		table->column = SPI_getvalue(tup, desc, 3);
		table->kind = strcmp(method, "h") == 0 ? 'h' :
			strcmp(method, "n") == 0 && strcmp(repmodel, "t") == 0 ? 'r' : 'o';
		if (!isnull && group != 0)
			table->group = group;
	}
}

/* citus_table in a catalog session of its own. */
static void
citus_table_now(Oid relid, CitusTable *table)
{
	CatalogSession session;

	CatalogEnter(&session);
	citus_table(relid, table);
	CatalogLeave(&session);
	if (table->column != NULL)
		table->column = pstrdup(table->column);
}

/* ----------------------------------------------------------------
 * Who writes each colocation group
 * ---------------------------------------------------------------- */

/* The transaction ended: its claims go with it. */
static void
claims_forget(void *arg)
{
	claims_cxt = NULL;
	claims = NIL;
}

/*
 * ScaleClaim
 *		Before the current user writes relid, a Citus table, in this
 *		transaction (what names the writer in an error: "model \"m\""):
 *		error if another role wrote a table of its colocation group in it,
 *		since Citus refuses that role's shards to this one; otherwise
 *		record the current user as its writer, to the end of the
 *		transaction (a subtransaction rolled back leaves Citus's record of
 *		it, and so this one).  Nothing for other tables.
 */
void
ScaleClaim(Oid relid, const char *what)
{
	CitusTable	table;
	Oid			role = GetUserId();
	CitusClaim *claim;
	MemoryContext oldcontext;
	ListCell   *lc;

	if (!ScaleCitusInstalled())
		return;
	citus_table_now(relid, &table);
	if (table.kind == '\0')
		return;
	foreach(lc, claims)
	{
		claim = lfirst(lc);
		if (claim->group != table.group)
			continue;
		if (claim->role == role)
			return;
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot write %s as role \"%s\" in this transaction: %s wrote its Citus colocation group as role \"%s\"",
						SqlRelationName(relid), GetUserNameFromId(role, false), claim->what,
						GetUserNameFromId(claim->role, false)),
				 errdetail("Citus lets one role write the shards of a colocation group (all reference tables are one) in a transaction, and medallion writes the tables of a model as its owner."),
				 errhint("Run the models of each owner whose Citus tables share a colocation group in runs of their own.")));
	}
	if (claims_cxt == NULL)
	{
		MemoryContextCallback *cb;

		claims_cxt = AllocSetContextCreate(TopTransactionContext, "medallion Citus claims",
										   ALLOCSET_SMALL_SIZES);
		cb = MemoryContextAlloc(claims_cxt, sizeof(MemoryContextCallback));
		cb->func = claims_forget;
		cb->arg = NULL;
		MemoryContextRegisterResetCallback(claims_cxt, cb);
	}
	oldcontext = MemoryContextSwitchTo(claims_cxt);
	claim = palloc(sizeof(CitusClaim));
	claim->group = table.group;
	claim->role = role;
	claim->what = pstrdup(what);
	claims = lappend(claims, claim);
	MemoryContextSwitchTo(oldcontext);
}

/* ----------------------------------------------------------------
 * Defining a model: its table distributed as its settings say
 * ---------------------------------------------------------------- */

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
 *		of the query's, colocate_with a hash-distributed model.  The
 *		model's copies (ScaleCopy) colocated with the table go first: Citus
 *		moves no table to another group with others in its own; the
 *		builders make them again.
 */
void
ScaleDistribute(ModelDef *model, AnalyzedModel *analyzed)
{
	Oid			relid = RelPublished(model);
	CatalogSession session;
	CitusTable	now_table;
	char		now;
	char		want;
	char	   *colocate = "default";
	bool		undistribute = false;
	bool		alter = false;
	const char *call = NULL;
	const char *action;
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
	citus_table(relid, &now_table);
	now = now_table.kind;
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
	else if (want == 'h' && strcmp(now_table.column, model->distributed_by) != 0)
	{
		call = "SELECT pg_catalog.alter_distributed_table($1, distribution_column => $2, colocate_with => $3)";
		alter = true;
	}
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
		{
			call = "SELECT pg_catalog.alter_distributed_table($1, colocate_with => $3)";
			alter = true;
		}
	}
	if (!undistribute && call == NULL)
	{
		CatalogLeave(&session);
		return;
	}
	action = psprintf(want == '\0' ? "undistribute model \"%s\"" : "distribute model \"%s\"",
					  model->name);
	ScaleClaim(relid, psprintf("the definition of model \"%s\"", model->name));
	/* the model's copies are distributed after this, in the same transaction */
	ScaleSequential();

	/* its copies would be carried along, or make Citus refuse */
	ScaleDropCopies(model);

	/*
	 * Each of these copies the table's rows (into shards on the workers, or
	 * back into a local table) as the extension owner, which Citus needs
	 * (the shards and the new tables are created in the layer schemas):
	 * nothing the model owner can change may run on them (trust.c).  The
	 * rows of a local table go to new shards, made from the coordinator's
	 * table: checking it is enough.  Undistributing and altering read the
	 * existing shards, where the owner may have attached more: each
	 * placement is locked, then checked.
	 */
	TrustCheckRelation(relid, GetUserId(), action);
	if (undistribute || alter)
		check_placements(relid, action);
	if (undistribute)
		citus_call(model, "SELECT pg_catalog.undistribute_table($1)", 1, argtypes, values);
	if (call != NULL)
	{
		/* undistribute_table made a new table */
		values[0] = ObjectIdGetDatum(RelPublished(model));
		citus_call(model, call, want == 'h' ? 3 : 1, argtypes, values);
	}

	/*
	 * Citus copies the rows of a table it distributes and leaves them on
	 * the coordinator's disk, unread: a model redefined as distributed
	 * would keep a dead copy of its table there.
	 */
	if (want != '\0' && (now == '\0' || undistribute))
	{
		int			ret;

		values[0] = ObjectIdGetDatum(RelPublished(model));
		ret = SPI_execute_with_args("SELECT pg_catalog.truncate_local_data_after_distributing_table($1) "
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
 * The check each shard placement runs on its node: one line naming the
 * first thing attached to the shard that the extension owner must not run
 * (or read through) there, or ''.  %L is the shard's name (Citus hides no
 * shard from its run_command connections; one missing fails it); the query
 * reads catalogs only (planning a query of the shard could already run
 * the owner's code: immutable functions of index predicates are folded).
 * Reported: a shard that is not a table, a rule (Citus makes none: its
 * actions could call any function), and anything attached to the shard
 * (indexes, constraints, defaults, triggers, statistics) or making up its
 * columns' types (domains, and the types composite and array types are
 * made of) that uses a function, operator or domain of a role that is
 * not a superuser.  Policies are not: the extension owner bypasses them.
 */
static const char *const placement_check =
"WITH RECURSIVE shard AS ("
"  SELECT c.oid, c.relkind, c.relhasrules FROM pg_catalog.pg_class c WHERE c.oid = %L::pg_catalog.regclass"
"), attached AS ("
"  SELECT 'pg_catalog.pg_class'::pg_catalog.regclass AS classid, s.oid AS objid FROM shard s"
"  UNION SELECT d.classid, d.objid FROM pg_catalog.pg_depend d, shard s"
"   WHERE d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.refobjid = s.oid"
"     AND d.classid <> 'pg_catalog.pg_policy'::pg_catalog.regclass"
"), types(typid) AS ("
"  SELECT a.atttypid FROM pg_catalog.pg_attribute a, shard s"
"   WHERE a.attrelid = s.oid AND a.attnum > 0 AND NOT a.attisdropped"
"  UNION SELECT n.typid FROM types t JOIN pg_catalog.pg_type y ON y.oid = t.typid"
"   CROSS JOIN LATERAL (SELECT y.typbasetype UNION ALL SELECT y.typelem"
"     UNION ALL SELECT a.atttypid FROM pg_catalog.pg_attribute a"
"      WHERE a.attrelid = y.typrelid AND a.attnum > 0 AND NOT a.attisdropped"
"     UNION ALL SELECT r.rngsubtype FROM pg_catalog.pg_range r WHERE r.rngtypid = y.oid) n(typid)"
"   WHERE n.typid <> 0"
"), used AS ("
"  SELECT a.classid, a.objid, d.refclassid, d.refobjid"
"    FROM attached a JOIN pg_catalog.pg_depend d ON d.classid = a.classid AND d.objid = a.objid"
"   WHERE d.refclassid IN ('pg_catalog.pg_proc'::pg_catalog.regclass, 'pg_catalog.pg_operator'::pg_catalog.regclass,"
"                          'pg_catalog.pg_type'::pg_catalog.regclass)"
"  UNION ALL SELECT 'pg_catalog.pg_class'::pg_catalog.regclass, s.oid, 'pg_catalog.pg_type'::pg_catalog.regclass, t.typid"
"    FROM types t, shard s"
"  UNION ALL SELECT 'pg_catalog.pg_type'::pg_catalog.regclass, r.rngtypid, 'pg_catalog.pg_proc'::pg_catalog.regclass, f.f"
"    FROM pg_catalog.pg_range r JOIN types t ON t.typid = r.rngtypid"
"   CROSS JOIN LATERAL (VALUES (r.rngcanonical::pg_catalog.oid), (r.rngsubdiff::pg_catalog.oid)) f(f) WHERE f.f <> 0"
"  UNION ALL SELECT 'pg_catalog.pg_constraint'::pg_catalog.regclass, c.oid, d.refclassid, d.refobjid"
"    FROM pg_catalog.pg_constraint c JOIN types t ON c.contypid = t.typid"
"    JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_constraint'::pg_catalog.regclass AND d.objid = c.oid"
"   WHERE d.refclassid IN ('pg_catalog.pg_proc'::pg_catalog.regclass, 'pg_catalog.pg_operator'::pg_catalog.regclass)"
"), owned AS ("
"  SELECT u.*, CASE u.refclassid"
"    WHEN 'pg_catalog.pg_proc'::pg_catalog.regclass THEN (SELECT p.proowner FROM pg_catalog.pg_proc p WHERE p.oid = u.refobjid)"
"    WHEN 'pg_catalog.pg_operator'::pg_catalog.regclass THEN (SELECT o.oprowner FROM pg_catalog.pg_operator o WHERE o.oid = u.refobjid)"
"    ELSE (SELECT y.typowner FROM pg_catalog.pg_type y WHERE y.oid = u.refobjid AND y.typtype = 'd') END AS owner"
"    FROM used u"
")"
"SELECT CASE WHEN NOT EXISTS (SELECT FROM shard) THEN 'is not in pg_class'"
"  ELSE (SELECT CASE WHEN s.relkind <> 'r' THEN 'is not a table'"
"    WHEN s.relhasrules THEN (SELECT 'has rule ' || pg_catalog.quote_ident(r.rulename) FROM pg_catalog.pg_rewrite r"
"                             WHERE r.ev_class = s.oid ORDER BY r.rulename LIMIT 1)"
"    ELSE COALESCE((SELECT 'has ' || pg_catalog.pg_describe_object(o.classid, o.objid, 0) || ' using '"
"               || pg_catalog.pg_describe_object(o.refclassid, o.refobjid, 0) || ', owned by role '"
"               || pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(o.owner))"
"          FROM owned o WHERE o.owner IS NOT NULL"
"           AND NOT (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.oid = o.owner)"
"         ORDER BY 1 LIMIT 1), '') END"
"  FROM shard s) END";

/*
 * check_placements
 *		Before the extension owner reads the shards of Citus table relid
 *		(undistributing or altering it): lock every placement of it, on
 *		every node, in the transaction (SHARE UPDATE EXCLUSIVE, through an
 *		ALTER TABLE that Citus applies to each shard and that changes
 *		nothing: no trigger, constraint, index, rule, statistics or policy
 *		can be added to a shard until the transaction ends), then check
 *		each (placement_check, over connections of its own), and error
 *		naming the first placement with something the extension owner
 *		must not run.  action names what would be done ("distribute model
 *		\"m\"").  The caller is in a catalog session.
 */
static void
check_placements(Oid relid, const char *action)
{
	Relation	rel = table_open(relid, AccessShareLock);
	const char *option = "parallel_workers";
	char	   *setting = NULL;
	Oid			argtypes[2] = {REGCLASSOID, TEXTOID};
	Datum		values[2];
	int			ret;

	/* the option as it is (Citus sets the shards' to the table's) */
	if (rel->rd_options != NULL && ((StdRdOptions *) rel->rd_options)->parallel_workers >= 0)
		setting = psprintf("%d", ((StdRdOptions *) rel->rd_options)->parallel_workers);
	table_close(rel, AccessShareLock);
	SqlUtility(setting != NULL ?
			   psprintf("ALTER TABLE %s SET (%s = %s)", SqlRelationName(relid), option, setting) :
			   psprintf("ALTER TABLE %s RESET (%s)", SqlRelationName(relid), option));
	CommandCounterIncrement();

	values[0] = ObjectIdGetDatum(relid);
	values[1] = CStringGetTextDatum(placement_check);
	ret = SPI_execute_with_args("SELECT p.nodename || ':' || p.nodeport, p.shardid, p.success, p.result "
								"  FROM pg_catalog.run_command_on_placements($1, $2) p "
								" WHERE NOT p.success OR p.result IS DISTINCT FROM '' "
								" ORDER BY p.shardid, p.nodename, p.nodeport LIMIT 1",
								2, argtypes, values, NULL, false, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not check the placements of %s: %s", SqlRelationName(relid),
			 SPI_result_code_string(ret));
	if (SPI_processed > 0)
	{
		HeapTuple	tup = SPI_tuptable->vals[0];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		char	   *node = SPI_getvalue(tup, desc, 1);
		char	   *shard = SPI_getvalue(tup, desc, 2);
		char	   *success = SPI_getvalue(tup, desc, 3);
		char	   *result = SPI_getvalue(tup, desc, 4);

		if (strcmp(success, "t") != 0)
			ereport(ERROR,
					(errcode(ERRCODE_CONNECTION_FAILURE),
					 errmsg("cannot %s: the placement of shard %s of table %s on %s could not be checked",
							action, shard, SqlRelationName(relid), node),
					 errdetail("%s", result != NULL ? result : "No result.")));
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("cannot %s: the placement of shard %s of table %s on %s %s",
						action, shard, SqlRelationName(relid), node, result),
				 errdetail("That reads the table's shards as role \"%s\", on the nodes where they are; only a superuser's code may run there.",
						   GetUserNameFromId(GetUserId(), false)),
				 errhint("Its owner drops it from the shard (with citus.enable_manual_changes_to_shards) first.")));
	}
}

/* ----------------------------------------------------------------
 * The copies of a hash-distributed model: candidate and previous version
 * ---------------------------------------------------------------- */

/*
 * ScaleCopyName
 *		The name, in medallion_history, of a hash-distributed model's copy:
 *		the model's name for its previous version, "<model>$candidate" for
 *		the table its runs build into ("$" and an md5 of that when too
 *		long).  No model name holds "$".  Returns a palloc'd string.
 */
char *
ScaleCopyName(ModelDef *model, ScaleCopyKind which)
{
	char	   *name;
	char		hex[33];
	const char *errstr = NULL;

	if (which == SCALE_PREVIOUS)
		return pstrdup(model->name);
	name = psprintf("%s$candidate", model->name);
	if (strlen(name) < NAMEDATALEN)
		return name;
	if (!pg_md5_hash(name, strlen(name), hex, &errstr))
		elog(ERROR, "could not compute md5: %s", errstr);
	return psprintf("$%s", hex);
}

/*
 * ScaleCopy
 *		The OID of a hash-distributed model's copy, or InvalidOid when
 *		there is none that fits: a table of the model's owner, distributed
 *		and colocated with the published table.
 */
Oid
ScaleCopy(ModelDef *model, ScaleCopyKind which)
{
	Oid			nsp = get_namespace_oid(MEDALLION_HISTORY_SCHEMA, true);
	Oid			relid = OidIsValid(nsp) ? get_relname_relid(ScaleCopyName(model, which), nsp) : InvalidOid;
	CitusTable	copy;
	CitusTable	published;

	if (!OidIsValid(relid) || get_rel_relkind(relid) != RELKIND_RELATION ||
		SqlRelationOwner(relid) != ModelOwnerId(model))
		return InvalidOid;
	citus_table_now(relid, &copy);
	citus_table_now(RelPublished(model), &published);
	if (copy.kind != 'h' || published.kind != 'h' || copy.group != published.group)
		return InvalidOid;
	return relid;
}

/*
 * ScaleDropCopy
 *		Drop a model's copy, whatever table it is, as the extension owner
 *		(who makes them, in the same transaction: when the model is
 *		defined).
 */
void
ScaleDropCopy(ModelDef *model, ScaleCopyKind which)
{
	Oid			nsp = get_namespace_oid(MEDALLION_HISTORY_SCHEMA, true);
	Oid			relid = OidIsValid(nsp) ?
		get_relname_relid(ScaleCopyName(model, which), nsp) : InvalidOid;

	if (OidIsValid(relid))
		drop_as_extension_owner(relid);
}

/*
 * ScaleDropCopies
 *		Drop a model's copies that are Citus tables (a previous version
 *		kept locally stays), as the extension owner: when the model is
 *		defined again, before its table is distributed otherwise.
 */
void
ScaleDropCopies(ModelDef *model)
{
	Oid			nsp = get_namespace_oid(MEDALLION_HISTORY_SCHEMA, true);
	ScaleCopyKind kinds[2] = {SCALE_CANDIDATE, SCALE_PREVIOUS};

	if (!OidIsValid(nsp) || !ScaleCitusInstalled())
		return;
	for (int i = 0; i < 2; i++)
	{
		Oid			relid = get_relname_relid(ScaleCopyName(model, kinds[i]), nsp);

		if (OidIsValid(relid) && ScaleIsCitusTable(relid))
			drop_as_extension_owner(relid);
	}
}

/*
 * ScaleIsCitusTable
 *		Is relid a table Citus manages (distributed, reference, or a Citus
 *		local table)?  Its rows are not in the coordinator's storage.
 */
bool
ScaleIsCitusTable(Oid relid)
{
	CitusTable	table;

	if (!ScaleCitusInstalled())
		return false;
	citus_table_now(relid, &table);
	return table.kind != '\0';
}

/*
 * ScaleIsDistributed
 *		Is relid a hash-distributed table?  Its model's candidate and
 *		previous version are distributed too, colocated with it (ScaleCopy).
 */
bool
ScaleIsDistributed(Oid relid)
{
	CitusTable	table;

	if (!ScaleCitusInstalled())
		return false;
	citus_table_now(relid, &table);
	return table.kind == 'h';
}

/*
 * ScaleDistributeLike
 *		Make relid, a new empty local table shaped like the hash-distributed
 *		table published (with its indexes and privileges already), a
 *		distributed table colocated with it, as the extension owner: its
 *		shards are created on the workers.  With not_null, its columns
 *		first take published's NOT NULL constraints (make_new_heap copies
 *		none), so that a row published cannot hold fails the model's
 *		build, not the publish.  Citus copies no row of an empty table;
 *		what its shards are made of is checked as for any table medallion
 *		distributes (trust.c).
 */
void
ScaleDistributeLike(Oid relid, Oid published, bool not_null)
{
	CatalogSession session;
	CitusTable	table;
	Oid			argtypes[3] = {REGCLASSOID, TEXTOID, TEXTOID};
	Datum		values[3];
	int			ret;

	CatalogEnter(&session);
	citus_table(published, &table);
	if (table.kind != 'h')
		elog(ERROR, "%s is not a hash-distributed table", SqlRelationName(published));
	ScaleClaim(published, psprintf("distributing a copy of %s", SqlRelationName(published)));
	ScaleSequential();
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
	values[0] = ObjectIdGetDatum(relid);
	values[1] = CStringGetTextDatum(table.column);
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
 *		Set before the first query on a Citus table that a run makes: a
 *		placement read over several connections cannot be truncated in the
 *		same transaction, and the publish truncates what tests and
 *		downstream models read.
 */
void
ScaleSequential(void)
{
	(void) set_config_option("citus.multi_shard_modify_mode", "sequential", PGC_USERSET,
							 PGC_S_SESSION, GUC_ACTION_LOCAL, true, 0, false);
}

/* DROP TABLE as the extension owner (defining a model). */
static void
drop_as_extension_owner(Oid relid)
{
	CatalogSession session;

	CatalogEnter(&session);
	ScaleClaim(relid, psprintf("dropping %s", SqlRelationName(relid)));
	SqlUtility(psprintf("DROP TABLE %s", SqlRelationName(relid)));
	CatalogLeave(&session);
	CommandCounterIncrement();
}

/*
 * ScaleDropTable
 *		Drop relid if it is a Citus table, with DROP TABLE as the current
 *		user (its owner: a model's owner in a run), so that Citus drops its
 *		shards on the workers too (dropping it through the catalog would
 *		leave them); returns false, doing nothing, for any other relation.
 */
bool
ScaleDropTable(Oid relid)
{
	if (!ScaleIsCitusTable(relid))
		return false;
	ScaleClaim(relid, psprintf("dropping %s", SqlRelationName(relid)));
	SqlUtility(psprintf("DROP TABLE %s", SqlRelationName(relid)));
	CommandCounterIncrement();
	return true;
}

/* ----------------------------------------------------------------
 * Publishing and rolling back, as the model owner
 * ---------------------------------------------------------------- */

/*
 * check_writes
 *		Before the current user, a model's owner, truncates or writes
 *		relid: everything that runs on the coordinator's table is code of
 *		roles it trusts (TrustCheckRelation; a table with a trigger calling
 *		another admin's function is refused).  The shards on the workers
 *		are the owner's: what it attached to them runs with its own rights.
 */
static void
check_writes(Oid relid)
{
	TrustCheckRelation(relid, GetUserId(), psprintf("copy rows into %s", SqlRelationName(relid)));
}

/* TRUNCATE relid, as the current user. */
static void
truncate_table(Oid relid)
{
	SqlRun(psprintf("TRUNCATE %s", SqlRelationName(relid)), SPI_OK_UTILITY);
	CommandCounterIncrement();
}

/*
 * copy_rows
 *		INSERT INTO target SELECT FROM source, column by column of the same
 *		name (a column source lacks gets NULL), as the current user; Citus
 *		pushes it down shard by shard between colocated tables.  Returns
 *		the rows copied.
 */
static uint64
copy_rows(Oid target, Oid source)
{
	Relation	rel = table_open(source, AccessShareLock);
	List	   *columns = SqlLiveColumns(RelationGetDescr(rel));
	char	   *cols;
	char	   *from;
	uint64		rows;

	table_close(rel, AccessShareLock);
	SqlColumnLists(target, columns, &cols, &from);
	rows = SqlRun(psprintf("INSERT INTO %s (%s) SELECT %s FROM %s", SqlRelationName(target), cols,
						   from, SqlRelationName(source)),
				  SPI_OK_INSERT);
	CommandCounterIncrement();
	return rows;
}

/*
 * sync_columns
 *		Give target, an empty copy of a hash-distributed model, the live
 *		columns of like (by name, type and collation): it drops the others
 *		and adds the missing ones; with not_null, also like's NOT NULL
 *		constraints.  As the current user, its owner (Citus applies each
 *		ALTER TABLE to the shards): after a schema change of the model.
 */
static void
sync_columns(Oid target, Oid like, bool not_null)
{
	Relation	likerel = table_open(like, AccessShareLock);
	Relation	rel = table_open(target, AccessShareLock);
	TupleDesc	likedesc = RelationGetDescr(likerel);
	TupleDesc	desc = RelationGetDescr(rel);
	char	   *name = SqlRelationName(target);
	List	   *alters = NIL;
	ListCell   *lc;

	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		AttrNumber	attno;
		Form_pg_attribute likeatt = NULL;

		if (att->attisdropped)
			continue;
		attno = get_attnum(like, NameStr(att->attname));
		if (attno != InvalidAttrNumber)
			likeatt = TupleDescAttr(likedesc, attno - 1);
		if (likeatt == NULL || likeatt->atttypid != att->atttypid ||
			likeatt->atttypmod != att->atttypmod || likeatt->attcollation != att->attcollation)
			alters = lappend(alters, psprintf("ALTER TABLE %s DROP COLUMN %s", name,
											  quote_identifier(NameStr(att->attname))));
		else if (not_null && likeatt->attnotnull != att->attnotnull)
			alters = lappend(alters, psprintf("ALTER TABLE %s ALTER COLUMN %s %s NOT NULL", name,
											  quote_identifier(NameStr(att->attname)),
											  likeatt->attnotnull ? "SET" : "DROP"));
	}
	for (int i = 0; i < likedesc->natts; i++)
	{
		Form_pg_attribute likeatt = TupleDescAttr(likedesc, i);
		AttrNumber	attno;
		bool		missing;

		if (likeatt->attisdropped)
			continue;
		attno = get_attnum(target, NameStr(likeatt->attname));
		missing = attno == InvalidAttrNumber;
		if (!missing)
		{
			Form_pg_attribute att = TupleDescAttr(desc, attno - 1);

			missing = likeatt->atttypid != att->atttypid || likeatt->atttypmod != att->atttypmod ||
				likeatt->attcollation != att->attcollation;
		}
		if (missing)
			alters = lappend(alters,
							 psprintf("ALTER TABLE %s ADD COLUMN %s %s%s%s%s", name,
									  quote_identifier(NameStr(likeatt->attname)),
									  format_type_with_typemod(likeatt->atttypid, likeatt->atttypmod),
									  OidIsValid(likeatt->attcollation) &&
									  likeatt->attcollation != get_typcollation(likeatt->atttypid) ?
									  " COLLATE " : "",
									  OidIsValid(likeatt->attcollation) &&
									  likeatt->attcollation != get_typcollation(likeatt->atttypid) ?
									  generate_collation_name(likeatt->attcollation) : "",
									  not_null && likeatt->attnotnull ? " NOT NULL" : ""));
	}
	table_close(rel, AccessShareLock);
	table_close(likerel, AccessShareLock);
	foreach(lc, alters)
		SqlUtility(lfirst(lc));
	CommandCounterIncrement();
}

/*
 * ScaleFillDistributed
 *		Prepare candidate, a hash-distributed model's candidate copy, for a
 *		build of published: claimed for the current user (the model
 *		owner), empty (it is, between runs: a DELETE makes sure, where a
 *		TRUNCATE would take Citus's locks on every node, and a node down
 *		would then fail the whole run rather than this model), given
 *		published's columns.
 */
void
ScaleFillDistributed(Oid candidate, Oid published, const char *model_name)
{
	const char *what = psprintf("model \"%s\"", model_name);

	ScaleSequential();
	ScaleClaim(published, what);
	check_writes(candidate);
	SqlRun(psprintf("DELETE FROM %s", SqlRelationName(candidate)), SPI_OK_DELETE);
	CommandCounterIncrement();
	sync_columns(candidate, published, true);
}

/*
 * ScalePublishDistributed
 *		Publish a hash-distributed model's candidate: published gets its
 *		rows, and with keep previous gets the rows published had (without,
 *		previous is emptied: there is no previous version); the candidate
 *		is emptied.  Each copy goes shard to shard, in the caller's
 *		transaction, as the current user, the model owner, whose tables
 *		all three are.  The caller holds AccessExclusiveLock on published.
 */
void
ScalePublishDistributed(Oid published, Oid candidate, Oid previous, bool keep,
						const char *model_name)
{
	ScaleSequential();
	ScaleClaim(published, psprintf("model \"%s\"", model_name));
	check_writes(published);
	check_writes(candidate);
	if (OidIsValid(previous))
		check_writes(previous);
	if (OidIsValid(previous))
	{
		truncate_table(previous);
		if (keep)
		{
			sync_columns(previous, published, false);
			(void) copy_rows(previous, published);
		}
	}
	truncate_table(published);
	(void) copy_rows(published, candidate);
	truncate_table(candidate);
}

/*
 * ScaleRollbackDistributed
 *		Give a hash-distributed model's published table the rows of its
 *		previous version, which takes the current ones: through candidate,
 *		empty before and after.  As the current user, the model owner.
 *		The caller holds AccessExclusiveLock on published.
 */
void
ScaleRollbackDistributed(Oid published, Oid previous, Oid candidate, const char *model_name)
{
	ScaleSequential();
	ScaleClaim(published, psprintf("rolling back model \"%s\"", model_name));
	check_writes(published);
	check_writes(previous);
	check_writes(candidate);
	truncate_table(candidate);
	sync_columns(candidate, published, false);
	(void) copy_rows(candidate, published);
	truncate_table(published);
	(void) copy_rows(published, previous);
	truncate_table(previous);
	(void) copy_rows(previous, candidate);
	truncate_table(candidate);
}

/*
 * ScaleExchange
 *		Give the Citus table published (a reference table) the rows of
 *		other, a local table of the same live columns, in the caller's
 *		transaction: TRUNCATE, then INSERT ... SELECT, both run on every
 *		placement inside Citus's coordinated transaction; readers wait for
 *		the commit.  With keep, the rows it had are first copied into a new
 *		local table, returned (else InvalidOid).  As the current user, the
 *		model owner, whose table published is: what writing its rows runs
 *		on each node runs with the owner's rights.  The caller holds
 *		AccessExclusiveLock on published.
 */
Oid
ScaleExchange(Oid published, Oid other, bool keep, const char *what)
{
	Oid			old = InvalidOid;
	Relation	rel;

	ScaleSequential();
	ScaleClaim(published, what);
	check_writes(published);
	if (keep)
	{
		/* shaped like other, which is shaped like published; owner only */
		rel = table_open(other, NoLock);
		old = make_new_heap(other, rel->rd_rel->reltablespace, rel->rd_rel->relam,
							RELPERSISTENCE_PERMANENT, NoLock);
		table_close(rel, NoLock);
		CommandCounterIncrement();
		RelKeepFromAutovacuum(old);
		(void) copy_rows(old, published);
	}
	truncate_table(published);
	(void) copy_rows(published, other);
	return old;
}
