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
 * autonomous transactions, so each entry is handed to a short-lived
 * dynamic background worker that connects to the same database as the
 * extension owner and calls medallion.ledger_apply(entry).
 *
 * The entry travels in a DSM segment: a LedgerShared header followed by
 * the JSON text.  The worker writes its outcome (and the error message,
 * if any) back into the header before it exits; the caller waits for it
 * with WaitForBackgroundWorkerShutdown, which sleeps on its latch.  When no
 * worker slot is free the entry is written in the caller's transaction
 * instead, with a WARNING: the ledger is then only as durable as the run.
 *
 * The entries are JSON, made here from the run's steps; the SQL half,
 * medallion.ledger_apply, is in the install script (section runs).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

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
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/ruleutils.h"
#include "utils/snapmgr.h"
#include "utils/timeout.h"

#include "utils/json.h"
#include "utils/timestamp.h"

#include "catalog.h"
#include "run.h"
#include "run_workers.h"

#define LEDGER_ERROR_SIZE 1024

/* Header of the DSM segment shared with a ledger worker. */
typedef struct LedgerShared
{
	Oid			database;
	Oid			role;
	bool		succeeded;		/* set by the worker */
	char		error[LEDGER_ERROR_SIZE];	/* set by the worker on failure */
	Size		entry_len;
	char		entry[FLEXIBLE_ARRAY_MEMBER];	/* NUL-terminated JSON */
} LedgerShared;

PGDLLEXPORT void medallion_ledger_main(Datum arg);

/* Apply one ledger entry through SPI in the current transaction. */
static void
apply_entry(const char *entry)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(entry)};
	int			ret;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ret = SPI_execute_with_args("SELECT medallion.ledger_apply($1::pg_catalog.jsonb)",
								1, argtypes, values, NULL, false, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not write the run ledger: %s", SPI_result_code_string(ret));
	if (SPI_finish() != SPI_OK_FINISH)
		elog(ERROR, "SPI_finish failed");
}

/*
 * medallion_ledger_main
 *		Entry point of a ledger worker: apply the entry in the DSM segment
 *		whose handle is arg, in a transaction of its own.
 */
void
medallion_ledger_main(Datum arg)
{
	dsm_segment *seg;
	LedgerShared *shared = WorkerAttach(arg, &seg, "medallion ledger writer");

	BackgroundWorkerInitializeConnectionByOid(shared->database, shared->role, 0);

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	PG_TRY();
	{
		apply_entry(shared->entry);
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

	shared->succeeded = true;
	dsm_detach(seg);
	proc_exit(0);
}

/*
 * LedgerWrite
 *		Record one ledger entry (JSON text for medallion.ledger_apply) in a
 *		transaction of its own, and wait until it is committed.  Raises a
 *		WARNING, never an ERROR, when the worker fails: losing a ledger row
 *		must not fail a run that built and published correctly.
 */
void
LedgerWrite(const char *entry)
{
	Size		len = strlen(entry);
	dsm_segment *seg;
	LedgerShared *shared;
	BackgroundWorkerHandle *handle;
	BgwHandleStatus status;
	Oid			save_userid;
	int			save_sec;

	seg = dsm_create(offsetof(LedgerShared, entry) + len + 1, 0);
	shared = dsm_segment_address(seg);
	shared->database = MyDatabaseId;
	shared->role = CatalogExtensionOwner();
	shared->succeeded = false;
	shared->error[0] = '\0';
	shared->entry_len = len;
	memcpy(shared->entry, entry, len + 1);

	if (!WorkerRegister("medallion_ledger_main", "medallion ledger writer", "medallion ledger writer",
					  seg, &handle))
	{
		ereport(WARNING,
				(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
				 errmsg("no background worker slot is free for the run ledger"),
				 errdetail("The ledger entry is written in the run's own transaction; it is lost if that transaction rolls back."),
				 errhint("Raise max_worker_processes.")));
		dsm_detach(seg);
		/* as the worker would: ledger_apply is the extension owner's alone */
		GetUserIdAndSecContext(&save_userid, &save_sec);
		SetUserIdAndSecContext(CatalogExtensionOwner(), save_sec | SECURITY_LOCAL_USERID_CHANGE);
		apply_entry(entry);
		SetUserIdAndSecContext(save_userid, save_sec);
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

static void
json_field(StringInfo buf, const char *key, const char *value)
{
	if (buf->len > 1)
		appendStringInfoString(buf, ", ");
	escape_json(buf, key);
	appendStringInfoString(buf, ": ");
	if (value == NULL)
		appendStringInfoString(buf, "null");
	else
		escape_json(buf, value);
}

static void
json_raw(StringInfo buf, const char *key, const char *raw)
{
	if (buf->len > 1)
		appendStringInfoString(buf, ", ");
	escape_json(buf, key);
	appendStringInfo(buf, ": %s", raw);
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
	json_raw(&options, "full_refresh", run->full_refresh ? "true" : "false");
	json_raw(&options, "strict", run->strict ? "true" : "false");
	json_field(&options, "on_conflict", run->on_conflict);
	if (run->threads > 0)
		json_raw(&options, "threads", psprintf("%d", run->threads));
	if (run->test_only)
		json_raw(&options, "test_only", "true");
	if (run_label != NULL && run_label[0] != '\0')
		json_field(&options, "label", run_label);
	appendStringInfoChar(&options, '}');

	json_raw(entry, "run_id", psprintf(INT64_FORMAT, run->run_id));
	json_field(entry, "selector", run->selector);
	json_raw(entry, "options", options.data);
	json_field(entry, "started_by", GetUserNameFromId(GetUserId(), false));
	json_raw(entry, "backend_pid", psprintf("%d", MyProcPid));
	json_field(entry, "started_at", json_time(run->started_at));
	json_raw(entry, "models", psprintf("%d", list_length(run->steps)));
}

/*
 * LedgerStart
 *		Record the start of a run, before anything is built.
 */
void
LedgerStart(Run *run)
{
	StringInfoData entry;

	initStringInfo(&entry);
	appendStringInfoChar(&entry, '{');
	json_field(&entry, "op", "start");
	start_fields(run, &entry);
	if (run_ledger_retention > 0)
		json_field(&entry, "retention", psprintf("%d minutes", run_ledger_retention));
	appendStringInfoChar(&entry, '}');
	LedgerWrite(entry.data);
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
			json_raw(&row, "run_id", psprintf(INT64_FORMAT, run_id));
			json_field(&row, "model", step->model->name);
			json_field(&row, "test", result->test->name);
			json_field(&row, "kind", result->test->kind);
			json_field(&row, "status", result->status);
			json_raw(&row, "blocking", result->test->blocking ? "true" : "false");
			json_raw(&row, "failures", result->has_failures ?
					 psprintf(INT64_FORMAT, result->failures) : "null");
			json_field(&row, "observed", result->observed);
			json_raw(&row, "ms", psprintf("%.3f", result->ms));
			json_field(&row, "message", result->message);
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
 *		Record how a run ended: its steps, their tests, its outcome.
 */
void
LedgerFinish(Run *run)
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
		json_raw(&row, "run_id", psprintf(INT64_FORMAT, run->run_id));
		json_field(&row, "model", step->model->name);
		json_raw(&row, "step", psprintf("%d", step->stepno));
		json_raw(&row, "wave", psprintf("%d", step->wave));
		json_field(&row, "layer", step->model->layer);
		json_field(&row, "materialized", step->model->materialized);
		json_field(&row, "status", run_step_status_names[step->status]);
		json_raw(&row, "published", step->published ? "true" : "false");
		json_raw(&row, "rows", step->has_rows ? psprintf(INT64_FORMAT, step->rows) : "null");
		json_field(&row, "started_at", json_time(step->started_at));
		json_field(&row, "finished_at", json_time(step->finished_at));
		json_raw(&row, "ms", step->started_at ? psprintf("%.3f", step->ms) : "null");
		json_raw(&row, "attempt", psprintf("%d", Max(step->attempt, 1)));
		json_raw(&row, "worker", step->in_worker ? "true" : "false");
		json_raw(&row, "tests_passed", psprintf("%d", step->tests ? step->tests->passed : 0));
		json_raw(&row, "tests_warned", psprintf("%d", step->tests ? step->tests->warned : 0));
		json_raw(&row, "tests_failed", psprintf("%d", step->tests ? step->tests->failed : 0));
		json_raw(&row, "test_queries", psprintf("%d", step->tests ? step->tests->queries : 0));
		json_field(&row, "sqlstate", step->sqlstate);
		json_field(&row, "message", step->message);
		appendStringInfoChar(&row, '}');
		appendStringInfo(&steps, "%s%s", foreach_current_index(lc) > 0 ? ", " : "", row.data);
	}
	appendStringInfoChar(&steps, ']');

	initStringInfo(&entry);
	appendStringInfoChar(&entry, '{');
	json_field(&entry, "op", "finish");
	start_fields(run, &entry);
	json_field(&entry, "finished_at", json_time(GetCurrentTimestamp()));
	json_field(&entry, "status", run->status);
	json_raw(&entry, "succeeded", psprintf("%d", RunCountSteps(run, STEP_SUCCESS, false)));
	json_raw(&entry, "failed", psprintf("%d", RunCountSteps(run, STEP_FAILED, false) +
										RunCountSteps(run, STEP_CANCELLED, false)));
	json_raw(&entry, "skipped", psprintf("%d", RunCountSteps(run, STEP_SKIPPED, false)));
	json_raw(&entry, "published", psprintf("%d", RunCountSteps(run, STEP_PENDING, true)));
	json_field(&entry, "message", run->message);
	json_raw(&entry, "steps", steps.data);
	json_raw(&entry, "tests", tests_json(run->run_id, run->steps));
	appendStringInfoChar(&entry, '}');
	LedgerWrite(entry.data);
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
		keep = PG_GETARG_INTERVAL_P(0);
		if (DatumGetBool(DirectFunctionCall2(interval_lt, IntervalPGetDatum(keep),
											 IntervalPGetDatum(palloc0(sizeof(Interval))))))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("older_than must not be negative")));
		if (!superuser() &&
			(run_ledger_retention == 0 ||
			 DatumGetBool(DirectFunctionCall2(interval_lt, IntervalPGetDatum(keep),
											  IntervalPGetDatum(retention)))))
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
