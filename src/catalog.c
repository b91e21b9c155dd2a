/*-------------------------------------------------------------------------
 *
 * catalog.c
 *	  The catalog session and catalog SQL: how medallion reads and writes
 *	  its catalog tables (schema "medallion"), the lists and arrays they
 *	  hold, the materialization kinds as data, and the catalog's locks.
 *	  The readers and writers of each table are in catalog_tables.c and
 *	  catalog_owners.c.
 *
 * All catalog access goes through SPI with parameters, as the extension
 * owner (members of medallion_admin can read the catalog but not write it
 * directly) and with search_path pinned to pg_catalog, so that nothing a
 * user put on the search_path can capture an operator or function.
 * CatalogEnter/CatalogLeave bracket that; an error in between is cleaned up
 * by transaction abort, which restores the user id and GUC nest level.
 *
 * Results are copied into the caller's memory context before SPI_finish.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/hashfn.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/latch.h"
#include "storage/lock.h"
#include "storage/proc.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "catalog.h"

/*
 * Command memos: an answer kept for the current transaction and command.
 * What DDL changes (the extensions installed, their owners) this backend
 * sees from its next command on, so the same command always gets the same
 * answer; a subtransaction's rollback takes its DDL back, and every memo's
 * answer with it.
 */
static List *memos = NIL;		/* CommandMemo *, each kept for the session */

static void
forget_memos(SubXactEvent event, SubTransactionId mySubid,
			 SubTransactionId parentSubid, void *arg)
{
	ListCell   *lc;

	if (event != SUBXACT_EVENT_ABORT_SUB)
		return;
	foreach(lc, memos)
		((CommandMemo *) lfirst(lc))->lxid = InvalidLocalTransactionId;
}

/* Does memo (a static variable of its caller) hold an answer for this command? */
bool
CatalogMemoValid(CommandMemo *memo)
{
	return memo->lxid != InvalidLocalTransactionId && memo->lxid == MyProc->lxid &&
		memo->cid == GetCurrentCommandId(false);
}

/* The caller stored this command's answer in memo's owner. */
void
CatalogMemoSet(CommandMemo *memo)
{
	if (!list_member_ptr(memos, memo))
	{
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

		if (memos == NIL)
			RegisterSubXactCallback(forget_memos, NULL);
		memos = lappend(memos, memo);
		MemoryContextSwitchTo(old);
	}
	memo->lxid = MyProc->lxid;
	memo->cid = GetCurrentCommandId(false);
}

/*
 * CatalogExtensionOwner
 *		Returns the role that owns the medallion extension: one lookup of
 *		pg_extension by name per command.
 */
Oid
CatalogExtensionOwner(void)
{
	static CommandMemo memo;	/* a run asks a few dozen times */
	static Oid	owner_found;
	Relation	rel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tuple;
	Oid			owner;

	if (CatalogMemoValid(&memo))
		return owner_found;
	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_extension_extname, BTEqualStrategyNumber,
				F_NAMEEQ, CStringGetDatum("medallion"));
	scan = systable_beginscan(rel, ExtensionNameIndexId, true, NULL, 1, &key);
	tuple = systable_getnext(scan);
	if (!HeapTupleIsValid(tuple))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("extension \"medallion\" does not exist")));
	owner = ((Form_pg_extension) GETSTRUCT(tuple))->extowner;
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	owner_found = owner;
	CatalogMemoSet(&memo);
	return owner;
}

/*
 * CatalogFunctionOid
 *		medallion's function name() (taking no arguments), or InvalidOid:
 *		what a trigger of medallion's must call to be medallion's.
 */
Oid
CatalogFunctionOid(const char *name)
{
	Oid			nsp = get_namespace_oid(MEDALLION_CATALOG_SCHEMA, true);
	oidvector  *none = buildoidvector(NULL, 0);
	HeapTuple	tup;
	Oid			found = InvalidOid;

	if (!OidIsValid(nsp))
		return InvalidOid;
	tup = SearchSysCache3(PROCNAMEARGSNSP, CStringGetDatum(name), PointerGetDatum(none),
						  ObjectIdGetDatum(nsp));
	if (HeapTupleIsValid(tup))
	{
		found = ((Form_pg_proc) GETSTRUCT(tup))->oid;
		ReleaseSysCache(tup);
	}
	return found;
}

/*
 * CatalogEnter
 *		Become the extension owner with a safe search_path, and connect SPI.
 *		Must be paired with CatalogLeave.
 */
void
CatalogEnter(CatalogSession *session)
{
	GetUserIdAndSecContext(&session->save_userid, &session->save_sec_context);
	SetUserIdAndSecContext(CatalogExtensionOwner(),
						   session->save_sec_context | SECURITY_LOCAL_USERID_CHANGE);
	session->save_nestlevel = NewGUCNestLevel();
	(void) set_config_option("search_path", "pg_catalog, pg_temp",
							 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
							 true, 0, false);
	/* as the extension owner, only a superuser's code runs (trust.c's guard) */
	(void) set_config_option("medallion.trusted_for", psprintf("%u", CatalogExtensionOwner()),
							 PGC_SUSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	(void) set_config_option("medallion.trusted_code_only", "on", PGC_SUSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
}

/*
 * CatalogLeave
 *		Undo CatalogEnter.
 */
void
CatalogLeave(CatalogSession *session)
{
	if (SPI_finish() != SPI_OK_FINISH)
		elog(ERROR, "SPI_finish failed");
	AtEOXact_GUC(true, session->save_nestlevel);
	SetUserIdAndSecContext(session->save_userid, session->save_sec_context);
}

/*
 * CatalogRequireAdmin
 *		Raise an error unless the current user has the privileges of
 *		medallion_admin (superusers always do).
 */
void
CatalogRequireAdmin(const char *action)
{
	Oid			admin = get_role_oid("medallion_admin", true);

	if (superuser())
		return;
	if (!OidIsValid(admin) || !has_privs_of_role(GetUserId(), admin))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to %s", action),
				 errdetail("Only members of role \"medallion_admin\" can %s.", action),
				 errhint("GRANT medallion_admin TO %s;",
						 quote_identifier(GetUserNameFromId(GetUserId(), false)))));
}

/*
 * CatalogCheckSpi
 *		Check an SPI return code; every code other than the expected one is
 *		a bug (what says what was being done).
 */
void
CatalogCheckSpi(int ret, int expected, const char *what)
{
	if (ret != expected)
		elog(ERROR, "SPI failed while %s: %s", what, SPI_result_code_string(ret));
}

/*
 * TextArrayToList
 *		Returns a List of palloc'd C strings for a text[] datum (NULL
 *		elements are skipped).
 */
List *
TextArrayToList(Datum array)
{
	ArrayType  *arr = DatumGetArrayTypeP(array);
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	List	   *result = NIL;

	deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	for (int i = 0; i < n; i++)
	{
		if (!nulls[i])
			result = lappend(result, TextDatumGetCString(elems[i]));
	}
	return result;
}

/*
 * ListToTextArray
 *		Returns a text[] datum holding the C strings of a List.
 */
Datum
ListToTextArray(List *strings)
{
	Datum	   *elems = palloc(sizeof(Datum) * (list_length(strings) + 1));
	int			i = 0;
	ListCell   *lc;

	foreach(lc, strings)
		elems[i++] = CStringGetTextDatum((char *) lfirst(lc));
	return PointerGetDatum(construct_array(elems, i, TEXTOID, -1, false, TYPALIGN_INT));
}

/*
 * The kinds of materialization, what each is (catalog.h); what each does
 * is in materialize.c.
 */
static const MaterializationKind materialization_kinds[MAT_KINDS] = {
	/* kind, name, has_table, has_relation, reads_through, worker_ok, extracts */
	[MAT_VIEW] = {MAT_VIEW, "view", false, true, true, false, false},
	[MAT_TABLE] = {MAT_TABLE, "table", true, true, false, true, false},
	[MAT_INCREMENTAL] = {MAT_INCREMENTAL, "incremental", true, true, false, false, true},
	[MAT_SNAPSHOT] = {MAT_SNAPSHOT, "snapshot", true, true, false, false, false},
	[MAT_EPHEMERAL] = {MAT_EPHEMERAL, "ephemeral", false, false, true, false, false},
};

/*
 * CatalogMaterialization
 *		The kind of materialization named name (a static row); an error
 *		names the ones there are.
 */
const MaterializationKind *
CatalogMaterialization(const char *name)
{
	for (int i = 0; i < MAT_KINDS; i++)
	{
		if (strcmp(materialization_kinds[i].name, name) == 0)
			return &materialization_kinds[i];
	}
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown materialization \"%s\"", name),
			 errhint("Materializations are view, table, incremental, snapshot and ephemeral.")));
	return NULL;				/* keep compiler quiet */
}

/* The names of the maintain modes, by MaintainMode. */
static const char *const maintain_names[] = {"auto", "incremental", "full"};

/*
 * CatalogMaintainMode
 *		The maintain mode named name; an error names the ones there are.
 */
MaintainMode
CatalogMaintainMode(const char *name)
{
	for (int i = 0; i < lengthof(maintain_names); i++)
	{
		if (strcmp(maintain_names[i], name) == 0)
			return (MaintainMode) i;
	}
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown maintain mode \"%s\"", name),
			 errhint("maintain is auto, incremental or full.")));
	return MAINTAIN_AUTO;		/* keep compiler quiet */
}

/* The name of a maintain mode (static). */
const char *
CatalogMaintainName(MaintainMode mode)
{
	return maintain_names[mode];
}

/*
 * CatalogLockDefinitions
 *		Serialize changes to model definitions until the end of the
 *		transaction.  Definitions change rarely; one lock keeps the cycle
 *		check and the version numbers right when two sessions redefine
 *		models at once.  It is an advisory lock (key 'medallion', 1) so that
 *		readers of the catalog are never blocked, of a kind SQL cannot take
 *		(MEDALLION_LOCK_CATALOG), so that no role can hold it from outside.
 */
/* this transaction holds the definitions lock (CatalogLockDefinitions) */
static bool definitions_locked = false;
static bool definitions_callback = false;

static void
definitions_xact_callback(XactEvent event, void *arg)
{
	/* prepared, it would hold every owner's definitions with no session to end */
	if (event == XACT_EVENT_PRE_PREPARE && definitions_locked)
		ereport(ERROR,
				(errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
				 errmsg("cannot prepare a transaction that defined models"),
				 errdetail("It holds medallion's definitions lock, which every owner's definitions wait for."),
				 errhint("Commit it.")));
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT || event == XACT_EVENT_PREPARE ||
		event == XACT_EVENT_PARALLEL_COMMIT || event == XACT_EVENT_PARALLEL_ABORT)
		definitions_locked = false;
}

void
CatalogLockDefinitions(void)
{
	LOCKTAG		tag;
	int			wait_ms = LockTimeout > 0 && LockTimeout < CATALOG_DEFINITIONS_WAIT_MS ?
		LockTimeout : CATALOG_DEFINITIONS_WAIT_MS;
	TimestampTz deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), wait_ms);

	/*
	 * Another session's definition holds it until its transaction ends: an
	 * admin who leaves one open (or prepared) must not stop every other
	 * owner's definitions for good.  Wait a while, then say so.
	 */
	SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, MEDALLION_LOCK_KEY, 1, MEDALLION_LOCK_CATALOG);
	while (LockAcquire(&tag, ExclusiveLock, false, true) == LOCKACQUIRE_NOT_AVAIL)
	{
		if (GetCurrentTimestamp() >= deadline)
			ereport(ERROR,
					(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
					 errmsg("another transaction is defining models"),
					 errdetail("It has held medallion's definitions lock for over %d ms (the lesser of lock_timeout and %d s); definitions wait for each other so that cycles and versions stay right.",
							   wait_ms, CATALOG_DEFINITIONS_WAIT_MS / 1000),
					 errhint("Try again when it ends. A superuser finds it in pg_locks (locktype advisory, objsubid %d) and may end it.",
							 MEDALLION_LOCK_CATALOG)));
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, 50,
						 PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
	if (!definitions_callback)
	{
		RegisterXactCallback(definitions_xact_callback, NULL);
		definitions_callback = true;
	}
	definitions_locked = true;
}

/*
 * CatalogLockModel
 *		Take the run lock of a model (MEDALLION_LOCK_MODEL, by the hash of its
 *		name) to the end of the transaction: two runs never build one model
 *		at once.  Without wait, returns false when another session holds it.
 */
bool
CatalogLockModel(const char *name, bool wait)
{
	LOCKTAG		tag;

	SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, MEDALLION_LOCK_KEY,
						 (uint32) DatumGetInt32(hash_any((const unsigned char *) name, strlen(name))),
						 MEDALLION_LOCK_MODEL);
	return LockAcquire(&tag, ExclusiveLock, false, !wait) != LOCKACQUIRE_NOT_AVAIL;
}

/* A statement prepared once per session (CatalogQuery). */
typedef struct CachedStatement
{
	char	   *sql;
	int			nargs;
	SPIPlanPtr	plan;
} CachedStatement;

static List *cached_statements = NIL;

/*
 * CatalogQuery
 *		Run one constant statement through SPI (connected, as CatalogEnter
 *		leaves it), from a plan prepared the first time this backend runs
 *		it: a run reads the catalog with the same few dozen statements, and
 *		parsing and planning them again each time cost more than running
 *		them.  The plan cache re-plans after catalog changes (DROP and
 *		CREATE EXTENSION included) and when search_path differs.  sql must
 *		not vary from call to call (values go in parameters): the cache
 *		keeps every statement it is given.  Returns SPI's result code.
 */
int
CatalogQuery(const char *sql, int nargs, Oid *types, Datum *values, const char *nulls,
			 long count)
{
	ListCell   *lc;
	CachedStatement *found = NULL;

	foreach(lc, cached_statements)
	{
		CachedStatement *cs = lfirst(lc);

		if (cs->nargs == nargs && strcmp(cs->sql, sql) == 0)
		{
			found = cs;
			break;
		}
	}
	if (found == NULL)
	{
		SPIPlanPtr	plan = SPI_prepare(sql, nargs, types);
		MemoryContext old;

		if (plan == NULL)
			elog(ERROR, "SPI_prepare failed for \"%s\": %s", sql, SPI_result_code_string(SPI_result));
		if (SPI_keepplan(plan) != 0)
			elog(ERROR, "SPI_keepplan failed");
		old = MemoryContextSwitchTo(TopMemoryContext);
		found = palloc(sizeof(CachedStatement));
		found->sql = pstrdup(sql);
		found->nargs = nargs;
		found->plan = plan;
		cached_statements = lappend(cached_statements, found);
		MemoryContextSwitchTo(old);
	}
	return SPI_execute_plan(found->plan, values, nulls, false, count);
}

/*
 * CatalogScanRows
 *		The one catalog row reader: run a constant query (CatalogQuery, so
 *		its plan is kept) on the SPI connection the caller has open (a
 *		catalog session, or its own), check it ran (what names it in the
 *		error), and hand each row to fn, in memory context cxt.  Returns
 *		the List, allocated in cxt, of what fn returned that is not NULL:
 *		fn copies out of the row what the caller keeps (CatalogText and the
 *		other column readers below allocate in cxt), or acts on the row and
 *		returns NULL.
 */
List *
CatalogScanRows(MemoryContext cxt, const char *sql, int nargs, Oid *types, Datum *values,
				const char *what, CatalogRowFn fn, void *arg)
{
	SPITupleTable *tuptable;
	uint64		nrows;
	List	   *rows = NIL;

	CatalogCheckSpi(CatalogQuery(sql, nargs, types, values, NULL, 0), SPI_OK_SELECT, what);
	/* fn may run SPI itself: the result is kept here, not in SPI's globals */
	tuptable = SPI_tuptable;
	nrows = SPI_processed;
	for (uint64 i = 0; i < nrows; i++)
	{
		MemoryContext old = MemoryContextSwitchTo(cxt);
		void	   *row = fn(tuptable->vals[i], tuptable->tupdesc, arg);

		if (row != NULL)
			rows = lappend(rows, row);
		MemoryContextSwitchTo(old);
	}
	return rows;
}

/*
 * CatalogReadRows
 *		CatalogScanRows in a catalog session of its own (as the extension
 *		owner, CatalogEnter), the rows made in the caller's memory context.
 */
List *
CatalogReadRows(const char *sql, int nargs, Oid *types, Datum *values, const char *what,
				CatalogRowFn fn, void *arg)
{
	MemoryContext callercxt = CurrentMemoryContext;
	CatalogSession session;
	List	   *rows;

	CatalogEnter(&session);
	rows = CatalogScanRows(callercxt, sql, nargs, types, values, what, fn, arg);
	CatalogLeave(&session);
	return rows;
}

/*
 * CatalogArrayHasNulls
 *		Has the text[] column col of an SPI row NULL elements?
 */
bool
CatalogArrayHasNulls(HeapTuple tuple, TupleDesc desc, int col)
{
	bool		isnull;
	Datum		d = SPI_getbinval(tuple, desc, col, &isnull);

	return !isnull && array_contains_nulls(DatumGetArrayTypeP(d));
}

/*
 * CatalogInvalidRow
 *		Refuse a catalog row that medallion's functions never write (the
 *		check constraints cannot say it all): the code reading it relies on
 *		what they check, and would crash on it.
 */
void
CatalogInvalidRow(const char *table, const char *what, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("medallion.%s holds an invalid row for %s", table, what),
			 errdetail("%s", detail),
			 errhint("medallion's functions never write such a row: it was changed by hand. Correct the row.")));
}

/*
 * CatalogRowTexts
 *		A CatalogRowFn: every column of the row as a string (NULL for SQL
 *		NULL), in an array of as many, palloc'd in the current context.
 */
void *
CatalogRowTexts(HeapTuple tuple, TupleDesc desc, void *arg)
{
	char	  **row = palloc(sizeof(char *) * desc->natts);

	for (int col = 0; col < desc->natts; col++)
		row[col] = SPI_getvalue(tuple, desc, col + 1);
	return row;
}

/* A CatalogRowFn: the row's first column as a string, or NULL (nothing added). */
void *
CatalogRowText(HeapTuple tuple, TupleDesc desc, void *arg)
{
	return SPI_getvalue(tuple, desc, 1);
}

/* A CatalogRowFn: the row's first column, an OID, palloc'd. */
void *
CatalogRowOid(HeapTuple tuple, TupleDesc desc, void *arg)
{
	Oid		   *oid = palloc(sizeof(Oid));
	bool		isnull;

	*oid = DatumGetObjectId(SPI_getbinval(tuple, desc, 1, &isnull));
	return oid;
}

/* Column col (1-based) of a row as a palloc'd string, or NULL. */
char *
CatalogText(HeapTuple tuple, TupleDesc desc, int col)
{
	return SPI_getvalue(tuple, desc, col);
}

/* Column col (1-based, text[]) of a row as a List of strings, NIL for NULL. */
List *
CatalogTextList(HeapTuple tuple, TupleDesc desc, int col)
{
	bool		isnull;
	Datum		d = SPI_getbinval(tuple, desc, col, &isnull);

	return isnull ? NIL : TextArrayToList(d);
}

/* Column col (1-based, boolean) of a row; false for NULL. */
bool
CatalogBool(HeapTuple tuple, TupleDesc desc, int col)
{
	bool		isnull;
	Datum		d = SPI_getbinval(tuple, desc, col, &isnull);

	return !isnull && DatumGetBool(d);
}

/*
 * CatalogExecute
 *		Run one statement on the catalog, as the extension owner with the
 *		pinned search_path, with parameters (nulls as SPI takes them), and
 *		check its SPI result code is expected (what names it in the error).
 *		Returns the rows processed.  The writes and one-shot reads of every
 *		module go through here.
 */
uint64
CatalogExecute(const char *sql, int nargs, Oid *types, Datum *values, const char *nulls,
			   int expected, const char *what)
{
	CatalogSession session;
	uint64		processed;

	CatalogEnter(&session);
	CatalogCheckSpi(SPI_execute_with_args(sql, nargs, types, values, nulls, false, 0), expected, what);
	processed = SPI_processed;
	CatalogLeave(&session);
	return processed;
}

PG_FUNCTION_INFO_V1(medallion_try_run_lock);

/*
 * medallion.try_run_lock(run_id) takes the lock a run holds while it is in
 * progress (MEDALLION_LOCK_RUN), to the end of the transaction, if it is
 * free: true when no run with that number is in progress.  Internal.
 */
Datum
medallion_try_run_lock(PG_FUNCTION_ARGS)
{
	LOCKTAG		tag;

	SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, MEDALLION_LOCK_KEY, (uint32) PG_GETARG_INT64(0),
						 MEDALLION_LOCK_RUN);
	PG_RETURN_BOOL(LockAcquire(&tag, ExclusiveLock, false, true) != LOCKACQUIRE_NOT_AVAIL);
}

/*
 * CatalogLockTrim
 *		Take the lock of trimming the change log (deltas false) or the
 *		delta logs (true) to the end of the transaction, waiting for it
 *		(wait) or only if nobody holds it; false when another run or
 *		trimmer does.  Two locks: a delta trimmer need not wait for a run
 *		that trims the change log, and holds its lock to its commit.
 */
bool
CatalogLockTrim(bool deltas, bool wait)
{
	LOCKTAG		tag;

	SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, MEDALLION_LOCK_KEY, deltas ? 3 : 2, MEDALLION_LOCK_CATALOG);
	return LockAcquire(&tag, ExclusiveLock, false, !wait) != LOCKACQUIRE_NOT_AVAIL;
}
