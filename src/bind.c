/*-------------------------------------------------------------------------
 *
 * bind.c
 *	  Bindings: what a model's SQL names is resolved once, when the model
 *	  is defined, and runs execute what was bound.
 *
 * A model's query is parsed and analyzed at definition time, as its owner,
 * with the search_path stored with the model (pg_temp named last).  The
 * analyzed query tree is then stored, exactly as PostgreSQL binds a view,
 * as the view medallion_bind.<model>: its rule refers to relations,
 * functions, operators, types and collations by OID, pg_depend records what
 * it reads, and pg_dump writes it fully qualified.  The view is created by
 * medallion (the extension owner, since nobody else may create in
 * medallion_bind) and owned by the model owner, so that when it is read
 * its reads are checked as the owner, row-level security included.
 * Test expressions and sql tests are bound the same way (TestsBind in
 * tests_define.c), as views medallion_bind.<model>$ and
 * medallion_bind.<model>$<test>.
 *
 * Nothing medallion runs parses a model's text again.  The SQL medallion
 * writes around a model (filling a candidate, incremental deltas, snapshot
 * changes, extraction batches, fused tests) names relations only (a
 * binding, a candidate, a published table), schema-qualified, with
 * operators qualified too, and is parsed under search_path
 * "pg_catalog, pg_temp".  BindExecute parses that text, lets the rewriter
 * expand the views it reads (bindings among them), then points every read
 * of a published table that the run rebuilt at its candidate (at every
 * level, so through views too), and plans and runs the result into a
 * DestReceiver, as REFRESH MATERIALIZED VIEW runs its stored query
 * (refresh_matview_datafill in matview.c).
 *
 * When a relation that bindings read must be dropped or its columns
 * changed by medallion (a view model redefined with other columns, a
 * table's columns synced by on_schema_change), the bindings that block it
 * are dropped first (BindDropDependents); their models are then unbound
 * until their owners bind them again (medallion_create_model does it at
 * once for the models whose owner the caller acts for).  A run of an
 * unbound model fails with a message that says so.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/dependency.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/objectaddress.h"
#include "catalog/pg_depend.h"
#include "catalog/pg_rewrite.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_proc.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "commands/extension.h"
#include "commands/tablecmds.h"
#include "common/md5.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "parser/analyze.h"
#include "parser/parse_relation.h"
#include "rewrite/rewriteDefine.h"
#include "rewrite/rewriteHandler.h"
#include "rewrite/rewriteManip.h"
#include "rewrite/rewriteSupport.h"
#include "storage/lmgr.h"
#include "storage/proc.h"
#include "tcop/pquery.h"
#include "tcop/tcopprot.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/regproc.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/fmgrprotos.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "analyze.h"
#include "bind.h"
#include "relation.h"
#include "trust.h"
#include "catalog.h"
#include "scope.h"

PG_FUNCTION_INFO_V1(medallion_adopt_bind_schema);

/*
 * BindName
 *		The name of a binding in medallion_bind: the model's name for its
 *		query; "<model>$" for its fused test expressions (test = ""); and
 *		"<model>$<test>" for an sql or relationships test.  Names that would
 *		be too long become "$" and an md5 of the long name: no model name
 *		starts with "$", so no other binding can have it.  Returns a
 *		palloc'd string.
 */
char *
BindName(const char *model, const char *test)
{
	char	   *name;
	char		hex[33];
	const char *errstr = NULL;

	if (test == NULL)
		return pstrdup(model);
	name = psprintf("%s$%s", model, test);
	if (strlen(name) < NAMEDATALEN)
		return name;
	if (!pg_md5_hash(name, strlen(name), hex, &errstr))
		elog(ERROR, "could not compute md5: %s", errstr);
	return psprintf("$%s", hex);
}

/*
 * medallion.adopt_bind_schema() makes schema medallion_bind, when a 0.2.0
 * library made it before the update to 0.2.0, a member of the extension
 * (what CREATE SCHEMA in the install script makes it).  For update scripts.
 */
Datum
medallion_adopt_bind_schema(PG_FUNCTION_ARGS)
{
	Oid			nsp;
	ObjectAddress obj;

	if (!creating_extension)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("medallion.adopt_bind_schema() is for medallion's update scripts")));
	nsp = RelBindNamespace(false);	/* checks who owns it */
	if (!OidIsValid(nsp))
		PG_RETURN_BOOL(false);
	obj.classId = NamespaceRelationId;
	obj.objectId = nsp;
	obj.objectSubId = 0;
	if (getExtensionOfObject(NamespaceRelationId, nsp) == CurrentExtensionObject)
		PG_RETURN_BOOL(false);
	recordDependencyOnCurrentExtension(&obj, false);
	PG_RETURN_BOOL(true);
}

/* "medallion_bind"."name", for the SQL medallion writes. */
char *
BindRelationSql(const char *name)
{
	return quote_qualified_identifier(MEDALLION_BIND_SCHEMA, name);
}

/*
 * with_old_new
 *		A copy of an analyzed query as a view's rule stores it: the view
 *		itself twice at the head of the range table (the "old" and "new"
 *		entries every view rule carries, checking no privilege), and every
 *		reference to the query's own entries shifted past them.
 */
static Query *
with_old_new(Oid viewid, Query *query)
{
	Query	   *copy = copyObject(query);
	ParseState *pstate = make_parsestate(NULL);
	Relation	rel = relation_open(viewid, AccessShareLock);
	RangeTblEntry *entries[2];
	const char *aliases[2] = {"old", "new"};

	for (int i = 0; i < 2; i++)
	{
		ParseNamespaceItem *item = addRangeTableEntryForRelation(pstate, rel, AccessShareLock,
																 makeAlias(aliases[i], NIL),
																 false, false);

		entries[i] = item->p_rte;
		entries[i]->requiredPerms = 0;
	}
	copy->rtable = lcons(entries[0], lcons(entries[1], copy->rtable));
	OffsetVarNodes((Node *) copy, 2, 0);
	relation_close(rel, AccessShareLock);
	free_parsestate(pstate);
	return copy;
}

/*
 * BindCreateView
 *		Create (or, when it exists, replace) view name in namespace nsp
 *		with the analyzed query, owned by owner, without turning the query
 *		into text: the relation is defined with the query's columns and the
 *		query stored as its rule, as CREATE VIEW does.  A view that exists
 *		must have the query's first columns (the caller checks); columns the
 *		query adds are added.  Runs as the extension owner, who may create
 *		in medallion's schemas.  Returns the view's OID.
 */
Oid
BindCreateView(Oid nsp, const char *name, Query *query, Oid owner)
{
	Oid			relid = get_relname_relid(name, nsp);
	bool		replace = OidIsValid(relid);
	List	   *coldefs = NIL;
	ListCell   *lc;
	Oid			save_userid;
	int			save_sec;

	foreach(lc, query->targetList)
	{
		TargetEntry *tle = lfirst(lc);
		ColumnDef  *def;

		if (tle->resjunk)
			continue;
		def = makeColumnDef(tle->resname, exprType((Node *) tle->expr),
							exprTypmod((Node *) tle->expr), exprCollation((Node *) tle->expr));
		coldefs = lappend(coldefs, def);
	}

	GetUserIdAndSecContext(&save_userid, &save_sec);
	SetUserIdAndSecContext(CatalogExtensionOwner(), save_sec | SECURITY_LOCAL_USERID_CHANGE);
	if (replace)
	{
		Relation	rel = relation_open(relid, AccessExclusiveLock);
		int			natts = RelationGetDescr(rel)->natts;
		List	   *cmds = NIL;

		if (rel->rd_rel->relkind != RELKIND_VIEW || rel->rd_rel->relowner != owner)
			ereport(ERROR,
					(errcode(ERRCODE_WRONG_OBJECT_TYPE),
					 errmsg("%s is not a view of role \"%s\"",
							quote_qualified_identifier(get_namespace_name(nsp), name),
							GetUserNameFromId(owner, false)),
					 errdetail("medallion replaces only the views it made for that role.")));
		relation_close(rel, NoLock);
		for_each_from(lc, coldefs, natts)
		{
			AlterTableCmd *cmd = makeNode(AlterTableCmd);

			cmd->subtype = AT_AddColumnToView;
			cmd->def = lfirst(lc);
			cmds = lappend(cmds, cmd);
		}
		if (cmds != NIL)
		{
			AlterTableInternal(relid, cmds, false);
			CommandCounterIncrement();
		}
	}
	else
	{
		CreateStmt *stmt = makeNode(CreateStmt);

		stmt->relation = makeRangeVar(get_namespace_name(nsp), pstrdup(name), -1);
		stmt->tableElts = coldefs;
		stmt->oncommit = ONCOMMIT_NOOP;
		relid = DefineRelation(stmt, RELKIND_VIEW, owner, NULL, NULL).objectId;
		RelNotExtensionMember(relid);
		CommandCounterIncrement();
	}
	(void) DefineQueryRewrite(pstrdup(ViewSelectRuleName), relid, NULL, CMD_SELECT, true,
							  replace, list_make1(with_old_new(relid, query)));
	CommandCounterIncrement();
	SetUserIdAndSecContext(save_userid, save_sec);
	return relid;
}

/* Does view relid have the query's columns first (names and types)? */
static bool
columns_prefix(Oid relid, Query *query)
{
	Relation	rel = relation_open(relid, AccessShareLock);
	TupleDesc	desc = RelationGetDescr(rel);
	int			i = 0;
	bool		match = true;
	ListCell   *lc;

	foreach(lc, query->targetList)
	{
		TargetEntry *tle = lfirst(lc);
		Form_pg_attribute att;

		if (tle->resjunk || i >= desc->natts)
			continue;
		att = TupleDescAttr(desc, i++);
		match &= strcmp(NameStr(att->attname), tle->resname) == 0 &&
			att->atttypid == exprType((Node *) tle->expr) &&
			att->atttypmod == exprTypmod((Node *) tle->expr) &&
			att->attcollation == exprCollation((Node *) tle->expr);
	}
	match &= i == desc->natts;
	relation_close(rel, AccessShareLock);
	return match;
}

/*
 * BindDropRelation
 *		Drop a relation medallion made (a binding, a candidate, a kept
 *		version), refusing when anything else depends on it.
 */
void
BindDropRelation(Oid relid)
{
	ObjectAddress obj;

	obj.classId = RelationRelationId;
	obj.objectId = relid;
	obj.objectSubId = 0;
	performDeletion(&obj, DROP_RESTRICT, PERFORM_DELETION_INTERNAL);
	CommandCounterIncrement();
}

/*
 * BindModel
 *		Bind the model's analyzed query: create or replace its view
 *		medallion_bind.<model>, owned by the model owner.  When the columns
 *		changed so that the view cannot be replaced, the bindings that read
 *		it (of models reading an ephemeral model) are dropped with it.
 *		Returns the names of the bindings so dropped: their models are
 *		unbound until bound again.
 */
List *
BindModel(ModelDef *model, Query *query)
{
	Oid			nsp = RelBindNamespace(true);
	Oid			relid = get_relname_relid(model->name, nsp);
	List	   *gone = NIL;

	if (OidIsValid(relid) && !columns_prefix(relid, query))
	{
		gone = BindDropDependents(relid, NIL);
		BindDropRelation(relid);
	}
	(void) BindCreateView(nsp, model->name, query, ModelOwnerId(model));
	return gone;
}

/*
 * BindDrop
 *		Drop binding name, if it exists.  Anything else that depends on it
 *		(a view a user made over an ephemeral model) makes this fail with
 *		PostgreSQL's error naming it.
 */
void
BindDrop(const char *name)
{
	Oid			relid = RelBinding(name);

	if (OidIsValid(relid))
		BindDropRelation(relid);
}

/*
 * BindLoad
 *		The bound query of a model (a copy of its binding's rule, which
 *		reads as the model owner) and its columns.  The binding stays
 *		locked (AccessShareLock) to the end of the transaction.  An unbound
 *		model is an error that says how to bind it again.
 */
AnalyzedModel *
BindLoad(ModelDef *model)
{
	Oid			relid = RelBinding(model->name);
	AnalyzedModel *result = palloc0(sizeof(AnalyzedModel));
	Relation	rel;
	TupleDesc	desc;

	/*
	 * Locked, then looked up again: a session that did not lock the model
	 * (a trimmer) may meet a binding dropped or made again between the two.
	 */
	while (OidIsValid(relid))
	{
		Oid			again;

		LockRelationOid(relid, AccessShareLock);
		again = RelBinding(model->name);
		if (again == relid)
			break;
		UnlockRelationOid(relid, AccessShareLock);
		relid = again;
	}
	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("model \"%s\" is not bound", model->name),
				 errdetail("A change upstream of it dropped what its SQL was bound to."),
				 errhint("Its owner binds it again with SELECT medallion_reanalyze('%s');",
						 model->name)));
	rel = relation_open(relid, NoLock);
	result->query = copyObject(get_view_query(rel));
	result->binding = relid;
	desc = RelationGetDescr(rel);
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		ModelColumn *col;

		if (att->attisdropped)
			continue;
		col = palloc(sizeof(ModelColumn));
		col->name = pstrdup(NameStr(att->attname));
		col->type = att->atttypid;
		col->typmod = att->atttypmod;
		col->collation = att->attcollation;
		result->columns = lappend(result->columns, col);
	}
	relation_close(rel, NoLock);
	return result;
}

/*
 * BindRuleRelation
 *		The view (or table) a pg_rewrite rule belongs to, or InvalidOid.
 */
Oid
BindRuleRelation(Oid ruleoid)
{
	Relation	rel = table_open(RewriteRelationId, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	Oid			relid = InvalidOid;

	ScanKeyInit(&key, Anum_pg_rewrite_oid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(ruleoid));
	scan = systable_beginscan(rel, RewriteOidIndexId, true, NULL, 1, &key);
	tup = systable_getnext(scan);
	if (HeapTupleIsValid(tup))
		relid = ((Form_pg_rewrite) GETSTRUCT(tup))->ev_class;
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return relid;
}

/*
 * dependent_bindings
 *		Add to *found (OIDs) the bindings whose rules depend on relid (on one
 *		of the columns attnums, when given), and then the bindings that
 *		depend on those, each after everything it reads.
 */
static void
dependent_bindings(Oid relid, List *attnums, Oid bindnsp, List **found)
{
	List	   *direct = NIL;
	ListCell   *lc;

	foreach(lc, BindDependentViews(relid, attnums))
	{
		Oid			view = lfirst_oid(lc);

		if (get_rel_namespace(view) == bindnsp && !list_member_oid(*found, view))
			direct = lappend_oid(direct, view);
	}

	foreach(lc, direct)
	{
		if (list_member_oid(*found, lfirst_oid(lc)))
			continue;
		*found = lappend_oid(*found, lfirst_oid(lc));
		dependent_bindings(lfirst_oid(lc), NIL, bindnsp, found);
	}
}

/*
 * BindDependentViews
 *		The views (of any schema) whose rules read relation relid directly
 *		(its columns attnums only, when given).
 */
List *
BindDependentViews(Oid relid, List *attnums)
{
	Relation	depRel = table_open(DependRelationId, AccessShareLock);
	ScanKeyData key[2];
	SysScanDesc scan;
	HeapTuple	tup;
	List	   *views = NIL;

	ScanKeyInit(&key[0], Anum_pg_depend_refclassid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(RelationRelationId));
	ScanKeyInit(&key[1], Anum_pg_depend_refobjid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(relid));
	scan = systable_beginscan(depRel, DependReferenceIndexId, true, NULL, 2, key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_depend dep = (Form_pg_depend) GETSTRUCT(tup);
		Oid			view;

		if (dep->classid != RewriteRelationId)
			continue;
		if (attnums != NIL && !list_member_int(attnums, dep->refobjsubid))
			continue;
		view = BindRuleRelation(dep->objid);
		if (OidIsValid(view) && view != relid && !list_member_oid(views, view))
			views = lappend_oid(views, view);
	}
	systable_endscan(scan);
	table_close(depRel, AccessShareLock);
	return views;
}

/*
 * view_refs
 *		What view's rule refers to in pg_depend (so reads in sublinks and
 *		CTEs count), as ObjectAddress *, the view itself left out; NIL when
 *		it has no rule.  The caller's memory context.
 */
static List *
view_refs(Oid view)
{
	Oid			rule = get_rewrite_oid(view, ViewSelectRuleName, true);
	List	   *refs = NIL;
	Relation	depRel;
	ScanKeyData key[2];
	SysScanDesc scan;
	HeapTuple	tup;

	if (!OidIsValid(rule))
		return NIL;
	depRel = table_open(DependRelationId, AccessShareLock);
	ScanKeyInit(&key[0], Anum_pg_depend_classid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(RewriteRelationId));
	ScanKeyInit(&key[1], Anum_pg_depend_objid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(rule));
	scan = systable_beginscan(depRel, DependDependerIndexId, true, NULL, 2, key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_depend dep = (Form_pg_depend) GETSTRUCT(tup);
		ObjectAddress *ref;

		if (dep->refclassid == RelationRelationId && dep->refobjid == view)
			continue;
		ref = palloc(sizeof(ObjectAddress));
		ref->classId = dep->refclassid;
		ref->objectId = dep->refobjid;
		ref->objectSubId = 0;
		refs = lappend(refs, ref);
	}
	systable_endscan(scan);
	table_close(depRel, AccessShareLock);
	return refs;
}

/*
 * BindReadRelations
 *		The relations view's rule reads directly (view_refs), as a List of
 *		OIDs, the view itself left out; NIL when it has no rule.  The
 *		caller's memory context.
 */
List *
BindReadRelations(Oid view)
{
	List	   *relids = NIL;
	ListCell   *lc;

	foreach(lc, view_refs(view))
	{
		ObjectAddress *ref = lfirst(lc);

		if (ref->classId == RelationRelationId)
			relids = list_append_unique_oid(relids, ref->objectId);
	}
	return relids;
}

/*
 * What the bindings BindDropDependents dropped read (their names, and for
 * each the objects its query referred to), so that a model bound again
 * after a change can be held to reading what it read (BindReadsAsBefore).
 * Kept in TopTransactionContext, for the transaction that dropped them.
 */
typedef struct DroppedReads
{
	char	   *name;
	List	   *reads;			/* char *: reads_of's keys */
} DroppedReads;

static List *dropped_reads = NIL;
static LocalTransactionId dropped_reads_lxid = InvalidLocalTransactionId;

/*
 * reads_of
 *		What binding view reads, as keys: a relation medallion manages (a
 *		model's published relation, a binding) by name, since changes make
 *		them again under new OIDs; any other object by class and OID.
 *		Objects of pg_catalog are left out: only a superuser makes them, so
 *		they cannot capture a name.
 */
static List *
reads_of(Oid view)
{
	Oid			bindnsp = RelBindNamespace(false);
	List	   *layer_nsps = NIL;
	List	   *keys = NIL;
	List	   *refs = view_refs(view);
	ListCell   *lc;

	if (refs == NIL)
		return NIL;
	foreach(lc, CatalogListLayers())
		layer_nsps = lappend_oid(layer_nsps, get_namespace_oid(((LayerDef *) lfirst(lc))->schema, true));
	foreach(lc, refs)
	{
		ObjectAddress *ref = lfirst(lc);
		char	   *k;

		if (ref->classId == RelationRelationId &&
			(get_rel_namespace(ref->objectId) == bindnsp ||
			 list_member_oid(layer_nsps, get_rel_namespace(ref->objectId))))
			k = psprintf("relation %s", get_rel_name(ref->objectId));
		else if (get_object_namespace(ref) == PG_CATALOG_NAMESPACE)
			continue;
		else
			k = psprintf("%u:%u", ref->classId, ref->objectId);
		if (!list_member(keys, makeString(k)))
			keys = lappend(keys, makeString(k));
	}
	return keys;
}

/*
 * BindReadsAsBefore
 *		Does binding name, made again in this transaction after a change
 *		dropped it, read only what it read before (besides PostgreSQL's
 *		own objects)?  When not, *extra describes an object it reads now
 *		and did not.  A binding this transaction did not drop is as before.
 */
bool
BindReadsAsBefore(const char *name, char **extra)
{
	Oid			relid = RelBinding(name);
	ListCell   *lc;

	if (dropped_reads_lxid != MyProc->lxid || !OidIsValid(relid))
		return true;
	foreach(lc, dropped_reads)
	{
		DroppedReads *before = lfirst(lc);
		ListCell   *lk;

		if (strcmp(before->name, name) != 0)
			continue;
		foreach(lk, reads_of(relid))
		{
			char	   *k = strVal(lfirst(lk));
			unsigned int classid;
			unsigned int objid;

			if (list_member(before->reads, lfirst(lk)))
				continue;
			if (sscanf(k, "%u:%u", &classid, &objid) == 2)
			{
				ObjectAddress obj = {classid, objid, 0};

				*extra = getObjectDescription(&obj, true);
			}
			else
				*extra = pstrdup(k);
			return false;
		}
		return true;
	}
	return true;
}

/*
 * BindDropDependents
 *		Drop the bindings that depend on relation relid (on its columns
 *		attnums only, when given: what dropping or retyping them would
 *		break), and the bindings depending on those; returns their names.
 *		Anything else depending on them (a user's view) makes this fail
 *		with PostgreSQL's error naming it.
 */
List *
BindDropDependents(Oid relid, List *attnums)
{
	Oid			bindnsp = RelBindNamespace(false);
	List	   *found = NIL;
	List	   *names = NIL;

	if (!OidIsValid(bindnsp))
		return NIL;
	dependent_bindings(relid, attnums, bindnsp, &found);
	if (found != NIL)
	{
		/* one deletion: PostgreSQL orders them, and refuses other dependents */
		ObjectAddresses *objects = new_object_addresses();
		ListCell   *lc;

		if (dropped_reads_lxid != MyProc->lxid)
		{
			dropped_reads = NIL;	/* an earlier transaction's, freed with it */
			dropped_reads_lxid = MyProc->lxid;
		}
		foreach(lc, found)
		{
			ObjectAddress obj;
			MemoryContext old;
			DroppedReads *dropped;
			List	   *reads = reads_of(lfirst_oid(lc));

			obj.classId = RelationRelationId;
			obj.objectId = lfirst_oid(lc);
			obj.objectSubId = 0;
			names = lappend(names, get_rel_name(obj.objectId));
			old = MemoryContextSwitchTo(TopTransactionContext);
			dropped = palloc(sizeof(DroppedReads));
			dropped->name = pstrdup(get_rel_name(obj.objectId));
			dropped->reads = copyObject(reads);
			dropped_reads = lappend(dropped_reads, dropped);
			MemoryContextSwitchTo(old);
			LockRelationOid(obj.objectId, AccessExclusiveLock);
			add_exact_object_address(&obj, objects);
		}
		performMultipleDeletions(objects, DROP_RESTRICT, PERFORM_DELETION_INTERNAL);
		free_object_addresses(objects);
		CommandCounterIncrement();
	}
	return names;
}

/*
 * BindCheckDefinition
 *		TrustCheckQuery for an analyzed query being bound: a model (or a
 *		test's code) that would run code another role can change as its
 *		owner is refused when it is defined, not only when it runs.
 */
void
BindCheckDefinition(Query *query)
{
	Query	   *copy = copyObject(query);
	ListCell   *lc;

	AcquireRewriteLocks(copy, true, false);
	foreach(lc, QueryRewrite(copy))
		TrustCheckQuery(lfirst_node(Query, lc));
}

/*
 * The snapshot of a build's first read (BindCaptureStart, BindCaptureTake):
 * what a build stores as the snapshot it read with is then the one its
 * query ran under, not one taken before it.  Kept in TopTransactionContext
 * and forgotten at the end of the transaction.
 */
static bool capture_wanted = false;
static Snapshot pinned_snapshot = NULL;	/* BindPinSnapshot */
static char *captured_snapshot = NULL;
static bool capture_callback_registered = false;

static void
capture_xact_callback(XactEvent event, void *arg)
{
	capture_wanted = false;
	captured_snapshot = NULL;
	pinned_snapshot = NULL;		/* unpinned by its build, or released at abort */
}

/*
 * active_snapshot_text
 *		The active snapshot as pg_snapshot text, with this transaction (if
 *		it has an id) among those in progress: what this transaction writes
 *		after the read is then new to whoever compares with the text.  The
 *		snapshot itself leaves its own transaction out of the list, so a
 *		later write of it would look seen as soon as a newer transaction
 *		ended.
 */
static char *
active_snapshot_text(void)
{
	char	   *text = DatumGetCString(DirectFunctionCall1(pg_snapshot_out,
														   DirectFunctionCall1(pg_current_snapshot, (Datum) 0)));
	FullTransactionId own = GetTopFullTransactionIdIfAny();
	uint64		xmin;
	uint64		xmax;
	uint64		me;
	char	   *list;
	StringInfoData out;
	bool		placed = false;

	if (!FullTransactionIdIsValid(own) ||
		sscanf(text, UINT64_FORMAT ":" UINT64_FORMAT ":", &xmin, &xmax) != 2)
		return text;
	me = U64FromFullTransactionId(own);
	if (me >= xmax)
		return text;			/* seen as in progress already */
	list = strchr(strchr(text, ':') + 1, ':') + 1;
	initStringInfo(&out);
	appendStringInfo(&out, UINT64_FORMAT ":" UINT64_FORMAT ":", Min(xmin, me), xmax);
	while (*list != '\0')
	{
		uint64		xip = strtou64(list, &list, 10);

		if (!placed && me <= xip)
		{
			if (me < xip)
				appendStringInfo(&out, "%s" UINT64_FORMAT, out.data[out.len - 1] == ':' ? "" : ",", me);
			placed = true;
		}
		appendStringInfo(&out, "%s" UINT64_FORMAT, out.data[out.len - 1] == ':' ? "" : ",", xip);
		if (*list == ',')
			list++;
	}
	if (!placed)
		appendStringInfo(&out, "%s" UINT64_FORMAT, out.data[out.len - 1] == ':' ? "" : ",", me);
	return out.data;
}

/* Capture the snapshot of the next BindExecute in this transaction. */
void
BindCaptureStart(void)
{
	if (!capture_callback_registered)
	{
		RegisterXactCallback(capture_xact_callback, NULL);
		capture_callback_registered = true;
	}
	capture_wanted = true;
	captured_snapshot = NULL;
}

/*
 * BindCaptureRestart
 *		When a capture is under way (BindCaptureStart), forget what it
 *		captured: the next BindExecute's snapshot is the one taken.
 */
void
BindCaptureRestart(void)
{
	if (capture_wanted || captured_snapshot != NULL)
	{
		capture_wanted = true;
		captured_snapshot = NULL;
	}
}

/*
 * The snapshot captured since BindCaptureStart (pg_snapshot text, palloc'd
 * in the current context), or NULL when no BindExecute ran since.
 */
char *
BindCaptureTake(void)
{
	char	   *taken = captured_snapshot ? pstrdup(captured_snapshot) : NULL;

	capture_wanted = false;
	captured_snapshot = NULL;
	return taken;
}

/*
 * A snapshot pinned for one build (BindPinSnapshot): every BindExecute
 * until BindUnpinSnapshot reads under it, so a build made of several
 * statements (an incremental model's lowest captured value, then its
 * delta) reads one state of the database, the one it stores.
 */
/*
 * BindPinSnapshot
 *		Take a snapshot for the build that starts (registered on the
 *		current resource owner) and return it as pg_snapshot text.  The
 *		caller unpins it with BindUnpinSnapshot, also when the build fails.
 */
char *
BindPinSnapshot(void)
{
	char	   *text;

	BindUnpinSnapshot();
	CommandCounterIncrement();
	pinned_snapshot = RegisterSnapshot(GetTransactionSnapshot());
	BindPushPinned();
	text = active_snapshot_text();
	PopActiveSnapshot();
	return text;
}

/*
 * BindPushPinned
 *		Make the pinned snapshot the active one (with the current command
 *		id: what this transaction wrote is seen), for SPI's read-only
 *		queries; the caller pops it.
 */
void
BindPushPinned(void)
{
	Assert(pinned_snapshot != NULL);
	PushActiveSnapshot(pinned_snapshot);
	UpdateActiveSnapshotCommandId();
}

/* Forget the pinned snapshot, if any. */
void
BindUnpinSnapshot(void)
{
	if (pinned_snapshot != NULL)
		UnregisterSnapshot(pinned_snapshot);
	pinned_snapshot = NULL;
}

/* When a capture is wanted: the active snapshot, the one this read runs under. */
static void
capture_active(void)
{
	MemoryContext old;

	if (!capture_wanted)
		return;
	old = MemoryContextSwitchTo(TopTransactionContext);
	captured_snapshot = active_snapshot_text();
	MemoryContextSwitchTo(old);
	capture_wanted = false;
}

/*
 * BindPushPinnedRead
 *		BindPushPinned for a read done in C, not by BindExecute: it counts
 *		as the build's first read when a capture is wanted.  Returns the
 *		snapshot to read with; the caller pops it.
 */
Snapshot
BindPushPinnedRead(void)
{
	BindPushPinned();
	capture_active();
	return GetActiveSnapshot();
}

/*
 * execute_rewritten
 *		Plan and run query, rewritten and checked, into dest (BindExecute).
 */
static uint64
execute_rewritten(Query *query, const char *sql, ParamListInfo params, DestReceiver *dest)
{
	PlannedStmt *plan;
	QueryDesc  *qdesc;
	uint64		processed;

	CommandCounterIncrement();
	PushActiveSnapshot(pinned_snapshot != NULL ? pinned_snapshot : GetTransactionSnapshot());
	UpdateActiveSnapshotCommandId();
	capture_active();
	plan = pg_plan_query(query, sql, CURSOR_OPT_PARALLEL_OK, params);
	qdesc = CreateQueryDesc(plan, sql, GetActiveSnapshot(), InvalidSnapshot, dest, params,
							NULL, 0);
	ExecutorStart(qdesc, 0);
	ExecutorRun(qdesc, ForwardScanDirection, 0L, true);
	processed = qdesc->estate->es_processed;
	ExecutorFinish(qdesc);
	ExecutorEnd(qdesc);
	FreeQueryDesc(qdesc);
	PopActiveSnapshot();
	CommandCounterIncrement();
	return processed;
}

/*
 * BindExecute
 *		Run sql, text medallion wrote (it names relations, bindings among
 *		them, schema-qualified), with parameters of the given types (nulls
 *		as SPI takes them: 'n' for a NULL, or NULL for none), into dest.  After the rewriter expanded the views it reads, every read of
 *		a relation in redirect_from (OIDs) reads the relation at the same
 *		position of redirect_to instead, at every level.  Runs as the
 *		current user with a fresh snapshot, as SPI would, or the pinned one
 *		(BindPinSnapshot).  Returns the rows
 *		processed (sent to dest, or written).
 */
uint64
BindExecute(const char *sql, int nparams, Oid *types, Datum *values, const char *nulls,
			List *redirect_from, List *redirect_to, DestReceiver *dest)
{
	List	   *raw = pg_parse_query(sql);
	Query	   *query;
	List	   *rewritten;
	ParamListInfo params = NULL;

	if (list_length(raw) != 1)
		elog(ERROR, "BindExecute takes one statement: %s", sql);
	query = parse_analyze_fixedparams(linitial_node(RawStmt, raw), sql, types, nparams, NULL);
	rewritten = QueryRewrite(query);
	if (list_length(rewritten) != 1)
		elog(ERROR, "statement rewritten into %d: %s", list_length(rewritten), sql);
	query = linitial_node(Query, rewritten);
	TrustCheckQuery(query);
	if (redirect_from != NIL)
		(void) AnalyzeRedirect(query, redirect_from, redirect_to);
	if (nparams > 0)
	{
		params = makeParamList(nparams);
		for (int i = 0; i < nparams; i++)
		{
			params->params[i].value = values[i];
			params->params[i].isnull = nulls != NULL && nulls[i] == 'n';
			params->params[i].pflags = PARAM_FLAG_CONST;
			params->params[i].ptype = types[i];
		}
	}
	return execute_rewritten(query, sql, params, dest);
}

/*
 * BindExecuteBound
 *		Run query, a model's bound query (BindLoad), into dest, with every
 *		read of a relation in redirect_from reading the relation at the
 *		same position of redirect_to instead.  The reads are redirected
 *		before the rewriter expands views, so a view the model reads (a
 *		view model) can be replaced by a table too; what is not redirected
 *		is expanded and read as a run reads it.  sql is what errors show.
 *		Runs as the current user, with a fresh snapshot.  Returns the rows
 *		sent to dest.
 */
uint64
BindExecuteBound(Query *query, const char *sql, List *redirect_from, List *redirect_to,
				 DestReceiver *dest)
{
	List	   *rewritten;

	query = copyObject(query);
	query->canSetTag = true;
	query->querySource = QSRC_ORIGINAL;
	(void) AnalyzeRedirect(query, redirect_from, redirect_to);
	rewritten = QueryRewrite(query);
	if (list_length(rewritten) != 1)
		elog(ERROR, "a bound query rewritten into %d", list_length(rewritten));
	query = linitial_node(Query, rewritten);
	TrustCheckQuery(query);
	return execute_rewritten(query, sql, NULL, dest);
}

/* A DestReceiver collecting rows as text (BindRowsReceiver). */
typedef struct RowsReceiver
{
	DestReceiver pub;
	BindRows   *rows;
	uint64		limit;
	MemoryContext cxt;
	FmgrInfo   *out;			/* output functions, per column */
} RowsReceiver;

static void
rows_startup(DestReceiver *self, int operation, TupleDesc desc)
{
	RowsReceiver *r = (RowsReceiver *) self;
	MemoryContext old = MemoryContextSwitchTo(r->cxt);

	r->rows->ncolumns = desc->natts;
	r->out = palloc0(sizeof(FmgrInfo) * Max(desc->natts, 1));
	for (int i = 0; i < desc->natts; i++)
	{
		Oid			func;
		bool		varlena;

		getTypeOutputInfo(TupleDescAttr(desc, i)->atttypid, &func, &varlena);
		fmgr_info(func, &r->out[i]);
	}
	MemoryContextSwitchTo(old);
}

static bool
rows_receive(TupleTableSlot *slot, DestReceiver *self)
{
	RowsReceiver *r = (RowsReceiver *) self;
	MemoryContext old;
	char	  **row;

	if (list_length(r->rows->rows) >= r->limit)
		return true;
	slot_getallattrs(slot);
	old = MemoryContextSwitchTo(r->cxt);
	row = palloc0(sizeof(char *) * Max(r->rows->ncolumns, 1));
	for (int i = 0; i < r->rows->ncolumns; i++)
	{
		if (!slot->tts_isnull[i])
			row[i] = OutputFunctionCall(&r->out[i], slot->tts_values[i]);
	}
	r->rows->rows = lappend(r->rows->rows, row);
	MemoryContextSwitchTo(old);
	return true;
}

static void
rows_shutdown(DestReceiver *self)
{
}

static void
rows_destroy(DestReceiver *self)
{
}

/*
 * BindRowsReceiver
 *		A DestReceiver for BindExecute that keeps up to limit rows in *rows,
 *		as text, allocated in cxt.
 */
DestReceiver *
BindRowsReceiver(BindRows *rows, uint64 limit, MemoryContext cxt)
{
	RowsReceiver *r = palloc0(sizeof(RowsReceiver));

	r->pub.receiveSlot = rows_receive;
	r->pub.rStartup = rows_startup;
	r->pub.rShutdown = rows_shutdown;
	r->pub.rDestroy = rows_destroy;
	r->pub.mydest = DestNone;
	r->rows = rows;
	r->limit = limit;
	r->cxt = cxt;
	rows->ncolumns = 0;
	rows->rows = NIL;
	return (DestReceiver *) r;
}

/*
 * BindCount
 *		The number in sql's one row and column (a count), run by
 *		BindExecute as the current user; 0 when it is NULL.
 */
int64
BindCount(const char *sql)
{
	BindRows	rows = {0};
	char	  **row;

	(void) BindExecute(sql, 0, NULL, NULL, NULL, NIL, NIL, BindRowsReceiver(&rows, 1, CurrentMemoryContext));
	row = linitial(rows.rows);
	return row[0] ? strtoll(row[0], NULL, 10) : 0;
}
