/*-------------------------------------------------------------------------
 *
 * changes.c
 *	  Change tracking for change-aware runs: which tables changed since a
 *	  model's last build.
 *
 * A tracked table has a statement-level trigger, medallion_changes, AFTER
 * INSERT, UPDATE, DELETE and TRUNCATE, enabled ALWAYS (so that logical
 * replication's apply and session_replication_role = replica fire it
 * too), on the table and on each of its leaf partitions (a statement on a
 * partitioned table fires no statement trigger of its partitions, nor one
 * on a partition its parent's).  The trigger appends (table, writing
 * transaction's xid8) to medallion.changes, once per table and
 * transaction: a backend-local set remembers what this transaction has
 * logged, and is forgotten when a subtransaction aborts (the row it wrote
 * is gone with it) and at the end of the transaction.  The row is written
 * straight into the log's heap, with the rights of the extension rather
 * than the writer's, and without contention between writers (an insert
 * only; no index, no row updated).
 *
 * Each build of a model stores the snapshot it read with
 * (medallion.build_state); a change logged by a transaction that snapshot
 * does not see means the model's input changed.  What no trigger reports
 * (rewrites, partitions attached or detached, views and functions
 * redefined, triggers disabled) is compared through the inputs'
 * fingerprint stored with the build (medallion.input_state).  See
 * docs/change-aware-runs.md.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/transam.h"
#include "access/xact.h"
#include "catalog/dependency.h"
#include "catalog/objectaddress.h"
#include "catalog/pg_class.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_trigger.h"
#include "commands/extension.h"
#include "catalog/partition.h"
#include "catalog/pg_inherits.h"
#include "access/genam.h"
#include "catalog/indexing.h"
#include "commands/event_trigger.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/datum.h"
#include "utils/fmgroids.h"
#include "catalog/namespace.h"
#include "commands/trigger.h"
#include "fmgr.h"
#include "utils/fmgrprotos.h"
#include "utils/guc.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/tuplestore.h"
#include "utils/typcache.h"
#include "utils/xid8.h"

#include "analyze.h"
#include "bind.h"
#include "catalog.h"
#include "changes.h"
#include "relation.h"
#include "scale.h"
#include "scope.h"
#include "sqltext.h"
#include "subxact.h"

/* tables this transaction has logged (OIDs), in TopTransactionContext */
static List *logged = NIL;

static bool callbacks_registered = false;

static void
changes_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_PARALLEL_ABORT:
		case XACT_EVENT_PREPARE:
			logged = NIL;		/* its memory goes with TopTransactionContext */
			ChangesForgetCaptured();
			break;
		default:
			break;
	}
}

static void
changes_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
						 SubTransactionId parentSubid, void *arg)
{
	/* the rows logged in it are rolled back: log again when written again */
	if (event == SUBXACT_EVENT_ABORT_SUB)
	{
		logged = NIL;
		ChangesForgetCaptured();
	}
}

/*
 * ChangesInit
 *		Register the transaction callbacks that forget what was logged.
 */
void
ChangesInit(void)
{
	if (callbacks_registered)
		return;
	RegisterXactCallback(changes_xact_callback, NULL);
	RegisterSubXactCallback(changes_subxact_callback, NULL);
	callbacks_registered = true;
}

PG_FUNCTION_INFO_V1(medallion_track_changes);

/*
 * medallion_track_changes
 *		The statement trigger of tracked tables: log (table, xid8) once per
 *		table and transaction.
 */
Datum
medallion_track_changes(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	Oid			relid;
	Oid			nsp;
	Oid			logid;
	Relation	log;
	Datum		values[2];
	bool		nulls[2] = {false, false};
	MemoryContext old;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_AFTER(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("medallion.track_changes() runs only as an AFTER trigger"),
				 errhint("Track a table with medallion_track(table).")));
	relid = RelationGetRelid(trigdata->tg_relation);
	if (list_member_oid(logged, relid))
		return PointerGetDatum(NULL);

	nsp = get_namespace_oid("medallion", true);
	logid = OidIsValid(nsp) ? get_relname_relid("changes", nsp) : InvalidOid;
	if (!OidIsValid(logid))
		return PointerGetDatum(NULL);	/* the extension is being dropped */

	values[0] = ObjectIdGetDatum(relid);
	values[1] = FullTransactionIdGetDatum(GetTopFullTransactionId());
	log = table_open(logid, RowExclusiveLock);
	simple_heap_insert(log, heap_form_tuple(RelationGetDescr(log), values, nulls));
	table_close(log, RowExclusiveLock);

	old = MemoryContextSwitchTo(TopTransactionContext);
	logged = lappend_oid(logged, relid);
	MemoryContextSwitchTo(old);
	return PointerGetDatum(NULL);
}

/*
 * track_one
 *		Give relid the statement trigger medallion_changes, enabled ALWAYS
 *		(origin sessions, sessions in replica role, TRUNCATE by a
 *		subscription), and a table the row trigger medallion_changes_row,
 *		enabled REPLICA (a subscription's apply worker fires row triggers
 *		only): in a replica-role session both fire, and the first logs the
 *		transaction.  As the extension owner: the caller checked the
 *		table's owner.
 */
static void
track_one(Oid relid)
{
	char	   *name = SqlRelationName(relid);
	Oid			extension = get_extension_oid("medallion", false);

	ChangesAddTrigger(relid, name, CHANGES_TRIGGER,
				"AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON %s FOR EACH STATEMENT",
				"medallion.track_changes()", "A", "ALWAYS", extension);
	/* the apply worker of a subscription fires row triggers only: one enabled REPLICA */
	if (get_rel_relkind(relid) == RELKIND_RELATION)
		ChangesAddTrigger(relid, name, CHANGES_ROW_TRIGGER,
					"AFTER INSERT OR UPDATE OR DELETE ON %s FOR EACH ROW",
					"medallion.track_changes()", "R", "REPLICA", extension);
}

/*
 * track_tree
 *		Track relid and every table below it (tree_of), and the tables above
 *		it that owner owns (writes naming a parent fire the parent's
 *		statement trigger only).  The caller checked relid's owner.
 */
static void
track_tree(Oid relid, Oid owner)
{
	CatalogSession session;
	List	   *relids = RelTree(relid);
	ListCell   *lc;

	foreach(lc, RelAncestors(relid))
	{
		if (SqlRelationOwner(lfirst_oid(lc)) == owner)
			relids = lappend_oid(relids, lfirst_oid(lc));
	}
	CatalogEnter(&session);
	foreach(lc, relids)
		track_one(lfirst_oid(lc));
	CatalogLeave(&session);
}

/*
 * ChangesTrack
 *		Track the writes to relid (and its partitions) for role owner when
 *		owner owns it, compared exactly: a superuser model owner adds no
 *		trigger to another role's table (its owner decides, with
 *		medallion_track).  False when owner does not own it.
 */
bool
ChangesTrack(Oid relid, Oid owner)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Oid			relowner;

	if (!HeapTupleIsValid(tup))
		return false;
	relowner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
	ReleaseSysCache(tup);
	if (relowner != owner)
		return false;
	track_tree(relid, owner);
	return true;
}

PG_FUNCTION_INFO_V1(medallion_track);

/*
 * medallion_track(relation) tracks a table its caller owns.
 */
Datum
medallion_track(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	char		relkind = get_rel_relkind(relid);

	if (relkind == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid),
				 errhint("Name the table, as in medallion_track('schema.table').")));
	if (get_rel_persistence(relid) == RELPERSISTENCE_TEMP)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("cannot track temporary table \"%s\"", get_rel_name(relid)),
				 errdetail("Models never read temporary tables: there is nothing to track."),
				 errhint("Track the permanent tables models read.")));
	if (relkind != RELKIND_RELATION && relkind != RELKIND_PARTITIONED_TABLE)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("%s is not a table", SqlRelationName(relid)),
				 errdetail("Only the writes to tables and partitioned tables are tracked."),
				 errhint("Models reading views are tracked through the tables the views read.")));
	if (ScaleIsCitusTable(relid))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("%s is a Citus table: its writes are not tracked", SqlRelationName(relid)),
				 errdetail("Writes to its shards fire no trigger on the coordinator."),
				 errhint("Models reading it build at every run.")));
	/* the owner first: no one else may even make writers wait on the table */
	if (!pg_class_ownercheck(relid, GetUserId()))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("must be owner of table %s", SqlRelationName(relid)),
				 errhint("The table's owner tracks it: a trigger is added to the table.")));
	LockRelationOid(relid, ShareRowExclusiveLock);
	/* dropped while the lock was awaited */
	if (!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(relid)))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid)));
	track_tree(relid, SqlRelationOwner(relid));
	PG_RETURN_TEXT_P(cstring_to_text(psprintf("%s tracked", SqlRelationName(relid))));
}

/*
 * ChangesTrackInputs
 *		Track the tables the model reads that its owner owns (when it is
 *		defined); the others stay untracked until their owners track them.
 *		An incremental model's watermark column gets row capture.
 */
void
ChangesTrackInputs(ModelDef *model)
{
	CatalogSession session;
	MemoryContext callercxt = CurrentMemoryContext;
	List	   *relids = NIL;
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(model->name)};
	ListCell   *lc;

	CatalogEnter(&session);
	/* before ALTER EXTENSION UPDATE to 0.2.0 there is no tracking */
	if (SqlValue("SELECT pg_catalog.to_regprocedure('medallion.track_changes()')", 0, NULL, NULL) == NULL)
	{
		CatalogLeave(&session);
		return;
	}
	relids = CatalogScanRows(callercxt,
							 "SELECT DISTINCT c.oid FROM medallion.model_dependencies d "
							 "JOIN pg_catalog.pg_namespace n ON n.nspname = d.dep_schema "
							 "JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = d.dep_name "
							 "WHERE d.model = $1 AND d.kind <> 'model' AND c.relkind IN ('r', 'p')",
							 1, argtypes, values, "reading the inputs of a model", CatalogRowOid, NULL);
	CatalogLeave(&session);
	foreach(lc, relids)
	{
		Oid			relid = *(Oid *) lfirst(lc);

		if (!ScaleIsCitusTable(relid))
			(void) ChangesTrack(relid, ModelOwnerId(model));
	}
	if (model->kind == MAT_INCREMENTAL && model->watermark != NULL && CatalogHasCapture())
		ChangesCaptureWatermark(model);
}

/*
 * The table a CREATE TABLE ... PARTITION OF or INHERITS, an ATTACH
 * PARTITION or an ALTER TABLE ... INHERIT puts below another, or InvalidOid.
 */
static Oid
partition_added(Node *parsetree)
{
	if (IsA(parsetree, CreateStmt) && (((CreateStmt *) parsetree)->partbound != NULL ||
									   ((CreateStmt *) parsetree)->inhRelations != NIL))
		return RangeVarGetRelid(((CreateStmt *) parsetree)->relation, NoLock, true);
	if (IsA(parsetree, AlterTableStmt))
	{
		ListCell   *lc;

		foreach(lc, ((AlterTableStmt *) parsetree)->cmds)
		{
			AlterTableCmd *cmd = lfirst(lc);

			if (cmd->subtype == AT_AttachPartition)
				return RangeVarGetRelid(((PartitionCmd *) cmd->def)->name, NoLock, true);
			if (cmd->subtype == AT_AddInherit)
				return RangeVarGetRelid(((AlterTableStmt *) parsetree)->relation, NoLock, true);
		}
	}
	return InvalidOid;
}

/* SubxactWork: track_one of the partition *arg, and the row capture above it. */
static void
track_leaf(void *arg)
{
	Oid			leaf = *(Oid *) arg;
	List	   *columns = ChangesCapturedAbove(leaf);

	track_one(leaf);
	if (columns != NIL)
		ChangesCaptureColumns(leaf, columns);
}

PG_FUNCTION_INFO_V1(medallion_track_partitions);

/*
 * medallion_track_partitions
 *		Event trigger (ddl_command_end of CREATE TABLE and ALTER TABLE): a
 *		partition created in or attached to a tracked partitioned table is
 *		tracked too (each of its leaves), as the table's other partitions
 *		are; statement triggers are not inherited.  Its owner may create
 *		or attach it only as the owner of the partitioned table, who asked
 *		for tracking.  Anything else passes through untouched.
 */
Datum
medallion_track_partitions(PG_FUNCTION_ARGS)
{
	EventTriggerData *trigdata;
	Oid			added;
	List	   *leaves;
	ListCell   *lc;
	CatalogSession session;

	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("medallion.track_partitions() runs only as an event trigger")));
	trigdata = (EventTriggerData *) fcinfo->context;
	added = partition_added(trigdata->parsetree);
	if (!OidIsValid(added) || RelAncestors(added) == NIL)
		PG_RETURN_VOID();

	leaves = RelTree(added);
	CatalogEnter(&session);
	foreach(lc, leaves)
	{
		Oid			leaf = lfirst_oid(lc);
		ListCell   *la;
		bool		tracked_above = false;

		ErrorData  *edata;

		if (ScaleIsCitusTable(leaf) || (ChangesHasTracking(leaf) && ChangesCapturedAbove(leaf) == NIL))
			continue;
		foreach(la, RelAncestors(leaf))
			tracked_above = tracked_above || ChangesHasTracking(lfirst_oid(la));
		if (!tracked_above)
			continue;
		/* the DDL goes on whatever happens here: the partition is then untracked */
		edata = SubxactRun(track_leaf, &leaf, true);
		if (edata != NULL)
			ereport(WARNING,
					(errcode(edata->sqlerrcode),
					 errmsg("partition %s is not tracked: %s", SqlRelationName(leaf), edata->message),
					 errhint("Its owner tracks it with medallion_track(); until then the models reading it build at every run.")));
	}
	CatalogLeave(&session);
	PG_RETURN_VOID();
}

/*
 * ChangesUntrackUnread
 *		Remove the tracking medallion added (its triggers depend on the
 *		extension) from the tables no model reads any more, after a model
 *		is dropped or defined again: their writers no longer pay for it.
 *		A table some transaction is using keeps it until the next time:
 *		dropping a trigger locks the table out.
 */
void
ChangesUntrackUnread(void)
{
	CatalogSession session;
	MemoryContext callercxt = CurrentMemoryContext;
	List	   *relids = NIL;
	ListCell   *lc;

	CatalogEnter(&session);
	/* before ALTER EXTENSION UPDATE to 0.2.0 there is no tracking */
	if (SqlValue("SELECT pg_catalog.to_regprocedure('medallion.track_changes()')", 0, NULL, NULL) == NULL)
	{
		CatalogLeave(&session);
		return;
	}
	/*
	 * Only the tracked tables no model names (nor any partitioned table
	 * above them) can have lost their last reader: the inputs of every
	 * model, through views and partitions, are worked out only when there
	 * is one, so that defining models one after another stays cheap.
	 */
	relids = CatalogScanRows(callercxt, "WITH tracked AS ("
					 "  SELECT t.tgrelid FROM pg_trigger t "
					 "    JOIN pg_depend d ON d.classid = 'pg_trigger'::regclass AND d.objid = t.oid "
					 "     AND d.refclassid = 'pg_extension'::regclass AND d.deptype = 'a' "
					 "    JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'medallion' "
					 "   WHERE t.tgname = 'medallion_changes'), "
					 "unnamed AS ("
					 "  SELECT tr.tgrelid FROM tracked tr "
					 "   WHERE NOT EXISTS (SELECT FROM (SELECT tr.tgrelid AS relid "
					 "                                  UNION SELECT a.relid FROM pg_partition_ancestors(tr.tgrelid) a) r "
					 "                       JOIN pg_class c ON c.oid = r.relid "
					 "                       JOIN pg_namespace n ON n.oid = c.relnamespace "
					 "                       JOIN medallion.model_dependencies md "
					 "                         ON md.dep_schema = n.nspname AND md.dep_name = c.relname)), "
					 "inputs AS ("
					 "  SELECT DISTINCT i.relid FROM medallion.models m "
					 "  CROSS JOIN LATERAL medallion.model_inputs(m.name) i "
					 "   WHERE i.relid IS NOT NULL AND EXISTS (SELECT FROM unnamed)), "
					 "needed AS ("
					 "  SELECT i.relid FROM inputs i "
					 "  UNION SELECT a.relid FROM inputs i CROSS JOIN LATERAL pg_partition_ancestors(i.relid) a) "
					 "SELECT u.tgrelid FROM unnamed u "
					 " WHERE NOT EXISTS (SELECT FROM needed n WHERE n.relid = u.tgrelid)",
					 0, NULL, NULL, "reading the tracked tables", CatalogRowOid, NULL);
	foreach(lc, relids)
	{
		Oid			relid = *(Oid *) lfirst(lc);

		if (ConditionalLockRelationOid(relid, AccessExclusiveLock))
		{
			const char *triggers[] = {CHANGES_TRIGGER, CHANGES_ROW_TRIGGER, ROWS_INSERT_TRIGGER,
			ROWS_UPDATE_TRIGGER, ROWS_ROW_TRIGGER};

			for (int t = 0; t < lengthof(triggers); t++)
			{
				if (OidIsValid(get_trigger_oid(relid, triggers[t], true)))
					SqlUtility(psprintf("DROP TRIGGER %s ON %s", triggers[t], SqlRelationName(relid)));
			}
		}
	}
	CatalogLeave(&session);
}

/* ----------------------------------------------------------------
 * Does a model need building?
 * ---------------------------------------------------------------- */

/* the time functions: stable, but a model calling them must build again the next day */
static bool
is_time_function(Oid funcid)
{
	return funcid == F_NOW || funcid == F_STATEMENT_TIMESTAMP || funcid == F_TRANSACTION_TIMESTAMP ||
		funcid == F_CLOCK_TIMESTAMP || funcid == F_TIMEOFDAY;
}

static bool
reads_outside_check(Oid funcid, void *context)
{
	const char **why = (const char **) context;

	if (is_time_function(funcid))
		*why = psprintf("it calls %s()", get_func_name(funcid));
	else if (func_volatile(funcid) == PROVOLATILE_VOLATILE)
		*why = psprintf("it calls %s(), a volatile function", get_func_name(funcid));
	else if (funcid >= FirstNormalObjectId && func_volatile(funcid) != PROVOLATILE_IMMUTABLE)
		*why = psprintf("it calls %s(), which is not immutable and may read what is not tracked",
						get_func_name(funcid));
	return *why != NULL;
}

static bool
reads_outside_walker(Node *node, const char **why)
{
	if (node == NULL)
		return false;
	if (IsA(node, SQLValueFunction))
	{
		*why = "it reads the current time or user";
		return true;
	}
	if (IsA(node, NextValueExpr))
	{
		*why = "it calls nextval()";
		return true;
	}
	if (check_functions_in_node(node, reads_outside_check, (void *) why))
		return true;
	if (IsA(node, Query))
		return query_tree_walker((Query *) node, reads_outside_walker, (void *) why, 0);
	return expression_tree_walker(node, reads_outside_walker, (void *) why);
}

/*
 * reads_outside
 *		Why the query's result can change with nothing it reads changing
 *		(a volatile or time function, a function that is not a built-in and
 *		not immutable), or NULL.
 */
static const char *
reads_outside(Query *query)
{
	const char *why = NULL;

	(void) reads_outside_walker((Node *) query, &why);
	return why;
}

/*
 * probe_digest
 *		What a probe stores of its answer: a digest keyed by the secret
 *		medallion.probe_key (readable by the extension owner only), so that
 *		the catalog, which every admin reads, shows whether a foreign table
 *		changed but not what the model's owner read there (a count and a
 *		maximum of some column); unkeyed, a digest of a low-entropy value
 *		could be reversed by trying values.  In the caller's memory.
 */
static char *
probe_digest(Oid relid, const char *answer)
{
	CatalogSession session;
	MemoryContext callercxt = CurrentMemoryContext;
	Oid			argtypes[2] = {OIDOID, TEXTOID};
	Datum		values[2] = {ObjectIdGetDatum(relid), CStringGetTextDatum(answer)};
	char	   *digest;

	CatalogEnter(&session);
	if (CatalogQuery("SELECT pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to("
					 "k.key OPERATOR(pg_catalog.||) ':' OPERATOR(pg_catalog.||) $1::pg_catalog.text "
					 "OPERATOR(pg_catalog.||) ':' OPERATOR(pg_catalog.||) $2, 'UTF8')), 'hex') "
					 "FROM medallion.probe_key k",
					 2, argtypes, values, NULL, 0) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "could not read medallion.probe_key");
	digest = MemoryContextStrdup(callercxt,
								 SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1));
	CatalogLeave(&session);
	return digest;
}

/*
 * probe_inputs
 *		The probes of the foreign tables the model reads whose source asks
 *		for them (options => {"changes": "probe"}), as a jsonb object text
 *		keyed by their OIDs: a digest (probe_digest) of count(*) and
 *		max(freshness_column), one query each, which a wrapper that pushes
 *		aggregates down (postgres_fdw) answers on the remote side.  Run as
 *		the model's owner, whose user mapping the model's reads use too, as
 *		a run's queries are; so only a source whose owner acts for the
 *		model's owner and owns its schema counts (CatalogSourceActsFor):
 *		another admin's source over the owner's schema does not choose the
 *		column read with the owner's rights.
 */
static char *
probe_inputs(ModelDef *model)
{
	CatalogSession session;
	MemoryContext callercxt = CurrentMemoryContext;
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(model->name)};
	Oid			model_owner = ModelOwnerId(model);
	Oid			nsp;
	List	   *relids = NIL;
	List	   *columns = NIL;
	StringInfoData probes;
	ListCell   *lr;
	ListCell   *lc;

	/* before ALTER EXTENSION UPDATE to 0.3.0 there is no key: no probes (the model builds) */
	nsp = get_namespace_oid("medallion", true);
	if (!OidIsValid(nsp) || !OidIsValid(get_relname_relid("probe_key", nsp)) || !ChangesAnyProbes())
		return pstrdup("{}");
	CatalogEnter(&session);
	if (CatalogQuery("SELECT i.relid, s.freshness_column, s.owner::pg_catalog.text, n.nspname::pg_catalog.text "
					 "  FROM medallion.model_inputs($1) i "
					 "  JOIN pg_class c ON c.oid = i.relid AND c.relkind = 'f' "
					 "  JOIN pg_namespace n ON n.oid = c.relnamespace "
					 "  JOIN medallion.sources s ON s.local_schema = n.nspname "
					 "   AND (s.tables = '{}' OR c.relname::pg_catalog.text = ANY (s.tables)) "
					 " WHERE s.options->>'changes' = 'probe' "
					 "   AND EXISTS (SELECT FROM medallion.sources p WHERE p.options->>'changes' = 'probe') "
					 " ORDER BY i.relid, s.name",
					 1, argtypes, values, NULL, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read the foreign inputs of model \"%s\"", model->name);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		Oid			relid = DatumGetObjectId(SPI_getbinval(tup, desc, 1, &isnull));
		MemoryContext old;

		/* one probe per table: the first source that may choose it */
		if (list_member_oid(relids, relid) ||
			!CatalogSourceActsFor(SPI_getvalue(tup, desc, 3), SPI_getvalue(tup, desc, 4), model_owner))
			continue;
		old = MemoryContextSwitchTo(callercxt);
		relids = lappend_oid(relids, relid);
		columns = lappend(columns, pstrdup(SPI_getvalue(tup, desc, 2)));
		MemoryContextSwitchTo(old);
	}
	CatalogLeave(&session);

	initStringInfo(&probes);
	appendStringInfoChar(&probes, '{');
	forboth(lr, relids, lc, columns)
	{
		ModelScope	scope;
		BindRows	rows = {0};

		/*
		 * As the model's owner, restricted, through the trust check of
		 * every query a run executes (a policy on the foreign table may
		 * call code); the same text whatever the session's settings.  No
		 * timeout of its own: the build's, when there is one, goes on.
		 */
		ModelScopeEnter(&scope, model_owner, 0);
		ModelScopeIsoDates();
		(void) set_config_option("TimeZone", "UTC", PGC_USERSET, PGC_S_SESSION,
								 GUC_ACTION_SAVE, true, 0, false);
		(void) set_config_option("IntervalStyle", "postgres", PGC_USERSET, PGC_S_SESSION,
								 GUC_ACTION_SAVE, true, 0, false);
		(void) set_config_option("extra_float_digits", "3", PGC_USERSET, PGC_S_SESSION,
								 GUC_ACTION_SAVE, true, 0, false);
		(void) BindExecute(psprintf("SELECT pg_catalog.count(*)::pg_catalog.text OPERATOR(pg_catalog.||) ' rows, newest ' "
									"OPERATOR(pg_catalog.||) coalesce(pg_catalog.max(c.%s)::pg_catalog.text, 'none') "
									"FROM %s AS c",
									quote_identifier(lfirst(lc)), SqlRelationName(lfirst_oid(lr))),
						   0, NULL, NULL, NULL, NIL, NIL, BindRowsReceiver(&rows, 1, callercxt));
		ModelScopeLeave(&scope);
		SqlJsonField(&probes, psprintf("%u", lfirst_oid(lr)),
					 probe_digest(lfirst_oid(lr), ((char **) linitial(rows.rows))[0]), false);
	}
	appendStringInfoChar(&probes, '}');
	return probes.data;
}

/*
 * ChangesCheck
 *		Whether the model needs building, and why: its definition, its
 *		inputs (medallion.build_check), the functions it calls, the Citus
 *		tables it reads; for a view, its definition only.  Runs as the
 *		extension owner.
 */
ChangeCheck *
ChangesCheck(ModelDef *model, Query *query)
{
	ChangeCheck *check = palloc0(sizeof(ChangeCheck));
	MemoryContext callercxt = CurrentMemoryContext;
	CatalogSession session;
	Oid			argtypes[2] = {TEXTOID, TEXTOID};
	Datum		values[2] = {CStringGetTextDatum(model->name), (Datum) 0};
	/* a view holds no data: only its definition matters (build_check) */
	bool		data = model->kind != MAT_VIEW;
	/* ... unless its owner declared it deterministic */
	const char *outside = data && !model->deterministic ? reads_outside(query) : NULL;
	int			ret;

	values[1] = CStringGetTextDatum(data ? probe_inputs(model) : "{}");
	CatalogEnter(&session);
	ret = CatalogQuery("SELECT reason, since, inputs::text, snapshot::text "
					   "FROM medallion.build_check($1, $2::jsonb)", 2, argtypes, values, NULL, 0);
	if (ret != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "could not check model \"%s\": %s", model->name, SPI_result_code_string(ret));
	{
		HeapTuple	tup = SPI_tuptable->vals[0];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		char	   *reason = SPI_getvalue(tup, desc, 1);
		char	   *since = SPI_getvalue(tup, desc, 2);

		check->reason = reason ? MemoryContextStrdup(callercxt, reason) : NULL;
		check->since = since ? strtoll(since, NULL, 10) : 0;
		check->inputs = MemoryContextStrdup(callercxt, SPI_getvalue(tup, desc, 3));
		check->snapshot = MemoryContextStrdup(callercxt, SPI_getvalue(tup, desc, 4));
	}
	if (check->reason == NULL && outside != NULL)
		check->reason = MemoryContextStrdup(callercxt, outside);
	if (check->reason == NULL && data && ScaleCitusInstalled())
	{
		ret = SPI_execute_with_args("SELECT label, relid FROM medallion.model_inputs($1) WHERE relid IS NOT NULL",
									1, argtypes, values, NULL, false, 0);
		for (uint64 i = 0; ret == SPI_OK_SELECT && i < SPI_processed && check->reason == NULL; i++)
		{
			bool		isnull;
			Oid			relid = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i],
															   SPI_tuptable->tupdesc, 2, &isnull));

			if (ScaleIsCitusTable(relid))
				check->reason = MemoryContextStrdup(callercxt,
													psprintf("input %s untracked: a Citus table",
															 SPI_getvalue(SPI_tuptable->vals[i],
																		  SPI_tuptable->tupdesc, 1)));
		}
	}
	CatalogLeave(&session);
	return check;
}

/*
 * ChangesInputs
 *		What ChangesRecord stores of a build that was not asked whether it
 *		needs building (changed_only off, a full refresh): the state of the
 *		model's inputs (with the probes of its foreign tables) and a
 *		snapshot taken now, without what ChangesCheck works out besides
 *		(build_check's reason: the last build, the log of changes, the
 *		functions it calls), which nobody reads on such a run.  The
 *		snapshot is the transaction's own; ChangesRecord counts the run's
 *		own transaction as not seen, as it does build_check's.  Runs as the
 *		extension owner.
 */
ChangeCheck *
ChangesInputs(ModelDef *model)
{
	ChangeCheck *check = palloc0(sizeof(ChangeCheck));
	/* a view holds no data: no probes (build_check) */
	char	   *probes = model->kind != MAT_VIEW ? probe_inputs(model) : "{}";
	CatalogSession session;
	MemoryContext callercxt = CurrentMemoryContext;
	MemoryContext old;

	CatalogEnter(&session);
	old = MemoryContextSwitchTo(callercxt);		/* out of SPI's, gone at CatalogLeave */
	check->inputs = ChangesInputState(model->name, probes);
	check->snapshot = ChangesSnapshotNow();
	MemoryContextSwitchTo(old);
	CatalogLeave(&session);
	return check;
}

/* Has build_state the column 0.3.0 added (changed)? */
static bool
catalog_0_3_0(void)
{
	Oid			relid = get_relname_relid("build_state",
										  get_namespace_oid(MEDALLION_CATALOG_SCHEMA, false));

	return OidIsValid(relid) && get_attnum(relid, "changed") != InvalidAttrNumber;
}

/*
 * read_without_own
 *		The snapshot (pg_snapshot text) a build read with, except that the
 *		run's own transaction counts as not seen: the run may write the
 *		model's inputs after the build too (and its write before it is
 *		logged once), so the next run builds again.  The own transaction,
 *		when it has an ID and the snapshot sees it, joins the in-progress
 *		list.
 */
static char *
read_without_own(const char *snapshot)
{
	FullTransactionId own = GetTopFullTransactionIdIfAny();
	uint64		xmin;
	uint64		xmax;
	uint64		x;
	const char *list;
	char	   *end;
	StringInfoData out;
	bool		placed = false;

	if (!FullTransactionIdIsValid(own))
		return (char *) snapshot;
	x = U64FromFullTransactionId(own);
	xmin = strtou64(snapshot, &end, 10);
	if (*end != ':')
		elog(ERROR, "invalid snapshot \"%s\"", snapshot);
	xmax = strtou64(end + 1, &end, 10);
	if (*end != ':')
		elog(ERROR, "invalid snapshot \"%s\"", snapshot);
	list = end + 1;
	if (x >= xmax)
		return (char *) snapshot;	/* given its ID after the snapshot */
	initStringInfo(&out);
	appendStringInfo(&out, UINT64_FORMAT ":" UINT64_FORMAT ":", Min(xmin, x), xmax);
	while (*list != '\0')
	{
		uint64		xip = strtou64(list, &end, 10);

		if (xip == x)
			return (char *) snapshot;	/* not seen already */
		if (!placed && x < xip)
		{
			appendStringInfo(&out, UINT64_FORMAT ",", x);
			placed = true;
		}
		appendStringInfo(&out, UINT64_FORMAT ",", xip);
		list = *end == ',' ? end + 1 : end;
		if (end == list && *list != '\0')
			elog(ERROR, "invalid snapshot \"%s\"", snapshot);
	}
	if (!placed)
		appendStringInfo(&out, UINT64_FORMAT ",", x);
	out.data[--out.len] = '\0';	/* the last comma */
	return out.data;
}

/*
 * ChangesRecord
 *		Store what the model's build read with (in the run's transaction:
 *		undone with the build).  changed: what it publishes may differ, so
 *		models reading it build too.  One kept plan (CatalogQuery), not a
 *		function call: a run records every model it builds.
 */
void
ChangesRecord(ModelDef *model, int64 run_id, ChangeCheck *check, bool changed)
{
	CatalogSession session;
	Oid			argtypes[5] = {TEXTOID, INT8OID, TEXTOID, TEXTOID, BOOLOID};
	Datum		values[5];
	int			ret;

	values[0] = CStringGetTextDatum(model->name);
	values[1] = Int64GetDatum(run_id);
	values[2] = CStringGetTextDatum(read_without_own(check->snapshot));
	values[3] = CStringGetTextDatum(check->inputs);
	values[4] = BoolGetDatum(changed);
	CatalogEnter(&session);
	if (!catalog_0_3_0())
	{
		/* the 0.2.0 catalog, until ALTER EXTENSION medallion UPDATE */
		ret = CatalogQuery("SELECT medallion.build_record($1, $2, $3::pg_catalog.pg_snapshot, "
						   "$4::pg_catalog.jsonb, $5)", 5, argtypes, values, NULL, 0);
		if (ret != SPI_OK_SELECT)
			elog(ERROR, "could not record the build of model \"%s\": %s", model->name,
				 SPI_result_code_string(ret));
		CatalogLeave(&session);
		return;
	}
	ret = CatalogQuery("INSERT INTO medallion.build_state AS b (model, run_id, version, snapshot, inputs) "
					   "SELECT m.name, $2, m.version, $3::pg_catalog.pg_snapshot, $4::pg_catalog.jsonb "
					   "  FROM medallion.models m WHERE m.name OPERATOR(pg_catalog.=) $1 "
					   "ON CONFLICT (model) DO UPDATE "
					   "   SET run_id = CASE WHEN $5 THEN excluded.run_id ELSE b.run_id END, "
					   "       version = excluded.version, snapshot = excluded.snapshot, "
					   "       inputs = excluded.inputs, built_at = pg_catalog.now(), changed = NULL",
					   5, argtypes, values, NULL, 0);
	if (ret != SPI_OK_INSERT)
		elog(ERROR, "could not record the build of model \"%s\": %s", model->name,
			 SPI_result_code_string(ret));
	/* the delta capture a maintained model's next build may start from (or none) */
	if (check->deltas != NULL || CatalogHasDeltas())
	{
		char		nulls[2] = {' ', check->deltas ? ' ' : 'n'};

		values[1] = check->deltas ? CStringGetTextDatum(check->deltas) : (Datum) 0;
		argtypes[1] = TEXTOID;
		ret = SPI_execute_with_args("UPDATE medallion.build_state SET deltas = $2 WHERE model = $1",
									2, argtypes, values, nulls, false, 0);
		if (ret != SPI_OK_UPDATE)
			elog(ERROR, "could not record the delta capture of model \"%s\": %s", model->name,
				 SPI_result_code_string(ret));
	}
	CatalogLeave(&session);
}

/*
 * ChangesTrim
 *		Drop what no stored build snapshot needs from the change log, unless
 *		another run is doing it.  Not under a transaction snapshot: the
 *		states it would read are those of when the transaction began, and a
 *		run that committed one since no longer holds its snapshot back
 *		(medallion.snapshot_horizon); the run's trimmer, reading committed,
 *		trims after it (RunTrimDeltas).
 */
void
ChangesTrim(void)
{
	CatalogSession session;
	int			ret;

	if (IsolationUsesXactSnapshot() || !CatalogLockTrim(false, false))
		return;					/* another run trims */
	CatalogEnter(&session);
	ret = CatalogQuery("SELECT medallion.trim_changes()", 0, NULL, NULL, NULL, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not trim medallion.changes: %s", SPI_result_code_string(ret));
	if (CatalogHasCapture())
	{
		ret = CatalogQuery("SELECT medallion.trim_lows()", 0, NULL, NULL, NULL, 0);
		if (ret != SPI_OK_SELECT)
			elog(ERROR, "could not trim medallion.written_lows: %s", SPI_result_code_string(ret));
	}
	CatalogLeave(&session);
}

/*
 * ChangesTrimDue
 *		Does the change log, or the captured lows, hold more rows than a
 *		run trims at (trim_changes, trim_lows)?  A run under a transaction
 *		snapshot, which trims neither (ChangesTrim), has its trimmer do it.
 */
bool
ChangesTrimDue(void)
{
#define OVER_10000(table) \
	"(SELECT pg_catalog.count(*) FROM (SELECT FROM " table " LIMIT 10001) c) OPERATOR(pg_catalog.>) 10000"
	List	   *rows;

	rows = CatalogReadRows(CatalogHasCapture() ?
						   "SELECT " OVER_10000("medallion.changes") " OR " OVER_10000("medallion.written_lows") :
						   "SELECT " OVER_10000("medallion.changes"),
						   0, NULL, NULL, "count the change log", CatalogRowText, NULL);
#undef OVER_10000
	return rows != NIL && linitial(rows) != NULL && strcmp(linitial(rows), "t") == 0;
}

/*
 * ChangesForget
 *		Forget the model's last build (its table was rolled back, so what
 *		it publishes is no longer what that build made): the next run
 *		builds it, and its readers after it.
 */
void
ChangesForget(ModelDef *model)
{
	CatalogSession session;
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(model->name)};
	int			ret;

	CatalogEnter(&session);
	/* before ALTER EXTENSION UPDATE to 0.2.0 there is no build state */
	if (SqlValue("SELECT pg_catalog.to_regclass('medallion.build_state')", 0, NULL, NULL) != NULL)
	{
		ret = SPI_execute_with_args("DELETE FROM medallion.build_state WHERE model = $1",
									1, argtypes, values, NULL, false, 0);
		if (ret != SPI_OK_DELETE)
			elog(ERROR, "could not forget the build of model \"%s\": %s", model->name,
				 SPI_result_code_string(ret));
	}
	CatalogLeave(&session);
}
