/*-------------------------------------------------------------------------
 *
 * worker.c
 *	  Background workers.  For now: the ledger writer, which records run
 *	  ledger entries in a transaction of its own.
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
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"

#include "catalog.h"
#include "worker.h"

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
	LedgerShared *shared;

	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	seg = dsm_attach(DatumGetUInt32(arg));
	if (seg == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("could not map the run ledger entry")));
	shared = dsm_segment_address(seg);

	BackgroundWorkerInitializeConnectionByOid(shared->database, shared->role, 0);
	pgstat_report_appname("medallion ledger");

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
 * WorkerWriteLedger
 *		Record one ledger entry (JSON text for medallion.ledger_apply) in a
 *		transaction of its own, and wait until it is committed.  Raises a
 *		WARNING, never an ERROR, when the worker fails: losing a ledger row
 *		must not fail a run that built and published correctly.
 */
void
WorkerWriteLedger(const char *entry)
{
	Size		len = strlen(entry);
	dsm_segment *seg;
	LedgerShared *shared;
	BackgroundWorker worker;
	BackgroundWorkerHandle *handle;
	BgwHandleStatus status;

	seg = dsm_create(offsetof(LedgerShared, entry) + len + 1, 0);
	shared = dsm_segment_address(seg);
	shared->database = MyDatabaseId;
	shared->role = CatalogExtensionOwner();
	shared->succeeded = false;
	shared->error[0] = '\0';
	shared->entry_len = len;
	memcpy(shared->entry, entry, len + 1);

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	strlcpy(worker.bgw_library_name, "medallion", BGW_MAXLEN);
	strlcpy(worker.bgw_function_name, "medallion_ledger_main", BGW_MAXLEN);
	strlcpy(worker.bgw_name, "medallion ledger writer", BGW_MAXLEN);
	strlcpy(worker.bgw_type, "medallion ledger writer", BGW_MAXLEN);
	worker.bgw_main_arg = UInt32GetDatum(dsm_segment_handle(seg));
	worker.bgw_notify_pid = MyProcPid;

	if (!RegisterDynamicBackgroundWorker(&worker, &handle))
	{
		ereport(WARNING,
				(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
				 errmsg("no background worker slot is free for the run ledger"),
				 errdetail("The ledger entry is written in the run's own transaction; it is lost if that transaction rolls back."),
				 errhint("Raise max_worker_processes.")));
		dsm_detach(seg);
		apply_entry(entry);
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
