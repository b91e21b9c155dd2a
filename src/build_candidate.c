/*-------------------------------------------------------------------------
 *
 * build_candidate.c
 *	  Candidates: a table model's new content, built into a heap no other
 *	  session can see, filled, indexed and analyzed before it is published
 *	  (publish.c); candidates built by background workers, adopted.
 *
 * A table model is built into a candidate heap made by make_new_heap from
 * the published table: same columns (dropped ones included), owner,
 * persistence and access method, in the same schema, and invisible to
 * every other session until the run commits.  The candidate is filled
 * from the model's binding (BindExecute, reading this run's candidates of
 * upstream models), gets clones of the published table's indexes, and is
 * ANALYZEd, all before publishing.  When the model's previous version
 * can stand in for such a heap, the candidate is built in it instead,
 * emptied as TRUNCATE does inside the model's subtransaction
 * (recycle_history): no table is made, moved or renamed per build.
 *
 * The candidate of a hash-distributed (Citus) table is the model's
 * candidate copy, medallion_history."<model>$candidate": a distributed
 * table colocated with it, made when the model is defined, emptied and
 * filled on the workers by INSERT ... SELECT as the model owner (scale.c
 * says why it is not made in the run).
 *
 * When the query's columns no longer match the published table, the table
 * is altered first, as on_schema_change allows, inside the model's
 * subtransaction (so a failure undoes it, and downstream models of the run
 * see the new columns); readers of that table then wait until the run
 * commits.
 *
 * A worker builds a table model's candidate in a transaction of its own
 * and commits it, in schema medallion_build (no one but the owner and the
 * extension can reach it), named r<run>_<published OID>.  The run adopts
 * it: it tests it, reads it downstream, swaps it in at publish, or drops
 * it.  One that a failed run leaves behind is dropped when the next run
 * starts.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/attmap.h"
#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/reloptions.h"
#include "access/table.h"
#include "access/tableam.h"
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
#include "catalog/catalog.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_policy.h"
#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/inval.h"
#include "commands/cluster.h"
#include "commands/comment.h"
#include "commands/defrem.h"
#include "commands/tablecmds.h"
#include "commands/tablespace.h"
#include "tcop/dest.h"
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
#include "utils/snapmgr.h"
#include "utils/tuplestore.h"
#include "access/heaptoast.h"

#include "bind.h"
#include "build.h"
#include "catalog.h"
#include "medallion.h"
#include "relation.h"
#include "scale.h"
#include "scope.h"
#include "sqltext.h"

bool		build_analyze = true;

/*
 * BuildInit
 *		Define the configuration parameters of candidates.
 */
void
BuildInit(void)
{
	DefineCustomBoolVariable("medallion.analyze_candidates",
							 "Gathers statistics (ANALYZE) on each table candidate before it is published.",
							 "Downstream models of the run and readers of the published table then have fresh statistics; when off, they keep the previous ones until autovacuum or an ANALYZE.",
							 &build_analyze, true, PGC_USERSET, 0,
							 NULL, NULL, NULL);
}

/*
 * alter_published
 *		Give the published table the query's columns: add new ones, and
 *		with sync drop removed ones and retype changed ones (old values of a
 *		retyped column are not converted: the rows are about to be
 *		replaced).  Runs as the model owner.
 */
static void
alter_published(Oid relid, SchemaChange *change, bool sync)
{
	char	   *target = SqlRelationName(relid);
	ListCell   *lc;

	if (sync)
	{
		foreach(lc, change->removed)
			SqlUtility(psprintf("ALTER TABLE %s DROP COLUMN %s", target,
								 quote_identifier((char *) lfirst(lc))));
		foreach(lc, change->retyped)
		{
			ModelColumn *col = lfirst(lc);
			char	   *type = format_type_with_typemod(col->type, col->typmod);

			SqlUtility(psprintf("ALTER TABLE %s ALTER COLUMN %s TYPE %s USING NULL::%s",
								 target, quote_identifier(col->name), type, type));
		}
	}
	foreach(lc, change->added)
	{
		ModelColumn *col = lfirst(lc);

		SqlUtility(psprintf("ALTER TABLE %s ADD COLUMN %s %s", target,
							 quote_identifier(col->name),
							 format_type_with_typemod(col->type, col->typmod)));
	}
	CommandCounterIncrement();
}

/*
 * BuildCheckDependents
 *		Before a schema change drops or retypes these columns of a model's
 *		table: drop the bindings that read them, returning their names
 *		(their models must be bound again), and error if any other object
 *		(a user's view) depends on one of them.
 */
List *
BuildCheckDependents(ModelDef *model, Relation rel, List *columns)
{
	ListCell   *lc;
	List	   *attnums = NIL;
	List	   *unbound;

	/*
	 * Bindings (of downstream models, of tests) that read these columns go
	 * first: their models must be bound again by their owners.
	 */
	foreach(lc, columns)
		attnums = lappend_int(attnums, get_attnum(RelationGetRelid(rel), (char *) lfirst(lc)));
	unbound = BindDropDependents(RelationGetRelid(rel), attnums);

	foreach(lc, columns)
	{
		AttrNumber	attno = get_attnum(RelationGetRelid(rel), (char *) lfirst(lc));
		Relation	depRel;
		ScanKeyData key[3];
		SysScanDesc scan;
		HeapTuple	tup;

		depRel = table_open(DependRelationId, AccessShareLock);
		ScanKeyInit(&key[0], Anum_pg_depend_refclassid, BTEqualStrategyNumber, F_OIDEQ,
					ObjectIdGetDatum(RelationRelationId));
		ScanKeyInit(&key[1], Anum_pg_depend_refobjid, BTEqualStrategyNumber, F_OIDEQ,
					ObjectIdGetDatum(RelationGetRelid(rel)));
		ScanKeyInit(&key[2], Anum_pg_depend_refobjsubid, BTEqualStrategyNumber, F_INT4EQ,
					Int32GetDatum(attno));
		scan = systable_beginscan(depRel, DependReferenceIndexId, true, NULL, 3, key);
		while (HeapTupleIsValid(tup = systable_getnext(scan)))
		{
			Form_pg_depend dep = (Form_pg_depend) GETSTRUCT(tup);
			ObjectAddress obj;

			if (dep->deptype != DEPENDENCY_NORMAL && dep->deptype != DEPENDENCY_AUTO)
				continue;
			obj.classId = dep->classid;
			obj.objectId = dep->objid;
			obj.objectSubId = dep->objsubid;
			if (dep->classid == RewriteRelationId)
			{
				/* name the view, not its rule */
				obj.classId = RelationRelationId;
				obj.objectId = BindRuleRelation(dep->objid);
				obj.objectSubId = 0;
			}
			ereport(ERROR,
					(errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
					 errmsg("cannot change column \"%s\" of %s: %s depends on it",
							(char *) lfirst(lc), SqlModelName(model),
							getObjectDescription(&obj, false)),
					 errdetail("The model's new columns drop or retype the column."),
					 errhint("Change or drop the dependent object first, or keep the column in the model query.")));
		}
		systable_endscan(scan);
		table_close(depRel, AccessShareLock);
	}
	return unbound;
}

/*
 * clone_indexes
 *		Create on target a copy of every index of source (the two have the
 *		same physical columns); returns the pairs as two parallel OID lists.
 */
static void
clone_indexes(Oid source, Oid target, List **source_indexes, List **target_indexes)
{
	Relation	srcrel = table_open(source, AccessShareLock);
	Relation	tgtrel = table_open(target, NoLock);
	int			natts = RelationGetDescr(srcrel)->natts;
	AttrMap    *map = make_attrmap(natts);
	List	   *indexes = RelationGetIndexList(srcrel);
	ListCell   *lc;

	for (int i = 0; i < natts; i++)
		map->attnums[i] = i + 1;
	*source_indexes = NIL;
	*target_indexes = NIL;
	foreach(lc, indexes)
	{
		Oid			indexoid = lfirst_oid(lc);
		Relation	idxrel = index_open(indexoid, AccessShareLock);
		Oid			constraintoid = InvalidOid;
		IndexStmt  *stmt;
		ObjectAddress address;

		stmt = generateClonedIndexStmt(makeRangeVar(get_namespace_name(RelationGetNamespace(tgtrel)),
													RelationGetRelationName(tgtrel), -1),
									   idxrel, map, &constraintoid);
		stmt->idxname = NULL;
		address = DefineIndex(target, stmt, InvalidOid, InvalidOid, InvalidOid,
							  false, false, false, false, true);
		*source_indexes = lappend_oid(*source_indexes, indexoid);
		*target_indexes = lappend_oid(*target_indexes, address.objectId);
		index_close(idxrel, AccessShareLock);
	}
	table_close(tgtrel, NoLock);
	table_close(srcrel, AccessShareLock);
}

/*
 * Set the privileges (relacl) of a relation; nothing is written when they
 * are those already (NULL read as the owner's default), as for a candidate
 * built in its previous version of a table without grants.
 */
void
BuildSetAcl(Oid relid, Datum acl, bool isnull)
{
	Relation	classrel = table_open(RelationRelationId, RowExclusiveLock);
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Datum		values[Natts_pg_class] = {0};
	bool		nulls[Natts_pg_class] = {0};
	bool		replaces[Natts_pg_class] = {0};
	HeapTuple	newtup;
	Oid			owner;
	bool		curnull;
	Datum		current;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for relation %u", relid);
	owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
	current = SysCacheGetAttr(RELOID, tup, Anum_pg_class_relacl, &curnull);
	if (aclequal(curnull ? acldefault(OBJECT_TABLE, owner) : DatumGetAclP(current),
				 isnull ? acldefault(OBJECT_TABLE, owner) : DatumGetAclP(acl)))
	{
		ReleaseSysCache(tup);
		table_close(classrel, RowExclusiveLock);
		return;
	}
	values[Anum_pg_class_relacl - 1] = acl;
	nulls[Anum_pg_class_relacl - 1] = isnull;
	replaces[Anum_pg_class_relacl - 1] = true;
	newtup = heap_modify_tuple(tup, RelationGetDescr(classrel), values, nulls, replaces);
	CatalogTupleUpdate(classrel, &newtup->t_self, newtup);
	ReleaseSysCache(tup);
	table_close(classrel, RowExclusiveLock);
	CommandCounterIncrement();
}

/* Copy the published table's privileges to the candidate, so downstream
 * models of other owners can read the candidate as they read the table. */
static void
copy_acl(Oid from, Oid to)
{
	HeapTuple	fromtup = SearchSysCacheCopy1(RELOID, ObjectIdGetDatum(from));
	bool		isnull;
	Datum		acl;

	if (!HeapTupleIsValid(fromtup))
		elog(ERROR, "cache lookup failed for relation %u", from);
	acl = SysCacheGetAttr(RELOID, fromtup, Anum_pg_class_relacl, &isnull);
	BuildSetAcl(to, acl, isnull);
}

/*
 * copy_rls
 *		Give relation to the row-level security of relation from: its
 *		enabled and forced flags, and a copy of each policy (as CREATE POLICY
 *		would record it, dependencies included).  A candidate is read, in
 *		the run and by its workers, by the owners of downstream models as
 *		they read the published table: the same policies must limit them.
 *		After the swap the candidate holds the previous version, which keeps
 *		them too.
 */
static void
copy_rls(Oid from, Oid to)
{
	Relation	fromrel = table_open(from, AccessShareLock);
	bool		rls = fromrel->rd_rel->relrowsecurity;
	bool		force = fromrel->rd_rel->relforcerowsecurity;
	Relation	classrel;
	Relation	polrel;
	HeapTuple	tup;
	ScanKeyData key;
	SysScanDesc scan;

	table_close(fromrel, AccessShareLock);
	if (!rls && !force)
		return;

	classrel = table_open(RelationRelationId, RowExclusiveLock);
	tup = SearchSysCacheCopy1(RELOID, ObjectIdGetDatum(to));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for relation %u", to);
	((Form_pg_class) GETSTRUCT(tup))->relrowsecurity = rls;
	((Form_pg_class) GETSTRUCT(tup))->relforcerowsecurity = force;
	CatalogTupleUpdate(classrel, &tup->t_self, tup);
	table_close(classrel, RowExclusiveLock);

	polrel = table_open(PolicyRelationId, RowExclusiveLock);
	ScanKeyInit(&key, Anum_pg_policy_polrelid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(from));
	scan = systable_beginscan(polrel, PolicyPolrelidPolnameIndexId, true, NULL, 1, &key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Datum		values[Natts_pg_policy];
		bool		nulls[Natts_pg_policy];
		HeapTuple	copy;
		ObjectAddress policy;
		ObjectAddress target;
		ArrayType  *roles;
		Oid		   *role_oids;

		heap_deform_tuple(tup, RelationGetDescr(polrel), values, nulls);
		policy.classId = PolicyRelationId;
		policy.objectId = GetNewOidWithIndex(polrel, PolicyOidIndexId, Anum_pg_policy_oid);
		policy.objectSubId = 0;
		values[Anum_pg_policy_oid - 1] = ObjectIdGetDatum(policy.objectId);
		values[Anum_pg_policy_polrelid - 1] = ObjectIdGetDatum(to);
		copy = heap_form_tuple(RelationGetDescr(polrel), values, nulls);
		CatalogTupleInsert(polrel, copy);

		target.classId = RelationRelationId;
		target.objectId = to;
		target.objectSubId = 0;
		recordDependencyOn(&policy, &target, DEPENDENCY_AUTO);
		if (!nulls[Anum_pg_policy_polqual - 1])
			recordDependencyOnSingleRelExpr(&policy,
											stringToNode(TextDatumGetCString(values[Anum_pg_policy_polqual - 1])),
											to, DEPENDENCY_NORMAL, DEPENDENCY_AUTO, false);
		if (!nulls[Anum_pg_policy_polwithcheck - 1])
			recordDependencyOnSingleRelExpr(&policy,
											stringToNode(TextDatumGetCString(values[Anum_pg_policy_polwithcheck - 1])),
											to, DEPENDENCY_NORMAL, DEPENDENCY_AUTO, false);
		roles = DatumGetArrayTypeP(values[Anum_pg_policy_polroles - 1]);
		role_oids = (Oid *) ARR_DATA_PTR(roles);
		for (int i = 0; i < ARR_DIMS(roles)[0]; i++)
		{
			ObjectAddress role;

			if (role_oids[i] == ACL_ID_PUBLIC)
				continue;
			role.classId = AuthIdRelationId;
			role.objectId = role_oids[i];
			role.objectSubId = 0;
			recordSharedDependencyOn(&policy, &role, SHARED_DEPENDENCY_POLICY);
		}
	}
	systable_endscan(scan);
	table_close(polrel, RowExclusiveLock);
	CacheInvalidateRelcacheByRelid(to);
	CommandCounterIncrement();
}

/* The indexes, privileges and row-level security of the published table, on a candidate heap. */
static void
dress_candidate(Candidate *cand, Oid heap)
{
	clone_indexes(cand->published, heap, &cand->published_indexes, &cand->candidate_indexes);
	copy_acl(cand->published, heap);
	copy_rls(cand->published, heap);
}

/*
 * make_copy
 *		Make a hash-distributed model's copy (ScaleCopyName): a new table
 *		shaped like the published one, of the same owner, in
 *		medallion_history, readable by its owner only, distributed and
 *		colocated with it (as the extension owner: its shards are created
 *		in medallion_history on the workers).  The candidate copy also
 *		gets the published table's indexes, row-level security and NOT
 *		NULL constraints.  Returns its OID.
 */
static Oid
make_copy(ModelDef *model, ScaleCopyKind which)
{
	Oid			published = RelPublished(model);
	Oid			nsp = get_namespace_oid(MEDALLION_HISTORY_SCHEMA, false);
	Relation	rel = table_open(published, AccessShareLock);
	Oid			owner = rel->rd_rel->relowner;
	Oid			heap;
	ObjectAddresses *moved;

	heap = make_new_heap(published, rel->rd_rel->reltablespace, rel->rd_rel->relam,
						 rel->rd_rel->relpersistence, AccessShareLock);
	table_close(rel, NoLock);
	CommandCounterIncrement();
	RelKeepFromAutovacuum(heap);
	rel = table_open(heap, AccessExclusiveLock);
	moved = new_object_addresses();
	AlterTableNamespaceInternal(rel, RelationGetNamespace(rel), nsp, moved);
	free_object_addresses(moved);
	table_close(rel, NoLock);
	CommandCounterIncrement();
	RenameRelationInternal(heap, ScaleCopyName(model, which), false, false);
	CommandCounterIncrement();
	BuildSetAcl(heap, PointerGetDatum(acldefault(OBJECT_TABLE, owner)), false);
	if (which == SCALE_CANDIDATE)
	{
		List	   *pub_indexes;
		List	   *copy_indexes;

		clone_indexes(published, heap, &pub_indexes, &copy_indexes);
		copy_rls(published, heap);
	}
	ScaleDistributeLike(heap, published, which == SCALE_CANDIDATE);
	return heap;
}

/*
 * BuildDistributedCopies
 *		When a model is defined: a hash-distributed table or incremental
 *		model gets its copies (ScaleCopy), made again with renew (its table
 *		or indexes may have changed) or when one does not fit; the previous
 *		version is kept when it fits.  Any other model loses those that
 *		are Citus tables.
 */
void
BuildDistributedCopies(ModelDef *model, bool renew)
{
	Oid			published = RelPublished(model);
	Oid			nsp = get_namespace_oid(MEDALLION_HISTORY_SCHEMA, false);
	Oid			previous;

	if (!ScaleCitusInstalled())
		return;
	/* a snapshot is written in place: no candidate, no previous version */
	if (!OidIsValid(published) || model->kind == MAT_SNAPSHOT || !ScaleIsDistributed(published))
	{
		ScaleDropCopies(model);
		return;
	}
	if (renew || !OidIsValid(ScaleCopy(model, SCALE_CANDIDATE)))
	{
		ScaleDropCopy(model, SCALE_CANDIDATE);
		(void) make_copy(model, SCALE_CANDIDATE);
	}
	previous = get_relname_relid(ScaleCopyName(model, SCALE_PREVIOUS), nsp);
	if (OidIsValid(previous) && previous != ScaleCopy(model, SCALE_PREVIOUS))
	{
		/* a version kept before the table was distributed so, or another's */
		ScaleDropCopy(model, SCALE_PREVIOUS);
		previous = InvalidOid;
	}
	if (!OidIsValid(previous))
		(void) make_copy(model, SCALE_PREVIOUS);
}

/*
 * distributed_copy
 *		A hash-distributed model's copy for a run.  Made now only when the
 *		model owner is the extension owner (a model defined before copies
 *		were: Citus lets one role write their shards in the run); for any
 *		other owner, defining the model again makes it.
 */
static Oid
distributed_copy(ModelDef *model, ScaleCopyKind which)
{
	Oid			copy = ScaleCopy(model, which);

	if (OidIsValid(copy))
		return copy;
	if (ModelOwnerId(model) != CatalogExtensionOwner())
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("the %s copy %s of model \"%s\" is missing",
						which == SCALE_CANDIDATE ? "candidate" : "previous version's",
						quote_qualified_identifier(MEDALLION_HISTORY_SCHEMA, ScaleCopyName(model, which)),
						model->name),
				 errdetail("The runs of a hash-distributed model write tables made, distributed and colocated with it, when the model is defined."),
				 errhint("Define the model again with medallion_create_model.")));
	BuildDistributedCopies(model, false);
	return ScaleCopy(model, which);
}

/*
 * fill_distributed
 *		Fill the distributed candidate heap with the rows of sql by one
 *		INSERT ... SELECT, which Citus plans: pushed down to the shards
 *		where the query allows it, else through the coordinator.  Returns
 *		the row count.
 */
static uint64
fill_distributed(Oid heap, List *columns, const char *sql, List *redirect_from, List *redirect_to)
{
	char	   *target;
	char	   *source;

	SqlColumnLists(heap, columns, &target, &source);
	return BindExecute(psprintf("INSERT INTO %s (%s) SELECT %s FROM (%s) AS q",
								SqlRelationName(heap), target, source, sql),
					   0, NULL, NULL, NULL, redirect_from, redirect_to, None_Receiver);
}

/*
 * recycle_history
 *		Build the candidate in the model's previous version
 *		(medallion_history.<model>, which the publish discards anyway) when
 *		it can stand in for a new heap: the table and its storage are made
 *		once per model rather than once per build, and the publish swaps
 *		the storage of the two without moving or renaming either.  That
 *		version is emptied as TRUNCATE does, inside the model's
 *		subtransaction, so a failed build (its error, a blocking test, a
 *		cancel, the run's rollback) gives it back whole.  Not when another
 *		session holds it (no waiting), when something reads it (a view, a
 *		rule, a foreign key: the model's own query could read what it
 *		fills), when its indexes do not pair with the table's, when it
 *		differs from what make_new_heap would make (RelCanStandIn), or when
 *		it is larger than RECYCLE_MAX_BLOCKS: its old storage is unlinked
 *		(and its buffers dropped) when the run commits, while the published
 *		tables are locked, which a large table's discard leaves to the next
 *		run's start (discard in publish.c).  Sets cand's candidate and
 *		index pairs; returns whether it did.
 */
#define RECYCLE_MAX_BLOCKS 1024	/* 8 MB of heap and TOAST */

static bool
recycle_history(Candidate *cand)
{
	Oid			nsp = get_namespace_oid(MEDALLION_HISTORY_SCHEMA, true);
	Oid			previous = OidIsValid(nsp) ? get_relname_relid(cand->model->name, nsp) : InvalidOid;
	Relation	pubrel;
	Relation	prevrel;
	bool		fits;

	if (!OidIsValid(previous) || ScaleIsCitusTable(cand->published) ||
		!ConditionalLockRelationOid(previous, AccessExclusiveLock))
		return false;
	/* dropped or renamed while we waited for nothing: look again */
	if (get_relname_relid(cand->model->name, nsp) != previous || ScaleIsCitusTable(previous))
	{
		UnlockRelationOid(previous, AccessExclusiveLock);
		return false;
	}
	pubrel = table_open(cand->published, AccessShareLock);
	prevrel = table_open(previous, NoLock);
	cand->published_indexes = RelationGetIndexList(pubrel);
	cand->candidate_indexes = RelationGetIndexList(prevrel);
	fits = RelCanStandIn(pubrel, prevrel) && RelBlocks(prevrel) <= RECYCLE_MAX_BLOCKS &&
		!RelReadBy(previous) && RelSameIndexes(cand->published_indexes, cand->candidate_indexes);
	table_close(prevrel, NoLock);
	table_close(pubrel, AccessShareLock);
	if (!fits)
	{
		cand->published_indexes = cand->candidate_indexes = NIL;
		UnlockRelationOid(previous, AccessExclusiveLock);
		return false;
	}
	RelRenewStorage(previous);
	cand->candidate = previous;
	cand->recycled = true;
	return true;
}

/*
 * BuildTableCandidate
 *		Build the candidate of a table model from sql (a query over the
 *		model's binding), reading redirect_to for redirect_from (upstream
 *		models this run rebuilt).  Runs as the model owner.  Returns a
 *		palloc'd Candidate.  whole: the table is rebuilt from the query
 *		whatever on_schema_change says (a table model; an incremental
 *		model's full refresh or first build); allow_alter: the published
 *		table may be altered here (not in a worker, which commits alone).
 */
Candidate *
BuildTableCandidate(ModelDef *model, AnalyzedModel *analyzed, const char *sql,
					List *redirect_from, List *redirect_to, bool allow_alter, bool whole)
{
	Candidate  *cand = palloc0(sizeof(Candidate));
	Relation	rel;
	SchemaChange *change;
	Oid			tablespace;
	Oid			accessmethod;
	char		persistence;

	cand->model = model;
	cand->columns = analyzed->columns;
	cand->published = RelPublished(model);
	if (!OidIsValid(cand->published) || get_rel_relkind(cand->published) != RELKIND_RELATION)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("the published table %s of model \"%s\" is missing", SqlModelName(model),
						model->name),
				 errhint("Define the model again with medallion_create_model to recreate it.")));
	/* before anything of a Citus table is written: by one role per transaction */
	ScaleClaim(cand->published, psprintf("model \"%s\"", model->name));

	rel = table_open(cand->published, AccessShareLock);
	tablespace = rel->rd_rel->reltablespace;
	accessmethod = rel->rd_rel->relam;
	persistence = rel->rd_rel->relpersistence;
	change = BuildSchemaChange(rel, analyzed->columns);
	if (change->added || change->removed || change->retyped)
	{
		/*
		 * A table rebuilt whole (a table model, an incremental model's full
		 * refresh or first build) takes the query's columns, as dbt rebuilds
		 * a table: on_schema_change is about the rows an incremental model
		 * keeps.
		 */
		bool		sync = whole || strcmp(model->on_schema_change, "sync_all_columns") == 0;
		bool		append = strcmp(model->on_schema_change, "append_new_columns") == 0;

		if (!sync && !(append && change->retyped == NIL))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_TABLE_DEFINITION),
					 errmsg("the columns of model \"%s\" no longer match %s", model->name,
							SqlModelName(model)),
					 errdetail("New columns: %s. Removed columns: %s. Columns of another type: %s.",
							   BuildNameList(change->added, true), BuildNameList(change->removed, false),
							   BuildNameList(change->retyped, true)),
					 errhint("Run it with full_refresh => true to rebuild it with the new columns, or define it with on_schema_change => 'append_new_columns' (new columns only) or 'sync_all_columns'.")));
		if (sync)
		{
			List	   *touched = list_copy(change->removed);
			ListCell   *lc;

			foreach(lc, change->retyped)
				touched = lappend(touched, ((ModelColumn *) lfirst(lc))->name);
			cand->unbound = BuildCheckDependents(model, rel, touched);
		}
		table_close(rel, NoLock);

		/*
		 * The published table takes the new columns now, inside this model's
		 * subtransaction: downstream models of the run then see the new
		 * shape, and a failure undoes it.  Readers of this table wait from
		 * here to the end of the run.  A background worker, which commits on
		 * its own, must leave that to the run itself.
		 */
		if (!allow_alter)
			ereport(ERROR,
					(errcode(ERRCODE_MEDALLION_RUN_ITSELF),
					 errmsg("the columns of model \"%s\" change: the run builds it itself", model->name)));
		RelLockPatiently(list_make1_oid(cand->published));
		alter_published(cand->published, change, sync);
		cand->schema_changed = true;
	}
	else
		table_close(rel, NoLock);

	BuildEnsureIndexes(model, cand->published);

	if (ScaleIsDistributed(cand->published))
	{
		/*
		 * The candidate of a distributed table is its candidate copy,
		 * distributed and colocated with it, filled on the workers
		 * (scale.c); the previous version's copy must be there for the
		 * publish.
		 */
		cand->candidate = distributed_copy(model, SCALE_CANDIDATE);
		(void) distributed_copy(model, SCALE_PREVIOUS);
		cand->kept = true;
		ScaleFillDistributed(cand->candidate, cand->published, model->name);
		cand->rows = fill_distributed(cand->candidate, analyzed->columns, sql, redirect_from,
									  redirect_to);
	}
	else if (allow_alter && whole && recycle_history(cand))
	{
		/* built in the previous version, emptied (recycle_history) */
		cand->rows = BuildFillHeap(cand->candidate, analyzed->columns, sql, cand->published,
								   redirect_from, redirect_to);
		RelRebuildIndexes(cand->candidate);
		copy_acl(cand->published, cand->candidate);
	}
	else
	{
		/*
		 * make_new_heap locks the table it copies with the lock mode it is
		 * given (and the new heap, which nobody else sees): AccessShareLock,
		 * so that readers of the published table are not blocked before
		 * the publish burst.
		 */
		cand->candidate = make_new_heap(cand->published, tablespace, accessmethod,
										persistence, AccessShareLock);
		CommandCounterIncrement();
		RelKeepFromAutovacuum(cand->candidate);
		cand->rows = BuildFillHeap(cand->candidate, analyzed->columns, sql, cand->published,
								   redirect_from, redirect_to);
		dress_candidate(cand, cand->candidate);
	}
	/* the table's CHECK constraints (a contract's too) hold for what replaces it */
	ContractVerifyCandidate(model, cand->published, cand->candidate);
	if (build_analyze)
		SqlUtility(psprintf("ANALYZE %s", SqlRelationName(cand->candidate)));
	return cand;
}

/*
 * BuildMaintainTarget
 *		The published table of a maintained table model (changes_apply.c),
 *		its declared indexes made, when its rows can be replaced in place;
 *		InvalidOid, with *why, when they cannot: the table is missing, the
 *		query's columns are no longer the table's, or it is a Citus table
 *		(its rows are on the workers, and Citus plans no statement joining
 *		them to the build's local tables of keys).  The caller then
 *		rebuilds the model whole.
 */
Oid
BuildMaintainTarget(ModelDef *model, AnalyzedModel *analyzed, const char **why)
{
	Oid			published = RelPublished(model);
	Relation	rel;
	SchemaChange *change;

	if (!OidIsValid(published) || get_rel_relkind(published) != RELKIND_RELATION)
	{
		*why = "its published table is missing";
		return InvalidOid;
	}
	if (ScaleIsCitusTable(published))
	{
		*why = "its table is a Citus table";
		return InvalidOid;
	}
	rel = table_open(published, AccessShareLock);
	change = BuildSchemaChange(rel, analyzed->columns);
	table_close(rel, NoLock);
	if (change->added || change->removed || change->retyped)
	{
		*why = "its columns change";
		return InvalidOid;
	}
	BuildEnsureIndexes(model, published);
	return published;
}

/*
 * BuildDropCandidate
 *		Drop a candidate that will not be published.
 */
void
BuildDropCandidate(Candidate *cand)
{
	if (cand->kept)
		return;					/* emptied by the next build */
	if (cand->recycled)
		elog(ERROR, "the candidate of model \"%s\" is its previous version: only its subtransaction's rollback undoes it",
			 cand->model->name);
	if (OidIsValid(cand->candidate) && get_rel_name(cand->candidate) != NULL &&
		!ScaleDropTable(cand->candidate))
		BindDropRelation(cand->candidate);
}

/*
 * move_candidate
 *		Move a candidate heap into the schema medallion keeps it in
 *		(medallion_build, medallion_stage), under name.
 */
static void
move_candidate(Oid relid, const char *schema, const char *name)
{
	Oid			nsp = get_namespace_oid(schema, false);
	Relation	rel = table_open(relid, AccessExclusiveLock);
	ObjectAddresses *moved = new_object_addresses();

	AlterTableNamespaceInternal(rel, RelationGetNamespace(rel), nsp, moved);
	free_object_addresses(moved);
	table_close(rel, NoLock);
	CommandCounterIncrement();
	RenameRelationInternal(relid, name, true, false);
	CommandCounterIncrement();
}

/*
 * BuildMoveToBuildSchema
 *		Move a candidate just built into medallion_build under its name for
 *		the run (in the worker, before it commits).  Its privileges become
 *		SELECT for readers only (the owners of the run's other models that
 *		may read the published table), not the published table's: readers of
 *		the published table must not see a candidate before it is published.
 */
void
BuildMoveToBuildSchema(Candidate *cand, int64 run_id, List *readers)
{
	Oid			owner = SqlRelationOwner(cand->candidate);
	Acl		   *acl = acldefault(OBJECT_TABLE, owner);
	ListCell   *lc;

	move_candidate(cand->candidate, MEDALLION_BUILD_SCHEMA,
				   psprintf("r" INT64_FORMAT "_%u", run_id, cand->published));
	foreach(lc, readers)
	{
		AclItem		item;

		if (lfirst_oid(lc) == owner)
			continue;
		item.ai_grantee = lfirst_oid(lc);
		item.ai_grantor = owner;
		ACLITEM_SET_PRIVS_GOPTIONS(item, ACL_SELECT, ACL_NO_RIGHTS);
		acl = aclupdate(acl, &item, ACL_MODECHG_ADD, owner, DROP_RESTRICT);
	}
	BuildSetAcl(cand->candidate, PointerGetDatum(acl), false);
}

/*
 * BuildHoldRows
 *		The rows of a candidate, copied into a tuplestore allocated in cxt
 *		whose temporary files belong to owner, so that it outlives the
 *		rollback of the subtransaction that built the candidate (a staged
 *		deploy rolls back the definitions it built with).  Values stored
 *		out of line are copied inline: the candidate's TOAST table goes
 *		with it.
 */
Tuplestorestate *
BuildHoldRows(Oid candidate, MemoryContext cxt, ResourceOwner owner)
{
	MemoryContext old = MemoryContextSwitchTo(cxt);
	ResourceOwner oldowner = CurrentResourceOwner;
	Tuplestorestate *store;
	Relation	rel = table_open(candidate, AccessShareLock);
	TupleDesc	desc = RelationGetDescr(rel);
	Snapshot	snapshot;
	TableScanDesc scan;
	HeapTuple	tuple;

	CurrentResourceOwner = owner;
	store = tuplestore_begin_heap(false, false, work_mem);
	CurrentResourceOwner = oldowner;
	MemoryContextSwitchTo(old);

	CommandCounterIncrement();
	snapshot = RegisterSnapshot(GetLatestSnapshot());
	scan = table_beginscan(rel, snapshot, 0, NULL);
	while ((tuple = heap_getnext(scan, ForwardScanDirection)) != NULL)
	{
		HeapTuple	flat = HeapTupleHasExternal(tuple) ? toast_flatten_tuple(tuple, desc) : tuple;

		old = MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
		tuplestore_puttuple(store, flat);
		CurrentResourceOwner = oldowner;
		MemoryContextSwitchTo(old);
		if (flat != tuple)
			heap_freetuple(flat);
	}
	table_endscan(scan);
	UnregisterSnapshot(snapshot);
	table_close(rel, AccessShareLock);
	return store;
}

/* Do two tuple descriptors have the same physical columns (dropped ones included)? */
static bool
same_layout(TupleDesc a, TupleDesc b)
{
	if (a->natts != b->natts)
		return false;
	for (int i = 0; i < a->natts; i++)
	{
		Form_pg_attribute x = TupleDescAttr(a, i);
		Form_pg_attribute y = TupleDescAttr(b, i);

		if (x->attisdropped != y->attisdropped ||
			(!x->attisdropped && (x->atttypid != y->atttypid || x->atttypmod != y->atttypmod)))
			return false;
	}
	return true;
}

/*
 * BuildAlterLike
 *		Give table relid the live columns of desc, as a run's build gives a
 *		table model's published table the query's columns: new ones added
 *		(in desc's order), removed ones dropped, retyped ones retyped.  With
 *		model (relid is its published table), the bindings that read a
 *		column dropped or retyped are dropped and their names returned
 *		(their models must be bound again); an error names any other object
 *		that reads one.  Runs as the model owner.
 */
List *
BuildAlterLike(Oid relid, TupleDesc desc, ModelDef *model)
{
	List	   *columns = SqlLiveColumns(desc);
	List	   *unbound = NIL;
	Relation	rel;
	SchemaChange *change;

	rel = table_open(relid, AccessExclusiveLock);
	change = BuildSchemaChange(rel, columns);
	if (model != NULL && (change->removed != NIL || change->retyped != NIL))
	{
		List	   *touched = list_copy(change->removed);
		ListCell   *lc;

		foreach(lc, change->retyped)
			touched = lappend(touched, ((ModelColumn *) lfirst(lc))->name);
		unbound = BuildCheckDependents(model, rel, touched);
	}
	table_close(rel, NoLock);
	if (change->added != NIL || change->removed != NIL || change->retyped != NIL)
		alter_published(relid, change, true);
	return unbound;
}

/*
 * BuildStagedCandidate
 *		A candidate made again from rows held by BuildHoldRows (shaped as
 *		desc), in medallion_stage as name, its owner's only (no grants, no
 *		policies: nobody else reads it); analyzed.  For model, a heap made
 *		from its published table, given desc's columns when the build
 *		changed them (BuildAlterLike, as the build altered the published
 *		table); with the published table's indexes when its columns are
 *		theirs, otherwise the promote gives it those of the published table
 *		altered alike.  Without model (the definitions add it), a new table
 *		of owner with desc's columns, which the promote gives the indexes of
 *		the table the definition makes.  Returns its OID, or InvalidOid when
 *		desc's columns cannot be made so.
 */
Oid
BuildStagedCandidate(ModelDef *model, Oid owner, Tuplestorestate *rows, TupleDesc desc,
					 const char *name)
{
	Oid			published = model ? RelPublished(model) : InvalidOid;
	Relation	pubrel;
	Relation	rel;
	Oid			heap;
	List	   *published_indexes;
	List	   *heap_indexes;
	bool		same;

	if (model == NULL)
	{
		List	   *columns = SqlLiveColumns(desc);

		if (list_length(columns) != desc->natts)
			return InvalidOid;	/* a table made new has no dropped column */
		SqlCreateOwnedTable(MEDALLION_STAGE_SCHEMA, name, SqlColumnDefinitions(columns), owner);
		heap = get_relname_relid(name, get_namespace_oid(MEDALLION_STAGE_SCHEMA, false));
		RelKeepFromAutovacuum(heap);
		BuildFillFromStore(heap, rows);
		if (build_analyze)
			SqlUtility(psprintf("ANALYZE %s", SqlRelationName(heap)));
		return heap;
	}

	if (!OidIsValid(published) || get_rel_relkind(published) != RELKIND_RELATION)
		return InvalidOid;
	pubrel = table_open(published, AccessShareLock);
	same = same_layout(RelationGetDescr(pubrel), desc);
	heap = make_new_heap(published, pubrel->rd_rel->reltablespace, pubrel->rd_rel->relam,
						 pubrel->rd_rel->relpersistence, AccessShareLock);
	table_close(pubrel, NoLock);
	CommandCounterIncrement();
	RelKeepFromAutovacuum(heap);
	if (!same)
	{
		bool		made;

		(void) BuildAlterLike(heap, desc, NULL);
		rel = table_open(heap, NoLock);
		made = same_layout(RelationGetDescr(rel), desc);
		table_close(rel, NoLock);
		if (!made)
		{
			BindDropRelation(heap);
			return InvalidOid;
		}
	}
	BuildFillFromStore(heap, rows);
	if (same)
		clone_indexes(published, heap, &published_indexes, &heap_indexes);
	if (build_analyze)
		SqlUtility(psprintf("ANALYZE %s", SqlRelationName(heap)));
	move_candidate(heap, MEDALLION_STAGE_SCHEMA, name);
	return heap;
}

/*
 * BuildAdoptCandidate
 *		The Candidate of a table model that a worker built and committed:
 *		its indexes pair up with the published table's in creation order.
 */
Candidate *
BuildAdoptCandidate(ModelDef *model, List *columns, Oid candidate, int64 rows)
{
	Candidate  *cand = palloc0(sizeof(Candidate));
	Relation	pubrel;
	Relation	candrel;

	cand->model = model;
	cand->columns = columns;
	cand->published = RelPublished(model);
	cand->candidate = candidate;
	cand->rows = rows;
	/* the run publishes it as its owner: claimed now, as a build would */
	ScaleClaim(cand->published, psprintf("model \"%s\"", model->name));
	/* shared: workers building downstream models read it too */
	LockRelationOid(candidate, AccessShareLock);
	pubrel = table_open(cand->published, AccessShareLock);
	candrel = table_open(candidate, NoLock);
	cand->published_indexes = RelationGetIndexList(pubrel);
	cand->candidate_indexes = RelationGetIndexList(candrel);
	if (!RelSameColumns(pubrel, candrel) ||
		!RelSameIndexes(cand->published_indexes, cand->candidate_indexes))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the candidate of model \"%s\" built by a worker does not match %s",
						model->name, SqlModelName(model)),
				 errhint("Run the model again.")));
	table_close(candrel, NoLock);
	table_close(pubrel, NoLock);
	ContractVerifyCandidate(model, cand->published, cand->candidate);
	return cand;
}

/*
 * BuildMatchIndexes
 *		Give a candidate kept apart (a staged one) the published table's
 *		indexes when they no longer pair up (the model's indexes changed
 *		since it was built): its own are dropped and the published table's
 *		cloned.  The rows are not read again.
 */
void
BuildMatchIndexes(Oid published, Oid candidate)
{
	Relation	rel = table_open(candidate, AccessExclusiveLock);
	List	   *indexes = RelationGetIndexList(rel);
	List	   *published_indexes;
	List	   *candidate_indexes;
	ListCell   *lc;

	table_close(rel, NoLock);
	foreach(lc, indexes)
		BindDropRelation(lfirst_oid(lc));
	CommandCounterIncrement();
	clone_indexes(published, candidate, &published_indexes, &candidate_indexes);
}

/*
 * BuildColumnsChanged
 *		Do the model's columns differ from its published table's (so that a
 *		staging table shaped like the published table cannot hold them)?
 */
bool
BuildColumnsChanged(ModelDef *model, AnalyzedModel *analyzed)
{
	Oid			published = RelPublished(model);
	Relation	rel;
	SchemaChange *change;

	if (!OidIsValid(published) || get_rel_relkind(published) != RELKIND_RELATION)
		return true;
	rel = table_open(published, AccessShareLock);
	change = BuildSchemaChange(rel, analyzed->columns);
	table_close(rel, NoLock);
	return change->added != NIL || change->removed != NIL || change->retyped != NIL;
}
