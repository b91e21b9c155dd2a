/*-------------------------------------------------------------------------
 *
 * changes_deltas.c
 *	  Row-level deltas of tables that maintained models read (issue 31):
 *	  the rows each transaction inserted, deleted or changed, old and new
 *	  images, with the writer's top-level transaction.
 *
 * A table whose deltas are captured has a log of its own,
 * medallion_delta.d<OID> (medallion_xid, medallion_w, then the captured
 * columns with the table's types, under their names: a table column named
 * as one of the first two is not captured): a row written by a transaction
 * is logged with w = +1, a row deleted with w = -1, an update as both.  The log rows are written
 * by the writing transaction itself, straight into the log's heap, so
 * they commit, roll back and roll back to a savepoint with the writes they
 * describe, and a snapshot sees the log rows of exactly the transactions
 * whose writes it sees.  So the delta between two builds, the one whose
 * stored snapshot is S1 and the one reading now under S2, is the log rows
 * S2 sees whose xid S1 does not see, consolidated by summing w per row
 * (ChangesDeltaSql): an insert then a delete cancel, an update that
 * changes no captured column cancels.  Nothing else is needed: open,
 * prepared and late-committing transactions, subtransactions rolled back,
 * and the run's own writes all fall on the right side.
 *
 * The triggers:
 * - medallion_deltas_insert, _update, _delete: statement triggers with
 *   transition tables (one event each: a transition table cannot serve
 *   several), enabled ALWAYS, on the table and on every table below it
 *   (partitions at every level, inheritance children): a statement fires
 *   only the statement triggers of the table it names, whose transition
 *   tables hold the rows of every table below it, in its row type;
 *   enabled on origin only (the default): in replica role
 * - medallion_deltas_row: a row trigger enabled REPLICA on each plain
 *   table fires instead: a subscription's apply worker fires no
 *   statement trigger.  Exactly one of the two logs each row.
 * All log into the log of the table captured, mapping columns by name.
 * TRUNCATE fires none of them: it gives the table new storage, which the
 * state of capture (ChangesDeltaState) shows, and the reader rebuilds.
 *
 * A table below or above another (a partition read on its own) is
 * captured on its own only when nothing writes through a table above it:
 * a statement on the parent would log its rows in the parent's row type,
 * to the parent's log.  ChangesCaptureDeltas refuses such a table.
 *
 * A build reads a log through changes_algebraic.c (ChangesDeltaCount,
 * ChangesDeltaCopy).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/dependency.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/objectaddress.h"
#include "catalog/pg_attribute.h"
#include "catalog/pg_class.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_trigger.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "executor/tuptable.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/ruleutils.h"
#include "utils/syscache.h"
#include "utils/tuplestore.h"
#include "utils/typcache.h"
#include "utils/xid8.h"

#include "bind.h"
#include "catalog.h"
#include "changes.h"
#include "medallion.h"
#include "relation.h"
#include "sqltext.h"
#include "trust.h"


/* A statement logging this many rows or more writes them as a bulk insert. */
#define DELTA_BULK_ROWS		1000

/* Rows of a statement written to its log at once (heap_multi_insert). */
#define DELTA_BATCH_ROWS	1000


/*
 * The top-level transaction that last logged a delta in this backend, and
 * the logs it wrote (in TopMemoryContext): a run in it applies its own
 * writes, and leaves them unseen in the snapshot it stores
 * (ChangesMaintainRecordState).
 */
static TransactionId deltas_logged_by = InvalidTransactionId;
static List *deltas_logged_logs = NIL;

static void next_generation(Oid log);
static void note_logged(Oid log);

/* The name of relid's delta log (in MEDALLION_DELTA_SCHEMA). */
static char *
delta_log_name(Oid relid)
{
	return psprintf("d%u", relid);
}

/* OID of relid's delta log, or InvalidOid */
Oid
ChangesDeltaLog(Oid relid)
{
	Oid			nsp = get_namespace_oid(MEDALLION_DELTA_SCHEMA, true);

	return OidIsValid(nsp) ? get_relname_relid(delta_log_name(relid), nsp) : InvalidOid;
}

/* The captured columns of a delta log, by name, in its order. */
static List *
log_columns(Oid log)
{
	Relation	rel = table_open(log, AccessShareLock);
	TupleDesc	desc = RelationGetDescr(rel);
	List	   *columns = NIL;

	for (int a = DELTA_FIRST_COLUMN - 1; a < desc->natts; a++)
	{
		if (!TupleDescAttr(desc, a)->attisdropped)
			columns = lappend(columns, pstrdup(NameStr(TupleDescAttr(desc, a)->attname)));
	}
	table_close(rel, AccessShareLock);
	return columns;
}

/* Can a column of type be captured: compared for equality, to consolidate rows? */
static bool
delta_type_ok(Oid type)
{
	TypeCacheEntry *tc = lookup_type_cache(type, TYPECACHE_EQ_OPR | TYPECACHE_HASH_PROC);

	return OidIsValid(tc->eq_opr);
}

/*
 * ChangesDeltaLogAbove
 *		Is log the delta log of the table at the top of relid's tree (relid
 *		a partition or an inheritance child)?
 */
bool
ChangesDeltaLogAbove(Oid relid, Oid log)
{
	List	   *above = RelAncestors(relid);

	return above != NIL && log == ChangesDeltaLog(llast_oid(above));
}

/*
 * ChangesDeltaColumnsWhy
 *		Why columns of relid cannot be captured (a column missing, of a type
 *		without equality or reaching code the extension owner does not
 *		trust, or named as a column of the log before them), or NULL when
 *		they can.  Palloc'd.
 */
const char *
ChangesDeltaColumnsWhy(Oid relid, List *columns)
{
	ListCell   *lc;
	char	   *untrusted;

	foreach(lc, columns)
	{
		const char *column = lfirst(lc);
		AttrNumber	attnum = get_attnum(relid, column);

		if (attnum == InvalidAttrNumber)
			return psprintf("reads column \"%s\" of %s, which does not exist", column, SqlRelationName(relid));
		if (strcmp(column, DELTA_XID_COLUMN) == 0 || strcmp(column, DELTA_W_COLUMN) == 0)
			return psprintf("reads column %s of %s, a name its delta log keeps for itself",
							quote_identifier(column), SqlRelationName(relid));
		if (!delta_type_ok(get_atttype(relid, attnum)))
			return psprintf("reads column %s of %s, whose type %s has no equality to consolidate its deltas with",
							quote_identifier(column), SqlRelationName(relid),
							format_type_be(get_atttype(relid, attnum)));

		/*
		 * The log belongs to the extension owner, and ANALYZE (autovacuum's,
		 * or a database owner's) runs its column types' code as the log's
		 * owner: a range's subtype_diff, a type's analyze or comparison
		 * functions.  Only code the extension owner trusts may be reached.
		 */
		if ((untrusted = TrustTypeUntrusted(get_atttype(relid, attnum), CatalogExtensionOwner())) != NULL)
			return psprintf("reads column %s of %s, whose type %s reaches %s, which its delta log (the extension owner's) would run when analyzed",
							quote_identifier(column), SqlRelationName(relid),
							format_type_be(get_atttype(relid, attnum)), untrusted);
	}
	return NULL;
}

/*
 * ChangesDeltaUncaptured
 *		The first of columns (of relid) that its delta log does not
 *		capture, or NULL when it captures them all (or there is no log).
 */
const char *
ChangesDeltaUncaptured(Oid relid, List *columns)
{
	Oid			log = ChangesDeltaLog(relid);
	List	   *captured;
	ListCell   *lc;

	if (!OidIsValid(log))
		return NULL;
	captured = log_columns(log);
	foreach(lc, columns)
	{
		ListCell   *lk;
		bool		found = false;

		foreach(lk, captured)
			found = found || strcmp(lfirst(lk), lfirst(lc)) == 0;
		if (!found)
			return lfirst(lc);
	}
	return NULL;
}

/*
 * make_log
 *		Make relid's delta log with columns (of relid), member of the
 *		extension (derived state: pg_dump leaves it out, DROP EXTENSION
 *		drops it), readable by the extension owner only.
 */
static Oid
make_log(Oid relid, List *columns, Oid extension)
{
	StringInfoData ddl;
	ListCell   *lc;
	Oid			log;
	ObjectAddress logaddr;
	ObjectAddress extaddr;

	initStringInfo(&ddl);
	appendStringInfo(&ddl, "CREATE TABLE %s.%s (%s pg_catalog.xid8 NOT NULL, %s pg_catalog.int2 NOT NULL",
					 MEDALLION_DELTA_SCHEMA, delta_log_name(relid), DELTA_XID_COLUMN, DELTA_W_COLUMN);
	foreach(lc, columns)
	{
		const char *column = lfirst(lc);
		AttrNumber	attnum = get_attnum(relid, column);
		Oid			type;
		int32		typmod;
		Oid			collation;

		if (attnum == InvalidAttrNumber)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("column \"%s\" of %s does not exist", column, SqlRelationName(relid))));
		if (strcmp(column, DELTA_XID_COLUMN) == 0 || strcmp(column, DELTA_W_COLUMN) == 0)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("the deltas of column \"%s\" of %s cannot be captured", column,
							SqlRelationName(relid)),
					 errdetail("A delta log has a column of that name before the captured ones."),
					 errhint("Rename the column: a model reading it is rebuilt whole.")));
		get_atttypetypmodcoll(relid, attnum, &type, &typmod, &collation);
		if (!delta_type_ok(type))
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("the deltas of column \"%s\" of %s cannot be captured", column,
							SqlRelationName(relid)),
					 errdetail("Its type %s has no equality operator to consolidate rows with.",
							   format_type_be(type))));
		appendStringInfo(&ddl, ", %s %s", quote_identifier(column),
						 format_type_extended(type, typmod, FORMAT_TYPE_TYPEMOD_GIVEN | FORMAT_TYPE_FORCE_QUALIFY));
		if (OidIsValid(collation))
			appendStringInfo(&ddl, " COLLATE %s", generate_collation_name(collation));
	}
	appendStringInfoChar(&ddl, ')');
	SqlUtility(ddl.data);
	CommandCounterIncrement();
	log = ChangesDeltaLog(relid);
	ObjectAddressSet(logaddr, RelationRelationId, log);
	ObjectAddressSet(extaddr, ExtensionRelationId, extension);
	recordDependencyOn(&logaddr, &extaddr, DEPENDENCY_EXTENSION);
	SqlUtility(psprintf("COMMENT ON TABLE %s.%s IS %s", MEDALLION_DELTA_SCHEMA, delta_log_name(relid),
						quote_literal_cstr(psprintf("medallion: the rows written to %s (" DELTA_W_COLUMN " +1) and deleted (" DELTA_W_COLUMN " -1), by transaction (" DELTA_XID_COLUMN "), for the models that maintain themselves from them",
													SqlRelationName(relid)))));
	CommandCounterIncrement();
	return log;
}

/*
 * ChangesDropDeltaLog
 *		Drop relid's delta log: a member of the extension, so it leaves the
 *		extension first (as ALTER EXTENSION ... DROP TABLE would).  As the
 *		extension owner.
 */
void
ChangesDropDeltaLog(Oid relid)
{
	Oid			log = ChangesDeltaLog(relid);

	if (!OidIsValid(log))
		return;
	deleteDependencyRecordsForClass(RelationRelationId, log, ExtensionRelationId,
									DEPENDENCY_EXTENSION);
	CommandCounterIncrement();
	SqlUtility(psprintf("DROP TABLE %s.%s", MEDALLION_DELTA_SCHEMA, delta_log_name(relid)));
	CommandCounterIncrement();
}

/*
 * ChangesCaptureDeltas
 *		Capture the deltas of columns of relid (a table or partitioned
 *		table), with those it captures already: its log made (or made
 *		again with more columns: what was logged goes, and its readers
 *		read all rows once), and the triggers on it and every table below
 *		it.  As the extension owner: the caller checked that the model
 *		owner owns or tracks the table.
 */
void
ChangesCaptureDeltas(Oid relid, List *columns)
{
	Oid			extension = get_extension_oid("medallion", false);
	Oid			log = ChangesDeltaLog(relid);
	List	   *want = NIL;
	ListCell   *lc;
	StringInfoData args;

	if (RelAncestors(relid) != NIL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("the deltas of %s cannot be captured on their own", SqlRelationName(relid)),
				 errdetail("It is below %s: a statement naming that table writes its rows there.",
						   SqlRelationName(llast_oid(RelAncestors(relid))))));
	if (OidIsValid(log))
		want = log_columns(log);
	foreach(lc, columns)
	{
		ListCell   *lw;
		bool		found = false;

		foreach(lw, want)
			found = found || strcmp(lfirst(lw), lfirst(lc)) == 0;
		if (!found)
			want = lappend(want, lfirst(lc));
	}
	/* captured already, every column: nothing to make (no DDL, no lock) */
	if (OidIsValid(log) && list_length(want) == list_length(log_columns(log)) &&
		ChangesDeltaState(relid, InvalidOid) != NULL)
		return;

	/*
	 * One capture of a log at a time (two runs giving a new partition its
	 * triggers, a model defined meanwhile): the second waits for the
	 * first's end, and then finds its triggers.  Writers of the log (row
	 * exclusive) and its readers do not wait.
	 */
	if (OidIsValid(log))
	{
		LockRelationOid(log, ShareUpdateExclusiveLock);
		if (list_length(want) == list_length(log_columns(log)) && ChangesDeltaState(relid, InvalidOid) != NULL)
			return;
	}
	if (OidIsValid(log) && list_length(want) != list_length(log_columns(log)))
	{
		ChangesDropDeltaLog(relid);
		log = InvalidOid;
	}
	/*
	 * The log is kept and a table of the tree gets its triggers (one made or
	 * attached since): a new generation of the capture, which every
	 * reader's state shows.  The rows that table logs leave with it if it
	 * is detached again, which the tree alone would not show.
	 */
	if (OidIsValid(log))
		next_generation(log);
	else
		log = make_log(relid, want, extension);

	/* the log's OID, then the columns: what the trigger function reads */
	initStringInfo(&args);
	appendStringInfo(&args, "medallion.track_deltas('%u'", log);
	foreach(lc, want)
		appendStringInfo(&args, ", %s", quote_literal_cstr(lfirst(lc)));
	appendStringInfoChar(&args, ')');
	foreach(lc, RelTree(relid))
	{
		Oid			r = lfirst_oid(lc);
		char	   *name = SqlRelationName(r);

		/* a trigger logging into another log (made again) goes first */
		for (int t = 0; t < 4; t++)
		{
			const char *tgname = t == 0 ? DELTAS_INSERT_TRIGGER : t == 1 ? DELTAS_UPDATE_TRIGGER :
				t == 2 ? DELTAS_DELETE_TRIGGER : DELTAS_ROW_TRIGGER;
			Relation	rel = table_open(r, AccessShareLock);
			bool		stale = false;

			for (int i = 0; rel->trigdesc != NULL && i < rel->trigdesc->numtriggers; i++)
			{
				Trigger    *trigger = &rel->trigdesc->triggers[i];

				if (strcmp(trigger->tgname, tgname) == 0 &&
					(trigger->tgnargs != list_length(want) + 1 ||
					 strcmp(trigger->tgargs[0], psprintf("%u", log)) != 0))
					stale = true;
			}
			table_close(rel, AccessShareLock);
			if (stale)
			{
				SqlUtility(psprintf("DROP TRIGGER %s ON %s", tgname, name));
				CommandCounterIncrement();
			}
		}
		ChangesAddTrigger(r, name, DELTAS_INSERT_TRIGGER,
						  "AFTER INSERT ON %s REFERENCING NEW TABLE AS medallion_new FOR EACH STATEMENT",
						  args.data, "O", "", extension);
		ChangesAddTrigger(r, name, DELTAS_UPDATE_TRIGGER,
						  "AFTER UPDATE ON %s REFERENCING OLD TABLE AS medallion_old NEW TABLE AS medallion_new FOR EACH STATEMENT",
						  args.data, "O", "", extension);
		ChangesAddTrigger(r, name, DELTAS_DELETE_TRIGGER,
						  "AFTER DELETE ON %s REFERENCING OLD TABLE AS medallion_old FOR EACH STATEMENT",
						  args.data, "O", "", extension);
		if (get_rel_relkind(r) == RELKIND_RELATION)
			ChangesAddTrigger(r, name, DELTAS_ROW_TRIGGER,
							  "AFTER INSERT OR UPDATE OR DELETE ON %s FOR EACH ROW",
							  args.data, "R", "REPLICA", extension);
	}
}

/* list_sort's order of MaintainTables: by their tables' OIDs */
static int
table_oid_cmp(const ListCell *a, const ListCell *b)
{
	Oid			x = ((MaintainTable *) lfirst(a))->relid;
	Oid			y = ((MaintainTable *) lfirst(b))->relid;

	return x < y ? -1 : x > y ? 1 : 0;
}

/*
 * ChangesCaptureTables
 *		ChangesCaptureDeltas of each table of tables (MaintainTables: the
 *		columns each reads), as the extension owner, in the order of their
 *		OIDs: two runs giving new triggers to the same logs lock them in
 *		one order, so that neither holds a log the other waits for while
 *		it waits for one the other holds (a deadlock, one of the runs'
 *		models failing).
 */
void
ChangesCaptureTables(List *tables)
{
	List	   *sorted = list_copy(tables);
	CatalogSession session;
	ListCell   *lc;

	list_sort(sorted, table_oid_cmp);
	CatalogEnter(&session);
	foreach(lc, sorted)
		ChangesCaptureDeltas(((MaintainTable *) lfirst(lc))->relid, ((MaintainTable *) lfirst(lc))->columns);
	CatalogLeave(&session);
	list_free(sorted);
}

/*
 * next_generation
 *		Write log's medallion_w column's catalog row again, as it is: its
 *		version (xmin), in the state of capture (ChangesDeltaState), is the
 *		log's generation.  The log's own pg_class row would not do: a
 *		trimmer's TRUNCATE writes it.
 */
static void
next_generation(Oid log)
{
	Relation	attrel = table_open(AttributeRelationId, RowExclusiveLock);
	HeapTuple	tup = SearchSysCacheCopy2(ATTNUM, ObjectIdGetDatum(log), Int16GetDatum(DELTA_W_ATTNUM));

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for column %d of relation %u", DELTA_W_ATTNUM, log);
	CatalogTupleUpdate(attrel, &tup->t_self, tup);
	heap_freetuple(tup);
	table_close(attrel, RowExclusiveLock);
	CommandCounterIncrement();
}

/* The version (xmin) of the catalog row of column attnum of relid, or 0. */
static TransactionId
attribute_version(Oid relid, AttrNumber attnum)
{
	HeapTuple	tup = SearchSysCache2(ATTNUM, ObjectIdGetDatum(relid), Int16GetDatum(attnum));
	TransactionId xmin;

	if (!HeapTupleIsValid(tup))
		return InvalidTransactionId;
	xmin = HeapTupleHeaderGetRawXmin(tup->t_data);
	ReleaseSysCache(tup);
	return xmin;
}

/*
 * A copy of relid's pg_inherits row, or NULL (none): its version (xmin)
 * tells a table detached and attached again from one never detached.
 */
static HeapTuple
inherits_row(Oid relid)
{
	Relation	inhrel = table_open(InheritsRelationId, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;

	ScanKeyInit(&key, Anum_pg_inherits_inhrelid, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(relid));
	scan = systable_beginscan(inhrel, InheritsRelidSeqnoIndexId, true, NULL, 1, &key);
	tup = systable_getnext(scan);
	if (HeapTupleIsValid(tup))
		tup = heap_copytuple(tup);
	systable_endscan(scan);
	table_close(inhrel, AccessShareLock);
	return tup;
}

/* Did snapshot see the transaction that wrote catalog row tup (frozen: long ago)? */
static bool
row_seen(HeapTuple tup, Snapshot snapshot)
{
	TransactionId xmin = HeapTupleHeaderGetRawXmin(tup->t_data);

	if (HeapTupleHeaderXminFrozen(tup->t_data) || !TransactionIdIsNormal(xmin))
		return true;
	return !TransactionIdIsCurrentTransactionId(xmin) && !XidInMVCCSnapshot(xmin, snapshot);
}

/*
 * ChangesDeltaStateSeen
 *		Did snapshot see every catalog row the state of capture of relid is
 *		read from (ChangesDeltaState: the pg_class, pg_inherits and delta
 *		trigger rows of it and every table below it, its captured columns'
 *		rows, the log's generation)?  Otherwise the state is newer than
 *		what snapshot reads (a trigger made, a TRUNCATE, a partition
 *		detached or a column renamed since): a write in between may be
 *		neither read nor logged, and a build reading with snapshot (a
 *		REPEATABLE READ run's) must not store it as the next one's start.
 *		This transaction's own rows count as unseen.
 */
bool
ChangesDeltaStateSeen(Oid relid, Snapshot snapshot)
{
	Oid			log = ChangesDeltaLog(relid);
	Relation	triggers = table_open(TriggerRelationId, AccessShareLock);
	List	   *columns = OidIsValid(log) ? log_columns(log) : NIL;
	bool		seen = true;
	HeapTuple	tup;
	ListCell   *lc;

	if (OidIsValid(log) && HeapTupleIsValid(tup = SearchSysCache2(ATTNUM, ObjectIdGetDatum(log),
																  Int16GetDatum(DELTA_W_ATTNUM))))
	{
		seen = row_seen(tup, snapshot);
		ReleaseSysCache(tup);
	}
	foreach(lc, RelTree(relid))
	{
		Oid			r = lfirst_oid(lc);
		const char *names[] = {DELTAS_INSERT_TRIGGER, DELTAS_UPDATE_TRIGGER, DELTAS_DELETE_TRIGGER};
		ListCell   *lcol;

		if (!seen)
			break;
		if (HeapTupleIsValid(tup = SearchSysCache1(RELOID, ObjectIdGetDatum(r))))
		{
			seen = row_seen(tup, snapshot);
			ReleaseSysCache(tup);
		}
		if (seen && HeapTupleIsValid(tup = inherits_row(r)))
			seen = row_seen(tup, snapshot);
		for (int t = 0; t < lengthof(names) && seen; t++)
		{
			if (HeapTupleIsValid(tup = RelTriggerNamed(triggers, r, names[t])))
				seen = row_seen(tup, snapshot);
		}
		foreach(lcol, columns)
		{
			if (seen && HeapTupleIsValid(tup = SearchSysCacheAttName(r, lfirst(lcol))))
			{
				seen = row_seen(tup, snapshot);
				ReleaseSysCache(tup);
			}
		}
	}
	table_close(triggers, AccessShareLock);
	return seen;
}

/* The log a delta trigger (its pg_trigger row, of triggers) names: its first argument. */
static Oid
trigger_log(Relation triggers, HeapTuple tup)
{
	bool		isnull;
	Datum		args;

	if (((Form_pg_trigger) GETSTRUCT(tup))->tgnargs < 1)
		return InvalidOid;
	args = heap_getattr(tup, Anum_pg_trigger_tgargs, RelationGetDescr(triggers), &isnull);
	/* the arguments, each ending with a NUL: the first is a C string */
	return isnull ? InvalidOid : atooid(VARDATA_ANY(DatumGetByteaPP(args)));
}

/* The relfilenode of relid, InvalidOid when it is gone. */
static Oid
filenode_of(Oid relid)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Oid			filenode;

	if (!HeapTupleIsValid(tup))
		return InvalidOid;
	filenode = ((Form_pg_class) GETSTRUCT(tup))->relfilenode;
	ReleaseSysCache(tup);
	return filenode;
}

/*
 * ChangesDeltaState
 *		The state of delta capture of relid, as text: its log and the
 *		storage and delta triggers of it and every table below it.  Equal
 *		at two builds only when every write in between was logged (no
 *		TRUNCATE, rewrite, partition attached or detached, even if back
 *		as it was, trigger dropped, disabled or made again, log made again
 *		or given a new generation) under the names
 *		and types the log has (no captured column renamed, dropped or of
 *		another type, or altered at all since).  NULL when relid
 *		is not captured as it must be.
 *
 *		storage: when valid, the relation whose storage relid will have
 *		once it is swapped in (a model's candidate, built by this run, read
 *		by a model whose state is recorded before the publish): its
 *		relfilenode is given for relid's.  The candidate's writes are not
 *		logged; its rows are what the reader read.
 */
char *
ChangesDeltaState(Oid relid, Oid storage)
{
	Oid			log = ChangesDeltaLog(relid);
	Oid			function = CatalogFunctionOid("track_deltas");
	Relation	triggers;
	StringInfoData state;
	List	   *tree;
	List	   *columns;
	ListCell   *lc;
	ListCell   *lcol;

	if (!OidIsValid(log) || RelAncestors(relid) != NIL)
		return NULL;
	tree = list_copy(RelTree(relid));
	list_sort(tree, list_oid_cmp);
	columns = log_columns(log);
	initStringInfo(&state);
	appendStringInfo(&state, "log %u/%u", log, attribute_version(log, DELTA_W_ATTNUM));
	triggers = table_open(TriggerRelationId, AccessShareLock);
	foreach(lc, tree)
	{
		Oid			r = lfirst_oid(lc);
		char		relkind = get_rel_relkind(r);
		HeapTuple	classtup = SearchSysCache1(RELOID, ObjectIdGetDatum(r));

		if (!HeapTupleIsValid(classtup))
			continue;
		appendStringInfo(&state, ";%u:%u", r, r == relid && OidIsValid(storage) ?
						 filenode_of(storage) : ((Form_pg_class) GETSTRUCT(classtup))->relfilenode);
		ReleaseSysCache(classtup);
		/* a table of the tree detached, written and attached again shows */
		if (r != relid)
		{
			HeapTuple	inh = inherits_row(r);

			appendStringInfo(&state, "~%u", HeapTupleIsValid(inh) ? HeapTupleHeaderGetRawXmin(inh->t_data) : InvalidTransactionId);
		}
		/*
		 * where each captured column is now, and the version of its
		 * pg_attribute row: a rename, a drop or a new type shows, and so
		 * does a rename and back (the writes in between logged NULL for it)
		 */
		foreach(lcol, columns)
		{
			HeapTuple	atttup = SearchSysCacheAttName(r, lfirst(lcol));

			if (!HeapTupleIsValid(atttup))
			{
				appendStringInfoString(&state, ",0");
				continue;
			}
			appendStringInfo(&state, ",%d:%u/%u", ((Form_pg_attribute) GETSTRUCT(atttup))->attnum,
							 ((Form_pg_attribute) GETSTRUCT(atttup))->atttypid,
							 HeapTupleHeaderGetRawXmin(atttup->t_data));
			ReleaseSysCache(atttup);
		}
		for (int t = 0; t < 4; t++)
		{
			const char *tgname = t == 0 ? DELTAS_INSERT_TRIGGER : t == 1 ? DELTAS_UPDATE_TRIGGER :
				t == 2 ? DELTAS_DELETE_TRIGGER : DELTAS_ROW_TRIGGER;
			char		enabled = t == 3 ? TRIGGER_FIRES_ON_REPLICA : TRIGGER_FIRES_ON_ORIGIN;
			HeapTuple	tup;

			if (t == 3 && relkind != RELKIND_RELATION)
				continue;
			tup = RelTriggerNamed(triggers, r, tgname);
			/* a trigger naming another log (a table moved from another tree) logs nothing here */
			if (!HeapTupleIsValid(tup) || ((Form_pg_trigger) GETSTRUCT(tup))->tgfoid != function ||
				((Form_pg_trigger) GETSTRUCT(tup))->tgenabled != enabled ||
				trigger_log(triggers, tup) != log)
			{
				table_close(triggers, AccessShareLock);
				return NULL;
			}
			appendStringInfo(&state, ",%u/%u", ((Form_pg_trigger) GETSTRUCT(tup))->oid,
							 HeapTupleHeaderGetRawXmin(tup->t_data));
		}
	}
	table_close(triggers, AccessShareLock);
	return state.data;
}

/*
 * ChangesDeltaSql
 *		SQL of relid's consolidated delta since the snapshot previous:
 *		each captured row with its weight medallion_w (the sum over the log rows
 *		of the transactions previous does not see, never 0), read under the
 *		caller's snapshot.
 */
char *
ChangesDeltaSql(Oid relid, const char *previous)
{
	Oid			log = ChangesDeltaLog(relid);
	char	   *columns;

	if (!OidIsValid(log))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the deltas of %s are not captured", SqlRelationName(relid)),
				 errhint("A maintained model captures the deltas of the tables it reads when it is defined.")));
	columns = SqlNameList(log_columns(log));
	return psprintf("SELECT %s, pg_catalog.sum(l." DELTA_W_COLUMN ")::pg_catalog.int8 AS " DELTA_W_COLUMN " FROM %s.%s l "
					"WHERE NOT pg_catalog.pg_visible_in_snapshot(l." DELTA_XID_COLUMN ", %s::pg_catalog.pg_snapshot) "
					"GROUP BY %s HAVING pg_catalog.sum(l." DELTA_W_COLUMN ") OPERATOR(pg_catalog.<>) 0",
					columns, MEDALLION_DELTA_SCHEMA, delta_log_name(relid),
					quote_literal_cstr(previous), columns);
}

/*
 * log_rows
 *		Append the rows of a transition table (or one row) to the log, each
 *		with w, their columns found by name in the row type desc; a
 *		statement's rows in batches (heap_multi_insert).
 */
static void
log_rows(Relation log, TupleDesc desc, AttrNumber *map, int ncols, Tuplestorestate *rows,
		 HeapTuple one, int16 w)
{
	TupleDesc	logdesc = RelationGetDescr(log);
	Datum	   *values = palloc0(sizeof(Datum) * logdesc->natts);
	bool	   *nulls = palloc0(sizeof(bool) * logdesc->natts);
	FullTransactionId xid = GetTopFullTransactionId();
	int64		nrows = rows != NULL ? tuplestore_tuple_count(rows) : 1;
	/* a ring of buffers for a large statement's rows; a few need none */
	BulkInsertState bistate = nrows >= DELTA_BULK_ROWS ? GetBulkInsertState() : NULL;
	CommandId	cid = GetCurrentCommandId(true);
	TupleTableSlot *slot = NULL;
	TupleTableSlot **batch = NULL;
	int			size = (int) Min(nrows, DELTA_BATCH_ROWS);
	int			n = 0;
	int			pointer = 0;

	values[DELTA_XID_ATTNUM - 1] = FullTransactionIdGetDatum(xid);
	values[DELTA_W_ATTNUM - 1] = Int16GetDatum(w);
	if (rows == NULL)
	{
		HeapTuple	tuple;

		for (int c = 0; c < ncols; c++)
		{
			if (map[c] == InvalidAttrNumber)
				nulls[DELTA_FIRST_COLUMN - 1 + c] = true;
			else
				values[DELTA_FIRST_COLUMN - 1 + c] = heap_getattr(one, map[c], desc,
																  &nulls[DELTA_FIRST_COLUMN - 1 + c]);
		}
		tuple = heap_form_tuple(logdesc, values, nulls);
		heap_insert(log, tuple, cid, 0, NULL);
		heap_freetuple(tuple);
		return;
	}

	/*
	 * The rows of a statement, written DELTA_BATCH_ROWS at a time with
	 * heap_multi_insert: a WAL record and a buffer lock per page filled, not
	 * per row.  A read pointer of its own, as a scan of the transition table
	 * takes.
	 */
	slot = MakeSingleTupleTableSlot(desc, &TTSOpsMinimalTuple);
	batch = palloc(sizeof(TupleTableSlot *) * Max(size, 1));
	for (int i = 0; i < size; i++)
		batch[i] = MakeSingleTupleTableSlot(logdesc, &TTSOpsHeapTuple);
	pointer = tuplestore_alloc_read_pointer(rows, EXEC_FLAG_REWIND);
	tuplestore_select_read_pointer(rows, pointer);
	tuplestore_rescan(rows);
	for (;;)
	{
		bool		more = tuplestore_gettupleslot(rows, true, false, slot);

		if (more)
		{
			for (int c = 0; c < ncols; c++)
			{
				if (map[c] == InvalidAttrNumber)
					nulls[DELTA_FIRST_COLUMN - 1 + c] = true;
				else
					values[DELTA_FIRST_COLUMN - 1 + c] = slot_getattr(slot, map[c],
																	  &nulls[DELTA_FIRST_COLUMN - 1 + c]);
			}
			ExecStoreHeapTuple(heap_form_tuple(logdesc, values, nulls), batch[n++], true);
		}
		if (n > 0 && (n == size || !more))
		{
			heap_multi_insert(log, batch, n, cid, 0, bistate);
			for (int i = 0; i < n; i++)
				ExecClearTuple(batch[i]);
			n = 0;
		}
		if (!more)
			break;
	}
	tuplestore_select_read_pointer(rows, 0);
	ExecDropSingleTupleTableSlot(slot);
	for (int i = 0; i < size; i++)
		ExecDropSingleTupleTableSlot(batch[i]);
	if (bistate != NULL)
		FreeBulkInsertState(bistate);
}

PG_FUNCTION_INFO_V1(medallion_track_deltas);

/*
 * medallion_track_deltas
 *		The delta triggers of a captured table (arguments: the log's OID,
 *		then the columns): the rows the statement inserted (+1) and
 *		deleted (-1), an update as both, from its transition tables, or the
 *		row a subscription's apply worker wrote; logged by the writing
 *		transaction, with its top-level transaction ID.
 */
Datum
medallion_track_deltas(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	Trigger    *trigger;
	TupleDesc	desc;
	Relation	log;
	TupleDesc	logdesc;
	Oid			logid;
	AttrNumber *map;
	int			ncols;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_AFTER(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("medallion.track_deltas() runs only as an AFTER trigger"),
				 errhint("medallion adds it to the tables maintained models read.")));
	trigger = trigdata->tg_trigger;
	if (trigger->tgnargs < 1)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("medallion.track_deltas() needs the delta log to write to"),
				 errhint("medallion adds it to the tables maintained models read.")));
	logid = atooid(trigger->tgargs[0]);
	if (!OidIsValid(logid) || get_rel_relkind(logid) != RELKIND_RELATION)
		return PointerGetDatum(NULL);	/* the extension is being dropped */
	/*
	 * only the log of this table (or of the table above it the statement
	 * named); its own first: the walk up pg_inherits is a catalog scan, which
	 * a small statement on a plain table would pay for nothing.  Another
	 * log's trigger is left over on a table that left the tree it logged
	 * for (a partition detached): what is written to it now is not that
	 * tree's, and its writers go on (a trimmer drops the trigger,
	 * ChangesDropStaleTriggers).
	 */
	if (logid != ChangesDeltaLog(RelationGetRelid(trigdata->tg_relation)) &&
		!ChangesDeltaLogAbove(RelationGetRelid(trigdata->tg_relation), logid))
		return PointerGetDatum(NULL);

	desc = RelationGetDescr(trigdata->tg_relation);
	log = table_open(logid, RowExclusiveLock);
	logdesc = RelationGetDescr(log);
	ncols = trigger->tgnargs - 1;
	if (ncols != logdesc->natts - (DELTA_FIRST_COLUMN - 1))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("medallion.track_deltas() must be given the %d columns of the delta log of %s, not %d",
						logdesc->natts - (DELTA_FIRST_COLUMN - 1),
						SqlRelationName(RelationGetRelid(trigdata->tg_relation)), ncols),
				 errhint("medallion adds it to the tables maintained models read.")));

	/*
	 * Each captured column by its name now; one renamed, dropped or of
	 * another type than the log's is logged as NULL (never the value of
	 * another type): the capture state changed with it (ChangesDeltaState),
	 * so the models reading it are rebuilt whole, and the table's writers
	 * are not stopped for it.
	 */
	map = palloc0(sizeof(AttrNumber) * Max(ncols, 1));
	for (int c = 0; c < ncols; c++)
	{
		AttrNumber	a = get_attnum(RelationGetRelid(trigdata->tg_relation), trigger->tgargs[c + 1]);

		if (a > 0 && a <= desc->natts && !TupleDescAttr(desc, a - 1)->attisdropped &&
			TupleDescAttr(desc, a - 1)->atttypid ==
			TupleDescAttr(logdesc, DELTA_FIRST_COLUMN - 1 + c)->atttypid)
			map[c] = a;
	}

	if (TRIGGER_FIRED_FOR_ROW(trigdata->tg_event))
	{
		if (TRIGGER_FIRED_BY_INSERT(trigdata->tg_event))
			log_rows(log, desc, map, ncols, NULL, trigdata->tg_trigtuple, 1);
		else if (TRIGGER_FIRED_BY_DELETE(trigdata->tg_event))
			log_rows(log, desc, map, ncols, NULL, trigdata->tg_trigtuple, -1);
		else if (TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
		{
			log_rows(log, desc, map, ncols, NULL, trigdata->tg_trigtuple, -1);
			log_rows(log, desc, map, ncols, NULL, trigdata->tg_newtuple, 1);
		}
	}
	else
	{
		if (trigdata->tg_oldtable != NULL)
			log_rows(log, desc, map, ncols, trigdata->tg_oldtable, NULL, -1);
		if (trigdata->tg_newtable != NULL)
			log_rows(log, desc, map, ncols, trigdata->tg_newtable, NULL, 1);
	}
	/*
	 * The lock is kept to the end of the writer's transaction (prepared, it
	 * is kept by the prepared transaction): a trimmer truncates a log only
	 * when it can lock it, so never under a writer whose rows it cannot see.
	 */
	table_close(log, NoLock);
	note_logged(logid);
	return PointerGetDatum(NULL);
}

/* Note that this backend's transaction wrote to log. */
static void
note_logged(Oid log)
{
	TransactionId top = GetTopTransactionIdIfAny();
	MemoryContext old;

	if (!TransactionIdEquals(top, deltas_logged_by))
	{
		list_free(deltas_logged_logs);
		deltas_logged_logs = NIL;
		deltas_logged_by = top;
	}
	if (list_member_oid(deltas_logged_logs, log))
		return;
	old = MemoryContextSwitchTo(TopMemoryContext);
	deltas_logged_logs = lappend_oid(deltas_logged_logs, log);
	MemoryContextSwitchTo(old);
}

/*
 * Has this backend's transaction logged deltas of one of the tables relids
 * (into their logs), or with any, of any table, so far, rolled back to a
 * savepoint or not?
 */
bool
ChangesDeltasLoggedHere(List *relids, bool any)
{
	TransactionId top = GetTopTransactionIdIfAny();
	ListCell   *lc;

	if (!TransactionIdIsValid(top) || !TransactionIdEquals(top, deltas_logged_by))
		return false;
	if (any)
		return true;
	foreach(lc, relids)
	{
		Oid			log = ChangesDeltaLog(lfirst_oid(lc));

		if (OidIsValid(log) && list_member_oid(deltas_logged_logs, log))
			return true;
	}
	return false;
}

PG_FUNCTION_INFO_V1(medallion_capture_deltas);

/*
 * medallion.capture_deltas(table regclass, columns name[])
 *		Internal (the tests call it): capture the deltas of columns of
 *		table, as ChangesCaptureDeltas.  Only the extension owner may.
 */
Datum
medallion_capture_deltas(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	List	   *columns = TextArrayToList(PG_GETARG_DATUM(1));
	CatalogSession session;

	if (GetUserId() != CatalogExtensionOwner())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("only the owner of the extension may capture deltas by hand")));
	CatalogEnter(&session);
	ChangesCaptureDeltas(relid, columns);
	CatalogLeave(&session);
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(medallion_delta_sql);

/*
 * medallion.delta_sql(table regclass, since pg_snapshot)
 *		Internal (the tests call it): the SQL of table's consolidated delta
 *		since the snapshot since (ChangesDeltaSql).
 */
Datum
medallion_delta_sql(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(ChangesDeltaSql(PG_GETARG_OID(0),
													 text_to_cstring(PG_GETARG_TEXT_PP(1)))));
}

PG_FUNCTION_INFO_V1(medallion_delta_state);

/*
 * medallion.delta_state(table regclass)
 *		Internal (the tests call it): the state of table's delta capture
 *		(ChangesDeltaState), NULL when its writes are not all logged.
 */
Datum
medallion_delta_state(PG_FUNCTION_ARGS)
{
	char	   *state = ChangesDeltaState(PG_GETARG_OID(0), InvalidOid);

	if (state == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(state));
}
