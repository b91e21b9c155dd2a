/*-------------------------------------------------------------------------
 *
 * build.c
 *	  Materializations: the relations models are published as.
 *
 * When a model is defined its published relation is created at once in the
 * layer's schema, so BI tools see the schema before the first run: a view
 * (the model's bound query stored as its rule, bind.c) or an empty table
 * with the query's columns.  Nobody but medallion creates in the layer
 * schemas: relations are created as the extension owner and owned by the
 * model owner, who can then grant on them, add policies and comments.
 *
 * DDL is run through SPI with every name quoted and every type qualified
 * (under search_path "pg_catalog, pg_temp").
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/attmap.h"
#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/dependency.h"
#include "catalog/index.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/objectaddress.h"
#include "catalog/pg_am.h"
#include "catalog/pg_class.h"
#include "catalog/pg_depend.h"
#include "catalog/pg_rewrite.h"
#include "catalog/pg_statistic.h"
#include "catalog/pg_type.h"
#include "commands/cluster.h"
#include "commands/comment.h"
#include "commands/defrem.h"
#include "commands/tablecmds.h"
#include "commands/tablespace.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "nodes/params.h"
#include "parser/parse_utilcmd.h"
#include "rewrite/rewriteHandler.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/ruleutils.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/varlena.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/latch.h"
#include "utils/memutils.h"
#include "utils/resowner.h"

#include "bind.h"
#include "build.h"
#include "model.h"
#include "subxact.h"

/*
 * BuildPublishedRelid
 *		Returns the OID of the model's published relation, or InvalidOid.
 */
Oid
BuildPublishedRelid(ModelDef *model)
{
	Oid			nsp = get_namespace_oid(model->schema, true);

	if (!OidIsValid(nsp))
		return InvalidOid;
	return get_relname_relid(model->name, nsp);
}

static char *
qualified(ModelDef *model)
{
	return quote_qualified_identifier(model->schema, model->name);
}

/* Run one utility statement through SPI. */
static void
spi_utility(const char *sql)
{
	int			ret;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ret = SPI_execute(sql, false, 0);
	if (ret != SPI_OK_UTILITY)
		elog(ERROR, "SPI_execute failed for \"%s\": %s", sql, SPI_result_code_string(ret));
	if (SPI_finish() != SPI_OK_FINISH)
		elog(ERROR, "SPI_finish failed");
}

/*
 * columns_match
 *		Do the relation's first columns have the names and types of the
 *		query's?  With prefix_ok, the query may add columns at the end (what
 *		CREATE OR REPLACE VIEW accepts).
 */
static bool
columns_match(Oid relid, List *columns, bool prefix_ok)
{
	Relation	rel = table_open(relid, AccessShareLock);
	TupleDesc	desc = RelationGetDescr(rel);
	int			natts = 0;
	bool		match = true;

	for (int i = 0; i < desc->natts && match; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		ModelColumn *col;

		if (att->attisdropped)
			continue;
		if (natts >= list_length(columns))
		{
			match = false;
			break;
		}
		col = list_nth(columns, natts++);
		match = strcmp(NameStr(att->attname), col->name) == 0 &&
			att->atttypid == col->type && att->atttypmod == col->typmod &&
			att->attcollation == col->collation;
	}
	table_close(rel, AccessShareLock);
	return match && (prefix_ok || natts == list_length(columns));
}

/*
 * create_owned_table
 *		CREATE TABLE schema.name (columns), as the extension owner, then
 *		give it to owner.  columns is SQL text with quoted names and
 *		qualified types.
 */
static void
create_owned_table(const char *schema, const char *name, const char *columns, Oid owner)
{
	CatalogSession session;
	char	   *table = quote_qualified_identifier(schema, name);

	CatalogEnter(&session);
	if (SPI_execute(psprintf("CREATE TABLE %s (%s)", table, columns), false, 0) != SPI_OK_UTILITY ||
		SPI_execute(psprintf("ALTER TABLE %s OWNER TO %s", table,
							 quote_identifier(GetUserNameFromId(owner, false))),
					false, 0) != SPI_OK_UTILITY)
		elog(ERROR, "could not create %s", table);
	CatalogLeave(&session);
	CommandCounterIncrement();
	BindNotMember(get_relname_relid(name, get_namespace_oid(schema, false)));
}

/* The column list of a CREATE TABLE for columns (ModelColumn *). */
static char *
column_definitions(List *columns)
{
	StringInfoData sql;
	ListCell   *lc;

	initStringInfo(&sql);
	foreach(lc, columns)
	{
		ModelColumn *col = lfirst(lc);

		appendStringInfo(&sql, "%s%s %s", foreach_current_index(lc) > 0 ? ", " : "",
						 quote_identifier(col->name),
						 format_type_with_typemod(col->type, col->typmod));
		if (OidIsValid(col->collation) && col->collation != get_typcollation(col->type))
			appendStringInfo(&sql, " COLLATE %s", generate_collation_name(col->collation));
	}
	return sql.data;
}

static void
create_table(ModelDef *model, AnalyzedModel *analyzed)
{
	bool		snapshot = strcmp(model->materialized, "snapshot") == 0;

	create_owned_table(model->schema, model->name,
					   psprintf("%s%s%s", snapshot ? "scd_id text, " : "",
								column_definitions(analyzed->columns),
								snapshot ? ", valid_from timestamptz, valid_to timestamptz, is_current boolean" : ""),
					   ModelOwnerId(model));
}

/* Is the table empty?  (Then it was never built and may be recreated.) */
static bool
table_is_empty(ModelDef *model)
{
	bool		empty;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute(psprintf("SELECT 1 FROM %s LIMIT 1", qualified(model)), false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read %s", qualified(model));
	empty = SPI_processed == 0;
	SPI_finish();
	return empty;
}

/*
 * drop_relation
 *		Drop a model's published relation; the bindings that read it are
 *		dropped first, and their names added to *unbound.
 */
static void
drop_relation(ModelDef *model, Oid relid, List **unbound)
{
	*unbound = list_concat(*unbound, BindDropDependents(relid, NIL));
	spi_utility(psprintf("DROP %s %s",
						 get_rel_relkind(relid) == RELKIND_VIEW ? "VIEW" : "TABLE",
						 qualified(model)));
}

/* Comments from the model's description and column descriptions. */
static void
set_comments(ModelDef *model, Oid relid)
{
	int			ret;
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1];

	if (model->description != NULL)
		CreateComments(relid, RelationRelationId, 0, model->description);
	if (model->column_descriptions == NULL)
		return;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	values[0] = CStringGetTextDatum(model->column_descriptions);
	ret = SPI_execute_with_args("SELECT key, value FROM pg_catalog.jsonb_each_text($1::pg_catalog.jsonb)",
								1, argtypes, values, NULL, false, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not read column descriptions: %s", SPI_result_code_string(ret));
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		char	   *column = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
		char	   *text = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2);
		AttrNumber	attno = get_attnum(relid, column);

		if (attno != InvalidAttrNumber)
			CreateComments(relid, RelationRelationId, attno, text);
	}
	SPI_finish();
}

/*
 * BuildDefineRelation
 *		Create or adjust the published relation of a model that is being
 *		defined (previous is its former definition, or NULL).  Runs as the
 *		current user, which the caller has made the model owner; what only
 *		medallion may create is created as the extension owner.  Returns the
 *		names of the bindings dropped because they read a relation that had
 *		to go (their models must be bound again).
 *
 *		A view is replaced in place when its columns only grow, and dropped
 *		and created again otherwise (an error names any object other than a
 *		binding depending on it).  A table that was never built is
 *		recreated when its columns change; a built one keeps its columns
 *		until the next run applies on_schema_change.
 */
List *
BuildDefineRelation(ModelDef *model, AnalyzedModel *analyzed, LayerDef *layer,
					ModelDef *previous)
{
	int			nestlevel = AnalyzeEnterSearchPath(MEDALLION_SAFE_PATH);
	Oid			relid = BuildPublishedRelid(model);
	bool		is_view = strcmp(model->materialized, "view") == 0;
	List	   *unbound = NIL;

	if (strcmp(model->materialized, "ephemeral") == 0)
	{
		/* no relation: one left from another materialization goes */
		if (OidIsValid(relid))
			drop_relation(model, relid, &unbound);
		AnalyzeLeaveSearchPath(nestlevel);
		return unbound;
	}

	if (OidIsValid(relid) &&
		(get_rel_relkind(relid) == RELKIND_VIEW) != is_view)
	{
		/* the materialization changed: the old relation goes */
		drop_relation(model, relid, &unbound);
		CommandCounterIncrement();
		relid = InvalidOid;
	}

	if (is_view)
	{
		if (OidIsValid(relid) && !columns_match(relid, analyzed->columns, true))
		{
			drop_relation(model, relid, &unbound);
			CommandCounterIncrement();
			relid = InvalidOid;
		}
		(void) BindCreateView(get_namespace_oid(model->schema, false), model->name,
							  analyzed->query, ModelOwnerId(model));
	}
	else if (!OidIsValid(relid))
		create_table(model, analyzed);
	else if (strcmp(model->materialized, "snapshot") == 0)
	{
		/* the history stays; a run refuses a changed query (BuildSnapshotDelta) */
	}
	else if (!columns_match(relid, analyzed->columns, false))
	{
		if (table_is_empty(model))
		{
			drop_relation(model, relid, &unbound);
			CommandCounterIncrement();
			create_table(model, analyzed);
		}
		else
			ereport(NOTICE,
					(errmsg("the columns of %s change at its next run", qualified(model)),
					 errdetail("The table holds data; on_schema_change = %s decides what the run does.",
							   model->on_schema_change)));
	}
	CommandCounterIncrement();

	relid = BuildPublishedRelid(model);
	if (!OidIsValid(relid))
		elog(ERROR, "published relation of model \"%s\" was not created", model->name);
	if (!is_view)
		BuildEnsureIndexes(model, relid);
	if (layer->reader_role != NULL)
	{
		CatalogSession session;

		CatalogEnter(&session);
		if (SPI_execute(psprintf("GRANT SELECT ON %s TO %s", qualified(model),
								 quote_identifier(layer->reader_role)), false, 0) != SPI_OK_UTILITY)
			elog(ERROR, "could not grant %s to %s", qualified(model), layer->reader_role);
		CatalogLeave(&session);
	}
	set_comments(model, relid);

	AnalyzeLeaveSearchPath(nestlevel);
	return unbound;
}

/* Does relid have a plain index on exactly these columns (attnums)? */
static bool
has_plain_index(Relation rel, List *attnums)
{
	List	   *indexes = RelationGetIndexList(rel);
	ListCell   *lc;

	foreach(lc, indexes)
	{
		Relation	idx = index_open(lfirst_oid(lc), AccessShareLock);
		bool		match = idx->rd_index->indnatts == list_length(attnums) &&
			RelationGetIndexExpressions(idx) == NIL &&
			RelationGetIndexPredicate(idx) == NIL;

		for (int i = 0; match && i < idx->rd_index->indnatts; i++)
			match = idx->rd_index->indkey.values[i] == list_nth_int(attnums, i);
		index_close(idx, AccessShareLock);
		if (match)
			return true;
	}
	return false;
}

/*
 * BuildEnsureIndexes
 *		Create the indexes declared on a table model that its published
 *		table lacks (an index on the same columns in the same order, of any
 *		name, counts), and for incremental models that merge by key, one on
 *		the unique_key.  Indexes no longer declared are left alone: they may
 *		be the user's.  Runs as the model owner.
 */
void
BuildEnsureIndexes(ModelDef *model, Oid relid)
{
	List	   *specs = list_copy(model->indexes);
	ListCell   *lc;

	/* merge and delete+insert look rows up by key: index it */
	if (strcmp(model->materialized, "incremental") == 0 && model->unique_key != NIL &&
		model->strategy != NULL && strcmp(model->strategy, "append") != 0)
	{
		StringInfoData key;

		initStringInfo(&key);
		foreach(lc, model->unique_key)
			appendStringInfo(&key, "%s%s", key.len > 0 ? ", " : "", quote_identifier(lfirst(lc)));
		specs = lappend(specs, key.data);
	}
	foreach(lc, specs)
	{
		char	   *spec = pstrdup(lfirst(lc));
		List	   *names;
		List	   *attnums = NIL;
		StringInfoData cols;
		ListCell   *ln;
		Relation	rel;
		bool		present;

		if (!SplitIdentifierString(spec, ',', &names))
			elog(ERROR, "invalid index \"%s\" of model \"%s\"", (char *) lfirst(lc), model->name);
		initStringInfo(&cols);
		foreach(ln, names)
		{
			attnums = lappend_int(attnums, get_attnum(relid, lfirst(ln)));
			appendStringInfo(&cols, "%s%s", cols.len > 0 ? ", " : "",
							 quote_identifier(lfirst(ln)));
		}
		rel = table_open(relid, AccessShareLock);
		present = has_plain_index(rel, attnums);
		table_close(rel, AccessShareLock);
		if (!present)
		{
			/* only medallion creates in the layer schemas; the index is the table owner's */
			CatalogSession session;

			CatalogEnter(&session);
			if (SPI_execute(psprintf("CREATE INDEX ON %s (%s)", qualified(model), cols.data),
							false, 0) != SPI_OK_UTILITY)
				elog(ERROR, "could not index %s", qualified(model));
			CatalogLeave(&session);
			CommandCounterIncrement();
		}
	}
}

/*
 * BuildDropRelation
 *		Drop the model's published relation and its kept previous version,
 *		if they exist.  An object that
 *		is not a model and depends on it makes this fail with PostgreSQL's
 *		error naming that object.
 */
void
BuildDropRelation(ModelDef *model)
{
	Oid			relid = BuildPublishedRelid(model);
	Oid			history_nsp = get_namespace_oid("medallion_history", true);
	Oid			history = OidIsValid(history_nsp) ?
		get_relname_relid(model->name, history_nsp) : InvalidOid;

	if (OidIsValid(relid))
	{
		List	   *unbound = NIL;

		drop_relation(model, relid, &unbound);
	}
	if (OidIsValid(history))
		spi_utility(psprintf("DROP TABLE %s",
							 quote_qualified_identifier("medallion_history", model->name)));
}

/* ----------------------------------------------------------------
 * Candidates and publishing (runs)
 *
 * A table model is built into a candidate heap made by make_new_heap from
 * the published table: same columns (dropped ones included), owner,
 * persistence and access method, in the same schema, and invisible to
 * every other session until the run commits.  The candidate is filled
 * with INSERT ... SELECT, gets clones of the published table's indexes,
 * and is ANALYZEd, all before publishing.
 *
 * Publishing swaps the storage of the published table and the candidate
 * (pg_class relfilenode, toast table, size and freeze fields, each index's
 * storage, and pg_statistic rows), so the published table keeps its OID,
 * grants, policies, comments and dependent views, and its indexes need no
 * rebuild while readers wait.  The candidate then holds the previous
 * content and becomes medallion_history.<model>, which medallion_rollback
 * swaps back.
 *
 * When the query's columns no longer match the published table, the table
 * is altered first, as on_schema_change allows, inside the model's
 * subtransaction (so a failure undoes it, and downstream models of the run
 * see the new columns); readers of that table then wait until the run
 * commits.
 *
 * Locks for publishing are taken with medallion.lock_timeout per attempt
 * and retried until medallion.publish_timeout, so a BI reader in a long
 * transaction delays a run but never gets an error, and readers queued
 * behind the run are let through between attempts.
 * ---------------------------------------------------------------- */

/* Schema changes between the published table and the query. */
typedef struct SchemaChange
{
	List	   *added;			/* ModelColumn *: not in the table */
	List	   *removed;		/* char *: in the table, not in the query */
	List	   *retyped;		/* ModelColumn *: type differs */
} SchemaChange;

bool		build_keep_previous = true;
bool		build_analyze = true;
int			build_lock_timeout = 100;
int			build_publish_timeout = 60000;

/*
 * BuildInit
 *		Define this module's configuration parameters.
 */
void
BuildInit(void)
{
	DefineCustomBoolVariable("medallion.keep_previous",
							 "Keeps the previous content of each table model for medallion_rollback.",
							 "When off, what a run replaces is dropped at once.",
							 &build_keep_previous, true, PGC_USERSET, 0,
							 NULL, NULL, NULL);
	DefineCustomBoolVariable("medallion.analyze_candidates",
							 "Gathers statistics (ANALYZE) on each table candidate before it is published.",
							 "Downstream models of the run and readers of the published table then have fresh statistics; when off, they keep the previous ones until autovacuum or an ANALYZE.",
							 &build_analyze, true, PGC_USERSET, 0,
							 NULL, NULL, NULL);
	DefineCustomIntVariable("medallion.lock_timeout",
							"Sets how long one attempt to lock a published relation for publishing waits for readers.",
							"Readers that arrive meanwhile wait behind the run; between attempts they go first.",
							&build_lock_timeout, 100, 1, INT_MAX, PGC_USERSET, GUC_UNIT_MS,
							NULL, NULL, NULL);
	DefineCustomIntVariable("medallion.publish_timeout",
							"Sets how long a run keeps trying to lock what it publishes before it gives up.",
							"A run that gives up publishes nothing and is recorded as failed.",
							&build_publish_timeout, 60000, 0, INT_MAX, PGC_USERSET, GUC_UNIT_MS,
							NULL, NULL, NULL);
}

static char *relation_sql_name(Oid relid);


static int
compare_oids(const ListCell *a, const ListCell *b)
{
	Oid			oa = lfirst_oid(a);
	Oid			ob = lfirst_oid(b);

	return oa < ob ? -1 : (oa > ob ? 1 : 0);
}

/* One attempt: lock every relation, waiting at most medallion.lock_timeout. */
static void
lock_attempt(void *arg)
{
	List	   *relids = (List *) arg;
	int			nestlevel = NewGUCNestLevel();
	ListCell   *lc;

	(void) set_config_option("lock_timeout", psprintf("%d", build_lock_timeout),
							 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	foreach(lc, relids)
		LockRelationOid(lfirst_oid(lc), AccessExclusiveLock);
	AtEOXact_GUC(true, nestlevel);
}

/*
 * BuildLockRelations
 *		Take AccessExclusiveLock on every relation of relids (in OID order),
 *		waiting at most medallion.lock_timeout per attempt and retrying with
 *		a growing pause until medallion.publish_timeout has passed; then the
 *		lock_not_available error is raised.  A failed attempt keeps no lock.
 */
void
BuildLockRelations(List *relids)
{
	List	   *sorted = list_copy(relids);
	TimestampTz start = GetCurrentTimestamp();
	int			pause = 10;

	list_sort(sorted, compare_oids);
	for (;;)
	{
		ErrorData  *edata = SubxactRun(lock_attempt, sorted, true);

		if (edata == NULL)
			return;				/* the subtransaction's locks are ours now */
		if (edata->sqlerrcode != ERRCODE_LOCK_NOT_AVAILABLE ||
			TimestampDifferenceExceeds(start, GetCurrentTimestamp(), build_publish_timeout))
			ReThrowError(edata);
		FreeErrorData(edata);

		/* let the readers queued behind us go, then try again */
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 pause, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
		pause = Min(pause * 2, 500);
	}
}

/*
 * alter_published
 *		Give the published table the query's columns: add new ones, and
 *		with sync drop removed ones and retype changed ones (old values of a
 *		retyped column are not converted: the rows are about to be
 *		replaced).  Runs as the model owner.
 */
static void
alter_published(Oid relid, SchemaChange *change, bool sync)
{
	char	   *target = relation_sql_name(relid);
	ListCell   *lc;

	if (sync)
	{
		foreach(lc, change->removed)
			spi_utility(psprintf("ALTER TABLE %s DROP COLUMN %s", target,
								 quote_identifier((char *) lfirst(lc))));
		foreach(lc, change->retyped)
		{
			ModelColumn *col = lfirst(lc);
			char	   *type = format_type_with_typemod(col->type, col->typmod);

			spi_utility(psprintf("ALTER TABLE %s ALTER COLUMN %s TYPE %s USING NULL::%s",
								 target, quote_identifier(col->name), type, type));
		}
	}
	foreach(lc, change->added)
	{
		ModelColumn *col = lfirst(lc);

		spi_utility(psprintf("ALTER TABLE %s ADD COLUMN %s %s", target,
							 quote_identifier(col->name),
							 format_type_with_typemod(col->type, col->typmod)));
	}
	CommandCounterIncrement();
}

static ModelColumn *
find_column(List *columns, const char *name)
{
	ListCell   *lc;

	foreach(lc, columns)
	{
		if (strcmp(((ModelColumn *) lfirst(lc))->name, name) == 0)
			return lfirst(lc);
	}
	return NULL;
}

/* Compare the published table's live columns with the query's, by name. */
static SchemaChange *
schema_change(Relation rel, List *columns)
{
	TupleDesc	desc = RelationGetDescr(rel);
	SchemaChange *change = palloc0(sizeof(SchemaChange));
	ListCell   *lc;

	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		ModelColumn *col;

		if (att->attisdropped)
			continue;
		col = find_column(columns, NameStr(att->attname));
		if (col == NULL)
			change->removed = lappend(change->removed, pstrdup(NameStr(att->attname)));
		else if (col->type != att->atttypid || col->typmod != att->atttypmod ||
				 col->collation != att->attcollation)
			change->retyped = lappend(change->retyped, col);
	}
	foreach(lc, columns)
	{
		ModelColumn *col = lfirst(lc);

		if (get_attnum(RelationGetRelid(rel), col->name) == InvalidAttrNumber)
			change->added = lappend(change->added, col);
	}
	return change;
}

static char *
name_list(List *names, bool columns)
{
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	foreach(lc, names)
	{
		const char *name = columns ? ((ModelColumn *) lfirst(lc))->name : (char *) lfirst(lc);

		appendStringInfo(&buf, "%s%s", buf.len > 0 ? ", " : "", name);
	}
	return buf.len > 0 ? buf.data : "none";
}

/*
 * check_dependents
 *		Error if an object that medallion does not manage depends on one of
 *		the columns that a schema change drops or retypes.
 */
static void
check_dependents(ModelDef *model, Relation rel, List *columns)
{
	ListCell   *lc;
	List	   *attnums = NIL;
	List	   *unbound;

	/*
	 * Bindings (of downstream models, of tests) that read these columns go
	 * first: their models must be bound again by their owners.
	 */
	foreach(lc, columns)
		attnums = lappend_int(attnums, get_attnum(RelationGetRelid(rel), (char *) lfirst(lc)));
	unbound = BindDropDependents(RelationGetRelid(rel), attnums);
	if (unbound != NIL)
		ereport(NOTICE,
				(errmsg("%d binding%s read%s columns of %s that on_schema_change = %s drops or retypes: %s must be bound again",
						list_length(unbound), list_length(unbound) == 1 ? "" : "s",
						list_length(unbound) == 1 ? "s" : "", qualified(model),
						model->on_schema_change, name_list(unbound, false)),
				 errhint("The owners run medallion_reanalyze for those models.")));

	foreach(lc, columns)
	{
		AttrNumber	attno = get_attnum(RelationGetRelid(rel), (char *) lfirst(lc));
		Relation	depRel;
		ScanKeyData key[3];
		SysScanDesc scan;
		HeapTuple	tup;

		depRel = table_open(DependRelationId, AccessShareLock);
		ScanKeyInit(&key[0], Anum_pg_depend_refclassid, BTEqualStrategyNumber, F_OIDEQ,
					ObjectIdGetDatum(RelationRelationId));
		ScanKeyInit(&key[1], Anum_pg_depend_refobjid, BTEqualStrategyNumber, F_OIDEQ,
					ObjectIdGetDatum(RelationGetRelid(rel)));
		ScanKeyInit(&key[2], Anum_pg_depend_refobjsubid, BTEqualStrategyNumber, F_INT4EQ,
					Int32GetDatum(attno));
		scan = systable_beginscan(depRel, DependReferenceIndexId, true, NULL, 3, key);
		while (HeapTupleIsValid(tup = systable_getnext(scan)))
		{
			Form_pg_depend dep = (Form_pg_depend) GETSTRUCT(tup);
			ObjectAddress obj;

			if (dep->deptype != DEPENDENCY_NORMAL && dep->deptype != DEPENDENCY_AUTO)
				continue;
			obj.classId = dep->classid;
			obj.objectId = dep->objid;
			obj.objectSubId = dep->objsubid;
			if (dep->classid == RewriteRelationId)
			{
				/* name the view, not its rule */
				obj.classId = RelationRelationId;
				obj.objectId = BindRuleRelation(dep->objid);
				obj.objectSubId = 0;
			}
			ereport(ERROR,
					(errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
					 errmsg("cannot change column \"%s\" of %s: %s depends on it",
							(char *) lfirst(lc), qualified(model),
							getObjectDescription(&obj, false)),
					 errdetail("on_schema_change = %s would drop or retype the column.",
							   model->on_schema_change),
					 errhint("Change or drop the dependent object first, or keep the column in the model query.")));
		}
		systable_endscan(scan);
		table_close(depRel, AccessShareLock);
	}
}

/* Run one statement through SPI and return the rows it processed; expected
 * is the SPI result code, or 0 for any success. */
static uint64
spi_run(const char *sql, int expected)
{
	int			ret;
	uint64		rows;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ret = SPI_execute(sql, false, 0);
	if (ret < 0 || (expected != 0 && ret != expected))
		elog(ERROR, "SPI_execute failed for \"%s\": %s", sql, SPI_result_code_string(ret));
	rows = SPI_processed;
	if (SPI_finish() != SPI_OK_FINISH)
		elog(ERROR, "SPI_finish failed");
	return rows;
}

static char *
relation_sql_name(Oid relid)
{
	return quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
									  get_rel_name(relid));
}

/*
 * column_lists
 *		For INSERT INTO relid (*target) SELECT *source FROM q: the live
 *		columns of relid, and for each the column of q of the same name, or
 *		NULL when q (whose columns are given) has none.
 */
static void
column_lists(Oid relid, List *columns, char **target, char **source)
{
	Relation	rel = table_open(relid, AccessShareLock);
	TupleDesc	desc = RelationGetDescr(rel);
	StringInfoData tbuf;
	StringInfoData sbuf;

	initStringInfo(&tbuf);
	initStringInfo(&sbuf);
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		const char *name = NameStr(att->attname);

		if (att->attisdropped)
			continue;
		appendStringInfo(&tbuf, "%s%s", tbuf.len > 0 ? ", " : "", quote_identifier(name));
		appendStringInfo(&sbuf, "%s%s", sbuf.len > 0 ? ", " : "",
						 find_column(columns, name) ? quote_identifier(name) : "NULL");
	}
	table_close(rel, AccessShareLock);
	*target = tbuf.data;
	*source = sbuf.data;
}

/*
 * A DestReceiver that writes the rows of the model query into a candidate
 * heap, frozen (as COPY FREEZE does): the heap was created in the current
 * subtransaction and nobody else can see it before the run commits.  Rows
 * go in with table_multi_insert in batches, so whole pages are written at
 * once and marked all-visible: downstream models of the run then scan the
 * candidate as cheaply as a vacuumed table.  The query's columns are the
 * heap's live columns in order; dropped columns are stored as NULL.  NOT
 * NULL columns are checked here, since no executor node does it.
 */
#define FILL_BATCH 1000

typedef struct FillReceiver
{
	DestReceiver pub;
	Relation	rel;
	TupleTableSlot *slots[FILL_BATCH];	/* shaped like rel */
	int			nbuffered;
	AttrNumber *attnos;			/* query column i -> attnos[i] of rel */
	int			ncolumns;
	BulkInsertState bistate;
	CommandId	cid;
	uint64		rows;
	MemoryContext context;		/* holds the slots: outlives the query */
	const char *shown_as;		/* the relation errors name */
} FillReceiver;

static void
fill_flush(FillReceiver *fill)
{
	if (fill->nbuffered == 0)
		return;
	table_multi_insert(fill->rel, fill->slots, fill->nbuffered, fill->cid,
					   TABLE_INSERT_SKIP_FSM | TABLE_INSERT_FROZEN, fill->bistate);
	for (int i = 0; i < fill->nbuffered; i++)
		ExecClearTuple(fill->slots[i]);
	fill->nbuffered = 0;
}

static bool
fill_receive(TupleTableSlot *input, DestReceiver *self)
{
	FillReceiver *fill = (FillReceiver *) self;
	TupleDesc	desc = RelationGetDescr(fill->rel);
	TupleTableSlot *slot;

	if (fill->slots[fill->nbuffered] == NULL)
	{
		MemoryContext oldcontext = MemoryContextSwitchTo(fill->context);

		fill->slots[fill->nbuffered] = MakeSingleTupleTableSlot(desc, &TTSOpsVirtual);
		MemoryContextSwitchTo(oldcontext);
	}
	slot = fill->slots[fill->nbuffered];
	slot_getallattrs(input);
	ExecClearTuple(slot);
	for (int i = 0; i < desc->natts; i++)
	{
		slot->tts_values[i] = (Datum) 0;
		slot->tts_isnull[i] = true;
	}
	for (int i = 0; i < fill->ncolumns; i++)
	{
		int			att = fill->attnos[i] - 1;

		slot->tts_values[att] = input->tts_values[i];
		slot->tts_isnull[att] = input->tts_isnull[i];
		if (input->tts_isnull[i] && TupleDescAttr(desc, att)->attnotnull)
			ereport(ERROR,
					(errcode(ERRCODE_NOT_NULL_VIOLATION),
					 errmsg("null value in column \"%s\" of relation %s violates not-null constraint",
							NameStr(TupleDescAttr(desc, att)->attname), fill->shown_as)));
	}
	ExecStoreVirtualTuple(slot);
	ExecMaterializeSlot(slot);	/* the input's values go away after this */
	fill->rows++;
	if (++fill->nbuffered == FILL_BATCH)
		fill_flush(fill);
	return true;
}

static void
fill_startup(DestReceiver *self, int operation, TupleDesc typeinfo)
{
}

static void
fill_shutdown(DestReceiver *self)
{
}

static void
fill_destroy(DestReceiver *self)
{
}

/*
 * fill_heap
 *		Fill heap, created in the current subtransaction, with the rows of
 *		sql (a query medallion wrote over relations, bindings among them,
 *		whose columns are given), reading redirect_to for redirect_from;
 *		returns the row count.  Errors name shown_as, the relation the heap
 *		stands for.
 */
static uint64
fill_heap(Oid heap, List *columns, const char *sql, Oid shown_as, List *redirect_from,
		  List *redirect_to)
{
	FillReceiver fill;
	char	   *target;
	char	   *source;
	TupleDesc	desc;

	/* the query's columns in the order of the heap's live columns */
	column_lists(heap, columns, &target, &source);
	memset(&fill, 0, sizeof(fill));
	fill.pub.receiveSlot = fill_receive;
	fill.pub.rStartup = fill_startup;
	fill.pub.rShutdown = fill_shutdown;
	fill.pub.rDestroy = fill_destroy;
	fill.pub.mydest = DestNone;
	fill.context = CurrentMemoryContext;
	fill.shown_as = relation_sql_name(shown_as);
	fill.rel = table_open(heap, NoLock);
	desc = RelationGetDescr(fill.rel);
	fill.attnos = palloc(sizeof(AttrNumber) * desc->natts);
	for (int i = 0; i < desc->natts; i++)
	{
		if (!TupleDescAttr(desc, i)->attisdropped)
			fill.attnos[fill.ncolumns++] = i + 1;
	}
	fill.bistate = GetBulkInsertState();
	fill.cid = GetCurrentCommandId(true);

	(void) BindExecute(psprintf("SELECT %s FROM (%s) AS q", source, sql), 0, NULL, NULL,
					   redirect_from, redirect_to, (DestReceiver *) &fill);

	fill_flush(&fill);
	FreeBulkInsertState(fill.bistate);
	table_finish_bulk_insert(fill.rel, TABLE_INSERT_SKIP_FSM | TABLE_INSERT_FROZEN);
	for (int i = 0; i < FILL_BATCH && fill.slots[i] != NULL; i++)
		ExecDropSingleTupleTableSlot(fill.slots[i]);
	table_close(fill.rel, NoLock);
	return fill.rows;
}

/*
 * clone_indexes
 *		Create on target a copy of every index of source (the two have the
 *		same physical columns); returns the pairs as two parallel OID lists.
 */
static void
clone_indexes(Oid source, Oid target, List **source_indexes, List **target_indexes)
{
	Relation	srcrel = table_open(source, AccessShareLock);
	Relation	tgtrel = table_open(target, NoLock);
	int			natts = RelationGetDescr(srcrel)->natts;
	AttrMap    *map = make_attrmap(natts);
	List	   *indexes = RelationGetIndexList(srcrel);
	ListCell   *lc;

	for (int i = 0; i < natts; i++)
		map->attnums[i] = i + 1;
	*source_indexes = NIL;
	*target_indexes = NIL;
	foreach(lc, indexes)
	{
		Oid			indexoid = lfirst_oid(lc);
		Relation	idxrel = index_open(indexoid, AccessShareLock);
		Oid			constraintoid = InvalidOid;
		IndexStmt  *stmt;
		ObjectAddress address;

		stmt = generateClonedIndexStmt(makeRangeVar(get_namespace_name(RelationGetNamespace(tgtrel)),
													RelationGetRelationName(tgtrel), -1),
									   idxrel, map, &constraintoid);
		stmt->idxname = NULL;
		address = DefineIndex(target, stmt, InvalidOid, InvalidOid, InvalidOid,
							  false, false, false, false, true);
		*source_indexes = lappend_oid(*source_indexes, indexoid);
		*target_indexes = lappend_oid(*target_indexes, address.objectId);
		index_close(idxrel, AccessShareLock);
	}
	table_close(tgtrel, NoLock);
	table_close(srcrel, AccessShareLock);
}

/* Set the privileges (relacl) of a relation. */
static void
set_acl(Oid relid, Datum acl, bool isnull)
{
	Relation	classrel = table_open(RelationRelationId, RowExclusiveLock);
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Datum		values[Natts_pg_class] = {0};
	bool		nulls[Natts_pg_class] = {0};
	bool		replaces[Natts_pg_class] = {0};
	HeapTuple	newtup;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for relation %u", relid);
	values[Anum_pg_class_relacl - 1] = acl;
	nulls[Anum_pg_class_relacl - 1] = isnull;
	replaces[Anum_pg_class_relacl - 1] = true;
	newtup = heap_modify_tuple(tup, RelationGetDescr(classrel), values, nulls, replaces);
	CatalogTupleUpdate(classrel, &newtup->t_self, newtup);
	ReleaseSysCache(tup);
	table_close(classrel, RowExclusiveLock);
	CommandCounterIncrement();
}

/* Copy the published table's privileges to the candidate, so downstream
 * models of other owners can read the candidate as they read the table. */
static void
copy_acl(Oid from, Oid to)
{
	HeapTuple	fromtup = SearchSysCacheCopy1(RELOID, ObjectIdGetDatum(from));
	bool		isnull;
	Datum		acl;

	if (!HeapTupleIsValid(fromtup))
		elog(ERROR, "cache lookup failed for relation %u", from);
	acl = SysCacheGetAttr(RELOID, fromtup, Anum_pg_class_relacl, &isnull);
	set_acl(to, acl, isnull);
}

/* Index storage and ANALYZE of a filled candidate heap. */
static void
finish_candidate(Candidate *cand, Oid heap)
{
	clone_indexes(cand->published, heap, &cand->published_indexes, &cand->candidate_indexes);
	copy_acl(cand->published, heap);
	if (build_analyze)
		spi_utility(psprintf("ANALYZE %s", relation_sql_name(heap)));
}

/*
 * BuildTableCandidate
 *		Build the candidate of a table model from sql (a query over the
 *		model's binding), reading redirect_to for redirect_from (upstream
 *		models this run rebuilt).  Runs as the model owner.  Returns a
 *		palloc'd Candidate.
 */
Candidate *
BuildTableCandidate(ModelDef *model, AnalyzedModel *analyzed, const char *sql,
					List *redirect_from, List *redirect_to, bool allow_alter)
{
	Candidate  *cand = palloc0(sizeof(Candidate));
	Relation	rel;
	SchemaChange *change;
	Oid			tablespace;
	Oid			accessmethod;
	char		persistence;

	cand->model = model;
	cand->columns = analyzed->columns;
	cand->published = BuildPublishedRelid(model);
	if (!OidIsValid(cand->published) || get_rel_relkind(cand->published) != RELKIND_RELATION)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("the published table %s of model \"%s\" is missing", qualified(model),
						model->name),
				 errhint("Define the model again with medallion_create_model to recreate it.")));

	rel = table_open(cand->published, AccessShareLock);
	tablespace = rel->rd_rel->reltablespace;
	accessmethod = rel->rd_rel->relam;
	persistence = rel->rd_rel->relpersistence;
	change = schema_change(rel, analyzed->columns);
	if (change->added || change->removed || change->retyped)
	{
		bool		sync = strcmp(model->on_schema_change, "sync_all_columns") == 0;
		bool		append = strcmp(model->on_schema_change, "append_new_columns") == 0;

		if (!sync && !(append && change->retyped == NIL))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_TABLE_DEFINITION),
					 errmsg("the columns of model \"%s\" no longer match %s", model->name,
							qualified(model)),
					 errdetail("New columns: %s. Removed columns: %s. Columns of another type: %s.",
							   name_list(change->added, true), name_list(change->removed, false),
							   name_list(change->retyped, true)),
					 errhint("Define the model with on_schema_change => 'append_new_columns' (new columns only) or 'sync_all_columns'.")));
		if (sync)
		{
			List	   *touched = list_copy(change->removed);
			ListCell   *lc;

			foreach(lc, change->retyped)
				touched = lappend(touched, ((ModelColumn *) lfirst(lc))->name);
			check_dependents(model, rel, touched);
		}
		table_close(rel, NoLock);

		/*
		 * The published table takes the new columns now, inside this model's
		 * subtransaction: downstream models of the run then see the new
		 * shape, and a failure undoes it.  Readers of this table wait from
		 * here to the end of the run.  A background worker, which commits on
		 * its own, must leave that to the run itself.
		 */
		if (!allow_alter)
			ereport(ERROR,
					(errcode(ERRCODE_MEDALLION_RUN_ITSELF),
					 errmsg("the columns of model \"%s\" change: the run builds it itself", model->name)));
		BuildLockRelations(list_make1_oid(cand->published));
		alter_published(cand->published, change, sync);
		cand->schema_changed = true;
	}
	else
		table_close(rel, NoLock);

	BuildEnsureIndexes(model, cand->published);

	/*
	 * make_new_heap locks the table it copies with the lock mode it is
	 * given (and the new heap, which nobody else sees): AccessShareLock,
	 * so that readers of the published table are not blocked before the
	 * publish burst.
	 */
	cand->candidate = make_new_heap(cand->published, tablespace, accessmethod,
									persistence, AccessShareLock);
	CommandCounterIncrement();
	cand->rows = fill_heap(cand->candidate, analyzed->columns, sql, cand->published,
						   redirect_from, redirect_to);
	finish_candidate(cand, cand->candidate);
	return cand;
}

/*
 * swap_class_fields
 *		Exchange the storage-describing fields of two pg_class rows: file
 *		node, size estimates, freeze horizons and (for heaps) the toast
 *		table.  Each toast table's dependency follows its new owner.
 */
static void
swap_class_fields(Relation classrel, Oid a, Oid b, bool heaps)
{
	HeapTuple	ta = SearchSysCacheCopy1(RELOID, ObjectIdGetDatum(a));
	HeapTuple	tb = SearchSysCacheCopy1(RELOID, ObjectIdGetDatum(b));
	Form_pg_class fa,
				fb;
	Oid			oid_tmp;
	int32		int_tmp;
	float4		float_tmp;
	TransactionId xid_tmp;

	if (!HeapTupleIsValid(ta) || !HeapTupleIsValid(tb))
		elog(ERROR, "cache lookup failed for relation %u or %u", a, b);
	fa = (Form_pg_class) GETSTRUCT(ta);
	fb = (Form_pg_class) GETSTRUCT(tb);
	if (fa->relfilenode == InvalidOid || fb->relfilenode == InvalidOid)
		elog(ERROR, "cannot swap mapped relations %u and %u", a, b);
	if (fa->reltablespace != fb->reltablespace || fa->relam != fb->relam ||
		fa->relpersistence != fb->relpersistence)
		elog(ERROR, "relations %u and %u differ in tablespace, access method or persistence", a, b);

	oid_tmp = fa->relfilenode;
	fa->relfilenode = fb->relfilenode;
	fb->relfilenode = oid_tmp;
	int_tmp = fa->relpages;
	fa->relpages = fb->relpages;
	fb->relpages = int_tmp;
	float_tmp = fa->reltuples;
	fa->reltuples = fb->reltuples;
	fb->reltuples = float_tmp;
	int_tmp = fa->relallvisible;
	fa->relallvisible = fb->relallvisible;
	fb->relallvisible = int_tmp;
	if (heaps)
	{
		xid_tmp = fa->relfrozenxid;
		fa->relfrozenxid = fb->relfrozenxid;
		fb->relfrozenxid = xid_tmp;
		xid_tmp = fa->relminmxid;
		fa->relminmxid = fb->relminmxid;
		fb->relminmxid = xid_tmp;
		oid_tmp = fa->reltoastrelid;
		fa->reltoastrelid = fb->reltoastrelid;
		fb->reltoastrelid = oid_tmp;
	}
	CatalogTupleUpdate(classrel, &ta->t_self, ta);
	CatalogTupleUpdate(classrel, &tb->t_self, tb);

	/* the toast tables changed hands: so do their dependencies */
	if (heaps && OidIsValid(fa->reltoastrelid))
		changeDependencyFor(RelationRelationId, fa->reltoastrelid,
							RelationRelationId, b, a);
	if (heaps && OidIsValid(fb->reltoastrelid))
		changeDependencyFor(RelationRelationId, fb->reltoastrelid,
							RelationRelationId, a, b);
	heap_freetuple(ta);
	heap_freetuple(tb);
}

/* Exchange the pg_statistic rows of two relations with the same columns. */
static void
swap_statistics(Oid a, Oid b)
{
	Relation	statrel = table_open(StatisticRelationId, RowExclusiveLock);
	List	   *tuples = NIL;
	Oid			relids[2] = {a, b};
	ListCell   *lc;

	for (int i = 0; i < 2; i++)
	{
		ScanKeyData key;
		SysScanDesc scan;
		HeapTuple	tup;

		ScanKeyInit(&key, Anum_pg_statistic_starelid, BTEqualStrategyNumber, F_OIDEQ,
					ObjectIdGetDatum(relids[i]));
		scan = systable_beginscan(statrel, StatisticRelidAttnumInhIndexId, true, NULL, 1, &key);
		while (HeapTupleIsValid(tup = systable_getnext(scan)))
		{
			tuples = lappend(tuples, heap_copytuple(tup));
			CatalogTupleDelete(statrel, &tup->t_self);
		}
		systable_endscan(scan);
	}
	CommandCounterIncrement();
	foreach(lc, tuples)
	{
		HeapTuple	tup = lfirst(lc);
		Form_pg_statistic form = (Form_pg_statistic) GETSTRUCT(tup);

		form->starelid = form->starelid == a ? b : a;
		CatalogTupleInsert(statrel, tup);
	}
	table_close(statrel, RowExclusiveLock);
}

/* Do two heaps have the same physical columns (so storage can move)? */
static bool
same_physical_columns(Relation a, Relation b)
{
	TupleDesc	da = RelationGetDescr(a);
	TupleDesc	db = RelationGetDescr(b);

	if (da->natts != db->natts)
		return false;
	for (int i = 0; i < da->natts; i++)
	{
		Form_pg_attribute aa = TupleDescAttr(da, i);
		Form_pg_attribute ab = TupleDescAttr(db, i);

		if (aa->attisdropped != ab->attisdropped || aa->attlen != ab->attlen ||
			aa->attalign != ab->attalign || aa->attbyval != ab->attbyval)
			return false;
		if (!aa->attisdropped &&
			(aa->atttypid != ab->atttypid || aa->atttypmod != ab->atttypmod))
			return false;
	}
	return true;
}

/*
 * swap_storage
 *		Exchange the contents of heaps a and b, which have the same physical
 *		columns, with the given index pairs (parallel OID lists): after this
 *		a has b's rows, indexes and statistics, and b has a's.  Both must be
 *		locked AccessExclusive by the caller.
 */
static void
swap_storage(Oid a, Oid b, List *a_indexes, List *b_indexes)
{
	Relation	rela = table_open(a, NoLock);
	Relation	relb = table_open(b, NoLock);
	Relation	classrel;
	ListCell   *la,
			   *lb;

	if (!same_physical_columns(rela, relb))
		elog(ERROR, "relations %u and %u do not have the same columns", a, b);
	if (list_length(a_indexes) != list_length(b_indexes))
		elog(ERROR, "relations %u and %u do not have the same indexes", a, b);

	classrel = table_open(RelationRelationId, RowExclusiveLock);
	swap_class_fields(classrel, a, b, true);
	forboth(la, a_indexes, lb, b_indexes)
		swap_class_fields(classrel, lfirst_oid(la), lfirst_oid(lb), false);
	table_close(classrel, RowExclusiveLock);
	swap_statistics(a, b);
	CommandCounterIncrement();

	/* both relations now have file nodes new in this transaction */
	RelationAssumeNewRelfilenode(rela);
	RelationAssumeNewRelfilenode(relb);
	table_close(rela, NoLock);
	table_close(relb, NoLock);
	CommandCounterIncrement();
}


/* Has the model's published table row-level security enabled? */
static bool
published_has_rls(ModelDef *model)
{
	Oid			published = BuildPublishedRelid(model);
	Relation	rel;
	bool		rls;

	if (!OidIsValid(published))
		return false;
	rel = table_open(published, AccessShareLock);
	rls = rel->rd_rel->relrowsecurity;
	table_close(rel, AccessShareLock);
	return rls;
}

/*
 * keep_previous
 *		relid holds a model's previous content: make it
 *		medallion_history.<model> (replacing the one before), or drop it.
 */
static void
keep_previous(ModelDef *model, Oid relid)
{
	Oid			history_nsp = get_namespace_oid("medallion_history", false);
	Oid			old = get_relname_relid(model->name, history_nsp);
	Relation	rel;
	ObjectAddresses *moved;

	if (OidIsValid(old))
	{
		LockRelationOid(old, AccessExclusiveLock);
		BindDropRelation(old);
	}
	if (!build_keep_previous)
	{
		BindDropRelation(relid);
		return;
	}
	rel = table_open(relid, AccessExclusiveLock);
	if (published_has_rls(model))
	{
		/*
		 * The history copy has the table's grants but not its policies:
		 * a reader limited by a policy would read every row of it.  Only
		 * the owner reads it then.
		 */
		set_acl(relid, PointerGetDatum(acldefault(OBJECT_TABLE, rel->rd_rel->relowner)), false);
	}
	moved = new_object_addresses();
	AlterTableNamespaceInternal(rel, RelationGetNamespace(rel), history_nsp, moved);
	free_object_addresses(moved);
	table_close(rel, NoLock);
	CommandCounterIncrement();
	RenameRelationInternal(relid, model->name, true, false);
	CommandCounterIncrement();
}

/*
 * BuildPublishTable
 *		Publish a table candidate: the published table gets the candidate's
 *		content and keeps its OID; what it held becomes the model's previous
 *		version.  The caller holds AccessExclusiveLock on the published table
 *		and runs this as the model owner.
 */
void
BuildPublishTable(Candidate *cand)
{
	swap_storage(cand->published, cand->candidate, cand->published_indexes,
				 cand->candidate_indexes);
	keep_previous(cand->model, cand->candidate);
}

/*
 * BuildDropCandidate
 *		Drop a candidate that will not be published.
 */
void
BuildDropCandidate(Candidate *cand)
{
	if (OidIsValid(cand->candidate) && get_rel_name(cand->candidate) != NULL)
		BindDropRelation(cand->candidate);
}

/*
 * Do two lists of indexes pair up, in order, as indexes of the same kind
 * on the same columns (so their storage can be swapped)?
 */
static bool
same_indexes(List *a, List *b)
{
	ListCell   *la,
			   *lb;
	bool		same = list_length(a) == list_length(b);

	forboth(la, a, lb, b)
	{
		Relation	ia = index_open(lfirst_oid(la), AccessShareLock);
		Relation	ib = index_open(lfirst_oid(lb), AccessShareLock);

		if (ia->rd_rel->relam != ib->rd_rel->relam ||
			ia->rd_index->indnatts != ib->rd_index->indnatts ||
			ia->rd_index->indisunique != ib->rd_index->indisunique ||
			memcmp(ia->rd_index->indkey.values, ib->rd_index->indkey.values,
				   sizeof(int16) * ia->rd_index->indnatts) != 0 ||
			memcmp(ia->rd_indcollation, ib->rd_indcollation,
				   sizeof(Oid) * ia->rd_index->indnkeyatts) != 0 ||
			memcmp(ia->rd_opfamily, ib->rd_opfamily, sizeof(Oid) * ia->rd_index->indnkeyatts) != 0 ||
			!equal(RelationGetIndexExpressions(ia), RelationGetIndexExpressions(ib)) ||
			!equal(RelationGetIndexPredicate(ia), RelationGetIndexPredicate(ib)))
			same = false;
		index_close(ia, AccessShareLock);
		index_close(ib, AccessShareLock);
	}
	return same;
}

/*
 * BuildRollback
 *		Swap a table model's previous version (medallion_history.<model>)
 *		back in; the current content becomes the kept version.  Returns the
 *		number of rows now published.  The caller holds AccessExclusiveLock
 *		on the published table.
 */
int64
BuildRollback(ModelDef *model)
{
	Oid			published = BuildPublishedRelid(model);
	Oid			history = get_relname_relid(model->name,
											get_namespace_oid("medallion_history", false));
	Relation	pubrel;
	Relation	histrel;
	List	   *pub_indexes;
	List	   *hist_indexes;
	bool		compatible;

	if (!OidIsValid(published) || get_rel_relkind(published) != RELKIND_RELATION)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("model \"%s\" is not published as a table", model->name),
				 errdetail("Only table models keep a previous version.")));
	if (!OidIsValid(history))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("model \"%s\" has no previous version", model->name),
				 errhint("A previous version is kept when a run replaces the table, with medallion.keep_previous on.")));

	LockRelationOid(history, AccessExclusiveLock);
	pubrel = table_open(published, NoLock);
	histrel = table_open(history, NoLock);
	pub_indexes = RelationGetIndexList(pubrel);
	hist_indexes = RelationGetIndexList(histrel);
	compatible = same_physical_columns(pubrel, histrel) &&
		list_length(pub_indexes) == list_length(hist_indexes);
	if (compatible)
	{
		/* indexes pair up in creation order; check they index the same */
		compatible = same_indexes(pub_indexes, hist_indexes);
	}
	table_close(pubrel, NoLock);
	table_close(histrel, NoLock);
	if (!compatible)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the previous version of model \"%s\" has other columns or indexes than %s",
						model->name, qualified(model)),
				 errdetail("The table or its indexes changed after that version was replaced.")));

	swap_storage(published, history, pub_indexes, hist_indexes);
	return (int64) spi_run(psprintf("SELECT 1 FROM %s", relation_sql_name(published)),
						   SPI_OK_SELECT);
}

/* ----------------------------------------------------------------
 * Incremental models
 *
 * The candidate of an incremental model is its delta: the rows of the
 * model query past the stored high-water mark (minus the lookback), in a
 * heap shaped like the published table, deduplicated by unique_key for
 * merge and delete+insert (the row with the highest watermark wins).  The
 * run tests it, then applies it to the published table with ordinary DML
 * inside the model's subtransaction: readers keep seeing the old rows
 * until the run commits (MVCC), so no exclusive lock is needed, and the
 * new high-water mark is stored in the same transaction.
 *
 * The high-water mark is held back to the start of the oldest transaction
 * in progress in another session: a row such a transaction writes with a
 * timestamp from before its commit is then read by the next run instead of
 * being skipped forever.  For a numeric watermark, in-flight transactions
 * keep the previous mark.  Rows read again are merged by key (merge,
 * delete+insert) or not inserted again (append: an anti-join over the
 * rows past the lower bound).
 * ---------------------------------------------------------------- */

/* "a, b" from a List of names, quoted. */
static char *
name_csv(List *names)
{
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	foreach(lc, names)
		appendStringInfo(&buf, "%s%s", buf.len > 0 ? ", " : "", quote_identifier(lfirst(lc)));
	return buf.data;
}

/*
 * each_column
 *		From the quoted column list "a, b": "p.a, p.b" (prefix p.), or with
 *		assign "a = s.a, b = s.b" (prefix s.).
 */
static char *
each_column(const char *cols, const char *prefix, bool assign)
{
	List	   *names;
	StringInfoData buf;
	ListCell   *lc;
	char	   *copy = pstrdup(cols);

	if (!SplitIdentifierString(copy, ',', &names))
		elog(ERROR, "invalid column list \"%s\"", cols);
	initStringInfo(&buf);
	foreach(lc, names)
	{
		const char *name = quote_identifier(lfirst(lc));

		appendStringInfo(&buf, "%s%s%s%s%s", buf.len > 0 ? ", " : "",
						 assign ? name : "", assign ? " = " : "", prefix, name);
	}
	return buf.data;
}

/* The type of a model column, as SQL text. */
static char *
query_column_type(List *columns, const char *name)
{
	ModelColumn *col = find_column(columns, name);

	if (col == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("the model query has no column \"%s\"", name)));
	return format_type_be_qualified(col->type);
}

static bool
is_time_type(List *columns, const char *name)
{
	ModelColumn *col = find_column(columns, name);

	return col != NULL && (col->type == DATEOID || col->type == TIMESTAMPOID ||
						   col->type == TIMESTAMPTZOID);
}

/* One value computed by SQL (with text parameters), as text or NULL. */
static char *
sql_value(const char *sql, int nparams, Datum *values, const char *nulls)
{
	MemoryContext callercxt = CurrentMemoryContext;
	Oid			types[4] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID};
	char	   *result = NULL;
	int			ret;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ret = SPI_execute_with_args(sql, nparams, types, values, nulls, false, 1);
	if (ret != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "SPI_execute failed for \"%s\": %s", sql, SPI_result_code_string(ret));
	{
		char	   *value = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);

		if (value != NULL)
			result = MemoryContextStrdup(callercxt, value);
	}
	SPI_finish();
	return result;
}

/*
 * next_watermark
 *		The high-water mark to store after building heap: the largest
 *		watermark in it (or the previous one), held back to the oldest
 *		transaction in progress.
 */
static void
next_watermark(Candidate *cand, Oid heap, const char *previous, const char *previous_max)
{
	ModelDef   *model = cand->model;
	char	   *type = query_column_type(cand->columns, model->watermark);
	char	   *oldest = CatalogOldestTransactionStart();
	char	   *max_seen;
	Datum		values[2];
	char		nulls[2] = {' ', ' '};

	max_seen = sql_value(psprintf("SELECT max(%s)::text FROM %s", quote_identifier(model->watermark),
								  relation_sql_name(heap)), 0, NULL, NULL);
	if (max_seen == NULL)
		max_seen = previous_max ? pstrdup(previous_max) : NULL;
	cand->max_seen = max_seen;
	if (max_seen == NULL || oldest == NULL)
		cand->watermark = max_seen;
	else if (is_time_type(cand->columns, model->watermark))
	{
		/*
		 * Strictly before that transaction began: what it writes with now()
		 * is then past the mark.  A date mark goes back a whole day.
		 */
		values[0] = CStringGetTextDatum(max_seen);
		values[1] = CStringGetTextDatum(oldest);
		cand->watermark = sql_value(psprintf(strcmp(type, "date") == 0 ?
											 "SELECT least($1::date, $2::pg_catalog.timestamptz::date OPERATOR(pg_catalog.-) 1)::pg_catalog.text" :
											 "SELECT least($1::%s, ($2::pg_catalog.timestamptz OPERATOR(pg_catalog.-) pg_catalog.interval '1 microsecond')::%s)::pg_catalog.text",
											 type, type), 2, values, nulls);
	}
	else
		cand->watermark = previous ? pstrdup(previous) : NULL;
}

static bool
foreign_walker(Node *node, List **schemas)
{
	if (node == NULL)
		return false;
	if (IsA(node, Query))
	{
		Query	   *query = (Query *) node;
		ListCell   *lc;

		foreach(lc, query->rtable)
		{
			RangeTblEntry *rte = lfirst(lc);

			if (rte->rtekind == RTE_RELATION && rte->relkind == RELKIND_FOREIGN_TABLE)
			{
				char	   *schema = get_namespace_name(get_rel_namespace(rte->relid));
				ListCell   *ls;
				bool		seen = false;

				foreach(ls, *schemas)
					seen = seen || strcmp(lfirst(ls), schema) == 0;
				if (!seen)
					*schemas = lappend(*schemas, schema);
			}
		}
		return query_tree_walker(query, foreign_walker, schemas, 0);
	}
	return expression_tree_walker(node, foreign_walker, schemas);
}

/*
 * BuildForeignSchemas
 *		The schemas of the foreign tables a model reads, through views and
 *		ephemeral models too (the query is rewritten, views expanded).
 */
List *
BuildForeignSchemas(Query *query)
{
	Query	   *copy = copyObject(query);
	List	   *schemas = NIL;
	ListCell   *lc;

	AcquireRewriteLocks(copy, true, false);
	foreach(lc, QueryRewrite(copy))
		(void) foreign_walker(lfirst(lc), &schemas);
	return schemas;
}

/* EXPLAIN (VERBOSE, FORMAT JSON) of sql, as text. */
static char *
explain_json(const char *sql)
{
	MemoryContext callercxt = CurrentMemoryContext;
	char	   *plan = NULL;
	int			ret;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ret = SPI_execute(psprintf("EXPLAIN (VERBOSE, FORMAT JSON) %s", sql), false, 1);
	if ((ret == SPI_OK_UTILITY || ret == SPI_OK_SELECT) && SPI_tuptable != NULL && SPI_processed == 1)
	{
		char	   *value = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);

		if (value != NULL)
			plan = MemoryContextStrdup(callercxt, value);
	}
	SPI_finish();
	if (plan == NULL)
		elog(ERROR, "could not EXPLAIN \"%s\"", sql);
	return plan;
}

/*
 * check_pushdown
 *		EXPLAIN VERBOSE the delta query of an incremental model that reads
 *		a foreign table: when no remote query carries the watermark bound,
 *		the wrapper pulls the whole remote table at every run; say so.
 *		postgres_fdw shows "Remote SQL", tds_fdw "Remote query".
 */
static void
check_pushdown(ModelDef *model, const char *delta_sql, const char *bound)
{
	char	   *plan = explain_json(delta_sql);
	const char *keys[] = {"\"Remote SQL\": \"", "\"Remote query\": \""};
	char	   *remote = NULL;

	for (int k = 0; k < lengthof(keys); k++)
	{
		for (char *p = strstr(plan, keys[k]); p != NULL; p = strstr(p + 1, keys[k]))
		{
			char	   *start = p + strlen(keys[k]);
			char	   *end = start;

			while (*end && !(*end == '"' && end[-1] != '\\'))
				end++;
			remote = pnstrdup(start, end - start);
			if (strstr(remote, bound) != NULL)
				return;			/* pushed down */
		}
	}
	if (remote != NULL)
		ereport(WARNING,
				(errmsg("the watermark of model \"%s\" is not pushed to the remote server: every run reads the whole remote table",
						model->name),
				 errdetail("Remote query: %s", remote),
				 errhint("Select the remote column as it is (no function or cast on it) as the watermark, so that \"%s > bound\" can be sent to the remote side.",
						 model->watermark)));
}

static List *column_names(List *columns);

/*
 * BuildIncrementalCandidate
 *		Build an incremental model's candidate: its delta, or (first run,
 *		full_refresh, a changed share above full_refresh_threshold, changed
 *		columns) a whole new table like a table model.  stage is a batched
 *		extraction's staging table (or InvalidOid); reads_remote says the
 *		model reads foreign tables, whose delta query is checked for
 *		pushdown.  Runs as the model owner.
 */
Candidate *
BuildIncrementalCandidate(ModelDef *model, AnalyzedModel *analyzed, const char *sql,
						  List *redirect_from, List *redirect_to, bool full_refresh, Oid stage,
						  bool reads_remote)
{
	char	   *previous = NULL;
	char	   *previous_max = NULL;
	bool		has_state = CatalogGetState(model->name, &previous, &previous_max);
	Oid			published = BuildPublishedRelid(model);
	Candidate  *cand;
	Relation	rel;
	SchemaChange *change;
	StringInfoData delta;
	double		published_rows;
	char	   *staged_sql = NULL;

	/*
	 * Staged by a batched extraction: the new rows, read from there.  For a
	 * first build or a full refresh the extraction staged everything, so a
	 * full build reads the stage too; any other full build (columns
	 * changed, above full_refresh_threshold) reads the model query.
	 */
	if (OidIsValid(stage))
	{
		staged_sql = psprintf("SELECT %s FROM %s", name_csv(column_names(analyzed->columns)),
							  relation_sql_name(stage));
		if (full_refresh || !has_state)
			sql = staged_sql;
	}

	if (!OidIsValid(published) || get_rel_relkind(published) != RELKIND_RELATION)
		return BuildTableCandidate(model, analyzed, sql, redirect_from, redirect_to, true);	/* it reports the problem */
	rel = table_open(published, AccessShareLock);
	change = schema_change(rel, analyzed->columns);
	table_close(rel, NoLock);

	if (full_refresh || !has_state || change->added || change->removed || change->retyped)
	{
		cand = BuildTableCandidate(model, analyzed, sql, redirect_from, redirect_to, true);
		cand->full_reason = full_refresh ? "full refresh" : !has_state ? "first build" :
			"the columns changed";
		if (model->watermark)
			next_watermark(cand, cand->candidate, NULL, NULL);
		return cand;
	}

	/*
	 * The delta: rows past the high-water mark (minus the lookback), one per
	 * key.  The bound is a typed literal, not a parameter, so that a foreign
	 * data wrapper can push "watermark > bound" to the remote side.
	 */
	initStringInfo(&delta);
	if (staged_sql != NULL)
		appendStringInfoString(&delta, staged_sql);
	else if (model->watermark && previous != NULL)
	{
		char	   *type = query_column_type(analyzed->columns, model->watermark);
		char	   *bound = (char *) previous;

		if (model->lookback)
		{
			Datum		args[2] = {CStringGetTextDatum(previous), CStringGetTextDatum(model->lookback)};

			bound = sql_value(psprintf("SELECT ($1::%s OPERATOR(pg_catalog.-) $2::pg_catalog.interval)::%s::pg_catalog.text", type, type),
							  2, args, NULL);
		}
		appendStringInfo(&delta, "SELECT * FROM (%s) AS q WHERE q.%s OPERATOR(pg_catalog.>) %s::%s",
						 sql, quote_identifier(model->watermark), quote_literal_cstr(bound), type);
		if (reads_remote)
			check_pushdown(model, delta.data, bound);
	}
	else
		appendStringInfoString(&delta, sql);
	if (strcmp(model->strategy, "append") != 0)
	{
		char	   *keys = name_csv(model->unique_key);

		delta.data = psprintf("SELECT DISTINCT ON (%s) * FROM (%s) AS d ORDER BY %s%s%s",
							  keys, delta.data, keys,
							  model->watermark ? ", " : "",
							  model->watermark ? psprintf("%s DESC NULLS LAST",
														  quote_identifier(model->watermark)) : "");
	}

	cand = palloc0(sizeof(Candidate));
	cand->model = model;
	cand->columns = analyzed->columns;
	cand->published = published;
	cand->delta = true;
	cand->lower_bound = previous;
	rel = table_open(published, AccessShareLock);
	published_rows = rel->rd_rel->reltuples;
	cand->candidate = make_new_heap(published, rel->rd_rel->reltablespace, rel->rd_rel->relam,
									rel->rd_rel->relpersistence, AccessShareLock);
	table_close(rel, NoLock);
	CommandCounterIncrement();
	cand->rows = fill_heap(cand->candidate, analyzed->columns, delta.data,
						   published, redirect_from, redirect_to);

	if (model->full_refresh_threshold && cand->rows > 0 && published_rows > 0 &&
		cand->rows > atof(model->full_refresh_threshold) * published_rows)
	{
		ereport(NOTICE,
				(errmsg("model \"%s\": %lld changed rows are more than %s of %.0f; rebuilding instead",
						model->name, (long long) cand->rows, model->full_refresh_threshold,
						published_rows)));
		BindDropRelation(cand->candidate);
		cand = BuildTableCandidate(model, analyzed, sql, redirect_from, redirect_to, true);
		cand->full_reason = "above full_refresh_threshold";
		if (model->watermark)
			next_watermark(cand, cand->candidate, NULL, NULL);
		return cand;
	}
	if (model->watermark)
		next_watermark(cand, cand->candidate, previous, previous_max);
	return cand;
}

/*
 * BuildApplyDelta
 *		Apply an incremental model's delta to its published table (inside
 *		the model's subtransaction, as the model owner) by its strategy, and
 *		drop the delta.  Returns the rows inserted or changed.
 */
int64
BuildApplyDelta(Candidate *cand)
{
	ModelDef   *model = cand->model;
	char	   *target = relation_sql_name(cand->published);
	char	   *delta = relation_sql_name(cand->candidate);
	char	   *cols;
	char	   *source;
	uint64		rows = 0;

	column_lists(cand->published, cand->columns, &cols, &source);
	if (strcmp(model->strategy, "append") == 0)
	{
		if (model->watermark && cand->lower_bound != NULL)
		{
			/* rows read again (held-back mark, lookback) are not added twice */
			Datum		values[1] = {CStringGetTextDatum(cand->lower_bound)};
			char	   *type = query_column_type(cand->columns, model->watermark);
			Oid			types[1] = {TEXTOID};
			int			ret;

			if (SPI_connect() != SPI_OK_CONNECT)
				elog(ERROR, "SPI_connect failed");
			ret = SPI_execute_with_args(psprintf("INSERT INTO %s (%s) SELECT %s FROM %s AS d "
												 "WHERE NOT EXISTS (SELECT 1 FROM %s AS p WHERE p.%s OPERATOR(pg_catalog.>=) ($1::%s OPERATOR(pg_catalog.-) %s) "
												 "AND ROW(%s) IS NOT DISTINCT FROM ROW(%s))",
												 target, cols, cols, delta, target,
												 quote_identifier(model->watermark), type,
												 model->lookback ? psprintf("%s::pg_catalog.interval",
																			quote_literal_cstr(model->lookback)) :
												 psprintf("'0'::%s", strcmp(type, "date") == 0 ? "integer" :
														  is_time_type(cand->columns, model->watermark) ?
														  "pg_catalog.interval" : type),
												 each_column(cols, "p.", false), each_column(cols, "d.", false)),
										1, types, values, NULL, false, 0);
			if (ret != SPI_OK_INSERT)
				elog(ERROR, "could not append the delta: %s", SPI_result_code_string(ret));
			rows = SPI_processed;
			SPI_finish();
		}
		else
			rows = spi_run(psprintf("INSERT INTO %s (%s) SELECT %s FROM %s", target, cols, cols, delta),
						   SPI_OK_INSERT);
	}
	else
	{
		StringInfoData on;
		ListCell   *lc;

		initStringInfo(&on);
		foreach(lc, model->unique_key)
			appendStringInfo(&on, "%st.%s OPERATOR(pg_catalog.=) s.%s", on.len > 0 ? " AND " : "",
							 quote_identifier(lfirst(lc)), quote_identifier(lfirst(lc)));
		if (strcmp(model->strategy, "merge") == 0)
			rows = spi_run(psprintf("MERGE INTO %s AS t USING %s AS s ON %s "
									"WHEN MATCHED THEN UPDATE SET %s "
									"WHEN NOT MATCHED THEN INSERT (%s) VALUES (%s)",
									target, delta, on.data, each_column(cols, "s.", true),
									cols, each_column(cols, "s.", false)),
						   SPI_OK_MERGE);
		else
		{
			(void) spi_run(psprintf("DELETE FROM %s AS t USING %s AS s WHERE %s", target, delta, on.data),
						   SPI_OK_DELETE);
			rows = spi_run(psprintf("INSERT INTO %s (%s) SELECT %s FROM %s", target, cols, cols, delta),
						   SPI_OK_INSERT);
		}
	}
	BindDropRelation(cand->candidate);
	cand->candidate = InvalidOid;
	CommandCounterIncrement();
	return (int64) rows;
}

/* ----------------------------------------------------------------
 * Snapshot models (SCD type 2)
 *
 * The published table keeps the history of every key: the model's
 * columns plus scd_id (md5 of the key and valid_from), valid_from,
 * valid_to (NULL while current) and is_current.  A run compares the
 * model query (one row per key) with the current rows: new keys and
 * changed rows (timestamp strategy: a later updated_at; check strategy:
 * any checked column IS DISTINCT FROM, so changes to and from NULL count)
 * get a new current version; the version they replace is closed; with
 * hard_deletes = invalidate, current keys that disappeared are closed.
 * The changes are computed into a delta table and applied with DML inside
 * the model's subtransaction, invisible to readers until the run commits.
 * ---------------------------------------------------------------- */

/*
 * BuildSnapshot
 *		Apply one snapshot step to the model's history table; returns the
 *		number of versions opened or closed.  Runs as the model owner.
 */
int64
BuildSnapshot(ModelDef *model, AnalyzedModel *analyzed, const char *sql, List *redirect_from,
			  List *redirect_to)
{
	Oid			published = BuildPublishedRelid(model);
	char	   *target;
	char	   *keys = name_csv(model->unique_key);
	char	   *delta_name = psprintf("pg_temp_%u_snapshot", published);
	char	   *delta = quote_qualified_identifier(model->schema, delta_name);
	StringInfoData on;
	StringInfoData changed;
	StringInfoData cols;
	StringInfoData s_cols;
	StringInfoData c_cols;
	StringInfoData keytext;
	ListCell   *lc;
	char	   *valid_from;
	bool		timestamp = strcmp(model->snapshot_strategy, "timestamp") == 0;
	uint64		rows;

	if (!OidIsValid(published) || get_rel_relkind(published) != RELKIND_RELATION)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("the history table %s of snapshot model \"%s\" is missing",
						qualified(model), model->name),
				 errhint("Define the model again with medallion_create_model to recreate it.")));
	foreach(lc, analyzed->columns)
	{
		ModelColumn *col = lfirst(lc);
		AttrNumber	attno = get_attnum(published, col->name);

		if (attno == InvalidAttrNumber || get_atttype(published, attno) != col->type)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_TABLE_DEFINITION),
					 errmsg("the columns of snapshot model \"%s\" no longer match its history table %s",
							model->name, qualified(model)),
					 errdetail("Column \"%s\" is new or of another type.", col->name),
					 errhint("A snapshot keeps its columns; add the column to the table by hand, or start a new snapshot model.")));
	}
	target = qualified(model);

	initStringInfo(&on);
	initStringInfo(&keytext);
	foreach(lc, model->unique_key)
	{
		appendStringInfo(&on, "%sc.%s OPERATOR(pg_catalog.=) s.%s", on.len > 0 ? " AND " : "",
						 quote_identifier(lfirst(lc)), quote_identifier(lfirst(lc)));
		appendStringInfo(&keytext, "%s%s::text", keytext.len > 0 ? ", " : "",
						 quote_identifier(lfirst(lc)));
	}
	initStringInfo(&cols);
	initStringInfo(&s_cols);
	initStringInfo(&c_cols);
	foreach(lc, analyzed->columns)
	{
		const char *name = quote_identifier(((ModelColumn *) lfirst(lc))->name);

		appendStringInfo(&cols, "%s%s", cols.len > 0 ? ", " : "", name);
		appendStringInfo(&s_cols, "%ss.%s", s_cols.len > 0 ? ", " : "", name);
		appendStringInfo(&c_cols, "%sc.%s", c_cols.len > 0 ? ", " : "", name);
	}

	initStringInfo(&changed);
	if (timestamp)
	{
		const char *ua = quote_identifier(model->updated_at);

		appendStringInfo(&changed, "(s.%s OPERATOR(pg_catalog.>) c.%s OR (c.%s IS NULL AND s.%s IS NOT NULL))", ua, ua, ua, ua);
		valid_from = psprintf("coalesce(s.%s::pg_catalog.timestamptz, pg_catalog.now())", ua);
	}
	else
	{
		StringInfoData sl;
		StringInfoData cl;
		List	   *checked = model->check_columns;

		if (checked == NIL)
		{
			foreach(lc, analyzed->columns)
			{
				char	   *name = ((ModelColumn *) lfirst(lc))->name;
				ListCell   *lk;
				bool		is_key = false;

				foreach(lk, model->unique_key)
					is_key |= strcmp(lfirst(lk), name) == 0;
				if (!is_key)
					checked = lappend(checked, name);
			}
		}
		initStringInfo(&sl);
		initStringInfo(&cl);
		foreach(lc, checked)
		{
			appendStringInfo(&sl, "%ss.%s", sl.len > 0 ? ", " : "", quote_identifier(lfirst(lc)));
			appendStringInfo(&cl, "%sc.%s", cl.len > 0 ? ", " : "", quote_identifier(lfirst(lc)));
		}
		if (checked == NIL)
			appendStringInfoString(&changed, "false");
		else
			appendStringInfo(&changed, "ROW(%s, NULL) IS DISTINCT FROM ROW(%s, NULL)", sl.data, cl.data);
		valid_from = "pg_catalog.now()";
	}

	/* the changes, computed as the owner into a table only medallion can create */
	create_owned_table(model->schema, delta_name,
					   psprintf("medallion_op text, %s, valid_from timestamptz, new_valid_to timestamptz, close_id text",
								column_definitions(analyzed->columns)),
					   ModelOwnerId(model));
	rows = BindExecute(psprintf("INSERT INTO %s "
							"WITH s AS (SELECT DISTINCT ON (%s) * FROM (%s) AS q ORDER BY %s%s), "
							"c AS (SELECT * FROM %s WHERE is_current) "
							"SELECT 'insert'::text AS medallion_op, %s, %s AS valid_from, "
							"NULL::pg_catalog.timestamptz AS new_valid_to, NULL::text AS close_id "
							"FROM s LEFT JOIN c ON %s WHERE c.scd_id IS NULL "
							"UNION ALL SELECT 'insert', %s, %s, NULL, NULL FROM s JOIN c ON %s WHERE %s "
							"UNION ALL SELECT 'close', %s, c.valid_from, %s, c.scd_id FROM s JOIN c ON %s WHERE %s"
							"%s",
							delta, keys, sql, keys,
							timestamp ? psprintf(", %s DESC NULLS LAST", quote_identifier(model->updated_at)) : "",
							target,
							s_cols.data, valid_from, on.data,
							s_cols.data, valid_from, on.data, changed.data,
							c_cols.data, valid_from, on.data, changed.data,
							strcmp(model->hard_deletes, "invalidate") == 0 ?
							psprintf(" UNION ALL SELECT 'close', %s, c.valid_from, pg_catalog.now(), c.scd_id "
									 "FROM c LEFT JOIN s ON %s WHERE s.%s IS NULL",
									 c_cols.data, on.data, quote_identifier(linitial(model->unique_key))) : ""),
					   0, NULL, NULL, redirect_from, redirect_to, None_Receiver);
	if (rows > 0)
	{
		(void) spi_run(psprintf("UPDATE %s AS p SET valid_to = d.new_valid_to, is_current = false "
								"FROM %s AS d WHERE d.medallion_op OPERATOR(pg_catalog.=) 'close' AND p.scd_id OPERATOR(pg_catalog.=) d.close_id",
								target, delta), SPI_OK_UPDATE);
		(void) spi_run(psprintf("INSERT INTO %s (scd_id, %s, valid_from, valid_to, is_current) "
								"SELECT pg_catalog.md5(pg_catalog.concat_ws('|', %s, valid_from::text)), "
								"%s, valid_from, NULL, true FROM %s WHERE medallion_op OPERATOR(pg_catalog.=) 'insert'",
								target, cols.data, keytext.data, cols.data, delta), SPI_OK_INSERT);
	}
	spi_utility(psprintf("DROP TABLE %s", delta));
	CommandCounterIncrement();
	return (int64) rows;
}

/* ----------------------------------------------------------------
 * Candidates built by background workers (medallion_run threads)
 *
 * A worker builds a table model's candidate in a transaction of its own
 * and commits it, in schema medallion_build (no one but the owner and the
 * extension can reach it), named r<run>_<published OID>.  The run adopts
 * it: it tests it, reads it downstream, swaps it in at publish, or drops
 * it.  One that a failed run leaves behind is dropped when the next run
 * starts (ledger_apply).
 * ---------------------------------------------------------------- */

/*
 * BuildMoveToBuildSchema
 *		Move a candidate just built into medallion_build under its name for
 *		the run (in the worker, before it commits).  Its privileges become
 *		SELECT for readers only (the owners of the run's other models that
 *		may read the published table), not the published table's: readers of
 *		the published table must not see a candidate before it is published.
 */
void
BuildMoveToBuildSchema(Candidate *cand, int64 run_id, List *readers)
{
	Oid			nsp = get_namespace_oid("medallion_build", false);
	Relation	rel = table_open(cand->candidate, AccessExclusiveLock);
	Oid			owner = rel->rd_rel->relowner;
	ObjectAddresses *moved = new_object_addresses();
	Acl		   *acl = acldefault(OBJECT_TABLE, owner);
	ListCell   *lc;

	AlterTableNamespaceInternal(rel, RelationGetNamespace(rel), nsp, moved);
	free_object_addresses(moved);
	table_close(rel, NoLock);
	CommandCounterIncrement();
	RenameRelationInternal(cand->candidate,
						   psprintf("r" INT64_FORMAT "_%u", run_id, cand->published), true, false);
	CommandCounterIncrement();

	foreach(lc, readers)
	{
		AclItem		item;

		if (lfirst_oid(lc) == owner)
			continue;
		item.ai_grantee = lfirst_oid(lc);
		item.ai_grantor = owner;
		ACLITEM_SET_PRIVS_GOPTIONS(item, ACL_SELECT, ACL_NO_RIGHTS);
		acl = aclupdate(acl, &item, ACL_MODECHG_ADD, owner, DROP_RESTRICT);
	}
	set_acl(cand->candidate, PointerGetDatum(acl), false);
}

/*
 * BuildAdoptCandidate
 *		The Candidate of a table model that a worker built and committed:
 *		its indexes pair up with the published table's in creation order.
 */
Candidate *
BuildAdoptCandidate(ModelDef *model, List *columns, Oid candidate, int64 rows)
{
	Candidate  *cand = palloc0(sizeof(Candidate));
	Relation	pubrel;
	Relation	candrel;

	cand->model = model;
	cand->columns = columns;
	cand->published = BuildPublishedRelid(model);
	cand->candidate = candidate;
	cand->rows = rows;
	/* shared: workers building downstream models read it too */
	LockRelationOid(candidate, AccessShareLock);
	pubrel = table_open(cand->published, AccessShareLock);
	candrel = table_open(candidate, NoLock);
	cand->published_indexes = RelationGetIndexList(pubrel);
	cand->candidate_indexes = RelationGetIndexList(candrel);
	if (!same_physical_columns(pubrel, candrel) ||
		!same_indexes(cand->published_indexes, cand->candidate_indexes))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the candidate of model \"%s\" built by a worker does not match %s",
						model->name, qualified(model)),
				 errhint("Run the model again.")));
	table_close(candrel, NoLock);
	table_close(pubrel, NoLock);
	return cand;
}

/* ----------------------------------------------------------------
 * Batched extraction
 *
 * An incremental model reading a source with batch_size pulls its new rows
 * in a background worker, batch after batch, each committed into a staging
 * table (medallion_build.s_<published OID>) together with the position it
 * reached (medallion.extract_state).  Batches follow the watermark, and the
 * unique key among rows of equal watermark, so an interrupted extraction
 * resumes after the last committed row.  The run then builds the model's
 * delta from the staging table and drops it with the state, in its own
 * transaction: a failed run leaves the batches for the next one.
 * ---------------------------------------------------------------- */

/* The names of columns (List of ModelColumn *), as a List of char *. */
static List *
column_names(List *columns)
{
	List	   *names = NIL;
	ListCell   *lc;

	foreach(lc, columns)
		names = lappend(names, ((ModelColumn *) lfirst(lc))->name);
	return names;
}

/*
 * BuildColumnsChanged
 *		Do the model's columns differ from its published table's (so that a
 *		staging table shaped like the published table cannot hold them)?
 */
bool
BuildColumnsChanged(ModelDef *model, AnalyzedModel *analyzed)
{
	Oid			published = BuildPublishedRelid(model);
	Relation	rel;
	SchemaChange *change;

	if (!OidIsValid(published) || get_rel_relkind(published) != RELKIND_RELATION)
		return true;
	rel = table_open(published, AccessShareLock);
	change = schema_change(rel, analyzed->columns);
	table_close(rel, NoLock);
	return change->added != NIL || change->removed != NIL || change->retyped != NIL;
}

/*
 * BuildExtractStart
 *		Where a new extraction starts: the stored high-water mark minus the
 *		lookback, or NULL (everything) for a first build or a full refresh.
 */
char *
BuildExtractStart(ModelDef *model, AnalyzedModel *analyzed, bool full_refresh)
{
	char	   *previous = NULL;
	char	   *previous_max = NULL;
	char	   *type = query_column_type(analyzed->columns, model->watermark);

	if (full_refresh || !CatalogGetState(model->name, &previous, &previous_max) || previous == NULL)
		return NULL;
	if (model->lookback)
	{
		Datum		args[2] = {CStringGetTextDatum(previous), CStringGetTextDatum(model->lookback)};

		return sql_value(psprintf("SELECT ($1::%s OPERATOR(pg_catalog.-) $2::pg_catalog.interval)::%s::pg_catalog.text", type, type),
						 2, args, NULL);
	}
	return previous;
}

/*
 * BuildCreateStage
 *		A staging table with the published table's columns, owned by its
 *		owner, in medallion_build (committed by the worker that makes it).
 */
Oid
BuildCreateStage(ModelDef *model)
{
	Oid			published = BuildPublishedRelid(model);
	Relation	rel = table_open(published, AccessShareLock);
	Oid			stage = make_new_heap(published, rel->rd_rel->reltablespace, rel->rd_rel->relam,
									  RELPERSISTENCE_PERMANENT, AccessShareLock);
	Candidate	cand = {0};

	table_close(rel, AccessShareLock);
	CommandCounterIncrement();
	cand.candidate = stage;
	cand.published = published;
	BuildMoveToBuildSchema(&cand, -1, NIL);
	RenameRelationInternal(stage, psprintf("s_%u", published), true, false);
	CommandCounterIncrement();
	return stage;
}

/* Drop a staging table (applied, or starting over). */
void
BuildDropStage(Oid stage)
{
	if (OidIsValid(stage) && get_rel_name(stage) != NULL)
		BindDropRelation(stage);
}

/*
 * BuildExtractBatch
 *		Stage the next batch_size rows of sql (the model query) past *mark
 *		and *last_key, in (watermark, key) order, and move *mark and
 *		*last_key to the last one.  Runs as the model owner.  Returns the
 *		rows staged: fewer than batch_size means the extraction is done.
 */
int64
BuildExtractBatch(ModelDef *model, AnalyzedModel *analyzed, const char *sql, Oid stage,
				  char **mark, char **last_key, int batch_size)
{
	const char *key = linitial(model->unique_key);
	char	   *wm_type = query_column_type(analyzed->columns, model->watermark);
	char	   *key_type = query_column_type(analyzed->columns, key);
	const char *wm = quote_identifier(model->watermark);
	const char *k = quote_identifier(key);
	char	   *columns = name_csv(column_names(analyzed->columns));
	StringInfoData where;
	int64		rows;

	initStringInfo(&where);
	if (*mark != NULL && *last_key != NULL)
		appendStringInfo(&where, "WHERE q.%s OPERATOR(pg_catalog.>) %s::%s OR (q.%s OPERATOR(pg_catalog.=) %s::%s AND q.%s OPERATOR(pg_catalog.>) %s::%s)",
						 wm, quote_literal_cstr(*mark), wm_type, wm, quote_literal_cstr(*mark), wm_type,
						 k, quote_literal_cstr(*last_key), key_type);
	else if (*mark != NULL)
		appendStringInfo(&where, "WHERE q.%s OPERATOR(pg_catalog.>) %s::%s", wm, quote_literal_cstr(*mark), wm_type);
	else
		appendStringInfo(&where, "WHERE q.%s IS NOT NULL", wm);	/* the rest: BuildExtractUnmarked */

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute(psprintf("INSERT INTO %s (%s) SELECT %s FROM (%s) AS q %s ORDER BY q.%s, q.%s LIMIT %d",
							 relation_sql_name(stage), columns, columns, sql, where.data, wm, k, batch_size),
					false, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not stage a batch of model \"%s\"", model->name);
	rows = (int64) SPI_processed;
	SPI_finish();
	if (rows > 0)
	{
		/* the position reached: the last staged row, in batch order */
		MemoryContext callercxt = CurrentMemoryContext;
		char	   *value;

		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		if (SPI_execute(psprintf("SELECT %s::text, %s::text FROM %s WHERE %s IS NOT NULL "
								 "ORDER BY %s DESC, %s DESC NULLS LAST LIMIT 1",
								 wm, k, relation_sql_name(stage), wm, wm, k), false, 1) != SPI_OK_SELECT ||
			SPI_processed != 1)
			elog(ERROR, "could not read the position of the extraction of model \"%s\"", model->name);
		*mark = MemoryContextStrdup(callercxt, SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1));
		value = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
		*last_key = value ? MemoryContextStrdup(callercxt, value) : NULL;
		SPI_finish();
	}
	return rows;
}

/*
 * BuildExtractUnmarked
 *		Stage the rows of a whole extraction that have no watermark (keyset
 *		batches never reach them), skipping keys already staged.
 */
int64
BuildExtractUnmarked(ModelDef *model, AnalyzedModel *analyzed, const char *sql, Oid stage)
{
	const char *k = quote_identifier(linitial(model->unique_key));
	char	   *columns = name_csv(column_names(analyzed->columns));
	int64		rows;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute(psprintf("INSERT INTO %s (%s) SELECT %s FROM (%s) AS q WHERE q.%s IS NULL "
							 "AND NOT EXISTS (SELECT 1 FROM %s s WHERE s.%s OPERATOR(pg_catalog.=) q.%s)",
							 relation_sql_name(stage), columns, columns, sql,
							 quote_identifier(model->watermark), relation_sql_name(stage), k, k),
					false, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not stage the rows without a watermark of model \"%s\"", model->name);
	rows = (int64) SPI_processed;
	SPI_finish();
	return rows;
}
