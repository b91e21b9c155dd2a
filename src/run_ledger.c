/*-------------------------------------------------------------------------
 *
 * run_ledger.c
 *	  The run ledger: medallion.runs, run_models and test_results, written
 *	  at a run's start and end, whatever happens to the run.
 *
 * A run must be in the ledger even when the run's own transaction rolls
 * back (strict => true raising at the end, a cancel, a failed publish) and
 * its start must be committed before it builds anything, so that a crash
 * leaves a "running" row to be marked crashed later.  PostgreSQL has no
 * autonomous transactions, so such an entry is handed to a short-lived
 * dynamic background worker that connects to the same database as the
 * extension owner and calls medallion.ledger_apply(entry).
 *
 * Starting a worker costs tens of milliseconds (fork, connection, cold
 * caches), more than a run that has nothing to build, so the run does not
 * wait for the worker that records its start: the worker commits it soon
 * after, while the run builds.  A run that is over sooner than that does
 * not start it at all (worth_recording): its finish records it.
 *
 * A run that returns records its finish in its caller's transaction, where
 * it commits with what the run published (and its alerts are sent), before
 * the published tables' locks are released; a run still marked running
 * whose transaction ended without its finish was rolled back by its
 * caller, and the next tidy says so.  A run about to raise (a cancel, a
 * failed publish, strict => true) has its finish written by a worker it
 * waits for, since its caller's transaction rolls back.  The start and the
 * finish may reach the ledger in either order (ledger_apply).
 *
 * The entry travels in a DSM segment: a LedgerShared header followed by
 * the JSON text.  The worker writes its outcome (and the error message,
 * if any) back into the header before it exits; a caller that waits does
 * so with WaitForBackgroundWorkerShutdown, which sleeps on its latch.  A
 * start entry's segment is pinned until its worker has mapped it, since
 * the run may be over before the worker starts.  When no worker slot is
 * free the entry is written in the caller's transaction instead, with a
 * WARNING: the ledger is then only as durable as the run.
 *
 * The entries are JSON, made here from the run's steps; the SQL half,
 * medallion.ledger_apply, is in the install script (section runs).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "datatype/timestamp.h"
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
#include "utils/datetime.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/ruleutils.h"
#include "utils/snapmgr.h"
#include "utils/timeout.h"

#include "utils/timestamp.h"

#include "catalog.h"
#include "run.h"
#include "run_workers.h"
#include "sqltext.h"

#define LEDGER_ERROR_SIZE 1024

/* a run that takes less leaves no start in the ledger, only its finish */
#define LEDGER_START_AFTER_MS 50

/* What became of a run's start entry (LedgerShared.state). */
#define LEDGER_START_PENDING	0	/* the worker has not begun */
#define LEDGER_START_RECORDING	1	/* the worker records it */
#define LEDGER_START_TAKEN		2	/* the run's finish records it instead */

/* Header of the DSM segment shared with a ledger worker. */
typedef struct LedgerShared
{
	Oid			database;
	Oid			role;
	bool		start;			/* a run's start: the caller does not wait */
	pg_atomic_uint32 state;		/* of a start: LEDGER_START_* */
	bool		succeeded;		/* set by the worker */
	char		error[LEDGER_ERROR_SIZE];	/* set by the worker on failure */
	Size		entry_len;
	char		entry[FLEXIBLE_ARRAY_MEMBER];	/* NUL-terminated JSON */
} LedgerShared;

static char *run_label = NULL;
static int	run_ledger_retention = RUN_DEFAULT_LEDGER_RETENTION;	/* minutes; 0 keeps every run */
static char *run_ledger_retention_text = NULL;

static bool check_ledger_retention(char **newval, void **extra, GucSource source);
static void assign_ledger_retention(const char *newval, void *extra);

PGDLLEXPORT void medallion_ledger_main(Datum arg);

/*
 * LedgerInit
 *		Define the ledger's configuration parameters.
 */
void
LedgerInit(void)
{
	DefineCustomStringVariable("medallion.run_label",
							   "Sets a label recorded with the runs of this session in medallion.runs.options.",
							   "Scheduled runs set it to the schedule and attempt.",
							   &run_label, "", PGC_USERSET, 0,
							   NULL, NULL, NULL);
	DefineCustomStringVariable("medallion.ledger_retention",
							   "Sets how long the run ledger keeps runs, their steps and their test results.",
							   "An interval, such as '30 days' or '1 hour' (at least a minute); older runs are deleted at the start of each run; 0 keeps every run.",
							   &run_ledger_retention_text, RUN_DEFAULT_LEDGER_RETENTION_TEXT,
							   PGC_SUSET, 0,
							   check_ledger_retention, assign_ledger_retention, NULL);
}

/*
 * check_ledger_retention
 *		GUC check hook of medallion.ledger_retention: an interval (PostgreSQL's
 *		interval input: '30 days', '1 hour', 'P1D', '90 min') of zero or more,
 *		or a bare number of minutes (the unit 0.2.0 took); the minutes are
 *		passed on in *extra, a part of a minute counting as one.
 */
static bool
check_ledger_retention(char **newval, void **extra, GucSource source)
{
	char		workbuf[256];
	char	   *field[MAXDATEFIELDS];
	int			ftype[MAXDATEFIELDS];
	int			nf;
	int			dtype;
	struct pg_itm_in itm;
	char	   *end;
	long		number;
	double		minutes;
	int		   *result;

	memset(&itm, 0, sizeof(itm));
	number = strtol(*newval, &end, 10);
	if (end != *newval && *end == '\0')
		minutes = number;
	else if ((ParseDateTime(*newval, workbuf, sizeof(workbuf), field, ftype, MAXDATEFIELDS, &nf) == 0 &&
			  DecodeInterval(field, ftype, nf, INTERVAL_FULL_RANGE, &dtype, &itm) == 0) ||
			 DecodeISO8601Interval(*newval, &dtype, &itm) == 0)
		minutes = ((double) itm.tm_usec / USECS_PER_SEC / SECS_PER_MINUTE) +
			((double) itm.tm_mday + (double) itm.tm_mon * DAYS_PER_MONTH +
			 (double) itm.tm_year * MONTHS_PER_YEAR * DAYS_PER_MONTH) * MINS_PER_HOUR * HOURS_PER_DAY;
	else
	{
		GUC_check_errdetail("\"%s\" is not an interval.", *newval);
		GUC_check_errhint("Give an interval such as '30 days' or '1 hour'; 0 keeps every run.");
		return false;
	}
	if (minutes < 0)
	{
		GUC_check_errdetail("The retention must not be negative.");
		return false;
	}
	result = malloc(sizeof(int));	/* GUC frees extra with free() */
	if (result == NULL)
		return false;
	*result = minutes > INT_MAX ? INT_MAX : (int) ceil(minutes);
	*extra = result;
	return true;
}

/* GUC assign hook of medallion.ledger_retention: the minutes check_ledger_retention found. */
static void
assign_ledger_retention(const char *newval, void *extra)
{
	run_ledger_retention = *(int *) extra;
}

/* A start's segment this backend still maps, until the run's finish. */
static dsm_segment *start_segment = NULL;

/*
 * Apply one ledger entry through SPI in the current transaction, as
 * operation op when not NULL (a start's two halves: "start", "tidy").
 */
static void
apply_entry(const char *entry, const char *op)
{
	Oid			argtypes[2] = {TEXTOID, TEXTOID};
	Datum		values[2] = {CStringGetTextDatum(entry), CStringGetTextDatum(op ? op : "")};
	int			ret;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ret = CatalogQuery(op == NULL ?
					   "SELECT medallion.ledger_apply($1::pg_catalog.jsonb)" :
					   "SELECT medallion.ledger_apply($1::pg_catalog.jsonb OPERATOR(pg_catalog.||)"
					   " pg_catalog.jsonb_build_object('op', $2))",
					   op == NULL ? 1 : 2, argtypes, values, NULL, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not write the run ledger: %s", SPI_result_code_string(ret));
	if (SPI_finish() != SPI_OK_FINISH)
		elog(ERROR, "SPI_finish failed");
}

/* Apply an entry (as op) in a transaction of the worker's own. */
static void
apply_committed(LedgerShared *shared, const char *op)
{
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	PG_TRY();
	{
		apply_entry(shared->entry, op);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(TopMemoryContext);
		edata = CopyErrorData();
		strlcpy(shared->error, edata->message, LEDGER_ERROR_SIZE);
		PG_RE_THROW();
	}
	PG_END_TRY();
	PopActiveSnapshot();
	CommitTransactionCommand();
}

/*
 * medallion_ledger_main
 *		Entry point of a ledger worker: apply the entry in the DSM segment
 *		whose handle is arg, in a transaction of its own.  A run's start is
 *		recorded in one short transaction, unless the run has finished and
 *		taken it over meanwhile, and the ledger tidied in another (runs
 *		that crashed, history past its retention, leftovers), so that a run
 *		whose finish meets its start waits for the first alone.
 */
void
medallion_ledger_main(Datum arg)
{
	dsm_segment *seg;
	LedgerShared *shared = WorkerAttach(arg, &seg, MEDALLION_LEDGER_WORKER);

	/* mapped here: the segment now lives as long as this worker needs it */
	if (shared->start)
		dsm_unpin_segment(dsm_segment_handle(seg));
	BackgroundWorkerInitializeConnectionByOid(shared->database, shared->role, 0);

	if (!shared->start)
		apply_committed(shared, NULL);
	else
	{
		uint32		expected = LEDGER_START_PENDING;

		if (pg_atomic_compare_exchange_u32(&shared->state, &expected, LEDGER_START_RECORDING))
			apply_committed(shared, "start");
		apply_committed(shared, "tidy");
	}

	shared->succeeded = true;
	dsm_detach(seg);
	proc_exit(0);
}

/*
 * apply_as_owner
 *		Apply an entry in the caller's transaction, as the worker would:
 *		ledger_apply is the extension owner's alone.
 */
static void
apply_as_owner(const char *entry)
{
	Oid			save_userid;
	int			save_sec;

	GetUserIdAndSecContext(&save_userid, &save_sec);
	SetUserIdAndSecContext(CatalogExtensionOwner(), save_sec | SECURITY_LOCAL_USERID_CHANGE);
	apply_entry(entry, NULL);
	SetUserIdAndSecContext(save_userid, save_sec);
}

/*
 * write_entry
 *		Record one ledger entry (JSON text for medallion.ledger_apply) in a
 *		transaction of its own, and wait until it is committed.  Raises a
 *		WARNING, never an ERROR, when the worker fails: losing a ledger row
 *		must not fail a run that built and published correctly.  A run's
 *		start is not waited for (start is true): its segment stays mapped
 *		in start_segment until the run's finish (ledger_take_start).
 */
static void
write_entry(const char *entry, bool start)
{
	Size		len = strlen(entry);
	dsm_segment *seg;
	LedgerShared *shared;
	BackgroundWorkerHandle *handle;
	BgwHandleStatus status;

	seg = dsm_create(offsetof(LedgerShared, entry) + len + 1, 0);
	shared = dsm_segment_address(seg);
	shared->database = MyDatabaseId;
	shared->role = CatalogExtensionOwner();
	shared->start = start;
	pg_atomic_init_u32(&shared->state, LEDGER_START_PENDING);
	shared->succeeded = false;
	shared->error[0] = '\0';
	shared->entry_len = len;
	memcpy(shared->entry, entry, len + 1);
	if (start)
	{
		/* the run may be over before the worker maps it: it unpins */
		dsm_pin_segment(seg);
		/* and the run's finish may come after a subtransaction's end */
		dsm_pin_mapping(seg);
	}

	if (!WorkerRegister("medallion_ledger_main", MEDALLION_LEDGER_WORKER, MEDALLION_LEDGER_WORKER,
					  seg, &handle))
	{
		ereport(WARNING,
				(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
				 errmsg("no background worker slot is free for the run ledger"),
				 errdetail("The ledger entry is written in the run's own transaction; it is lost if that transaction rolls back."),
				 errhint("Raise max_worker_processes.")));
		if (start)
			dsm_unpin_segment(dsm_segment_handle(seg));
		dsm_detach(seg);
		apply_as_owner(entry);
		return;
	}
	if (start)
	{
		start_segment = seg;
		return;
	}

	status = WaitForBackgroundWorkerShutdown(handle);
	if (status == BGWH_POSTMASTER_DIED)
		ereport(FATAL,
				(errcode(ERRCODE_ADMIN_SHUTDOWN),
				 errmsg("postmaster exited while the run ledger was written")));
	if (!shared->succeeded)
		ereport(WARNING,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("the run ledger could not be written: %s",
						shared->error[0] ? shared->error : "the ledger worker did not finish"),
				 errdetail("Entry: %s", entry)));
	dsm_detach(seg);
}

/*
 * ledger_take_start
 *		At a run's finish (take is true): if the worker recording its start
 *		has not begun, the finish records the start (the worker only
 *		tidies); if it has, the finish updates its row, waiting for its
 *		short transaction when they meet.  At a run's start, forget the
 *		segment of an earlier run that ended with an error: its start is
 *		recorded, and marked as rolled back by the next run's worker.
 */
static void
ledger_take_start(bool take)
{
	if (start_segment == NULL)
		return;
	if (take)
	{
		LedgerShared *shared = dsm_segment_address(start_segment);
		uint32		expected = LEDGER_START_PENDING;

		(void) pg_atomic_compare_exchange_u32(&shared->state, &expected, LEDGER_START_TAKEN);
	}
	dsm_detach(start_segment);
	start_segment = NULL;
}

static char *
json_time(TimestampTz t)
{
	return t == 0 ? NULL : pstrdup(timestamptz_to_str(t));
}

/* The fields of a run's start, appended to a JSON object being built. */
static void
start_fields(Run *run, StringInfo entry)
{
	StringInfoData options;

	initStringInfo(&options);
	appendStringInfoChar(&options, '{');
	SqlJsonField(&options, "full_refresh", run->full_refresh ? "true" : "false", true);
	SqlJsonField(&options, "strict", run->strict ? "true" : "false", true);
	SqlJsonField(&options, "on_conflict", run->on_conflict, false);
	if (run->exclude)
		SqlJsonField(&options, "exclude", run->exclude, false);
	if (run->threads > 0)
		SqlJsonField(&options, "threads", psprintf("%d", run->threads), true);
	if (run->test_only)
		SqlJsonField(&options, "test_only", "true", true);
	if (run->stage)
		SqlJsonField(&options, "stage", "true", true);	/* held, not published */
	if (run_label != NULL && run_label[0] != '\0')
		SqlJsonField(&options, "label", run_label, false);
	appendStringInfoChar(&options, '}');

	SqlJsonField(entry, "run_id", psprintf(INT64_FORMAT, run->run_id), true);
	SqlJsonField(entry, "selector", run->selector, false);
	SqlJsonField(entry, "options", options.data, true);
	SqlJsonField(entry, "started_by", GetUserNameFromId(GetUserId(), false), false);
	SqlJsonField(entry, "backend_pid", psprintf("%d", MyProcPid), true);
	SqlJsonField(entry, "started_at", json_time(run->started_at), false);
	SqlJsonField(entry, "models", psprintf("%d", list_length(run->steps)), true);
	SqlJsonField(entry, "xact", FullTransactionIdIsValid(run->xact) ?
				 psprintf(UINT64_FORMAT, U64FromFullTransactionId(run->xact)) : NULL, false);
}

/*
 * worth_recording
 *		Whether a run about to build step (NULL: to start build workers)
 *		should record its start now.  A run that is over within
 *		LEDGER_START_AFTER_MS leaves nothing a crash could lose and is
 *		recorded by its finish alone: its start would cost a worker launch
 *		(tens of milliseconds of CPU, more than such a run).  So the start
 *		is recorded once the run has taken that long, or before a model
 *		that took that long at its last build or was never built.
 */
static bool
worth_recording(Run *run, RunStep *step)
{
	if (step == NULL ||
		TimestampDifferenceExceeds(run->started_at, GetCurrentTimestamp(), LEDGER_START_AFTER_MS))
		return true;
	if (!run->last_ms_read)
	{
		/* every step's at once: one catalog query per run, not per model */
		List	   *names = NIL;
		double	   *last_ms;
		ListCell   *lc;

		foreach(lc, run->steps)
			names = lappend(names, ((RunStep *) lfirst(lc))->model->name);
		last_ms = CatalogLastBuildMs(names);
		foreach(lc, run->steps)
			((RunStep *) lfirst(lc))->last_ms = last_ms[foreach_current_index(lc)];
		run->last_ms_read = true;
	}
	return step->last_ms < 0 || step->last_ms >= LEDGER_START_AFTER_MS;
}

/*
 * LedgerStart
 *		Record the start of a run, without waiting for it to be committed;
 *		called before the run builds or extracts each model (step) or
 *		starts build workers (NULL), and records it once, when it is worth
 *		it (worth_recording).
 */
void
LedgerStart(Run *run, RunStep *step)
{
	StringInfoData entry;

	if (run->ledger_started || run->test_only || !worth_recording(run, step))
		return;
	run->ledger_started = true;
	ledger_take_start(false);
	run->xact = GetTopFullTransactionId();
	initStringInfo(&entry);
	appendStringInfoChar(&entry, '{');
	SqlJsonField(&entry, "op", "start", false);
	start_fields(run, &entry);
	if (run_ledger_retention > 0)
		SqlJsonField(&entry, "retention", psprintf("%d minutes", run_ledger_retention), false);
	appendStringInfoChar(&entry, '}');
	write_entry(entry.data, true);
}

/*
 * tidy_here
 *		For a run that recorded no start (no worker tidied the ledger for
 *		it): tidy it in the run's transaction when there is anything to
 *		tidy (a run marked running, something in medallion_build, a run
 *		past the retention), which one query of index probes tells: the
 *		oldest start, not EXISTS of a start before the cutoff, which the
 *		planner, expecting a third of the runs to be that old, answered
 *		with a scan of every run of the ledger (2 ms at 4,000 runs, and
 *		growing with it).
 */
static void
tidy_here(void)
{
	CatalogSession session;
	Oid			argtypes[2] = {TEXTOID, TEXTOID};
	Datum		values[2];
	char		nulls[2] = {' ', ' '};
	char	   *retention = psprintf("%d minutes", run_ledger_retention);
	StringInfoData fields;

	initStringInfo(&fields);
	appendStringInfoChar(&fields, '{');
	if (run_ledger_retention > 0)
		SqlJsonField(&fields, "retention", retention, false);
	appendStringInfoChar(&fields, '}');
	values[0] = CStringGetTextDatum(fields.data);
	values[1] = CStringGetTextDatum(retention);
	if (run_ledger_retention <= 0)
		nulls[1] = 'n';
	CatalogEnter(&session);
	if (CatalogQuery("SELECT medallion.ledger_apply(jsonb_build_object('op', 'tidy') || $1::jsonb) "
					 "WHERE EXISTS (SELECT FROM medallion.runs WHERE status = 'running') "
					 "OR EXISTS (SELECT FROM pg_class WHERE relnamespace = 'medallion_build'::regnamespace) "
					 "OR (SELECT min(started_at) FROM medallion.runs) < now() - $2::interval",
					 2, argtypes, values, nulls, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not tidy the run ledger");
	CatalogLeave(&session);
}

/* The test results of steps, as a JSON array of test_results rows. */
static char *
tests_json(int64 run_id, List *steps)
{
	StringInfoData buf;
	ListCell   *lc;
	bool		first = true;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '[');
	foreach(lc, steps)
	{
		RunStep    *step = lfirst(lc);
		ListCell   *lt;

		if (step->tests == NULL)
			continue;
		foreach(lt, step->tests->results)
		{
			TestResult *result = lfirst(lt);
			StringInfoData row;

			if (result->status == NULL)
				continue;		/* never ran: the model failed first */
			initStringInfo(&row);
			appendStringInfoChar(&row, '{');
			SqlJsonField(&row, "run_id", psprintf(INT64_FORMAT, run_id), true);
			SqlJsonField(&row, "model", step->model->name, false);
			SqlJsonField(&row, "test", result->test->name, false);
			SqlJsonField(&row, "kind", result->test->kind, false);
			SqlJsonField(&row, "status", result->status, false);
			SqlJsonField(&row, "blocking", result->test->blocking ? "true" : "false", true);
			SqlJsonField(&row, "failures", result->has_failures ?
						 psprintf(INT64_FORMAT, result->failures) : "null", true);
			SqlJsonField(&row, "observed", result->observed, false);
			SqlJsonField(&row, "ms", psprintf("%.3f", result->ms), true);
			SqlJsonField(&row, "message", result->message, false);
			appendStringInfoChar(&row, '}');
			appendStringInfo(&buf, "%s%s", first ? "" : ", ", row.data);
			first = false;
		}
	}
	appendStringInfoChar(&buf, ']');
	return buf.data;
}

/*
 * LedgerFinish
 *		Record how a run ended: its steps, their tests, its outcome.  The
 *		finish of a run that returns (raising is false) commits with its
 *		caller's transaction, with what the run published and its alerts,
 *		unless that transaction reads with one snapshot (repeatable read
 *		and serializable), in which the start the worker committed
 *		meanwhile cannot be updated.  That of a run about to raise (a
 *		cancel, a failed publish, strict => true) is written by a worker:
 *		the caller's transaction rolls back.
 */
void
LedgerFinish(Run *run, bool raising)
{
	StringInfoData entry;
	StringInfoData steps;
	ListCell   *lc;

	initStringInfo(&steps);
	appendStringInfoChar(&steps, '[');
	foreach(lc, run->test_only ? NIL : run->steps)
	{
		RunStep    *step = lfirst(lc);
		StringInfoData row;

		initStringInfo(&row);
		appendStringInfoChar(&row, '{');
		SqlJsonField(&row, "run_id", psprintf(INT64_FORMAT, run->run_id), true);
		SqlJsonField(&row, "model", step->model->name, false);
		SqlJsonField(&row, "step", psprintf("%d", step->stepno), true);
		SqlJsonField(&row, "wave", psprintf("%d", step->wave), true);
		SqlJsonField(&row, "layer", step->model->layer, false);
		SqlJsonField(&row, "materialized", step->model->materialized, false);
		/* a step the run never reached (cancelled while it waited for a lock) */
		SqlJsonField(&row, "status", run_step_status_names[step->status == STEP_PENDING ?
														   STEP_CANCELLED : step->status], false);
		SqlJsonField(&row, "published", step->published ? "true" : "false", true);
		SqlJsonField(&row, "rows", step->has_rows ? psprintf(INT64_FORMAT, step->rows) : "null", true);
		SqlJsonField(&row, "started_at", json_time(step->started_at), false);
		SqlJsonField(&row, "finished_at", json_time(step->finished_at), false);
		SqlJsonField(&row, "ms", step->started_at ? psprintf("%.3f", step->ms) : "null", true);
		SqlJsonField(&row, "attempt", psprintf("%d", Max(step->attempt, 1)), true);
		SqlJsonField(&row, "worker", step->in_worker ? "true" : "false", true);
		SqlJsonField(&row, "tests_passed", psprintf("%d", step->tests ? step->tests->passed : 0), true);
		SqlJsonField(&row, "tests_warned", psprintf("%d", step->tests ? step->tests->warned : 0), true);
		SqlJsonField(&row, "tests_failed", psprintf("%d", step->tests ? step->tests->failed : 0), true);
		SqlJsonField(&row, "test_queries", psprintf("%d", step->tests ? step->tests->queries : 0), true);
		SqlJsonField(&row, "sqlstate", step->sqlstate, false);
		SqlJsonField(&row, "message", step->message, false);
		appendStringInfoChar(&row, '}');
		appendStringInfo(&steps, "%s%s", foreach_current_index(lc) > 0 ? ", " : "", row.data);
	}
	appendStringInfoChar(&steps, ']');

	initStringInfo(&entry);
	appendStringInfoChar(&entry, '{');
	SqlJsonField(&entry, "op", "finish", false);
	start_fields(run, &entry);
	SqlJsonField(&entry, "finished_at", json_time(GetCurrentTimestamp()), false);
	SqlJsonField(&entry, "status", run->status, false);
	SqlJsonField(&entry, "succeeded", psprintf("%d", RunCountSteps(run, STEP_SUCCESS, false)), true);
	SqlJsonField(&entry, "failed", psprintf("%d", RunCountSteps(run, STEP_FAILED, false) +
											RunCountSteps(run, STEP_CANCELLED, false)), true);
	SqlJsonField(&entry, "skipped", psprintf("%d", RunCountSteps(run, STEP_SKIPPED, false)), true);
	SqlJsonField(&entry, "published", psprintf("%d", RunCountSteps(run, STEP_PENDING, true)), true);
	SqlJsonField(&entry, "message", run->message, false);
	SqlJsonField(&entry, "steps", steps.data, true);
	SqlJsonField(&entry, "tests", tests_json(run->run_id, run->steps), true);
	appendStringInfoChar(&entry, '}');
	ledger_take_start(true);
	if (!run->ledger_started && !run->test_only)
		tidy_here();
	if (!raising && !IsolationUsesXactSnapshot())
		apply_as_owner(entry.data);
	else
		write_entry(entry.data, false);
}

PG_FUNCTION_INFO_V1(medallion_trim_ledger);

/*
 * medallion_trim_ledger(older_than interval DEFAULT NULL) returns bigint
 *		Delete the runs that started longer ago than older_than (by default
 *		medallion.ledger_retention), with their steps and test results.
 *		Admins may trim to the retention or beyond it; only superusers, who
 *		set the retention, may cut history shorter than it.
 */
Datum
medallion_trim_ledger(PG_FUNCTION_ARGS)
{
	Interval   *retention = palloc0(sizeof(Interval));
	Interval   *keep;
	CatalogSession session;
	Oid			argtypes[1] = {INTERVALOID};
	Datum		values[1];
	bool		isnull;
	int64		trimmed;

	CatalogRequireAdmin("trim the run ledger");
	retention->time = (int64) run_ledger_retention * SECS_PER_MINUTE * USECS_PER_SEC;
	if (PG_ARGISNULL(0))
	{
		if (run_ledger_retention == 0)
			PG_RETURN_INT64(0);
		keep = retention;
	}
	else
	{
		/*
		 * Compared as the cutoffs trim_ledger deletes before (now() minus
		 * the interval, in calendar arithmetic), not as intervals: '-10
		 * years 3630 days' is more than 30 days as an interval and yet
		 * cuts off after now.
		 */
		TimestampTz now = GetCurrentTransactionStartTimestamp();
		TimestampTz cutoff;
		TimestampTz allowed;

		keep = PG_GETARG_INTERVAL_P(0);
		cutoff = DatumGetTimestampTz(DirectFunctionCall2(timestamptz_mi_interval,
														 TimestampTzGetDatum(now),
														 IntervalPGetDatum(keep)));
		allowed = DatumGetTimestampTz(DirectFunctionCall2(timestamptz_mi_interval,
														  TimestampTzGetDatum(now),
														  IntervalPGetDatum(retention)));
		if (cutoff > now)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("older_than must not be negative"),
					 errdetail("now() - older_than is later than now().")));
		if (!superuser() && (run_ledger_retention == 0 || cutoff > allowed))
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("permission denied to trim the run ledger shorter than medallion.ledger_retention"),
					 errdetail("medallion.ledger_retention is %s; older_than is %s.",
							   run_ledger_retention == 0 ? "0 (keep every run)" :
							   psprintf("%d minutes", run_ledger_retention),
							   DatumGetCString(DirectFunctionCall1(interval_out, IntervalPGetDatum(keep)))),
					 errhint("Ask a superuser to lower medallion.ledger_retention.")));
	}
	values[0] = IntervalPGetDatum(keep);

	CatalogEnter(&session);
	if (SPI_execute_with_args("SELECT medallion.trim_ledger($1)", 1, argtypes, values, NULL, false, 0)
		!= SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "could not trim the run ledger");
	trimmed = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	CatalogLeave(&session);
	PG_RETURN_INT64(trimmed);
}
