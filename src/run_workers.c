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
#include "port/atomics.h"
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
#include "medallion.h"
#include "relation.h"
#include "run_workers.h"
#include "scope.h"

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
 * A build worker connects as the role that started the run and builds
 * table models' candidates as their owners (as the run itself would), one
 * transaction per model: it moves the candidate to medallion_build and
 * commits it; the run adopts, tests and publishes it.  Then it waits for
 * the run's next model: starting a worker (fork, connection, cold caches)
 * and stopping it cost about 50 ms, more than building most models, so a
 * run keeps its workers until it ends.  A worker leaves when told to, when
 * the run's transaction is over (whatever ended it), or after an error.
 *
 * The DSM segment carries the model, the candidates of the run that it
 * must read instead of published tables, and the outcome.  A worker's
 * error comes back with its SQLSTATE and message; a model whose columns
 * change (the run must alter the table in its own transaction) is handed
 * back.  The run and the worker wake each other through their latches.
 * ---------------------------------------------------------------- */

int			worker_max_workers = WORKER_DEFAULT_MAX_WORKERS;
int			worker_min_ms = WORKER_DEFAULT_MIN_MS;

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
	int			leader_procno;
	LocalTransactionId leader_lxid; /* the run's transaction */
	/* set by the run to hand over a model, or to let the worker go */
	bool		assigned;
	bool		stop;
	/* set by the worker */
	bool		connected;
	int			worker_procno;
	bool		finished;
	bool		succeeded;
	bool		timed_out;
	Oid			candidate;
	int64		rows;
	char		read_with[WORKER_SNAPSHOT_SIZE];	/* the snapshot its build read with, or "" */
	int			sqlerrcode;
	char		message[WORKER_MESSAGE_SIZE];
	/* the caller's loaded libraries (SerializeLibraryState), then settings */
	Size		libraries_size;
	char		gucs[FLEXIBLE_ARRAY_MEMBER];
} BuildShared;

struct WorkerBuild
{
	dsm_segment *seg;
	BuildShared *shared;
	BackgroundWorkerHandle *handle;
};

PGDLLEXPORT void medallion_build_main(Datum arg);
static bool set_assignment(WorkerBuild *build, int64 run_id, const char *model, int version,
						   int timeout_ms, const char *snapshot, List *from, List *to,
						   List *readers, int batch_size, const char *start, bool restart);
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
	DefineCustomIntVariable("medallion.worker_min_ms",
							"Sets the shortest last build of a model that a run gives to a background worker.",
							"Shorter models are built by the run itself, unless a larger model given to a worker reads them; 0 gives every table model to a worker.",
							&worker_min_ms, WORKER_DEFAULT_MIN_MS, 0, INT_MAX, PGC_USERSET, GUC_UNIT_MS,
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
	char	   *read_with;
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
	if (OidIsValid(RelBinding(model->name)) &&
		!ConditionalLockRelationOid(RelBinding(model->name), AccessShareLock))
		ereport(ERROR,
				(errcode(ERRCODE_MEDALLION_RUN_ITSELF),
				 errmsg("model \"%s\" is being redefined: the run builds it itself", model->name)));
	bound = BindLoad(model);
	/* as in the run: constants go to remote servers in ISO style */
	if (ExtractForeignSchemas(bound->query) != NIL)
		ModelScopeIsoDates();
	BindCaptureStart();
	cand = BuildTableCandidate(model, bound, psprintf("SELECT * FROM %s", BindRelationSql(model->name)),
							   from, to, false, model->kind == MAT_TABLE);
	read_with = BindCaptureTake();
	ModelScopeLeave(&scope);
	BuildMoveToBuildSchema(cand, shared->run_id, readers);
	shared->candidate = cand->candidate;
	shared->rows = cand->rows;
	/* the run stores it with the build (too long: the run's earlier one, which it saw) */
	if (read_with != NULL && strlen(read_with) < sizeof(shared->read_with))
		strlcpy(shared->read_with, read_with, sizeof(shared->read_with));
}



/*
 * The run this worker builds for.  Its backend may be terminated while the
 * worker builds (pg_terminate_backend, a crash of that session): the
 * worker then stops at once, writing nothing, rather than leaving a
 * candidate in medallion_build after the next run has tidied.
 */
static bool watching = false;
static TimeoutId watch_timeout;
static int	watched_procno;
static int	watched_pid;
static LocalTransactionId watched_lxid;

/* Is the run's transaction over (its backend gone, or on to another)? */
static bool
run_gone(BuildShared *shared)
{
	PGPROC	   *leader = &ProcGlobal->allProcs[shared->leader_procno];

	return leader->pid != shared->leader_pid || leader->lxid != shared->leader_lxid;
}

/*
 * Timeout handler, every WORKER_WATCH_MS: end the worker when the run is
 * gone.  It reads only copies of the segment's fields and the run's PGPROC
 * (main shared memory): the segment may be unmapped when it fires, as the
 * worker exits.
 */
static void
run_gone_handler(void)
{
	PGPROC	   *leader;

	if (!watching)
		return;
	leader = &ProcGlobal->allProcs[watched_procno];
	if (leader->pid != watched_pid || leader->lxid != watched_lxid)
	{
		ProcDiePending = true;
		InterruptPending = true;
		SetLatch(MyLatch);
	}
}

/* errcontext of a worker's errors (the server log): which run, which model */
static void
worker_error_context(void *arg)
{
	BuildShared *shared = (BuildShared *) arg;

	errcontext("%s of model \"%s\" for run %lld in a medallion build worker",
			   shared->batch_size > 0 ? "extraction" : "build", shared->model,
			   (long long) shared->run_id);
}

/*
 * build_one
 *		Build (or extract) what the run handed over, in a transaction of its
 *		own.  The first one restores the run's settings for the session.  An
 *		error is put in the segment, then raised: the worker ends.  Its
 *		errors name the model and the run (worker_error_context).
 */
static void
build_one(BuildShared *shared, bool first)
{
	ErrorContextCallback context;

	context.callback = worker_error_context;
	context.arg = shared;
	context.previous = error_context_stack;
	error_context_stack = &context;
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PG_TRY();
	{
		if (first)
		{
			/*
			 * The run's settings (DateStyle, TimeZone, ...): the worker
			 * sees what the run would have seen.
			 */
			/*
			 * The libraries the run had loaded first, as a parallel
			 * worker does: their settings are then settings here too, and
			 * the owner scope gives them the owner's values (a library
			 * loaded later would take the caller's).
			 */
			RestoreLibraryState(shared->gucs);
			RestoreGUCState(shared->gucs + shared->libraries_size);
			/* the run's threads share the cores: no parallel query on top */
			SetConfigOption("max_parallel_workers_per_gather", "0", PGC_USERSET, PGC_S_SESSION);

			/*
			 * The run waits for its workers on a latch, not on a lock: a
			 * worker queued behind a session queued behind the run would
			 * wait forever, unseen by the deadlock detector.  So a worker
			 * waits for locks a few seconds at most, then hands the model
			 * back to the run.
			 */
			if (LockTimeout == 0 || LockTimeout > WORKER_LOCK_TIMEOUT_MS)
				SetConfigOption("lock_timeout", CppAsString2(WORKER_LOCK_TIMEOUT_MS), PGC_USERSET,
								PGC_S_SESSION);
		}
		pgstat_report_activity(STATE_RUNNING, psprintf("%s model %s",
													   shared->batch_size > 0 ? "extract" : "build",
													   shared->model));
		/* the run reads one snapshot for the whole transaction: so does the worker */
		XactIsoLevel = shared->isolation;
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
		if (run_gone(shared))
			ereport(ERROR,
					(errcode(ERRCODE_ADMIN_SHUTDOWN),
					 errmsg("the run ended before its worker finished: nothing of model \"%s\" is kept",
							shared->model)));
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
		pg_write_barrier();
		shared->finished = true;
		SetLatch(&ProcGlobal->allProcs[shared->leader_procno].procLatch);
		PG_RE_THROW();
	}
	PG_END_TRY();
	error_context_stack = context.previous;
	pgstat_report_stat(false);
	pgstat_report_activity(STATE_IDLE, NULL);
}

/*
 * wait_for_model
 *		Wait for the run to hand over another model: true when it did, false
 *		when the worker may go (told to, or the run's transaction is over:
 *		the run failed, or its backend is gone).
 */
static bool
wait_for_model(BuildShared *shared)
{
	for (;;)
	{
		if (shared->stop)
			return false;
		if (shared->assigned)
		{
			pg_read_barrier();
			shared->assigned = false;
			return true;
		}
		if (run_gone(shared))
			return false;
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 WORKER_POLL_MS, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
}

/*
 * medallion_build_main
 *		Entry point of a build worker: build what the run hands over until
 *		it lets the worker go.  An extraction worker does one job.
 */
void
medallion_build_main(Datum arg)
{
	dsm_segment *seg;
	BuildShared *shared = WorkerAttach(arg, &seg, "medallion build worker");
	bool		first = true;

	BackgroundWorkerInitializeConnectionByOid(shared->database, shared->role, 0);
	/* a run terminated while the worker builds: the worker stops too */
	watched_procno = shared->leader_procno;
	watched_pid = shared->leader_pid;
	watched_lxid = shared->leader_lxid;
	watching = true;
	watch_timeout = RegisterTimeout(USER_TIMEOUT, run_gone_handler);
	enable_timeout_every(watch_timeout,
						 TimestampTzPlusMilliseconds(GetCurrentTimestamp(), WORKER_WATCH_MS),
						 WORKER_WATCH_MS);
	shared->worker_procno = MyProc->pgprocno;
	shared->connected = true;
	shared->assigned = false;
	do
	{
		build_one(shared, first);
		first = false;
		pg_write_barrier();
		shared->finished = true;
		SetLatch(&ProcGlobal->allProcs[shared->leader_procno].procLatch);
	} while (shared->batch_size == 0 && wait_for_model(shared));
	watching = false;
	disable_timeout(watch_timeout, false);
	dsm_detach(seg);
	proc_exit(0);
}

/*
 * WorkerStartBuild
 *		Have a worker build model for run run_id, reading the candidates
 *		to[] instead of the relations from[], in snapshot (exported by the
 *		run) when not NULL; readers may read the candidate.  The first
 *		worker of idle (the run's workers waiting for a model) gets it, or
 *		a new one.  Returns NULL when no worker slot is free (the run then
 *		builds the model itself).
 */
WorkerBuild *
WorkerStartBuild(List **idle, int64 run_id, const char *model, int version, int timeout_ms,
				 const char *snapshot, List *from, List *to, List *readers)
{
	while (*idle != NIL)
	{
		WorkerBuild *build = linitial(*idle);
		pid_t		pid;

		*idle = list_delete_first(*idle);
		if (GetBackgroundWorkerPid(build->handle, &pid) != BGWH_STARTED)
		{
			/* gone while it waited (terminated by an administrator) */
			dsm_detach(build->seg);
			continue;
		}
		if (!set_assignment(build, run_id, model, version, timeout_ms, snapshot, from, to,
							readers, 0, NULL, false))
		{
			*idle = lappend(*idle, build);
			return NULL;
		}
		pg_write_barrier();
		build->shared->assigned = true;
		SetLatch(&ProcGlobal->allProcs[build->shared->worker_procno].procLatch);
		return build;
	}
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

/*
 * set_assignment
 *		Write what the worker is to do next in its segment (false when the
 *		lists do not fit: the run builds the model itself).
 */
static bool
set_assignment(WorkerBuild *build, int64 run_id, const char *model, int version,
			   int timeout_ms, const char *snapshot, List *from, List *to, List *readers,
			   int batch_size, const char *start, bool restart)
{
	BuildShared *shared = build->shared;
	ListCell   *lf,
			   *lt;

	if (list_length(from) > WORKER_MAX_REDIRECTS || list_length(readers) > WORKER_MAX_READERS)
		return false;
	shared->run_id = run_id;
	shared->timeout_ms = timeout_ms;
	shared->isolation = XactIsoLevel;
	strlcpy(shared->snapshot, snapshot != NULL ? snapshot : "", sizeof(shared->snapshot));
	strlcpy(shared->model, model, NAMEDATALEN);
	shared->version = version;
	shared->batch_size = batch_size;
	shared->restart = restart;
	shared->has_start = start != NULL;
	strlcpy(shared->start, start != NULL ? start : "", sizeof(shared->start));
	shared->nredirects = 0;
	forboth(lf, from, lt, to)
	{
		shared->from[shared->nredirects] = lfirst_oid(lf);
		shared->to[shared->nredirects++] = lfirst_oid(lt);
	}
	shared->nreaders = 0;
	foreach(lf, readers)
		shared->readers[shared->nreaders++] = lfirst_oid(lf);
	/* the outcome of the previous model goes */
	shared->finished = false;
	shared->succeeded = false;
	shared->timed_out = false;
	shared->candidate = InvalidOid;
	shared->rows = 0;
	shared->read_with[0] = '\0';
	shared->sqlerrcode = 0;
	shared->message[0] = '\0';
	return true;
}

static WorkerBuild *
start_build(int64 run_id, const char *model, int version, int timeout_ms,
			const char *snapshot, List *from, List *to, List *readers,
			int batch_size, const char *start, bool restart)
{
	WorkerBuild *build = palloc0(sizeof(WorkerBuild));
	Size		libsize = EstimateLibraryStateSpace();
	Size		gucsize = EstimateGUCStateSpace();

	build->seg = dsm_create(offsetof(BuildShared, gucs) + libsize + gucsize, 0);
	/* the run keeps it across its steps' subtransactions; detached explicitly */
	dsm_pin_mapping(build->seg);
	build->shared = dsm_segment_address(build->seg);
	memset(build->shared, 0, offsetof(BuildShared, gucs));
	if (!set_assignment(build, run_id, model, version, timeout_ms, snapshot, from, to, readers,
						batch_size, start, restart))
	{
		dsm_detach(build->seg);
		return NULL;
	}
	build->shared->database = MyDatabaseId;
	build->shared->role = GetSessionUserId();
	build->shared->leader_pid = MyProcPid;
	build->shared->leader_procno = MyProc->pgprocno;
	build->shared->leader_lxid = MyProc->lxid;
	build->shared->assigned = true;
	build->shared->libraries_size = libsize;
	SerializeLibraryState(libsize, build->shared->gucs);
	SerializeGUCState(gucsize, build->shared->gucs + libsize);

	if (!WorkerRegister("medallion_build_main", "medallion build worker",
					  psprintf("medallion %s worker of run " INT64_FORMAT,
							   batch_size > 0 ? "extraction" : "build", run_id),
					  build->seg, &build->handle))
	{
		dsm_detach(build->seg);
		return NULL;
	}
	return build;
}

/*
 * WorkerWaitBuild
 *		Wait for the worker to finish its model, or to stop; a cancel of the
 *		caller interrupts the wait (the worker keeps running: stop it with
 *		WorkerStopBuild).
 */
void
WorkerWaitBuild(WorkerBuild *build)
{
	for (;;)
	{
		pid_t		pid;
		BgwHandleStatus status;

		if (build->shared->finished)
		{
			pg_read_barrier();
			return;
		}
		status = GetBackgroundWorkerPid(build->handle, &pid);
		if (status == BGWH_STOPPED)
			return;
		if (status == BGWH_POSTMASTER_DIED)
			ereport(FATAL,
					(errcode(ERRCODE_ADMIN_SHUTDOWN),
					 errmsg("postmaster exited while a build worker ran")));
		/* the worker sets the latch when it finishes, the postmaster when it stops */
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 WORKER_POLL_MS, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
}

/* Has the worker finished its model (or stopped)?  Does not wait. */
bool
WorkerBuildDone(WorkerBuild *build)
{
	pid_t		pid;

	if (build->shared->finished)
		return true;
	return GetBackgroundWorkerPid(build->handle, &pid) == BGWH_STOPPED;
}

/*
 * WorkerBuildResult
 *		The outcome of the worker's model: true with the candidate, its
 *		row count and the snapshot it read with (NULL: not known), or false with the error (a worker that died says so).
 *		A worker that succeeded waits for another model when keep (the
 *		caller puts it back among its idle ones), else it is let go; one
 *		that failed ends.
 */
bool
WorkerBuildResult(WorkerBuild *build, bool keep, Oid *candidate, int64 *rows, char **read_with,
				  int *sqlerrcode, char **message, bool *timed_out)
{
	BuildShared *shared = build->shared;
	bool		ok = shared->finished && shared->succeeded;

	*read_with = shared->read_with[0] != '\0' ? pstrdup(shared->read_with) : NULL;
	*timed_out = shared->timed_out;
	*candidate = shared->candidate;
	*rows = shared->rows;
	*sqlerrcode = shared->sqlerrcode;
	*message = shared->finished ? pstrdup(shared->message) :
		pstrdup("the build worker stopped before it finished");
	if (!shared->finished)
	{
		/* one that could not even connect (a connection limit): the run builds it */
		*sqlerrcode = shared->connected ? ERRCODE_INTERNAL_ERROR : ERRCODE_MEDALLION_RUN_ITSELF;
	}
	if (ok && keep)
		return true;
	if (ok)
		WorkerRelease(list_make1(build));
	else
		dsm_detach(build->seg);
	return ok;
}

/*
 * WorkerRelease
 *		Let idle workers go (the run needs no more): each leaves as soon as
 *		it wakes.  WorkerAwaitRelease waits until they are gone.
 */
void
WorkerRelease(List *idle)
{
	ListCell   *lc;

	foreach(lc, idle)
	{
		WorkerBuild *build = lfirst(lc);

		build->shared->stop = true;
		SetLatch(&ProcGlobal->allProcs[build->shared->worker_procno].procLatch);
		dsm_detach(build->seg);
		build->seg = NULL;
		build->shared = NULL;
	}
}

/*
 * WorkerAwaitRelease
 *		Wait until the released workers have stopped, so that their slots
 *		are free for the ledger's writer and the next run.
 */
void
WorkerAwaitRelease(List *released)
{
	ListCell   *lc;

	HOLD_INTERRUPTS();
	foreach(lc, released)
		(void) WaitForBackgroundWorkerShutdown(((WorkerBuild *) lfirst(lc))->handle);
	RESUME_INTERRUPTS();
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
	dsm_detach(build->seg);
}
