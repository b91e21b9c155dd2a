/*-------------------------------------------------------------------------
 *
 * changes_logs.c
 *	  The lifecycle of the delta logs of maintained table models (issue
 *	  31): after each run (run_trim.c), the logs (and delta triggers) of
 *	  the tables no maintained model reads any more are dropped, and every
 *	  other log its models read is trimmed of the rows all the snapshots
 *	  its models' builds stored already see.  The
 *	  logs are made when a maintained model is defined
 *	  (ChangesCaptureMaintained, here; which tables can be captured:
 *	  ChangesMaintainUncaptured, changes_maintain.c); what they hold and
 *	  how they are written is changes_deltas.c.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "access/transam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_trigger.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "postmaster/bgworker.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "utils/backend_status.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"
#include "utils/xid8.h"

#include "analyze.h"
#include "bind.h"
#include "catalog.h"
#include "changes.h"
#include "medallion.h"
#include "relation.h"
#include "sqltext.h"

static void drop_unneeded(List *logs, List *needed);
static void stale_triggers(List **relids, List **names);

/*
 * ChangesCaptureMaintained
 *		When model (just defined, its inputs tracked) can be maintained,
 *		capture the deltas of the table it reads: only when its owner
 *		tracks it (ChangesTrackInputs tracked the tables the owner owns).
 *		maintain => 'incremental' fails when it cannot be maintained.
 */
void
ChangesCaptureMaintained(ModelDef *model, Query *query)
{
	MaintainPlan plan;
	const char *why = ChangesMaintainPlan(model, query, &plan);

	if (why == NULL)
		why = ChangesMaintainUncaptured(&plan, false);
	if (why != NULL)
	{
		if (model->maintain == MAINTAIN_INCREMENTAL)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("model \"%s\" cannot be maintained incrementally", model->name),
					 errdetail("Its query %s.", why),
					 errhint("Define it with maintain => 'auto' to rebuild it whole, or write its query in a maintained class (docs/incremental-maintenance.md).")));
		return;
	}
	ChangesCaptureTables(plan.tables);
}

/* Does plan read the table relid? */
static bool
reads_table(MaintainPlan *plan, Oid relid)
{
	ListCell   *lc;

	foreach(lc, plan->tables)
	{
		if (((MaintainTable *) lfirst(lc))->relid == relid)
			return true;
	}
	return false;
}

/*
 * ChangesCaptureReaders
 *		When model, just defined, is a view or ephemeral model, capture the
 *		deltas of the tables each maintained model reading it (through
 *		views, maintain not 'full') now reads under it, as defining that
 *		model would: a view redefined may read other tables or columns.
 *		When it is a table model, capture its table for the maintained
 *		models reading it (their columns, again: it may have been defined
 *		after them, or anew).  Those it cannot capture leave the reader
 *		rebuilt whole, and saying why.
 */
void
ChangesCaptureReaders(ModelDef *model)
{
	Oid			relid;
	ListCell   *lc;

	if (model->kind != MAT_VIEW && model->kind != MAT_EPHEMERAL && model->kind != MAT_TABLE)
		return;
	relid = model->kind == MAT_EPHEMERAL ? RelBinding(model->name) : RelPublished(model);
	if (!OidIsValid(relid))
		return;
	foreach(lc, CatalogListModels())
	{
		ModelDef   *reader = lfirst(lc);
		MaintainPlan plan;

		if (reader->kind != MAT_TABLE || reader->maintain == MAINTAIN_FULL ||
			!OidIsValid(RelBinding(reader->name)))
			continue;
		if (ChangesMaintainPlan(reader, BindLoad(reader)->query, &plan) != NULL ||
			!(list_member_oid(plan.views, relid) || reads_table(&plan, relid)) ||
			ChangesMaintainUncaptured(&plan, false) != NULL)
			continue;
		ChangesCaptureTables(plan.tables);
	}
}

/*
 * forget_captures
 *		Forget the capture states the last builds of models (names) stored:
 *		out of the maintained class now (a view they read made a
 *		security_barrier, row-level security enabled, a function made
 *		STABLE ...), they hold back no log's trimming, so their next
 *		maintained build, back in the class, must not start from what was
 *		trimmed; it rebuilds whole.  As the extension owner; a model whose
 *		state a run is writing now is left to that run.  A run building
 *		such a model from a state it read before the change (the function
 *		made STABLE takes no lock the run holds) still reads what that
 *		state has not seen: under the snapshot it pinned, from before the
 *		trim, when it finds its state unchanged after pinning it
 *		(ChangesMaintainStateKept); and what it does not see is kept for
 *		its next build (running_horizon).
 */
static void
forget_captures(List *models)
{
	CatalogSession session;
	Oid			argtypes[1] = {TEXTARRAYOID};
	Datum		values[1];

	if (models == NIL)
		return;
	values[0] = ListToTextArray(models);
	CatalogEnter(&session);
	if (SPI_execute_with_args("UPDATE medallion.build_state b SET deltas = NULL "
							  "WHERE b.model IN (SELECT s.model FROM medallion.build_state s "
							  "WHERE s.model OPERATOR(pg_catalog.=) ANY ($1) AND s.deltas IS NOT NULL "
							  "FOR UPDATE SKIP LOCKED)",
							  1, argtypes, values, NULL, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "could not forget the capture states of models out of the maintained class");
	CatalogLeave(&session);
}

/*
 * needed_logs
 *		The tables whose deltas some maintained model reads (OIDs), with,
 *		in *models, each one's model names (a List of char * per table).
 *		The models out of the maintained class now forget their capture
 *		states (forget_captures).
 */
static List *
needed_logs(List **models)
{
	List	   *relids = NIL;
	List	   *outside = NIL;
	ListCell   *lc;

	*models = NIL;
	foreach(lc, CatalogListModels())
	{
		ModelDef   *model = lfirst(lc);
		MaintainPlan plan;
		ListCell   *lt;

		if (model->kind != MAT_TABLE || model->maintain == MAINTAIN_FULL ||
			!OidIsValid(RelBinding(model->name)))
			continue;
		if (ChangesMaintainPlan(model, BindLoad(model)->query, &plan) != NULL)
		{
			outside = lappend(outside, model->name);
			continue;
		}
		foreach(lt, plan.tables)
		{
			Oid			relid = ((MaintainTable *) lfirst(lt))->relid;
			int			i;

			for (i = 0; i < list_length(relids); i++)
			{
				if (list_nth_oid(relids, i) == relid)
					break;
			}
			if (i == list_length(relids))
			{
				relids = lappend_oid(relids, relid);
				*models = lappend(*models, NIL);
			}
			list_nth_cell(*models, i)->ptr_value = lappend(list_nth(*models, i), model->name);
		}
	}
	forget_captures(outside);
	return relids;
}

/* The delta logs there are: the OIDs of the tables they log. */
static List *
existing_logs(void)
{
	Oid			nsp = get_namespace_oid(MEDALLION_DELTA_SCHEMA, true);
	List	   *tables = NIL;
	CatalogSession session;
	Oid			argtypes[1] = {OIDOID};
	Datum		values[1];
	int			ret;
	MemoryContext caller;

	if (!OidIsValid(nsp))
		return NIL;
	values[0] = ObjectIdGetDatum(nsp);
	caller = CurrentMemoryContext;
	CatalogEnter(&session);
	ret = SPI_execute_with_args("SELECT pg_catalog.substr(relname, 2)::pg_catalog.oid FROM pg_catalog.pg_class "
								"WHERE relnamespace = $1 AND relkind = 'r' AND relname ~ '^d[0-9]+$'",
								1, argtypes, values, NULL, true, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not list the delta logs: %s", SPI_result_code_string(ret));
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		bool		isnull;

		Oid			relid = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc,
														   1, &isnull));
		MemoryContext old = MemoryContextSwitchTo(caller);

		/* in the caller's context: SPI's goes when the session is left */
		tables = lappend_oid(tables, relid);
		MemoryContextSwitchTo(old);
	}
	CatalogLeave(&session);
	return tables;
}

/*
 * ChangesDropUnneededDeltas
 *		Drop the delta logs no maintained model reads (its model dropped,
 *		defined again or made 'full', its table dropped), and the delta
 *		triggers of their tables, so that writers no longer pay for them.
 *		A table some transaction is using keeps them until the next time:
 *		dropping a trigger locks the table out.
 */
void
ChangesDropUnneededDeltas(void)
{
	List	   *models;
	List	   *logs = existing_logs();

	if (logs == NIL)
		return;					/* nothing to drop: the models are not read */
	drop_unneeded(logs, needed_logs(&models));
}

/*
 * Drop the delta triggers on relid (and the tables below it) and its log,
 * as the extension owner; with wait false, only when the locks are free
 * at once (false when they were not).
 */
static bool
drop_capture(Oid relid, bool wait)
{
	Oid			log = ChangesDeltaLog(relid);
	bool		exists = get_rel_relkind(relid) == RELKIND_RELATION ||
		get_rel_relkind(relid) == RELKIND_PARTITIONED_TABLE;
	ListCell   *lt;

	if (exists)
	{
		bool		locked = true;

		foreach(lt, RelTree(relid))
		{
			if (wait)
				LockRelationOid(lfirst_oid(lt), AccessExclusiveLock);
			else
				locked = locked && ConditionalLockRelationOid(lfirst_oid(lt), AccessExclusiveLock);
		}
		if (!locked)
			return false;
		foreach(lt, RelTree(relid))
		{
			const char *triggers[] = {DELTAS_INSERT_TRIGGER, DELTAS_UPDATE_TRIGGER,
			DELTAS_DELETE_TRIGGER, DELTAS_ROW_TRIGGER};

			for (int t = 0; t < lengthof(triggers); t++)
			{
				if (OidIsValid(get_trigger_oid(lfirst_oid(lt), triggers[t], true)))
					SqlUtility(psprintf("DROP TRIGGER %s ON %s", triggers[t],
										SqlRelationName(lfirst_oid(lt))));
			}
		}
	}
	if (!OidIsValid(log))
		return true;
	if (wait)
		LockRelationOid(log, AccessExclusiveLock);
	else if (!ConditionalLockRelationOid(log, AccessExclusiveLock))
		return false;
	ChangesDropDeltaLog(relid);
	return true;
}

/* ChangesDropUnneededDeltas, the logs there are and those needed known. */
static void
drop_unneeded(List *logs, List *needed)
{
	ListCell   *lc;
	CatalogSession session;

	CatalogEnter(&session);
	foreach(lc, logs)
	{
		if (!list_member_oid(needed, lfirst_oid(lc)))
			(void) drop_capture(lfirst_oid(lc), false);
	}
	CatalogLeave(&session);
}

/*
 * ChangesUncaptureModelTable
 *		Before a model's table is distributed (Citus refuses a table with
 *		triggers), drop the capture its readers had of it: they are
 *		rebuilt whole from then on (ChangesMaintainReadsModel).
 */
void
ChangesUncaptureModelTable(Oid relid)
{
	CatalogSession session;

	if (!OidIsValid(relid) || !OidIsValid(ChangesDeltaLog(relid)))
		return;
	CatalogEnter(&session);
	(void) drop_capture(relid, true);
	CatalogLeave(&session);
}

/*
 * running_horizon
 *		The oldest transaction that a snapshot a run may store could miss,
 *		or that is still running (its rows no build has seen), as xid8: the
 *		xmin of a snapshot taken now (the oldest transaction running, in
 *		any database, prepared ones too), and of every snapshot a session
 *		or background worker of this database holds.  A run holds one from
 *		before its first build to its end (ChangesHoldHorizon), so each
 *		build snapshot it will store sees every older transaction, though
 *		that state is not yet committed for the trim to read.  A snapshot
 *		taken later has an xmin no older than the first, so a run that
 *		starts while the backends are read is not missed.  Every backend
 *		of the database counts (a replication connection to it runs SQL
 *		too) but medallion's own ledger writers and delta trimmers, and
 *		autovacuum's, which store no build snapshot.
 */
static Datum
running_horizon(void)
{
	TransactionId xid = GetLatestSnapshot()->xmin;
	FullTransactionId next = ReadNextFullTransactionId();
	uint32		epoch = EpochFromFullTransactionId(next);

	pgstat_clear_backend_activity_snapshot();
	for (int i = 1; i <= pgstat_fetch_stat_numbackends(); i++)
	{
		LocalPgBackendStatus *local = pgstat_fetch_stat_local_beentry(i);
		PgBackendStatus *status = &local->backendStatus;

		if (!TransactionIdIsNormal(local->backend_xmin) || status->st_databaseid != MyDatabaseId ||
			!TransactionIdPrecedes(local->backend_xmin, xid))
			continue;
		if (status->st_backendType == B_AUTOVAC_WORKER || status->st_backendType == B_AUTOVAC_LAUNCHER)
			continue;
		if (status->st_backendType == B_BG_WORKER)
		{
			const char *type = GetBackgroundWorkerTypeByPid(status->st_procpid);

			if (type != NULL && (strcmp(type, MEDALLION_LEDGER_WORKER) == 0 ||
								 strcmp(type, MEDALLION_TRIM_WORKER) == 0))
				continue;
		}
		xid = local->backend_xmin;
	}
	pgstat_clear_backend_activity_snapshot();

	/* within 2^31 of the next: of its epoch, or of the one before */
	if (xid > XidFromFullTransactionId(next))
		epoch--;
	return FullTransactionIdGetDatum(FullTransactionIdFromEpochAndXid(epoch, xid));
}

/*
 * The snapshot a run holds from before its first build to the end of its
 * transaction (ChangesHoldHorizon), on the transaction's resource owner:
 * the callback that lets it go runs at every end of a transaction that
 * has one.  With the subtransaction it belongs to: rolled back, that
 * subtransaction takes the run's builds with it, and the snapshot goes.
 */
static Snapshot held_horizon = NULL;
static SubTransactionId held_subid = InvalidSubTransactionId;

static void
horizon_subxact_callback(SubXactEvent event, SubTransactionId mySubid, SubTransactionId parentSubid,
						 void *arg)
{
	if (held_horizon == NULL || held_subid != mySubid)
		return;
	if (event == SUBXACT_EVENT_COMMIT_SUB)
		held_subid = parentSubid;
	else if (event == SUBXACT_EVENT_ABORT_SUB)
	{
		UnregisterSnapshotFromOwner(held_horizon, TopTransactionResourceOwner);
		held_horizon = NULL;
	}
}

static void
horizon_xact_callback(XactEvent event, void *arg)
{
	bool		held = held_horizon != NULL;

	/*
	 * Prepared, the transaction would hold no snapshot, and the states its
	 * builds stored would stay out of every trim's sight until it ends.
	 */
	if (event == XACT_EVENT_PRE_PREPARE && held)
		ereport(ERROR,
				(errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
				 errmsg("cannot prepare a transaction that ran models"),
				 errdetail("The change and delta logs keep what its builds did not see only while it holds a snapshot, which a prepared transaction does not."),
				 errhint("Commit it.")));
	/* after the commit has ended the transaction for others, or at its abort */
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT || event == XACT_EVENT_PREPARE ||
		event == XACT_EVENT_PARALLEL_COMMIT || event == XACT_EVENT_PARALLEL_ABORT)
	{
		if (held)
			UnregisterSnapshotFromOwner(held_horizon, TopTransactionResourceOwner);
		held_horizon = NULL;
	}
}

/*
 * ChangesHoldHorizon
 *		Hold a snapshot to the end of this transaction, from before the
 *		run's first build: every snapshot a build takes later sees at least
 *		what it sees, so this backend's xmin keeps the trims of the change
 *		log, the captured lows and the delta logs (running_horizon) from
 *		deleting the rows of a transaction those builds do not see, until
 *		the states they store are committed for the trims to read.  Without
 *		it, a model's first build, or a build whose state a trim did not
 *		count, stored a snapshot missing a writer whose rows were gone: the
 *		model was then reported up to date, or maintained, without them.
 *		A transaction that holds it cannot be prepared; a savepoint rolled
 *		back to before the run lets it go, unless to_top: a staged deploy's
 *		builds outlive the savepoint rolled back after them, and their
 *		snapshot is stored only when its transaction commits
 *		(medallion_stage_keep).
 */
void
ChangesHoldHorizon(bool to_top)
{
	static bool callback_registered = false;

	if (held_horizon != NULL)
		return;
	if (!callback_registered)
	{
		RegisterXactCallback(horizon_xact_callback, NULL);
		RegisterSubXactCallback(horizon_subxact_callback, NULL);
		callback_registered = true;
	}
	held_horizon = RegisterSnapshotOnOwner(GetLatestSnapshot(), TopTransactionResourceOwner);
	held_subid = to_top ? TopSubTransactionId : GetCurrentSubTransactionId();
}

PG_FUNCTION_INFO_V1(medallion_snapshot_horizon);

/*
 * medallion.snapshot_horizon() is running_horizon, for the trims written
 * in SQL (trim_changes, trim_lows).  Internal.
 */
Datum
medallion_snapshot_horizon(PG_FUNCTION_ARGS)
{
	return running_horizon();
}

/*
 * The oldest transaction whose log rows a build may still read: the
 * oldest xmin of the stored snapshots of the log's readers (names, $1),
 * of staged deploys and of every snapshot still held ($2,
 * running_horizon).  Every log row of an older transaction is seen by
 * every build to come.
 */
#define TRIM_HORIZON_SQL \
	"(SELECT pg_catalog.min(x) FROM (" \
	"SELECT $2 AS x " \
	"UNION ALL SELECT pg_catalog.pg_snapshot_xmin(b.snapshot) FROM medallion.build_state b " \
	"WHERE b.model = ANY ($1) AND b.deltas IS NOT NULL " \
	"UNION ALL SELECT s.snapshot_xmin FROM medallion.stages s WHERE s.state = 'staged') m)"

/*
 * ChangesLogsOrphaned
 *		Is there a delta log whose table is gone?  The trimmer drops it
 *		(ChangesTrimDeltas); a run that built no maintained model starts
 *		one only then.
 */
bool
ChangesLogsOrphaned(void)
{
	ListCell   *lc;

	foreach(lc, existing_logs())
	{
		if (get_rel_name(lfirst_oid(lc)) == NULL)
			return true;
	}
	return false;
}

/*
 * ChangesLogsIdle
 *		Would a trimmer find nothing to do?  Every delta log is empty (no
 *		block: a trimmer truncated it, and a writer's row extends a log
 *		before its transaction ends, so a log without a block has no row to
 *		trim, now or from any transaction in flight), none is of a table
 *		that is gone, and no delta trigger is left on a table out of its
 *		log's tree.  A run whose maintained builds read nothing new then
 *		starts no trimmer: a background worker's start costs more than a
 *		small run.  Each log is locked only while its size is read.
 */
bool
ChangesLogsIdle(void)
{
	List	   *relids;
	List	   *names;
	ListCell   *lc;

	foreach(lc, existing_logs())
	{
		Oid			log = ChangesDeltaLog(lfirst_oid(lc));
		Relation	rel;
		BlockNumber blocks;

		if (get_rel_name(lfirst_oid(lc)) == NULL || !OidIsValid(log))
			return false;
		rel = try_relation_open(log, AccessShareLock);
		if (rel == NULL)
			return false;
		blocks = RelationGetNumberOfBlocks(rel);
		relation_close(rel, AccessShareLock);
		if (blocks > 0)
			return false;
	}
	stale_triggers(&relids, &names);
	return relids == NIL;
}

/*
 * truncate_log
 *		Give log (of relid) new, empty storage when nothing reads or writes
 *		it now and every row in it is below the horizon: a DELETE would
 *		write every row's death and leave them all for VACUUM.  The lock is
 *		only tried, never waited for, and taken before the snapshot that
 *		checks the rows: no writer can add a row between the check and the
 *		truncation, and a build that reads the log afterwards needs none of
 *		the rows it held.  False when the log must be trimmed row by row.
 */
static bool
truncate_log(Oid relid, Oid log, Datum *values)
{
	Oid			argtypes[2] = {TEXTARRAYOID, XID8OID};
	char	   *name = psprintf("%s.%s", quote_identifier(MEDALLION_DELTA_SCHEMA),
								quote_identifier(get_rel_name(log)));
	bool		isnull;
	bool		all;

	if (!ConditionalLockRelationOid(log, AccessExclusiveLock))
		return false;
	if (SPI_execute_with_args(psprintf("SELECT NOT EXISTS (SELECT FROM %s l WHERE l." DELTA_XID_COLUMN
									   " OPERATOR(pg_catalog.>=) " TRIM_HORIZON_SQL ")", name),
							  2, argtypes, values, NULL, false, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "could not read the delta log of %s", SqlRelationName(relid));
	all = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	if (all)
		SqlUtility(psprintf("TRUNCATE ONLY %s", name));
	else
		UnlockRelationOid(log, AccessExclusiveLock);	/* writers wait for no DELETE */
	return all;
}

/* Does relid's trigger name still name a log that is neither relid's nor its tree's? */
static bool
still_stale(Oid relid, const char *name)
{
	Relation	rel = try_table_open(relid, NoLock);
	bool		stale = false;

	if (rel == NULL)
		return false;
	for (int i = 0; rel->trigdesc != NULL && i < rel->trigdesc->numtriggers; i++)
	{
		Trigger    *trigger = &rel->trigdesc->triggers[i];
		Oid			log;

		if (strcmp(trigger->tgname, name) != 0 || trigger->tgnargs < 1)
			continue;
		log = atooid(trigger->tgargs[0]);
		stale = log != ChangesDeltaLog(relid) && !ChangesDeltaLogAbove(relid, log);
	}
	table_close(rel, NoLock);
	return stale;
}

/*
 * stale_triggers
 *		The delta triggers left on tables that left the tree whose log they
 *		name (a partition detached: medallion_track_deltas logs nothing for
 *		them, but its writers still keep the transition tables): their
 *		tables in *relids, their names in *names.
 */
static void
stale_triggers(List **relids, List **names)
{
	Relation	tgrel = table_open(TriggerRelationId, AccessShareLock);
	Oid			function = CatalogFunctionOid("track_deltas");
	SysScanDesc scan = systable_beginscan(tgrel, InvalidOid, false, NULL, 0, NULL);
	HeapTuple	tup;

	*relids = NIL;
	*names = NIL;
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_trigger trigger = (Form_pg_trigger) GETSTRUCT(tup);
		bool		isnull;
		Datum		args;
		Oid			log;

		if (trigger->tgfoid != function || trigger->tgnargs < 1)
			continue;
		args = heap_getattr(tup, Anum_pg_trigger_tgargs, RelationGetDescr(tgrel), &isnull);
		if (isnull)
			continue;
		/* the first argument, the log's OID, ends at the first NUL */
		log = atooid(text_to_cstring((text *) DatumGetByteaPP(args)));
		if (log == ChangesDeltaLog(trigger->tgrelid) || ChangesDeltaLogAbove(trigger->tgrelid, log))
			continue;
		*relids = lappend_oid(*relids, trigger->tgrelid);
		*names = lappend(*names, pstrdup(NameStr(trigger->tgname)));
	}
	systable_endscan(scan);
	table_close(tgrel, AccessShareLock);
}

/*
 * drop_stale_triggers
 *		Drop the stale delta triggers (stale_triggers) when their tables
 *		can be locked at once; the others wait for the next trimmer.  As
 *		the extension owner.
 */
static void
drop_stale_triggers(void)
{
	List	   *relids;
	List	   *names;
	ListCell   *lr;
	ListCell   *ln;

	stale_triggers(&relids, &names);
	forboth(lr, relids, ln, names)
	{
		/* locked, looked at again: attached again, or its log made again, meanwhile */
		if (!ConditionalLockRelationOid(lfirst_oid(lr), AccessExclusiveLock))
			continue;
		if (still_stale(lfirst_oid(lr), lfirst(ln)))
			SqlUtility(psprintf("DROP TRIGGER %s ON %s", quote_identifier(lfirst(ln)),
								SqlRelationName(lfirst_oid(lr))));
		else
			UnlockRelationOid(lfirst_oid(lr), AccessExclusiveLock);
	}
}

/*
 * ChangesTrimDeltas
 *		Delete from each delta log one of the models built (names) reads
 *		the rows no build will read: those of transactions every stored
 *		snapshot of the models maintained from it sees (and every snapshot
 *		to come: older than the oldest transaction running); and drop the
 *		logs nobody needs (their table dropped).  A staged deploy's
 *		snapshots count too.  With truncate (the trimmer, after the run's
 *		commit, in a transaction of its own), a log none of whose rows is
 *		needed is truncated when nobody holds it, and a log somebody locks
 *		out is left to the next trimmer; a run never truncates, whose lock
 *		would stop the table's writers until it commits.
 */
void
ChangesTrimDeltas(List *built, bool truncate)
{
	List	   *models;
	List	   *needed;
	List	   *logs = existing_logs();
	ListCell   *lc;
	CatalogSession session;
	Oid			argtypes[2] = {TEXTARRAYOID, XID8OID};
	Datum		values[2];

	/* no log, nothing to trim: the models of a pipeline without any are not read */
	if (logs == NIL)
		return;

	/*
	 * The horizon first: a model whose first build commits after it (made,
	 * or back in the class, since) is not among the readers found next,
	 * but that build's snapshot is newer than the horizon's.
	 */
	values[1] = running_horizon();
	needed = needed_logs(&models);
	if (truncate)
	{
		CatalogEnter(&session);
		drop_stale_triggers();
		CatalogLeave(&session);
	}
	/* a log whose table is gone, or that nobody needs */
	foreach(lc, logs)
	{
		if (!list_member_oid(needed, lfirst_oid(lc)))
		{
			drop_unneeded(logs, needed);
			break;
		}
	}
	CatalogEnter(&session);
	foreach(lc, needed)
	{
		Oid			relid = lfirst_oid(lc);
		Oid			log = ChangesDeltaLog(relid);
		int			ret;
		List	   *readers = list_nth(models, foreach_current_index(lc));
		bool		moved = false;
		ListCell   *lr;

		if (!OidIsValid(log))
			continue;
		/* only a built reader's stored snapshot moved since the last trim */
		foreach(lr, readers)
		{
			ListCell   *lb;

			foreach(lb, built)
				moved |= strcmp(lfirst(lr), lfirst(lb)) == 0;
		}
		if (!moved)
			continue;
		values[0] = ListToTextArray(readers);
		if (truncate && truncate_log(relid, log, values))
			continue;
		/* the trimmer waits for nobody: DDL on the log would wait for it */
		if (truncate && !ConditionalLockRelationOid(log, RowExclusiveLock))
			continue;
		ret = SPI_execute_with_args(psprintf("DELETE FROM %s.%s l WHERE l." DELTA_XID_COLUMN
											 " OPERATOR(pg_catalog.<) " TRIM_HORIZON_SQL,
											 quote_identifier(MEDALLION_DELTA_SCHEMA), quote_identifier(get_rel_name(log))),
									2, argtypes, values, NULL, false, 0);
		if (ret != SPI_OK_DELETE)
			elog(ERROR, "could not trim the delta log of %s: %s", SqlRelationName(relid),
				 SPI_result_code_string(ret));
	}
	CatalogLeave(&session);
}
