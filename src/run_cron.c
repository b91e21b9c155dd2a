/*-------------------------------------------------------------------------
 *
 * run_cron.c
 *	  What schedules need from pg_cron beyond its SQL functions: whether
 *	  pg_cron can start a job of this role in this database, and its jobs
 *	  made or removed from any database of the cluster.
 *
 * pg_cron lives in one database (cron.database_name); its job table and
 * functions exist only there, while cron.schedule_in_database makes a job
 * that runs in another.  A schedule made in another database asks a
 * background worker, connected to pg_cron's database as the caller, to
 * call it: the job is the caller's, as if the caller had connected there
 * (the worker's connection checks LOGIN and CONNECT as any session's
 * does), and pg_cron's own checks apply.  The worker's transaction is its
 * own: the job exists once the call returns.
 *
 * Before a job is made, medallion_schedule asks whether pg_cron can start
 * it at all: its launcher starts every job as a new session of the job's
 * role in the job's database, either as a background worker
 * (cron.use_background_workers) or, by default, as a libpq connection to
 * cron.host on this server's port, without a password (it has none but
 * those of the server's .pgpass).  This module makes that connection
 * itself, the way the launcher would, so that a login pg_cron would fail
 * every minute ("connection failed") is refused when scheduling instead.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_database.h"
#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "libpq-fe.h"
#include "miscadmin.h"
#include "postmaster/bgworker.h"
#include "postmaster/postmaster.h"
#include "storage/dsm.h"
#include "storage/ipc.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "medallion.h"
#include "run.h"
#include "run_workers.h"

#define CRON_TEXT_SIZE 1024

/* What a pg_cron worker is asked, and what it answers. */
typedef struct CronShared
{
	Oid			database;		/* pg_cron's database */
	Oid			role;			/* the caller */
	bool		schedule;		/* true: make or update a job; false: remove one */
	char		jobname[CRON_TEXT_SIZE];
	char		cron[CRON_TEXT_SIZE];
	char		command[CRON_TEXT_SIZE];
	char		target[NAMEDATALEN];	/* the database the job runs in */
	int64		jobid;			/* the job to remove */
	/* set by the worker */
	bool		answered;
	bool		failed;
	bool		isnull;
	int64		result;
	int			sqlerrcode;
	char		message[CRON_TEXT_SIZE];
	char		detail[CRON_TEXT_SIZE];
	char		hint[CRON_TEXT_SIZE];
} CronShared;

PGDLLEXPORT void medallion_cron_main(Datum arg);

PG_FUNCTION_INFO_V1(medallion_cron_job);
PG_FUNCTION_INFO_V1(medallion_cron_start_failure);

/* cron.database_name, or an error when pg_cron is not loaded. */
static const char *
cron_database_name(void)
{
	const char *name = GetConfigOption("cron.database_name", true, false);

	if (name == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("pg_cron is not loaded"),
				 errdetail("Schedules are pg_cron jobs, and pg_cron is not in shared_preload_libraries."),
				 errhint("Add pg_cron to shared_preload_libraries, restart, and CREATE EXTENSION pg_cron in the database named by cron.database_name.")));
	return name;
}

/*
 * role_start_failure
 *		Why no session of role can start in database dboid (as a pg_cron job,
 *		or as the worker that calls pg_cron), or NULL; *hint says what to do.
 */
static char *
role_start_failure(Oid role, Oid dboid, char **hint)
{
	HeapTuple	tuple;
	bool		canlogin;
	char	   *rolname = GetUserNameFromId(role, false);
	char	   *dbname = get_database_name(dboid);

	tuple = SearchSysCache1(AUTHOID, ObjectIdGetDatum(role));
	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for role %u", role);
	canlogin = ((Form_pg_authid) GETSTRUCT(tuple))->rolcanlogin;
	ReleaseSysCache(tuple);
	if (!canlogin)
	{
		*hint = psprintf("Schedule as a role that may log in, or ALTER ROLE %s LOGIN.", quote_identifier(rolname));
		return psprintf("Role \"%s\" may not log in (NOLOGIN), and pg_cron starts each job as a new session of the role that scheduled it.",
						rolname);
	}
	if (pg_database_aclcheck(dboid, role, ACL_CONNECT) != ACLCHECK_OK)
	{
		*hint = psprintf("GRANT CONNECT ON DATABASE %s TO %s.", quote_identifier(dbname), quote_identifier(rolname));
		return psprintf("Role \"%s\" may not connect to database \"%s\".", rolname, dbname);
	}
	return NULL;
}

/*
 * medallion.cron_start_failure(OUT failure text, OUT hint text)
 *		Why pg_cron could not start a job of the current role in this
 *		database, and what to change; both NULL when it can.  With
 *		cron.use_background_workers on, a job is a background worker, which
 *		only needs the role to log in and connect; otherwise this connects
 *		as pg_cron's launcher would (cron.host, this server's port, no
 *		password but the server's .pgpass) and reports libpq's error.
 */
Datum
medallion_cron_start_failure(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Datum		values[2];
	bool		nulls[2] = {false, false};
	char	   *hint = NULL;
	char	   *failure;
	const char *workers;
	const char *host;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	(void) cron_database_name();

	failure = role_start_failure(GetUserId(), MyDatabaseId, &hint);
	workers = GetConfigOption("cron.use_background_workers", true, false);
	host = GetConfigOption("cron.host", true, false);
	if (failure == NULL && !(workers != NULL && strcmp(workers, "on") == 0))
	{
		const char *keywords[7];
		const char *settings[7];
		char		port[16];
		PGconn	   *conn;

		snprintf(port, sizeof(port), "%d", PostPortNumber);
		keywords[0] = "host";
		settings[0] = host != NULL ? host : "localhost";
		keywords[1] = "port";
		settings[1] = port;
		keywords[2] = "dbname";
		settings[2] = get_database_name(MyDatabaseId);
		keywords[3] = "user";
		settings[3] = GetUserNameFromId(GetUserId(), false);
		keywords[4] = "connect_timeout";
		settings[4] = "10";
		keywords[5] = "application_name";
		settings[5] = "medallion: can pg_cron log in?";
		keywords[6] = NULL;
		settings[6] = NULL;

		/* pg_cron's launcher reads no password from anywhere else */
		conn = PQconnectdbParams(keywords, settings, false);
		if (conn == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("out of memory")));
		if (PQstatus(conn) != CONNECTION_OK)
		{
			char	   *error = pstrdup(PQerrorMessage(conn));
			int			len = strlen(error);

			while (len > 0 && (error[len - 1] == '\n' || error[len - 1] == ' '))
				error[--len] = '\0';
			failure = psprintf("pg_cron starts each job by logging in as role \"%s\" to database \"%s\" at cron.host (%s), port %s, with no password (cron.use_background_workers is off), and that login fails: %s",
							   settings[3], settings[2], settings[0], port, error);
			hint = pstrdup("Set cron.use_background_workers = on in postgresql.conf and restart (pg_cron then starts jobs as background workers, without a login), or let that login succeed without a password (a pg_hba.conf line with trust for it, or a .pgpass file of the server's operating system user).");
		}
		PQfinish(conn);
	}

	if (failure == NULL)
		nulls[0] = nulls[1] = true;
	else
	{
		values[0] = CStringGetTextDatum(failure);
		values[1] = CStringGetTextDatum(hint);
	}
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc), values, nulls)));
}

/* Call pg_cron as the worker was asked, in the worker's transaction. */
static void
cron_call(CronShared *shared)
{
	Oid			argtypes[4] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID};
	Datum		values[4];
	int			ret;
	bool		isnull;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (shared->schedule)
	{
		values[0] = CStringGetTextDatum(shared->jobname);
		values[1] = CStringGetTextDatum(shared->cron);
		values[2] = CStringGetTextDatum(shared->command);
		values[3] = CStringGetTextDatum(shared->target);
		ret = SPI_execute_with_args("SELECT cron.schedule_in_database($1, $2, $3, $4)",
									4, argtypes, values, NULL, false, 1);
	}
	else
	{
		argtypes[0] = INT8OID;
		values[0] = Int64GetDatum(shared->jobid);
		values[1] = CStringGetTextDatum(shared->target);
		ret = SPI_execute_with_args("SELECT j.jobid FROM cron.job j"
									" WHERE j.jobid OPERATOR(pg_catalog.=) $1"
									" AND j.database OPERATOR(pg_catalog.=) $2"
									" AND cron.unschedule(j.jobid)",
									2, argtypes, values, NULL, false, 0);
	}
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not call pg_cron: %s", SPI_result_code_string(ret));
	shared->isnull = true;
	if (SPI_processed > 0)
	{
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

		shared->isnull = isnull;
		if (!isnull)
			shared->result = DatumGetInt64(d);
	}
	if (SPI_finish() != SPI_OK_FINISH)
		elog(ERROR, "SPI_finish failed");
}

/*
 * medallion_cron_main
 *		Entry point of a pg_cron worker: connect to pg_cron's database as the
 *		caller, make or remove the job, commit, and answer.
 */
void
medallion_cron_main(Datum arg)
{
	dsm_segment *seg;
	CronShared *shared = WorkerAttach(arg, &seg, "medallion pg_cron call");

	BackgroundWorkerInitializeConnectionByOid(shared->database, shared->role, 0);
	SetConfigOption("search_path", "pg_catalog, pg_temp", PGC_USERSET, PGC_S_SESSION);
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	PG_TRY();
	{
		cron_call(shared);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(TopMemoryContext);
		edata = CopyErrorData();
		shared->sqlerrcode = edata->sqlerrcode;
		strlcpy(shared->message, edata->message ? edata->message : "", CRON_TEXT_SIZE);
		strlcpy(shared->detail, edata->detail ? edata->detail : "", CRON_TEXT_SIZE);
		strlcpy(shared->hint, edata->hint ? edata->hint : "", CRON_TEXT_SIZE);
		shared->failed = true;
		shared->answered = true;
		PG_RE_THROW();
	}
	PG_END_TRY();
	PopActiveSnapshot();
	CommitTransactionCommand();
	shared->answered = true;
	dsm_detach(seg);
	proc_exit(0);
}

/* Copy a text argument into a field of CronShared, refusing what does not fit. */
static void
copy_argument(char *field, text *value, const char *what)
{
	char	   *s = text_to_cstring(value);

	if (strlen(s) >= CRON_TEXT_SIZE)
		ereport(ERROR,
				(errcode(ERRCODE_STRING_DATA_RIGHT_TRUNCATION),
				 errmsg("the %s of a pg_cron job must be shorter than %d bytes", what, CRON_TEXT_SIZE)));
	strlcpy(field, s, CRON_TEXT_SIZE);
}

/*
 * medallion.cron_job(op text, jobname text, cron text, command text,
 *					  jobid bigint) RETURNS bigint
 *		In pg_cron's database, as the caller: op 'schedule' makes or updates
 *		the job jobname that runs command in this database on the cron
 *		schedule (cron.schedule_in_database) and returns its id; op
 *		'unschedule' removes job jobid if it runs in this database, and
 *		returns its id, or NULL when there was no such job.
 */
Datum
medallion_cron_job(PG_FUNCTION_ARGS)
{
	const char *crondb = cron_database_name();
	Oid			crondb_oid = get_database_oid(crondb, true);
	char	   *op;
	char	   *hint = NULL;
	char	   *failure;
	dsm_segment *seg;
	CronShared *shared;
	BackgroundWorkerHandle *handle;
	BgwHandleStatus status;
	int64		result;
	bool		isnull;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("op must not be NULL")));
	op = text_to_cstring(PG_GETARG_TEXT_PP(0));
	if (strcmp(op, "schedule") != 0 && strcmp(op, "unschedule") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown pg_cron call \"%s\"", op),
				 errhint("op is schedule or unschedule.")));
	if (strcmp(op, "schedule") == 0 && (PG_ARGISNULL(1) || PG_ARGISNULL(2) || PG_ARGISNULL(3)))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("jobname, cron and command must not be NULL")));
	if (strcmp(op, "unschedule") == 0 && PG_ARGISNULL(4))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("jobid must not be NULL")));
	if (!OidIsValid(crondb_oid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_DATABASE),
				 errmsg("pg_cron's database \"%s\" does not exist", crondb),
				 errhint("Create it and CREATE EXTENSION pg_cron there, or set cron.database_name to a database that has pg_cron (it needs a restart).")));
	failure = role_start_failure(GetUserId(), crondb_oid, &hint);
	if (failure != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("cannot reach pg_cron's database \"%s\"", crondb),
				 errdetail("%s", failure),
				 errhint("%s", hint)));

	seg = dsm_create(sizeof(CronShared), 0);
	shared = dsm_segment_address(seg);
	memset(shared, 0, sizeof(CronShared));
	shared->database = crondb_oid;
	shared->role = GetUserId();
	shared->schedule = strcmp(op, "schedule") == 0;
	if (shared->schedule)
	{
		copy_argument(shared->jobname, PG_GETARG_TEXT_PP(1), "name");
		copy_argument(shared->cron, PG_GETARG_TEXT_PP(2), "schedule");
		copy_argument(shared->command, PG_GETARG_TEXT_PP(3), "command");
	}
	else
		shared->jobid = PG_GETARG_INT64(4);
	strlcpy(shared->target, get_database_name(MyDatabaseId), NAMEDATALEN);

	if (!WorkerRegister("medallion_cron_main", "medallion pg_cron call", "medallion pg_cron call",
						seg, &handle))
		ereport(ERROR,
				(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
				 errmsg("no background worker slot is free to call pg_cron in database \"%s\"", crondb),
				 errhint("Raise max_worker_processes, or try again.")));
	status = WaitForBackgroundWorkerShutdown(handle);
	if (status == BGWH_POSTMASTER_DIED)
		ereport(FATAL,
				(errcode(ERRCODE_ADMIN_SHUTDOWN),
				 errmsg("postmaster exited while pg_cron was called")));
	if (!shared->answered)
		ereport(ERROR,
				(errcode(ERRCODE_CONNECTION_FAILURE),
				 errmsg("the call of pg_cron in database \"%s\" did not finish", crondb),
				 errhint("The server log says why.")));
	if (shared->failed)
	{
		int			sqlerrcode = shared->sqlerrcode;
		char	   *message = pstrdup(shared->message);
		char	   *detail = pstrdup(shared->detail);
		char	   *worker_hint = pstrdup(shared->hint);

		dsm_detach(seg);
		if (sqlerrcode == ERRCODE_UNDEFINED_FUNCTION || sqlerrcode == ERRCODE_INVALID_SCHEMA_NAME ||
			sqlerrcode == ERRCODE_UNDEFINED_TABLE)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("pg_cron is not installed in its database \"%s\"", crondb),
					 errdetail("There: %s", message),
					 errhint("CREATE EXTENSION pg_cron in database \"%s\": schedules of every database are pg_cron jobs there.", crondb)));
		if (sqlerrcode == ERRCODE_INSUFFICIENT_PRIVILEGE)
			ereport(ERROR,
					(errcode(sqlerrcode),
					 errmsg("%s (in pg_cron's database \"%s\")", message, crondb),
					 detail[0] ? errdetail("%s", detail) : 0,
					 errhint("A schedule in another database than pg_cron's is made with cron.schedule_in_database: in database \"%s\", GRANT USAGE ON SCHEMA cron and GRANT EXECUTE ON FUNCTION cron.schedule_in_database(text, text, text, text, text, boolean) to the role.",
							 crondb)));
		ereport(ERROR,
				(errcode(sqlerrcode),
				 errmsg("%s", message),
				 detail[0] ? errdetail("%s", detail) : 0,
				 worker_hint[0] ? errhint("%s", worker_hint) : 0,
				 errcontext("calling pg_cron in its database \"%s\"", crondb)));
	}
	isnull = shared->isnull;
	result = shared->result;
	dsm_detach(seg);
	if (isnull)
		PG_RETURN_NULL();
	PG_RETURN_INT64(result);
}
