/*-------------------------------------------------------------------------
 *
 * catalog_owners.c
 *	  The writers of medallion.sources and medallion.schedules, which check
 *	  that the caller acts for the owner.
 *
 * Sources and schedules are made by the public plpgsql functions
 * (medallion_create_source, medallion_schedule, ...), which run as their
 * caller so that foreign tables and pg_cron jobs belong to the caller.
 * Members of medallion_admin cannot write the catalog tables; these two
 * functions write them as the extension owner.  They are C functions, not
 * SECURITY DEFINER ones, so they know who calls them (GetUserId): a row
 * records the role that made it as its owner, and only a role with the
 * owner's privileges (a superuser too) may change, refresh or drop it.
 * Calling them directly grants nothing more than the public functions do.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"

#include "catalog.h"

PG_FUNCTION_INFO_V1(medallion_source_write);
PG_FUNCTION_INFO_V1(medallion_schedule_write);

/*
 * check_row_owner
 *		Error unless the caller acts for the owner of row name of table
 *		(medallion.sources or medallion.schedules), when there is one.
 *		Runs inside CatalogEnter; caller is the role that called us.
 *		Returns whether the row exists.
 */
static bool
check_row_owner(const char *table, const char *what, const char *name, Oid caller)
{
	Oid			types[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(name)};
	char	   *owner;
	int			ret;

	ret = SPI_execute_with_args(psprintf("SELECT owner::pg_catalog.text FROM %s WHERE name OPERATOR(pg_catalog.=) $1 FOR UPDATE",
										 table),
								1, types, values, NULL, false, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not read %s: %s", table, SPI_result_code_string(ret));
	if (SPI_processed == 0)
		return false;
	owner = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	if (!has_privs_of_role(caller, get_role_oid(owner, true)))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("must be owner of %s \"%s\"", what, name),
				 errdetail("The %s belongs to role \"%s\".", what, owner)));
	return true;
}

/*
 * begin_write
 *		What both writers do first: take op and name (arguments 1 and 2),
 *		check the caller is an admin, become the extension owner
 *		(CatalogEnter, ended by the caller with CatalogLeave) and check
 *		the caller acts for the row's owner.  Returns whether the row
 *		exists.
 */
static bool
begin_write(FunctionCallInfo fcinfo, const char *table, const char *what, char **op,
			char **name, CatalogSession *session)
{
	Oid			caller = GetUserId();

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("op and name must not be NULL")));
	*op = text_to_cstring(PG_GETARG_TEXT_PP(0));
	*name = text_to_cstring(PG_GETARG_TEXT_PP(1));
	CatalogRequireAdmin(psprintf("change %ss", what));
	CatalogEnter(session);
	return check_row_owner(table, what, *name, caller);
}

/*
 * Run a write of the catalog with the function's arguments as parameters;
 * with first (not 0), $1 is first instead of the first argument (op).  The
 * arguments themselves are never changed: the caller's expression keeps a
 * constant argument there from one call to the next.
 */
static void
write_row(const char *sql, FunctionCallInfo fcinfo, Oid *types, int nargs, int expected,
		  Datum first)
{
	Datum		values[FUNC_MAX_ARGS];
	char		nulls[FUNC_MAX_ARGS];
	int			ret;

	for (int i = 0; i < nargs; i++)
	{
		values[i] = PG_ARGISNULL(i) ? (Datum) 0 : PG_GETARG_DATUM(i);
		nulls[i] = PG_ARGISNULL(i) ? 'n' : ' ';
	}
	if (first != (Datum) 0)
	{
		values[0] = first;
		nulls[0] = ' ';
	}
	ret = SPI_execute_with_args(sql, nargs, types, values, nulls, false, 0);
	if (ret != expected)
		elog(ERROR, "could not write the catalog: %s", SPI_result_code_string(ret));
}

/*
 * medallion.source_write(op, name, kind, server_name, remote_schema,
 *		local_schema, tables, options, freshness_column, warn_after,
 *		error_after, description) writes medallion.sources: op is upsert,
 *		tables or delete.  Returns whether the source existed.
 */
Datum
medallion_source_write(PG_FUNCTION_ARGS)
{
	Oid			types[12] = {TEXTOID, TEXTOID, TEXTOID, NAMEOID, TEXTOID, NAMEOID, TEXTARRAYOID,
	JSONBOID, TEXTOID, INTERVALOID, INTERVALOID, TEXTOID};
	Oid			caller = GetUserId();
	char	   *op;
	char	   *name;
	CatalogSession session;
	bool		existed;
	Datum		owner;

	existed = begin_write(fcinfo, "medallion.sources", "source", &op, &name, &session);
	if (strcmp(op, "upsert") == 0)
	{
		/* credentials never reach the catalog, nor an error message */
		if (!PG_ARGISNULL(7))
		{
			Oid			jtypes[1] = {JSONBOID};
			Datum		jvalues[1] = {PG_GETARG_DATUM(7)};

			if (SPI_execute_with_args("SELECT 1 WHERE $1 OPERATOR(pg_catalog.?|) "
									  "ARRAY['password', 'username', 'user', 'passwd', 'pwd']",
									  1, jtypes, jvalues, NULL, false, 1) != SPI_OK_SELECT)
				elog(ERROR, "could not check the options of source \"%s\"", name);
			if (SPI_processed > 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("options must not hold credentials"),
						 errhint("Credentials belong in a user mapping (CREATE USER MAPPING), which medallion never reads.")));
		}
		/* $1 (op) is the owner of a new source: the caller */
		types[0] = NAMEOID;
		owner = DirectFunctionCall1(namein, CStringGetDatum(GetUserNameFromId(caller, false)));
		write_row("INSERT INTO medallion.sources AS s (owner, name, kind, server_name, remote_schema, "
				  "local_schema, tables, options, freshness_column, warn_after, error_after, description) "
				  "VALUES ($1, $2, $3, $4, $5, $6, COALESCE($7, '{}'::pg_catalog.text[]), COALESCE($8, '{}'::pg_catalog.jsonb), "
				  "$9, $10, $11, $12) "
				  "ON CONFLICT ON CONSTRAINT sources_pkey DO UPDATE "
				  "SET kind = EXCLUDED.kind, server_name = EXCLUDED.server_name, "
				  "remote_schema = EXCLUDED.remote_schema, local_schema = EXCLUDED.local_schema, "
				  "tables = EXCLUDED.tables, options = EXCLUDED.options, "
				  "freshness_column = EXCLUDED.freshness_column, warn_after = EXCLUDED.warn_after, "
				  "error_after = EXCLUDED.error_after, description = EXCLUDED.description",
				  fcinfo, types, 12, SPI_OK_INSERT, owner);
	}
	else if (strcmp(op, "tables") == 0)
		write_row("UPDATE medallion.sources SET tables = $7 WHERE name OPERATOR(pg_catalog.=) $2",
				  fcinfo, types, 12, SPI_OK_UPDATE, (Datum) 0);
	else if (strcmp(op, "delete") == 0)
		write_row("DELETE FROM medallion.sources WHERE name OPERATOR(pg_catalog.=) $2",
				  fcinfo, types, 12, SPI_OK_DELETE, (Datum) 0);
	else
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown source write \"%s\"", op)));
	CatalogLeave(&session);
	PG_RETURN_BOOL(existed);
}

/*
 * medallion.schedule_write(op, name, selector, cron, retries, retry_delay,
 *		jobid, last_run_id, last_status, last_attempts, threads) writes
 *		medallion.schedules: op is upsert, outcome or delete.
 */
Datum
medallion_schedule_write(PG_FUNCTION_ARGS)
{
	Oid			types[11] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID, INT4OID, INTERVALOID, INT8OID,
	INT8OID, TEXTOID, INT4OID, INT4OID};
	Oid			caller = GetUserId();
	char	   *op;
	char	   *name;
	CatalogSession session;
	Datum		owner;

	(void) begin_write(fcinfo, "medallion.schedules", "schedule", &op, &name, &session);
	if (strcmp(op, "upsert") == 0)
	{
		types[0] = NAMEOID;
		owner = DirectFunctionCall1(namein, CStringGetDatum(GetUserNameFromId(caller, false)));
		write_row("INSERT INTO medallion.schedules AS s (owner, name, selector, cron, retries, "
				  "retry_delay, jobid, threads) "
				  "VALUES ($1, $2, $3, $4, $5, $6, $7, $11) "
				  "ON CONFLICT ON CONSTRAINT schedules_pkey DO UPDATE "
				  "SET selector = EXCLUDED.selector, cron = EXCLUDED.cron, retries = EXCLUDED.retries, "
				  "retry_delay = EXCLUDED.retry_delay, threads = EXCLUDED.threads, jobid = EXCLUDED.jobid",
				  fcinfo, types, 11, SPI_OK_INSERT, owner);
	}
	else if (strcmp(op, "outcome") == 0)
		/* the times are the runs' own, not this transaction's */
		write_row("UPDATE medallion.schedules AS s SET last_run_id = $8, last_status = $9, "
				  "last_attempts = $10, "
				  "last_started_at = CASE WHEN $10 OPERATOR(pg_catalog.>) 1 THEN s.last_started_at ELSE "
				  "(SELECT r.started_at FROM medallion.runs r WHERE r.run_id OPERATOR(pg_catalog.=) $8) END, "
				  "last_finished_at = COALESCE((SELECT r.finished_at FROM medallion.runs r "
				  "WHERE r.run_id OPERATOR(pg_catalog.=) $8), pg_catalog.clock_timestamp()) "
				  "WHERE s.name OPERATOR(pg_catalog.=) $2",
				  fcinfo, types, 11, SPI_OK_UPDATE, (Datum) 0);
	else if (strcmp(op, "delete") == 0)
		write_row("DELETE FROM medallion.schedules WHERE name OPERATOR(pg_catalog.=) $2",
				  fcinfo, types, 11, SPI_OK_DELETE, (Datum) 0);
	else
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown schedule write \"%s\"", op)));
	CatalogLeave(&session);
	PG_RETURN_VOID();
}
