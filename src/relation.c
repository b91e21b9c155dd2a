/*-------------------------------------------------------------------------
 *
 * relation.c
 *	  The relations medallion makes, where they are and what it does to
 *	  them that every layer above needs: a model's published relation, the
 *	  schema of bindings and a binding in it, membership of the extension,
 *	  the pg_class flag that keeps autovacuum away, whether two relations'
 *	  columns and indexes match (so storage can move), patient locks, and
 *	  the tables above and below a table (partitions, inheritance).
 *
 * These helpers stayed in the file that first needed them when build.c
 * was split (build_relation.c, build_candidate.c, bind.c, publish.c), so
 * that scale.c, analyze.c and sqltext.c called up into the builders and
 * the bindings.  Here they sit below all of them and call only the
 * catalog layer.
 *
 * Locks for publishing are taken with medallion.lock_timeout per attempt
 * and retried until medallion.publish_timeout (RelLockPatiently), so a BI
 * reader in a long transaction delays a run but never gets an error, and
 * readers queued behind the run are let through between attempts.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/reloptions.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/dependency.h"
#include "catalog/heap.h"
#include "catalog/index.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/objectaddress.h"
#include "catalog/pg_class.h"
#include "catalog/pg_depend.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_trigger.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "pgstat.h"
#include "storage/bufmgr.h"
#include "storage/latch.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "catalog.h"
#include "relation.h"
#include "subxact.h"

static int	rel_lock_timeout = PUBLISH_DEFAULT_LOCK_TIMEOUT_MS;
static int	rel_publish_timeout = PUBLISH_DEFAULT_PUBLISH_TIMEOUT_MS;

/*
 * RelationInit
 *		Define the configuration parameters of patient locks.
 */
void
RelationInit(void)
{
	DefineCustomIntVariable("medallion.lock_timeout",
							"Sets how long one attempt to lock a published relation for publishing waits for readers.",
							"Readers that arrive meanwhile wait behind the run; between attempts they go first.",
							&rel_lock_timeout, PUBLISH_DEFAULT_LOCK_TIMEOUT_MS, 1, INT_MAX, PGC_USERSET, GUC_UNIT_MS,
							NULL, NULL, NULL);
	DefineCustomIntVariable("medallion.publish_timeout",
							"Sets how long a run keeps trying to lock what it publishes before it gives up.",
							"A run that gives up publishes nothing and is recorded as failed.",
							&rel_publish_timeout, PUBLISH_DEFAULT_PUBLISH_TIMEOUT_MS, 0, INT_MAX, PGC_USERSET, GUC_UNIT_MS,
							NULL, NULL, NULL);
}

/* ----------------------------------------------------------------
 * Where medallion's relations are
 * ---------------------------------------------------------------- */

/*
 * RelPublished
 *		Returns the OID of the model's published relation, or InvalidOid.
 */
Oid
RelPublished(ModelDef *model)
{
	Oid			nsp = get_namespace_oid(model->schema, true);

	if (!OidIsValid(nsp))
		return InvalidOid;
	return get_relname_relid(model->name, nsp);
}

/*
 * check_bind_schema
 *		Error unless schema medallion_bind belongs to the extension owner:
 *		one made by anybody else (a role with CREATE on the database, before
 *		an update made it) could hold anything.
 */
static void
check_bind_schema(Oid nsp)
{
	HeapTuple	tup = SearchSysCache1(NAMESPACEOID, ObjectIdGetDatum(nsp));
	Oid			owner;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for schema %u", nsp);
	owner = ((Form_pg_namespace) GETSTRUCT(tup))->nspowner;
	ReleaseSysCache(tup);
	if (owner != CatalogExtensionOwner())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("schema \"%s\" does not belong to the owner of extension medallion",
						MEDALLION_BIND_SCHEMA),
				 errdetail("It belongs to role \"%s\"; medallion keeps the bindings of models there.",
						   GetUserNameFromId(owner, false)),
				 errhint("A superuser checks what it holds, then drops it or gives it to the extension's owner.")));
}

/*
 * RelBindNamespace
 *		The OID of schema medallion_bind.  The install script of 0.2.0 makes
 *		it; a database still at 0.1.0 (the library updated, the extension
 *		not yet) has none: with create, it is made then, as the extension
 *		owner, and the update script makes it the extension's
 *		(medallion.adopt_bind_schema); without, InvalidOid.
 */
Oid
RelBindNamespace(bool create)
{
	Oid			nsp = get_namespace_oid(MEDALLION_BIND_SCHEMA, true);
	CatalogSession session;

	if (OidIsValid(nsp))
	{
		check_bind_schema(nsp);
		return nsp;
	}
	if (!create)
		return nsp;
	CatalogEnter(&session);
	if (SPI_execute("CREATE SCHEMA " MEDALLION_BIND_SCHEMA, false, 0) != SPI_OK_UTILITY ||
		SPI_execute("GRANT USAGE ON SCHEMA " MEDALLION_BIND_SCHEMA " TO medallion_admin", false, 0) != SPI_OK_UTILITY)
		elog(ERROR, "could not create schema %s", MEDALLION_BIND_SCHEMA);
	CatalogLeave(&session);
	CommandCounterIncrement();
	return get_namespace_oid(MEDALLION_BIND_SCHEMA, false);
}

/* The OID of binding name, or InvalidOid. */
Oid
RelBinding(const char *name)
{
	Oid			nsp = RelBindNamespace(false);

	return OidIsValid(nsp) ? get_relname_relid(name, nsp) : InvalidOid;
}

/*
 * RelNotExtensionMember
 *		A relation medallion creates for a model while the extension's own
 *		script runs (an upgrade binding the models it finds) belongs to the
 *		model, not to the extension: pg_dump must dump it like the others.
 */
void
RelNotExtensionMember(Oid relid)
{
	if (creating_extension)
		(void) deleteDependencyRecordsForClass(RelationRelationId, relid,
											   ExtensionRelationId, DEPENDENCY_EXTENSION);
}

/* ----------------------------------------------------------------
 * What medallion does to the heaps it makes
 * ---------------------------------------------------------------- */

/*
 * RelKeepFromAutovacuum
 *		Keep autovacuum away from relid, a heap medallion made (a candidate,
 *		a delta, a staging table): the build gathers its statistics itself,
 *		and an autovacuum worker analyzing a candidate that a build worker
 *		committed could hold locks the run then waits for in its publish
 *		burst, while it waits for the run's statistics rows: a deadlock.
 *		The setting stays with the relation (a swap exchanges storage, not
 *		options), so the previous versions kept in medallion_history are
 *		left alone by autovacuum too.
 */
void
RelKeepFromAutovacuum(Oid relid)
{
	Relation	classrel = table_open(RelationRelationId, RowExclusiveLock);
	Oid			rels[2] = {relid, InvalidOid};

	for (int i = 0; i < 2 && OidIsValid(rels[i]); i++)
	{
		HeapTuple	tup = SearchSysCacheCopy1(RELOID, ObjectIdGetDatum(rels[i]));
		Datum		values[Natts_pg_class] = {0};
		bool		nulls[Natts_pg_class] = {0};
		bool		replaces[Natts_pg_class] = {0};
		bool		isnull;
		Datum		options;
		HeapTuple	newtup;

		if (!HeapTupleIsValid(tup))
			elog(ERROR, "cache lookup failed for relation %u", rels[i]);
		if (i == 0)
			rels[1] = ((Form_pg_class) GETSTRUCT(tup))->reltoastrelid;
		options = SysCacheGetAttr(RELOID, tup, Anum_pg_class_reloptions, &isnull);
		options = transformRelOptions(isnull ? (Datum) 0 : options,
									  list_make1(makeDefElem("autovacuum_enabled",
															 (Node *) makeString("false"), -1)),
									  NULL, NULL, false, false);
		values[Anum_pg_class_reloptions - 1] = options;
		replaces[Anum_pg_class_reloptions - 1] = true;
		newtup = heap_modify_tuple(tup, RelationGetDescr(classrel), values, nulls, replaces);
		CatalogTupleUpdate(classrel, &newtup->t_self, newtup);
	}
	table_close(classrel, RowExclusiveLock);
	CommandCounterIncrement();
}

/* Do two heaps have the same physical columns (so storage can move)? */
bool
RelSameColumns(Relation a, Relation b)
{
	TupleDesc	da = RelationGetDescr(a);
	TupleDesc	db = RelationGetDescr(b);

	if (da->natts != db->natts)
		return false;
	for (int i = 0; i < da->natts; i++)
	{
		Form_pg_attribute aa = TupleDescAttr(da, i);
		Form_pg_attribute ab = TupleDescAttr(db, i);

		if (aa->attisdropped != ab->attisdropped || aa->attlen != ab->attlen ||
			aa->attalign != ab->attalign || aa->attbyval != ab->attbyval)
			return false;
		if (!aa->attisdropped &&
			(aa->atttypid != ab->atttypid || aa->atttypmod != ab->atttypmod))
			return false;
	}
	return true;
}

/*
 * Do two lists of indexes pair up, in order, as indexes of the same kind
 * on the same columns (so their storage can be swapped)?
 */
bool
RelSameIndexes(List *a, List *b)
{
	ListCell   *la,
			   *lb;
	bool		same = list_length(a) == list_length(b);

	forboth(la, a, lb, b)
	{
		Relation	ia = index_open(lfirst_oid(la), AccessShareLock);
		Relation	ib = index_open(lfirst_oid(lb), AccessShareLock);

		if (ia->rd_rel->relam != ib->rd_rel->relam ||
			ia->rd_index->indnatts != ib->rd_index->indnatts ||
			ia->rd_index->indisunique != ib->rd_index->indisunique ||
			memcmp(ia->rd_index->indkey.values, ib->rd_index->indkey.values,
				   sizeof(int16) * ia->rd_index->indnatts) != 0 ||
			memcmp(ia->rd_indcollation, ib->rd_indcollation,
				   sizeof(Oid) * ia->rd_index->indnkeyatts) != 0 ||
			memcmp(ia->rd_opfamily, ib->rd_opfamily, sizeof(Oid) * ia->rd_index->indnkeyatts) != 0 ||
			!equal(RelationGetIndexExpressions(ia), RelationGetIndexExpressions(ib)) ||
			!equal(RelationGetIndexPredicate(ia), RelationGetIndexPredicate(ib)))
			same = false;
		index_close(ia, AccessShareLock);
		index_close(ib, AccessShareLock);
	}
	return same;
}

/*
 * RelCanStandIn
 *		Could heap b stand in for a new heap made from table a by
 *		make_new_heap: a plain table of the same owner, persistence, access
 *		method and tablespace, with the same columns (names, types,
 *		collations, NOT NULL; dropped ones included), no row-level security
 *		on either, and no trigger, rule or inheritance of its own.
 */
bool
RelCanStandIn(Relation a, Relation b)
{
	Form_pg_class ca = a->rd_rel;
	Form_pg_class cb = b->rd_rel;
	TupleDesc	da = RelationGetDescr(a);
	TupleDesc	db = RelationGetDescr(b);

	if (cb->relkind != RELKIND_RELATION || cb->relispartition || cb->relhassubclass ||
		cb->relhastriggers || cb->relhasrules || ca->relowner != cb->relowner ||
		ca->relpersistence != cb->relpersistence || ca->relam != cb->relam ||
		ca->reltablespace != cb->reltablespace || ca->relrowsecurity || ca->relforcerowsecurity ||
		cb->relrowsecurity || cb->relforcerowsecurity || !RelSameColumns(a, b))
		return false;
	for (int i = 0; i < da->natts; i++)
	{
		Form_pg_attribute aa = TupleDescAttr(da, i);
		Form_pg_attribute ab = TupleDescAttr(db, i);

		if (strcmp(NameStr(aa->attname), NameStr(ab->attname)) != 0 ||
			aa->attcollation != ab->attcollation || aa->attnotnull != ab->attnotnull)
			return false;
	}
	return true;
}

/* The blocks of rel's heap and of its TOAST table. */
BlockNumber
RelBlocks(Relation rel)
{
	BlockNumber blocks = RelationGetNumberOfBlocks(rel);

	if (OidIsValid(rel->rd_rel->reltoastrelid))
	{
		Relation	toast = table_open(rel->rd_rel->reltoastrelid, AccessShareLock);

		blocks += RelationGetNumberOfBlocks(toast);
		table_close(toast, AccessShareLock);
	}
	return blocks;
}

/*
 * RelReadBy
 *		Does anything read relid by a dependency of its own: a view or a
 *		rule reading it, a foreign key referencing it (pg_depend rows of
 *		kind normal that point at it)?
 */
bool
RelReadBy(Oid relid)
{
	Relation	depend = table_open(DependRelationId, AccessShareLock);
	ScanKeyData keys[2];
	SysScanDesc scan;
	HeapTuple	tup;
	bool		found = false;

	ScanKeyInit(&keys[0], Anum_pg_depend_refclassid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(RelationRelationId));
	ScanKeyInit(&keys[1], Anum_pg_depend_refobjid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(relid));
	scan = systable_beginscan(depend, DependReferenceIndexId, true, NULL, 2, keys);
	while (!found && HeapTupleIsValid(tup = systable_getnext(scan)))
		found = ((Form_pg_depend) GETSTRUCT(tup))->deptype == DEPENDENCY_NORMAL;
	systable_endscan(scan);
	table_close(depend, AccessShareLock);
	return found;
}

/*
 * RelRenewStorage
 *		Give relid, and its TOAST table, new empty storage, as TRUNCATE
 *		does: transactional (the old files go at commit, and come back if
 *		the subtransaction rolls back), with its statistics removed.  Its
 *		indexes are left pointing at nothing: the caller fills the heap and
 *		then rebuilds them (RelRebuildIndexes).  The caller holds
 *		AccessExclusiveLock on relid.
 */
void
RelRenewStorage(Oid relid)
{
	Relation	rel = table_open(relid, NoLock);
	Oid			toast = rel->rd_rel->reltoastrelid;
	ReindexParams params = {0};

	RelationSetNewRelfilenode(rel, rel->rd_rel->relpersistence);
	table_close(rel, NoLock);
	if (OidIsValid(toast))
	{
		Relation	toastrel = table_open(toast, AccessExclusiveLock);

		RelationSetNewRelfilenode(toastrel, toastrel->rd_rel->relpersistence);
		table_close(toastrel, NoLock);
		/* the TOAST table's own index, empty again */
		(void) reindex_relation(toast, 0, &params);
	}
	RemoveStatistics(relid, 0);
	CommandCounterIncrement();
}

/*
 * Rebuild every index of relid from its heap (after RelRenewStorage and a
 * fill), checking unique and exclusion constraints as it goes: a duplicate
 * fails, as the build of a new unique index does.
 */
void
RelRebuildIndexes(Oid relid)
{
	ReindexParams params = {0};

	(void) reindex_relation(relid, REINDEX_REL_CHECK_CONSTRAINTS, &params);
	CommandCounterIncrement();
}

/* ----------------------------------------------------------------
 * Patient locks
 * ---------------------------------------------------------------- */

static int
compare_oids(const ListCell *a, const ListCell *b)
{
	Oid			oa = lfirst_oid(a);
	Oid			ob = lfirst_oid(b);

	return oa < ob ? -1 : (oa > ob ? 1 : 0);
}

/* One attempt: lock every relation, waiting at most medallion.lock_timeout. */
static void
lock_attempt(void *arg)
{
	List	   *relids = (List *) arg;
	int			nestlevel = NewGUCNestLevel();
	ListCell   *lc;

	(void) set_config_option("lock_timeout", psprintf("%d", rel_lock_timeout),
							 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	foreach(lc, relids)
		LockRelationOid(lfirst_oid(lc), AccessExclusiveLock);
	AtEOXact_GUC(true, nestlevel);
}

/*
 * RelLockPatiently
 *		Take AccessExclusiveLock on every relation of relids (in OID order),
 *		waiting at most medallion.lock_timeout per attempt and retrying with
 *		a growing pause until medallion.publish_timeout has passed; then the
 *		lock_not_available error is raised.  A failed attempt keeps no lock.
 */
void
RelLockPatiently(List *relids)
{
	List	   *sorted = list_copy(relids);
	TimestampTz start = GetCurrentTimestamp();
	int			pause = 10;

	list_sort(sorted, compare_oids);
	for (;;)
	{
		ErrorData  *edata = SubxactRun(lock_attempt, sorted, true);

		if (edata == NULL)
			return;				/* the subtransaction's locks are ours now */
		if (edata->sqlerrcode != ERRCODE_LOCK_NOT_AVAILABLE ||
			TimestampDifferenceExceeds(start, GetCurrentTimestamp(), rel_publish_timeout))
			ReThrowError(edata);
		FreeErrorData(edata);

		/* let the readers queued behind us go, then try again */
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 pause, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
		pause = Min(pause * 2, 500);
	}
}

/*
 * RelTree
 *		relid and every table below it: partitions at every level
 *		(partitioned ones too: a statement naming one fires its trigger,
 *		not its partitions') and inheritance children.
 */
List *
RelTree(Oid relid)
{
	List	   *relids = NIL;
	ListCell   *lc;

	foreach(lc, find_all_inheritors(relid, NoLock, NULL))
	{
		char		relkind = get_rel_relkind(lfirst_oid(lc));

		if (relkind == RELKIND_RELATION || relkind == RELKIND_PARTITIONED_TABLE)
			relids = lappend_oid(relids, lfirst_oid(lc));
	}
	return relids;
}

/*
 * inheritance_walk
 *		The relations above relid (up) or below it, through partitioning or
 *		inheritance (pg_inherits, every row: foreign partitions and
 *		partitions being detached too), at every level, nearest first.
 *		Takes no lock.
 */
static List *
inheritance_walk(Oid relid, bool up)
{
	List	   *found = NIL;	/* each once, nearest first */
	List	   *unread = list_make1_oid(relid);	/* relations whose next level is not read yet */
	Relation	inherits = table_open(InheritsRelationId, AccessShareLock);

	/* breadth first: PostgreSQL's get_partition_ancestors knows partitions only */
	while (unread != NIL)
	{
		ScanKeyData key;
		SysScanDesc scan;
		HeapTuple	tup;
		Oid			from = linitial_oid(unread);

		unread = list_delete_first(unread);
		ScanKeyInit(&key, up ? Anum_pg_inherits_inhrelid : Anum_pg_inherits_inhparent,
					BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(from));
		scan = systable_beginscan(inherits, up ? InheritsRelidSeqnoIndexId : InheritsParentIndexId,
								  true, NULL, 1, &key);
		while (HeapTupleIsValid(tup = systable_getnext(scan)))
		{
			Form_pg_inherits form = (Form_pg_inherits) GETSTRUCT(tup);
			Oid			next = up ? form->inhparent : form->inhrelid;

			if (next != relid && !list_member_oid(found, next))
			{
				found = lappend_oid(found, next);
				unread = lappend_oid(unread, next);
			}
		}
		systable_endscan(scan);
	}
	table_close(inherits, AccessShareLock);
	return found;
}

/*
 * RelAncestors
 *		The tables above relid, through partitioning or inheritance
 *		(pg_inherits), nearest first.
 */
List *
RelAncestors(Oid relid)
{
	return inheritance_walk(relid, true);
}

/*
 * RelDescendants
 *		The relations below relid, through partitioning or inheritance
 *		(pg_inherits), of every kind, nearest first.
 */
List *
RelDescendants(Oid relid)
{
	return inheritance_walk(relid, false);
}

/*
 * RelTriggerNamed
 *		A copy of relid's trigger named name (pg_trigger tuple), or NULL;
 *		triggers is pg_trigger, open.
 */
HeapTuple
RelTriggerNamed(Relation triggers, Oid relid, const char *name)
{
	ScanKeyData key[2];
	SysScanDesc scan;
	HeapTuple	tup;

	ScanKeyInit(&key[0], Anum_pg_trigger_tgrelid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(relid));
	ScanKeyInit(&key[1], Anum_pg_trigger_tgname, BTEqualStrategyNumber, F_NAMEEQ,
				CStringGetDatum(name));
	scan = systable_beginscan(triggers, TriggerRelidNameIndexId, true, NULL, 2, key);
	tup = systable_getnext(scan);
	if (HeapTupleIsValid(tup))
		tup = heap_copytuple(tup);
	systable_endscan(scan);
	return tup;
}

/*
 * RelCapturableType
 *		Whether row capture (changes.c) logs values of type: the types a
 *		watermark has in practice, built in, whose text reads back the same
 *		under any settings (dates and timestamps written in ISO 8601).
 */
bool
RelCapturableType(Oid type)
{
	return type == INT2OID || type == INT4OID || type == INT8OID || type == NUMERICOID ||
		type == DATEOID || type == TIMESTAMPOID || type == TIMESTAMPTZOID;
}
