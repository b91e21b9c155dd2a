/*-------------------------------------------------------------------------
 *
 * publish.c
 *	  Publishing a table candidate: locks, the storage swap, the previous
 *	  version kept in medallion_history, and medallion_rollback's swap back.
 *
 * Publishing swaps the storage of the published table and the candidate
 * (pg_class relfilenode, toast table, size and freeze fields, each index's
 * storage, and pg_statistic rows), so the published table keeps its OID,
 * grants, policies, comments and dependent views, and its indexes need no
 * rebuild while readers wait.  The candidate then holds the previous
 * content and becomes medallion_history.<model>, which medallion_rollback
 * swaps back.  The history copy is its owner's only: what roles may read
 * of the table is decided on the table, now, not when the copy was made.
 *
 * This mirrors swap_relation_files() and finish_heap_swap() in PostgreSQL's
 * commands/cluster.c (what CLUSTER, VACUUM FULL and REFRESH MATERIALIZED
 * VIEW use), which cannot be called here: finish_heap_swap drops the old
 * heap and rebuilds every index of the swapped table, while a publish
 * keeps the old content as a table of its own (the previous version) and
 * swaps index storage built beforehand, so that readers wait only for the
 * catalog updates.  Statistics are swapped too, so the table is planned
 * with the candidate's fresh ones at once.
 *
 * The run locks what it publishes patiently (RelLockPatiently in
 * relation.c): medallion.lock_timeout per attempt, retried until
 * medallion.publish_timeout, so a BI reader in a long transaction delays a
 * run but never gets an error.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/attmap.h"
#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/toast_internals.h"
#include "access/xact.h"
#include "catalog/dependency.h"
#include "catalog/index.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/objectaddress.h"
#include "catalog/pg_am.h"
#include "catalog/pg_class.h"
#include "catalog/pg_depend.h"
#include "catalog/pg_rewrite.h"
#include "catalog/pg_statistic.h"
#include "catalog/pg_type.h"
#include "commands/cluster.h"
#include "commands/comment.h"
#include "commands/defrem.h"
#include "commands/tablecmds.h"
#include "commands/tablespace.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "nodes/params.h"
#include "parser/parse_utilcmd.h"
#include "rewrite/rewriteHandler.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/ruleutils.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/varlena.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/latch.h"
#include "utils/memutils.h"
#include "utils/resowner.h"

#include "bind.h"
#include "build.h"
#include "publish.h"
#include "relation.h"
#include "scale.h"
#include "scope.h"
#include "sqltext.h"
#include "subxact.h"

static bool keep_previous_setting = true;

/*
 * PublishInit
 *		Define the configuration parameters of publishing.
 */
void
PublishInit(void)
{
	DefineCustomBoolVariable("medallion.keep_previous",
							 "Keeps the previous content of each table model for medallion_rollback.",
							 "When off, what a run replaces is dropped at once.",
							 &keep_previous_setting, true, PGC_USERSET, 0,
							 NULL, NULL, NULL);
}

/*
 * name_toast
 *		Give toast table toast (and its index) the names PostgreSQL gives
 *		the toast table of relation owner, pg_toast_<OID> and
 *		pg_toast_<OID>_index; with temporary, a name of its own first, to
 *		free the usual one for another toast table.
 */
static void
name_toast(Oid toast, Oid owner, bool temporary)
{
	char	   *name = psprintf(temporary ? "pg_toast_%u_swapped" : "pg_toast_%u", owner);

	RenameRelationInternal(toast, name, true, false);
	CommandCounterIncrement();
	RenameRelationInternal(toast_get_valid_index(toast, AccessExclusiveLock),
						   psprintf("%s_index", name), true, true);
	CommandCounterIncrement();
}

/*
 * swap_class_fields
 *		Exchange the storage-describing fields of two pg_class rows: file
 *		node, size estimates, freeze horizons and (for heaps) the toast
 *		table.  Each toast table's dependency follows its new owner.
 */
static void
swap_class_fields(Relation classrel, Oid a, Oid b, bool heaps)
{
	HeapTuple	ta = SearchSysCacheCopy1(RELOID, ObjectIdGetDatum(a));
	HeapTuple	tb = SearchSysCacheCopy1(RELOID, ObjectIdGetDatum(b));
	Form_pg_class fa,
				fb;
	Oid			oid_tmp;
	int32		int_tmp;
	float4		float_tmp;
	TransactionId xid_tmp;

	if (!HeapTupleIsValid(ta) || !HeapTupleIsValid(tb))
		elog(ERROR, "cache lookup failed for relation %u or %u", a, b);
	fa = (Form_pg_class) GETSTRUCT(ta);
	fb = (Form_pg_class) GETSTRUCT(tb);
	if (fa->relfilenode == InvalidOid || fb->relfilenode == InvalidOid)
		elog(ERROR, "cannot swap mapped relations %u and %u", a, b);
	if (fa->reltablespace != fb->reltablespace || fa->relam != fb->relam ||
		fa->relpersistence != fb->relpersistence)
		elog(ERROR, "relations %u and %u differ in tablespace, access method or persistence", a, b);

	oid_tmp = fa->relfilenode;
	fa->relfilenode = fb->relfilenode;
	fb->relfilenode = oid_tmp;
	int_tmp = fa->relpages;
	fa->relpages = fb->relpages;
	fb->relpages = int_tmp;
	float_tmp = fa->reltuples;
	fa->reltuples = fb->reltuples;
	fb->reltuples = float_tmp;
	int_tmp = fa->relallvisible;
	fa->relallvisible = fb->relallvisible;
	fb->relallvisible = int_tmp;
	if (heaps)
	{
		xid_tmp = fa->relfrozenxid;
		fa->relfrozenxid = fb->relfrozenxid;
		fb->relfrozenxid = xid_tmp;
		xid_tmp = fa->relminmxid;
		fa->relminmxid = fb->relminmxid;
		fb->relminmxid = xid_tmp;
		oid_tmp = fa->reltoastrelid;
		fa->reltoastrelid = fb->reltoastrelid;
		fb->reltoastrelid = oid_tmp;
	}
	CatalogTupleUpdate(classrel, &ta->t_self, ta);
	CatalogTupleUpdate(classrel, &tb->t_self, tb);

	/* the toast tables changed hands: so do their dependencies */
	if (heaps && OidIsValid(fa->reltoastrelid))
		changeDependencyFor(RelationRelationId, fa->reltoastrelid,
							RelationRelationId, b, a);
	if (heaps && OidIsValid(fb->reltoastrelid))
		changeDependencyFor(RelationRelationId, fb->reltoastrelid,
							RelationRelationId, a, b);

	/*
	 * ... and their names, which PostgreSQL derives from the owner's OID:
	 * a toast table left named after the other relation made a later
	 * rewrite of either one (ALTER TABLE ... TYPE, VACUUM FULL, CLUSTER),
	 * which names its new toast table after its owner, fail with "relation
	 * pg_toast_<OID> already exists".
	 */
	if (heaps && OidIsValid(fa->reltoastrelid) && OidIsValid(fb->reltoastrelid))
	{
		CommandCounterIncrement();
		name_toast(fa->reltoastrelid, a, true);
		name_toast(fb->reltoastrelid, b, false);
		name_toast(fa->reltoastrelid, a, false);
	}
	heap_freetuple(ta);
	heap_freetuple(tb);
}

/* Exchange the pg_statistic rows of two relations with the same columns. */
static void
swap_statistics(Oid a, Oid b)
{
	Relation	statrel = table_open(StatisticRelationId, RowExclusiveLock);
	List	   *tuples = NIL;
	Oid			relids[2] = {a, b};
	ListCell   *lc;

	for (int i = 0; i < 2; i++)
	{
		ScanKeyData key;
		SysScanDesc scan;
		HeapTuple	tup;

		ScanKeyInit(&key, Anum_pg_statistic_starelid, BTEqualStrategyNumber, F_OIDEQ,
					ObjectIdGetDatum(relids[i]));
		scan = systable_beginscan(statrel, StatisticRelidAttnumInhIndexId, true, NULL, 1, &key);
		while (HeapTupleIsValid(tup = systable_getnext(scan)))
		{
			tuples = lappend(tuples, heap_copytuple(tup));
			CatalogTupleDelete(statrel, &tup->t_self);
		}
		systable_endscan(scan);
	}
	CommandCounterIncrement();
	foreach(lc, tuples)
	{
		HeapTuple	tup = lfirst(lc);
		Form_pg_statistic form = (Form_pg_statistic) GETSTRUCT(tup);

		form->starelid = form->starelid == a ? b : a;
		CatalogTupleInsert(statrel, tup);
	}
	table_close(statrel, RowExclusiveLock);
}

/*
 * swap_storage
 *		Exchange the contents of heaps a and b, which have the same physical
 *		columns, with the given index pairs (parallel OID lists): after this
 *		a has b's rows, indexes and statistics, and b has a's.  Both must be
 *		locked AccessExclusive by the caller.
 */
static void
swap_storage(Oid a, Oid b, List *a_indexes, List *b_indexes)
{
	Relation	rela = table_open(a, NoLock);
	Relation	relb = table_open(b, NoLock);
	Relation	classrel;
	ListCell   *la,
			   *lb;

	if (!RelSameColumns(rela, relb))
		elog(ERROR, "relations %u and %u do not have the same columns", a, b);
	if (list_length(a_indexes) != list_length(b_indexes))
		elog(ERROR, "relations %u and %u do not have the same indexes", a, b);

	classrel = table_open(RelationRelationId, RowExclusiveLock);
	swap_class_fields(classrel, a, b, true);
	forboth(la, a_indexes, lb, b_indexes)
		swap_class_fields(classrel, lfirst_oid(la), lfirst_oid(lb), false);
	table_close(classrel, RowExclusiveLock);
	swap_statistics(a, b);
	CommandCounterIncrement();

	/* both relations now have file nodes new in this transaction */
	RelationAssumeNewRelfilenode(rela);
	RelationAssumeNewRelfilenode(relb);
	table_close(rela, NoLock);
	table_close(relb, NoLock);
	CommandCounterIncrement();
}

/*
 * discard
 *		A table the run no longer needs goes to medallion_build as
 *		d_<OID>, dropped when the ledger is next tidied, in a transaction
 *		of its own: dropped here, its files would be unlinked and its
 *		buffers dropped when the run commits, while the published tables
 *		are still locked (tens of milliseconds for a million rows, which
 *		every reader would wait).  A Citus table is dropped at once.
 */
static void
discard(Oid relid)
{
	Relation	rel;
	ObjectAddresses *moved;
	ListCell   *lc;

	if (ScaleDropTable(relid))
		return;
	rel = table_open(relid, AccessExclusiveLock);
	/* its indexes move with it: unique names there first */
	foreach(lc, RelationGetIndexList(rel))
		RenameRelationInternal(lfirst_oid(lc), psprintf("d_%u", lfirst_oid(lc)), true, true);
	CommandCounterIncrement();
	moved = new_object_addresses();
	AlterTableNamespaceInternal(rel, RelationGetNamespace(rel),
								get_namespace_oid(MEDALLION_BUILD_SCHEMA, false), moved);
	free_object_addresses(moved);
	table_close(rel, NoLock);
	CommandCounterIncrement();
	RenameRelationInternal(relid, psprintf("d_%u", relid), true, false);
	CommandCounterIncrement();
}

/*
 * keeps_previous
 *		Does medallion.keep_previous hold for the model: the caller's
 *		setting only when the caller acts for its owner (ScopeOwnerSetting).
 */
static bool
keeps_previous(ModelDef *model)
{
	return ScopeOwnerBool(ModelOwnerId(model), "medallion.keep_previous", keep_previous_setting);
}

/*
 * keep_previous
 *		relid holds a model's previous content: make it
 *		medallion_history.<model> (discarding the one before; nothing to
 *		move when the candidate was built in that one, recycle_history in
 *		build_candidate.c), or discard it.
 */
static void
keep_previous(ModelDef *model, Oid relid)
{
	Oid			history_nsp = get_namespace_oid(MEDALLION_HISTORY_SCHEMA, false);
	Oid			old = get_relname_relid(model->name, history_nsp);
	Relation	rel;
	ObjectAddresses *moved;

	if (OidIsValid(old) && old != relid)
	{
		LockRelationOid(old, AccessExclusiveLock);
		discard(old);
	}
	if (!keeps_previous(model))
	{
		discard(relid);
		return;
	}
	rel = table_open(relid, AccessExclusiveLock);
	if (old == relid)
	{
		/* the candidate was built in the previous version: it is in place */
		BuildSetAcl(relid, PointerGetDatum(acldefault(OBJECT_TABLE, rel->rd_rel->relowner)), false);
		table_close(rel, NoLock);
		return;
	}

	/*
	 * Only the owner reads the history copy: the grants it had as a
	 * candidate are the table's as they were then, and would stay when the
	 * table's change (a REVOKE, row-level security enabled).  Grants its
	 * owner gives it later follow the table's (medallion.follow_grants).
	 */
	BuildSetAcl(relid, PointerGetDatum(acldefault(OBJECT_TABLE, rel->rd_rel->relowner)), false);
	moved = new_object_addresses();
	AlterTableNamespaceInternal(rel, RelationGetNamespace(rel), history_nsp, moved);
	free_object_addresses(moved);
	table_close(rel, NoLock);
	CommandCounterIncrement();
	RenameRelationInternal(relid, model->name, true, false);
	CommandCounterIncrement();
}

/*
 * PublishForgetPrevious
 *		A table model's rows were replaced in place (a maintained build,
 *		changes_apply.c): the version kept before is no longer the content
 *		just replaced, and swapping it back would undo more than the last
 *		build without saying so.  It goes (discard), in the step's
 *		subtransaction: a failed step keeps it.  Runs as the model owner.
 */
void
PublishForgetPrevious(ModelDef *model)
{
	Oid			history_nsp = get_namespace_oid(MEDALLION_HISTORY_SCHEMA, true);
	Oid			old = OidIsValid(history_nsp) ? get_relname_relid(model->name, history_nsp) : InvalidOid;

	if (!OidIsValid(old) || get_rel_relkind(old) != RELKIND_RELATION ||
		SqlRelationOwner(old) != ModelOwnerId(model))
		return;
	LockRelationOid(old, AccessExclusiveLock);
	discard(old);
}

/*
 * PublishTable
 *		Publish a table candidate: the published table gets the candidate's
 *		content and keeps its OID; what it held becomes the model's previous
 *		version.  The caller holds AccessExclusiveLock on the published table
 *		and runs this as the model owner.
 */
void
PublishTable(Candidate *cand)
{
	ModelDef   *model = cand->model;

	if (cand->kept)
	{
		/*
		 * Hash-distributed: its rows are in shards on the workers, copied
		 * in from its candidate copy and out to its previous version's, as
		 * the owner (scale.c).
		 */
		ScalePublishDistributed(cand->published, cand->candidate, ScaleCopy(model, SCALE_PREVIOUS),
								keeps_previous(model), model->name);
		return;
	}
	if (ScaleIsCitusTable(cand->published))
	{
		/* a reference table: the local candidate's rows copied in, as the owner */
		Oid			old = ScaleExchange(cand->published, cand->candidate, keeps_previous(model),
										psprintf("model \"%s\"", model->name));

		if (OidIsValid(old))
		{
			BindDropRelation(cand->candidate);
			keep_previous(model, old);
		}
		else
			keep_previous(model, cand->candidate);	/* drops it */
		return;
	}
	swap_storage(cand->published, cand->candidate, cand->published_indexes,
				 cand->candidate_indexes);
	keep_previous(model, cand->candidate);
}

/*
 * same_live_columns
 *		Have a and b the same live columns, by name, type, typmod and
 *		collation (in any order)?  What a row copied column by column needs.
 */
static bool
same_live_columns(Relation a, Relation b)
{
	TupleDesc	da = RelationGetDescr(a);
	TupleDesc	db = RelationGetDescr(b);
	int			na = 0;
	int			nb = 0;

	for (int i = 0; i < db->natts; i++)
		nb += TupleDescAttr(db, i)->attisdropped ? 0 : 1;
	for (int i = 0; i < da->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(da, i);
		AttrNumber	attno;
		Form_pg_attribute other;

		if (att->attisdropped)
			continue;
		na++;
		attno = get_attnum(RelationGetRelid(b), NameStr(att->attname));
		if (attno == InvalidAttrNumber)
			return false;
		other = TupleDescAttr(db, attno - 1);
		if (other->atttypid != att->atttypid || other->atttypmod != att->atttypmod ||
			other->attcollation != att->attcollation)
			return false;
	}
	return na == nb;
}

/*
 * PublishRollback
 *		Swap a table model's previous version (medallion_history.<model>)
 *		back in; the current content becomes the kept version.  Returns the
 *		number of rows now published.  The caller holds AccessExclusiveLock
 *		on the published table.
 */
int64
PublishRollback(ModelDef *model)
{
	Oid			published = RelPublished(model);
	Oid			history = get_relname_relid(model->name,
											get_namespace_oid(MEDALLION_HISTORY_SCHEMA, false));
	Relation	pubrel;
	Relation	histrel;
	List	   *pub_indexes;
	List	   *hist_indexes;
	bool		compatible;
	bool		citus;
	bool		distributed;

	if (!OidIsValid(published) || get_rel_relkind(published) != RELKIND_RELATION)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("model \"%s\" is not published as a table", model->name),
				 errdetail("Only table models keep a previous version.")));
	if (!OidIsValid(history))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("model \"%s\" has no previous version", model->name),
				 errhint("A previous version is kept when a run replaces the table, with medallion.keep_previous on.")));

	LockRelationOid(history, AccessExclusiveLock);
	citus = ScaleIsCitusTable(published);
	distributed = citus && ScaleIsDistributed(published);
	/* only the previous version medallion kept: a table of the model's owner */
	if (get_rel_relkind(history) != RELKIND_RELATION ||
		SqlRelationOwner(history) != ModelOwnerId(model) ||
		(distributed && history != ScaleCopy(model, SCALE_PREVIOUS)))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("%s is not the previous version of model \"%s\"",
						SqlRelationName(history), model->name),
				 errdetail("It is not a table of the model's owner \"%s\"; nothing was rolled back.",
						   model->owner),
				 errhint("A superuser checks what it holds and drops it.")));
	/*
	 * A distributed model's previous version's copy is always there: empty,
	 * there is none.  (Citus plans no EXISTS of an empty target list.)
	 */
	if (distributed &&
		strcmp(SqlValue(psprintf("SELECT EXISTS (SELECT 1 FROM %s)", SqlRelationName(history)),
						0, NULL, NULL), "f") == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("model \"%s\" has no previous version", model->name),
				 errhint("A previous version is kept when a run replaces the table, with medallion.keep_previous on.")));
	pubrel = table_open(published, NoLock);
	histrel = table_open(history, NoLock);
	pub_indexes = RelationGetIndexList(pubrel);
	hist_indexes = RelationGetIndexList(histrel);

	/*
	 * A Citus table's previous rows are copied back in (scale.c), column
	 * by column, not swapped: the same live columns are enough, and its
	 * indexes need not pair up.  Otherwise indexes pair up in creation
	 * order; check they index the same.
	 */
	compatible = citus ? same_live_columns(pubrel, histrel) : RelSameColumns(pubrel, histrel);
	if (compatible && !citus)
		compatible = list_length(pub_indexes) == list_length(hist_indexes) &&
			RelSameIndexes(pub_indexes, hist_indexes);
	table_close(pubrel, NoLock);
	table_close(histrel, NoLock);
	if (!compatible)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the previous version of model \"%s\" has other columns or indexes than %s",
						model->name, SqlModelName(model)),
				 errdetail("The table or its indexes changed after that version was replaced.")));

	if (distributed)
	{
		Oid			candidate = ScaleCopy(model, SCALE_CANDIDATE);

		if (!OidIsValid(candidate))
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_TABLE),
					 errmsg("the candidate copy %s of model \"%s\" is missing",
							quote_qualified_identifier(MEDALLION_HISTORY_SCHEMA,
													   ScaleCopyName(model, SCALE_CANDIDATE)),
							model->name),
					 errdetail("A hash-distributed model's previous version is swapped back through it."),
					 errhint("Define the model again with medallion_create_model.")));
		ScaleRollbackDistributed(published, history, candidate, model->name);
	}
	else if (citus)
		keep_previous(model, ScaleExchange(published, history, true,
										   psprintf("rolling back model \"%s\"", model->name)));
	else
		swap_storage(published, history, pub_indexes, hist_indexes);
	return (int64) strtoll(SqlValue(psprintf("SELECT pg_catalog.count(*) FROM %s",
											 SqlRelationName(published)), 0, NULL, NULL),
						   NULL, 10);
}
