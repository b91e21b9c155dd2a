/*-------------------------------------------------------------------------
 *
 * run_workers.c
 *	  Build workers: dynamic background workers that build the independent
 *	  table models of a run (medallion_run threads => n), or stage a
 *	  batched extraction (extract.c), each in transactions of its own; and
 *	  the background worker plumbing the ledger writer uses too.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/dsm.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lmgr.h"
#include "storage/lock.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/ruleutils.h"
#include "utils/snapmgr.h"
#include "utils/timeout.h"

#include "analyze.h"
#include "bind.h"
#include "build.h"
#include "extract.h"
#include "catalog.h"
#include "model.h"
#include "run_workers.h"

#define WORKER_MESSAGE_SIZE 1024



/*
 * WorkerAttach
 *		First steps of a worker: signals, and the DSM segment whose handle
 *		is arg (name is for messages and pg_stat_activity).  Returns the
 *		segment's address.
 */
void *
WorkerAttach(Datum arg, dsm_segment **seg, const char *name)
{
	void	   *address;

	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	*seg = dsm_attach(DatumGetUInt32(arg));
	if (*seg == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("could not map the segment of the %s", name)));
	address = dsm_segment_address(*seg);
	pgstat_report_appname(name);
	return address;
}

/*
 * WorkerRegister
 *		Register a dynamic worker of type running function with the segment
 *		seg, notifying this backend when it stops.  Returns false when no worker
 *		slot is free.
 */
bool
WorkerRegister(const char *function, const char *type, const char *name, dsm_segment *seg,
			 BackgroundWorkerHandle **handle)
{
	BackgroundWorker worker;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	strlcpy(worker.bgw_library_name, "medallion", BGW_MAXLEN);
	strlcpy(worker.bgw_function_name, function, BGW_MAXLEN);
	strlcpy(worker.bgw_name, name, BGW_MAXLEN);
	strlcpy(worker.bgw_type, type, BGW_MAXLEN);
	worker.bgw_main_arg = UInt32GetDatum(dsm_segment_handle(seg));
	worker.bgw_notify_pid = MyProcPid;
	return RegisterDynamicBackgroundWorker(&worker, handle);
}




/* ----------------------------------------------------------------
 * Build workers (medallion_run threads => n)
 *
 * A build worker connects as the role that started the run, builds one
 * table model's candidate as the model owner (as the run itself would),
 * moves it to medallion_build and commits it; the run adopts, tests and
 * publishes it.  The DSM segment carries the model, the candidates of the
 * run that it must read instead of published tables, and the outcome.  A
 * worker's error comes back with its SQLSTATE and message; a model whose
 * columns change (the run must alter the table in its own transaction) is
 * handed back.
 * ---------------------------------------------------------------- */

int			worker_max_workers = WORKER_DEFAULT_MAX_WORKERS;

typedef struct BuildShared
{
	Oid			database;
	Oid			role;
	int64		run_id;
	char		model[NAMEDATALEN];
	int			version;		/* of the model's definition the run read */
	int			batch_size;		/* > 0: a batched extraction, not a build */
	bool		restart;		/* extraction: drop what is staged, start over */
	bool		has_start;		/* extraction: start past start (else from the start) */
	char		start[256];
	int			timeout_ms;		/* the model's statement_timeout, 0 for none */
	int			isolation;		/* the run's XactIsoLevel */
	char		snapshot[64];	/* its exported snapshot (repeatable read), or "" */
	int			nredirects;
	Oid			from[WORKER_MAX_REDIRECTS];
	Oid			to[WORKER_MAX_REDIRECTS];
	int			nreaders;
	Oid			readers[WORKER_MAX_READERS];
	pid_t		leader_pid;		/* the run's backend */
	/* set by the worker */
	bool		connected;
	bool		finished;
	bool		succeeded;
	bool		timed_out;
	Oid			candidate;
	int64		rows;
	int			sqlerrcode;
	char		message[WORKER_MESSAGE_SIZE];
	/* the caller's settings (SerializeGUCState) */
	char		gucs[FLEXIBLE_ARRAY_MEMBER];
} BuildShared;

struct WorkerBuild
{
	dsm_segment *seg;
	BuildShared *shared;
	BackgroundWorkerHandle *handle;
};

PGDLLEXPORT void medallion_build_main(Datum arg);
static WorkerBuild *start_build(int64 run_id, const char *model, int version, int timeout_ms,
								const char *snapshot, List *from, List *to, List *readers,
								int batch_size, const char *start, bool restart);


/*
 * WorkerInit
 *		Define this module's configuration parameters.
 */
void
WorkerInit(void)
{
	DefineCustomIntVariable("medallion.max_workers",
							"Sets the most background workers one run builds models in.",
							"medallion_run(threads => n) uses at most this many; max_worker_processes caps them all.",
							&worker_max_workers, WORKER_DEFAULT_MAX_WORKERS, 1, WORKER_MAX_MAX_WORKERS, PGC_USERSET, 0,
							NULL, NULL, NULL);
}

static void
build_in_worker(BuildShared *shared)
{
	ModelDef   *model = CatalogGetModel(shared->model, false);
	List	   *from = NIL;
	List	   *to = NIL;
	List	   *readers = NIL;
	AnalyzedModel *bound;
	Candidate  *cand;
	ModelScope	scope;

	/* redefined since the run started: the run builds what it read */
	if (model->version != shared->version)
		ereport(ERROR,
				(errcode(ERRCODE_MEDALLION_RUN_ITSELF),
				 errmsg("model \"%s\" was redefined during the run: the run builds it itself",
						model->name)));
	for (int i = 0; i < shared->nredirects; i++)
	{
		from = lappend_oid(from, shared->from[i]);
		to = lappend_oid(to, shared->to[i]);
	}
	for (int i = 0; i < shared->nreaders; i++)
		readers = lappend_oid(readers, shared->readers[i]);
	ModelScopeEnter(&scope, ModelOwnerId(model), shared->timeout_ms);
	/*
	 * The run holds the model's binding; a redefinition may be queued
	 * behind it, and this worker behind the redefinition: the run, which
	 * waits for this worker, would never be woken.  Hand the model back.
	 */
	if (OidIsValid(BindRelid(model->name)) &&
		!ConditionalLockRelationOid(BindRelid(model->name), AccessShareLock))
		ereport(ERROR,
				(errcode(ERRCODE_MEDALLION_RUN_ITSELF),
				 errmsg("model \"%s\" is being redefined: the run builds it itself", model->name)));
	bound = BindLoad(model);
	/* as in the run: constants go to remote servers in ISO style */
	if (ExtractForeignSchemas(bound->query) != NIL)
		ModelScopeIsoDates();
	cand = BuildTableCandidate(model, bound, psprintf("SELECT * FROM %s", BindRelationSql(model->name)),
							   from, to, false);
	ModelScopeLeave(&scope);
	BuildMoveToBuildSchema(cand, shared->run_id, readers);
	shared->candidate = cand->candidate;
	shared->rows = cand->rows;
}



/*
 * medallion_build_main
 *		Entry point of a build worker.
 */
void
medallion_build_main(Datum arg)
{
	dsm_segment *seg;
	BuildShared *shared = WorkerAttach(arg, &seg, "medallion build worker");

	BackgroundWorkerInitializeConnectionByOid(shared->database, shared->role, 0);
	shared->connected = true;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PG_TRY();
	{
		/*
		 * The run's settings (DateStyle, TimeZone, ...) and, when it reads
		 * one snapshot for the whole transaction, that snapshot: the worker
		 * sees what the run would have seen.
		 */
		RestoreGUCState(shared->gucs);
		XactIsoLevel = shared->isolation;

		/*
		 * The run waits for its workers on a latch, not on a lock: a worker
		 * queued behind a session queued behind the run would wait forever,
		 * unseen by the deadlock detector.  So a worker waits for locks a
		 * few seconds at most, then hands the model back to the run.
		 */
		/* the run's threads share the cores: no parallel query on top */
		SetConfigOption("max_parallel_workers_per_gather", "0", PGC_USERSET, PGC_S_SESSION);
		if (LockTimeout == 0 || LockTimeout > WORKER_LOCK_TIMEOUT_MS)
			SetConfigOption("lock_timeout", CppAsString2(WORKER_LOCK_TIMEOUT_MS), PGC_USERSET,
							PGC_S_SESSION);
		if (shared->snapshot[0] != '\0')
			ImportSnapshot(shared->snapshot);
		PushActiveSnapshot(GetTransactionSnapshot());
		if (shared->batch_size > 0)
			ExtractInWorker(shared->model, shared->version, shared->batch_size,
							shared->has_start ? shared->start : NULL, shared->restart,
							shared->leader_pid, &shared->candidate, &shared->rows);
		else
			build_in_worker(shared);
		PopActiveSnapshot();
		CommitTransactionCommand();
		shared->succeeded = true;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(TopMemoryContext);
		edata = CopyErrorData();
		shared->sqlerrcode = edata->sqlerrcode == ERRCODE_LOCK_NOT_AVAILABLE ?
			ERRCODE_MEDALLION_RUN_ITSELF : edata->sqlerrcode;
		shared->timed_out = edata->sqlerrcode == ERRCODE_QUERY_CANCELED && ModelScopeTimedOut();
		strlcpy(shared->message, edata->detail ?
				psprintf("%s (%s)", edata->message, edata->detail) : edata->message,
				WORKER_MESSAGE_SIZE);
		shared->finished = true;
		PG_RE_THROW();
	}
	PG_END_TRY();
	shared->finished = true;
	dsm_detach(seg);
	proc_exit(0);
}

/*
 * WorkerStartBuild
 *		Start a worker building model for run run_id, reading the candidates
 *		to[] instead of the relations from[], in snapshot (exported by the
 *		run) when not NULL; readers may read the candidate.  Returns NULL
 *		when no worker slot is free (the run then builds the model itself).
 */
WorkerBuild *
WorkerStartBuild(int64 run_id, const char *model, int version, int timeout_ms,
				 const char *snapshot,
				 List *from, List *to, List *readers)
{
	return start_build(run_id, model, version, timeout_ms, snapshot, from, to, readers,
					   0, NULL, false);
}

/*
 * WorkerStartExtract
 *		Start a worker staging the new rows of an incremental model in
 *		batches of batch_size, each committed: past start (NULL for all),
 *		or past what is already staged, unless restart.  Its result's
 *		candidate is the staging table.  NULL when no worker slot is free.
 */
WorkerBuild *
WorkerStartExtract(int64 run_id, const char *model, int version, int batch_size,
				   const char *start, bool restart)
{
	if (start != NULL && strlen(start) >= 256)
		return NULL;
	return start_build(run_id, model, version, 0, NULL, NIL, NIL, NIL, batch_size, start, restart);
}

static WorkerBuild *
start_build(int64 run_id, const char *model, int version, int timeout_ms,
			const char *snapshot, List *from, List *to, List *readers,
			int batch_size, const char *start, bool restart)
{
	WorkerBuild *build = palloc0(sizeof(WorkerBuild));
	Size		gucsize = EstimateGUCStateSpace();
	ListCell   *lf,
			   *lt;

	if (list_length(from) > WORKER_MAX_REDIRECTS || list_length(readers) > WORKER_MAX_READERS)
		return NULL;
	build->seg = dsm_create(offsetof(BuildShared, gucs) + gucsize, 0);
	build->shared = dsm_segment_address(build->seg);
	memset(build->shared, 0, offsetof(BuildShared, gucs));
	build->shared->database = MyDatabaseId;
	build->shared->role = GetSessionUserId();
	build->shared->run_id = run_id;
	build->shared->leader_pid = MyProcPid;
	build->shared->timeout_ms = timeout_ms;
	build->shared->isolation = XactIsoLevel;
	if (snapshot != NULL)
		strlcpy(build->shared->snapshot, snapshot, sizeof(build->shared->snapshot));
	strlcpy(build->shared->model, model, NAMEDATALEN);
	build->shared->version = version;
	build->shared->batch_size = batch_size;
	build->shared->restart = restart;
	build->shared->has_start = start != NULL;
	if (start != NULL)
		strlcpy(build->shared->start, start, sizeof(build->shared->start));
	forboth(lf, from, lt, to)
	{
		build->shared->from[build->shared->nredirects] = lfirst_oid(lf);
		build->shared->to[build->shared->nredirects++] = lfirst_oid(lt);
	}
	foreach(lf, readers)
		build->shared->readers[build->shared->nreaders++] = lfirst_oid(lf);
	SerializeGUCState(gucsize, build->shared->gucs);

	if (!WorkerRegister("medallion_build_main", "medallion build worker",
					  psprintf("medallion %s worker for %s", batch_size > 0 ? "extraction" : "build", model),
					  build->seg, &build->handle))
	{
		dsm_detach(build->seg);
		return NULL;
	}
	return build;
}

/*
 * WorkerWaitBuild
 *		Wait for the worker to stop; a cancel of the caller interrupts the
 *		wait (the worker keeps running: stop it with WorkerStopBuild).
 */
void
WorkerWaitBuild(WorkerBuild *build)
{
	if (WaitForBackgroundWorkerShutdown(build->handle) == BGWH_POSTMASTER_DIED)
		ereport(FATAL,
				(errcode(ERRCODE_ADMIN_SHUTDOWN),
				 errmsg("postmaster exited while a build worker ran")));
}

/*
 * WorkerBuildResult
 *		The outcome of a stopped worker: true with the candidate and its row
 *		count, or false with the error (a worker that died says so).
 *		Releases the worker's segment.
 */
bool
WorkerBuildResult(WorkerBuild *build, Oid *candidate, int64 *rows, int *sqlerrcode,
				  char **message, bool *timed_out)
{
	bool		ok = build->shared->succeeded;

	*timed_out = build->shared->timed_out;
	*candidate = build->shared->candidate;
	*rows = build->shared->rows;
	*sqlerrcode = build->shared->sqlerrcode;
	*message = build->shared->finished ? pstrdup(build->shared->message) :
		pstrdup("the build worker stopped before it finished");
	if (!build->shared->finished)
	{
		/* one that could not even connect (a connection limit): the run builds it */
		*sqlerrcode = build->shared->connected ? ERRCODE_INTERNAL_ERROR : ERRCODE_MEDALLION_RUN_ITSELF;
	}
	dsm_detach(build->seg);
	return ok;
}

/*
 * WorkerStopBuild
 *		Stop a worker (the run is cancelled or failed) and wait for it.
 */
void
WorkerStopBuild(WorkerBuild *build)
{
	/* with interrupts held: a second cancel must not leave it running */
	HOLD_INTERRUPTS();
	TerminateBackgroundWorker(build->handle);
	(void) WaitForBackgroundWorkerShutdown(build->handle);
	RESUME_INTERRUPTS();
}
