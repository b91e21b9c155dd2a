/*-------------------------------------------------------------------------
 *
 * run_trim.c
 *	  The trim of the delta logs after a run (issue 31): a background
 *	  worker of its own waits for the run's transaction to end, then
 *	  removes from the logs its models read the rows no build will read,
 *	  in a transaction of its own.
 *
 * Trimming inside the run made the run pay for it: a DELETE reading the
 * whole log, in every run that built one of its readers, and writing the
 * death of every row it removed (at half a table's rows changed, up to
 * the full build's own time again).  The trimmer runs after the commit,
 * when the run's models' new stored snapshots are visible, so it removes
 * what this run's builds have read; and, outside the run, it may
 * truncate a log nobody holds (changes_logs.c: truncate_log), which the
 * run could not do without stopping the table's writers until its end.
 * When no worker slot is free (or this transaction has a trimmer already:
 * one waits per transaction), the run trims as before, row by row.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "miscadmin.h"
#include "postmaster/bgworker.h"
#include "storage/dsm.h"
#include "storage/ipc.h"
#include "storage/lmgr.h"
#include "utils/guc.h"
#include "utils/snapmgr.h"

#include "catalog.h"
#include "changes.h"
#include "medallion.h"
#include "run.h"
#include "run_workers.h"


/* What a trimmer is given: whom to wait for, and the models built. */
typedef struct TrimShared
{
	Oid			database;
	Oid			role;
	TransactionId run_xid;		/* the run's top-level transaction */
	bool		changes;		/* the change log and lows too (ChangesTrim) */
	int			nmodels;
	char		names[FLEXIBLE_ARRAY_MEMBER];	/* nmodels names, each ended by NUL */
} TrimShared;

PGDLLEXPORT void medallion_trim_main(Datum arg);

/* The transaction whose run started a trimmer: one is enough for it. */
static TransactionId trimmer_xid = InvalidTransactionId;

/*
 * trim_after_commit
 *		Start a trimmer for the delta logs that the models built (names)
 *		read, and with changes for the change log and the captured lows,
 *		to trim them once this transaction has ended.  False when none
 *		could be started: the caller trims in its own transaction.
 */
static bool
trim_after_commit(List *built, bool changes)
{
	TransactionId xid = GetTopTransactionId();
	Size		len = 0;
	dsm_segment *seg;
	TrimShared *shared;
	BackgroundWorkerHandle *handle;
	char	   *p;
	ListCell   *lc;

	if (TransactionIdEquals(xid, trimmer_xid))
		return false;
	foreach(lc, built)
		len += strlen(lfirst(lc)) + 1;
	seg = dsm_create(offsetof(TrimShared, names) + len, 0);
	shared = dsm_segment_address(seg);
	shared->database = MyDatabaseId;
	shared->role = CatalogExtensionOwner();
	shared->run_xid = xid;
	shared->changes = changes;
	shared->nmodels = list_length(built);
	p = shared->names;
	foreach(lc, built)
	{
		strcpy(p, lfirst(lc));
		p += strlen(p) + 1;
	}
	/* the run may be over before the worker maps it: the worker unpins */
	dsm_pin_segment(seg);
	if (!WorkerRegister("medallion_trim_main", MEDALLION_TRIM_WORKER, MEDALLION_TRIM_WORKER, seg, &handle))
	{
		dsm_unpin_segment(dsm_segment_handle(seg));
		dsm_detach(seg);
		return false;
	}
	dsm_detach(seg);
	trimmer_xid = xid;
	return true;
}

/*
 * RunTrimDeltas
 *		Trim the delta logs read by the models run built: only their
 *		stored snapshots moved.  Trimming another log would read it whole
 *		to delete nothing (100 ms for 1M rows, in a run with nothing new).
 *		A trimmer does it after the commit; the run itself only when none
 *		can start.
 */
void
RunTrimDeltas(Run *run)
{
	List	   *built = NIL;
	ListCell   *lc;
	bool		changes;

	if (!run->tracking)
		return;

	/*
	 * A run under a transaction snapshot trimmed neither the change log nor
	 * the lows (ChangesTrim): its trimmer does, reading committed.
	 */
	changes = IsolationUsesXactSnapshot() && ChangesTrimDue();
	foreach(lc, CatalogHasDeltas() ? run->steps : NIL)	/* without, no logs */
	{
		RunStep    *step = lfirst(lc);

		if (step->status == STEP_SUCCESS)
			built = lappend(built, step->model->name);
	}
	/*
	 * Only a maintained model's build moves the horizon of a log (its
	 * stored snapshot): a run of others starts no trimmer, whose start
	 * and reading of every maintained model's plan cost more than a
	 * small run, unless a log's table is gone (the trimmer drops the
	 * log).  A model that stopped being maintained leaves its logs to
	 * the next maintained build's trimmer.  Nor does a run when every log
	 * is empty (ChangesLogsIdle): forced runs of maintained models over
	 * tables nobody wrote started a trimmer each, which took as much CPU
	 * as the runs themselves (bench/README.md, run_overhead.sh).
	 */
	if (built == NIL || (ChangesMaintainedNames(built) == NIL && !ChangesLogsOrphaned()) ||
		ChangesLogsIdle())
	{
		if (changes)
			(void) trim_after_commit(NIL, true);
		return;
	}
	if (trim_after_commit(built, changes))
		return;
	/* or another run trims; not under a transaction snapshot (ChangesTrim) */
	if (!IsolationUsesXactSnapshot() && CatalogLockTrim(true, false))
		ChangesTrimDeltas(built, false);
}

/* Attempts of a trimmer before it leaves the logs to the next run's. */
#define TRIM_ATTEMPTS 3
#define TRIM_RETRY_MS 200
#define TRIM_LOCK_TIMEOUT "100ms"
#define TRIM_TURN_TIMEOUT "10s"

/*
 * trim_once
 *		One attempt, in a transaction of its own; the error's message when
 *		it failed (a model or table dropped while it read them: nothing
 *		is locked for it as for a run), NULL when it trimmed.
 */
static char *
trim_once(List *built, bool changes)
{
	MemoryContext caller = CurrentMemoryContext;
	char	   *volatile failure = NULL;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PG_TRY();
	{
		/*
		 * The extension may have gone meanwhile.  Another trimmer is waited
		 * for, TRIM_TURN_TIMEOUT at most: trimmers that pile up behind a
		 * slow one would hold background worker slots.  No snapshot is
		 * taken before: it would hold back VACUUM while this one waits.
		 */
		SetConfigOption("lock_timeout", TRIM_TURN_TIMEOUT, PGC_SUSET, PGC_S_OVERRIDE);
		if (CatalogHasDeltas() && CatalogLockTrim(true, true))
		{
			/*
			 * Then whatever it waits for (a definition's locks on a model's
			 * tables or binding) it gives up before the deadlock check could
			 * pick the other session: a trim can wait for the next run.
			 */
			SetConfigOption("lock_timeout", TRIM_LOCK_TIMEOUT, PGC_SUSET, PGC_S_OVERRIDE);
			PushActiveSnapshot(GetTransactionSnapshot());
			if (built != NIL)
				ChangesTrimDeltas(built, true);
			if (changes)
				ChangesTrim();
			PopActiveSnapshot();
		}
		CommitTransactionCommand();
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(caller);
		edata = CopyErrorData();
		FlushErrorState();
		AbortCurrentTransaction();
		failure = edata->message;
	}
	PG_END_TRY();
	return failure;
}

/*
 * medallion_trim_main
 *		Entry point of a trimmer: wait for the run's transaction to end
 *		(committed or not, the stored snapshots then say what may go), and
 *		trim, in read committed whatever the database's default: each
 *		statement must see what committed before it.  An attempt that
 *		fails trims nothing (its transaction rolls back); after the last,
 *		the logs wait for the next run's trimmer.
 */
void
medallion_trim_main(Datum arg)
{
	dsm_segment *seg;
	TrimShared *shared = WorkerAttach(arg, &seg, MEDALLION_TRIM_WORKER);
	List	   *built = NIL;
	char	   *p = shared->names;
	char	   *failure = NULL;

	dsm_unpin_segment(dsm_segment_handle(seg));
	BackgroundWorkerInitializeConnectionByOid(shared->database, shared->role, 0);
	SetConfigOption("default_transaction_isolation", "read committed", PGC_SUSET, PGC_S_OVERRIDE);
	for (int i = 0; i < shared->nmodels; i++)
	{
		built = lappend(built, pstrdup(p));
		p += strlen(p) + 1;
	}

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	XactLockTableWait(shared->run_xid, NULL, NULL, XLTW_None);
	CommitTransactionCommand();

	for (int attempt = 1; attempt <= TRIM_ATTEMPTS; attempt++)
	{
		failure = trim_once(built, shared->changes);
		if (failure == NULL)
			break;
		pg_usleep(TRIM_RETRY_MS * 1000L);
	}
	if (failure != NULL)
		ereport(LOG,
				(errmsg("the delta logs were not trimmed: %s", failure),
				 errdetail("The trimmer of the next run that builds their models trims them.")));
	dsm_detach(seg);
	proc_exit(0);
}
