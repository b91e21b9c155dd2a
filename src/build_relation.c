/*-------------------------------------------------------------------------
 *
 * build_relation.c
 *	  The relation a model is published as, at definition time: created,
 *	  adjusted, indexed, commented and dropped.
 *
 * When a model is defined its published relation is created at once in the
 * layer's schema, so BI tools see the schema before the first run: a view
 * (the model's bound query stored as its rule, bind.c) or an empty table
 * with the query's columns.  Nobody but medallion creates in the layer
 * schemas: relations are created as the extension owner and owned by the
 * model owner, who can then grant on them, add policies and comments.
 *
 * DDL is run through SPI with every name quoted and every type qualified
 * (under search_path "pg_catalog, pg_temp").
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
#include "storage/proc.h"
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
#include "catalog.h"
#include "relation.h"
#include "scale.h"
#include "scope.h"
#include "sqltext.h"

/*
 * columns_match
 *		Do the relation's first columns have the names and types of the
 *		query's?  With prefix_ok, the query may add columns at the end (what
 *		CREATE OR REPLACE VIEW accepts).
 */
static bool
columns_match(Oid relid, List *columns, bool prefix_ok)
{
	Relation	rel = table_open(relid, AccessShareLock);
	TupleDesc	desc = RelationGetDescr(rel);
	int			natts = 0;
	bool		match = true;

	for (int i = 0; i < desc->natts && match; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		ModelColumn *col;

		if (att->attisdropped)
			continue;
		if (natts >= list_length(columns))
		{
			match = false;
			break;
		}
		col = list_nth(columns, natts++);
		match = strcmp(NameStr(att->attname), col->name) == 0 &&
			att->atttypid == col->type && att->atttypmod == col->typmod &&
			att->attcollation == col->collation;
	}
	table_close(rel, AccessShareLock);
	return match && (prefix_ok || natts == list_length(columns));
}

/* Compare the published table's live columns with the query's, by name. */
SchemaChange *
BuildSchemaChange(Relation rel, List *columns)
{
	TupleDesc	desc = RelationGetDescr(rel);
	SchemaChange *change = palloc0(sizeof(SchemaChange));
	ListCell   *lc;

	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		ModelColumn *col;

		if (att->attisdropped)
			continue;
		col = SqlFindColumn(columns, NameStr(att->attname));
		if (col == NULL)
			change->removed = lappend(change->removed, pstrdup(NameStr(att->attname)));
		else if (col->type != att->atttypid || col->typmod != att->atttypmod ||
				 col->collation != att->attcollation)
			change->retyped = lappend(change->retyped, col);
	}
	foreach(lc, columns)
	{
		ModelColumn *col = lfirst(lc);

		if (get_attnum(RelationGetRelid(rel), col->name) == InvalidAttrNumber)
			change->added = lappend(change->added, col);
	}
	return change;
}

/* The names (columns: of ModelColumns) as "a, b", or "none". */
char *
BuildNameList(List *names, bool columns)
{
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	foreach(lc, names)
	{
		const char *name = columns ? ((ModelColumn *) lfirst(lc))->name : (char *) lfirst(lc);

		appendStringInfo(&buf, "%s%s", buf.len > 0 ? ", " : "", name);
	}
	return buf.len > 0 ? buf.data : "none";
}

/*
 * in_published_order
 *		The query to publish a view model as, when its view relid exists: the
 *		query itself when the view's columns are its first ones; when the
 *		view's columns are all still there (same names and types) but in
 *		another place, the query wrapped in a SELECT of the view's columns in
 *		their places, then the new ones, so that every column keeps its
 *		number and what depends on the view (users' views, grants, models'
 *		bindings) survives, as with CREATE OR REPLACE VIEW.  NULL when a
 *		column of the view is gone or of another type: the view must be
 *		made again.
 */
static Query *
in_published_order(Oid relid, Query *query)
{
	Relation	rel = relation_open(relid, AccessShareLock);
	TupleDesc	desc = RelationGetDescr(rel);
	List	   *order = NIL;	/* TargetEntries of query, in published order */
	List	   *colnames = NIL;
	bool		in_place = true;
	int			live = 0;
	Query	   *wrapper;
	RangeTblEntry *rte;
	RangeTblRef *rtr;
	ListCell   *lc;

	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		TargetEntry *found = NULL;

		if (att->attisdropped)
			continue;
		foreach(lc, query->targetList)
		{
			TargetEntry *tle = lfirst(lc);

			if (!tle->resjunk && strcmp(tle->resname, NameStr(att->attname)) == 0)
				found = tle;
		}
		if (found == NULL || exprType((Node *) found->expr) != att->atttypid ||
			exprTypmod((Node *) found->expr) != att->atttypmod ||
			exprCollation((Node *) found->expr) != att->attcollation)
		{
			relation_close(rel, AccessShareLock);
			return NULL;
		}
		in_place &= found->resno == ++live;
		order = lappend(order, found);
	}
	relation_close(rel, AccessShareLock);
	if (in_place)
		return query;

	/* then the new columns, in the query's order */
	foreach(lc, query->targetList)
	{
		TargetEntry *tle = lfirst(lc);

		if (!tle->resjunk && !list_member_ptr(order, tle))
			order = lappend(order, tle);
		if (!tle->resjunk)
			colnames = lappend(colnames, makeString(pstrdup(tle->resname)));
	}

	rte = makeNode(RangeTblEntry);
	rte->rtekind = RTE_SUBQUERY;
	rte->subquery = copyObject(query);
	rte->alias = makeAlias("q", NIL);
	rte->eref = makeAlias("q", colnames);
	rte->inFromCl = true;
	rtr = makeNode(RangeTblRef);
	rtr->rtindex = 1;

	wrapper = makeNode(Query);
	wrapper->commandType = CMD_SELECT;
	wrapper->querySource = QSRC_ORIGINAL;
	wrapper->canSetTag = true;
	wrapper->rtable = list_make1(rte);
	wrapper->jointree = makeFromExpr(list_make1(rtr), NULL);
	live = 0;
	foreach(lc, order)
	{
		TargetEntry *tle = lfirst(lc);
		Expr	   *var = (Expr *) makeVar(1, tle->resno, exprType((Node *) tle->expr),
										   exprTypmod((Node *) tle->expr),
										   exprCollation((Node *) tle->expr), 0);

		wrapper->targetList = lappend(wrapper->targetList,
									  makeTargetEntry(var, ++live, pstrdup(tle->resname), false));
	}
	return wrapper;
}

static void
create_table(ModelDef *model, AnalyzedModel *analyzed)
{
	bool		snapshot = model->kind == MAT_SNAPSHOT;

	SqlCreateOwnedTable(model->schema, model->name,
					   psprintf("%s%s%s", snapshot ? "scd_id text, " : "",
								SqlColumnDefinitions(analyzed->columns),
								snapshot ? ", valid_from timestamptz, valid_to timestamptz, is_current boolean" : ""),
					   ModelOwnerId(model));
}

/* Is the table empty?  (Then it was never built and may be recreated.) */
static bool
table_is_empty(ModelDef *model)
{
	bool		empty;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute(psprintf("SELECT 1 FROM %s LIMIT 1", SqlModelName(model)), false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read %s", SqlModelName(model));
	empty = SPI_processed == 0;
	SPI_finish();
	return empty;
}

/*
 * drop_relation
 *		Drop a model's published relation; the bindings that read it are
 *		dropped first, and their names added to *unbound.
 */
static void
drop_relation(ModelDef *model, Oid relid, List **unbound)
{
	*unbound = list_concat(*unbound, BindDropDependents(relid, NIL));
	SqlUtility(psprintf("DROP %s %s",
						 get_rel_relkind(relid) == RELKIND_VIEW ? "VIEW" : "TABLE",
						 SqlModelName(model)));
}

/*
 * The grants of the views of view models that drop_view_and_readers
 * dropped in this transaction, by OID of the model's schema and name: the
 * view made again for the model gets them back (keep_grants, give_grants).
 */
typedef struct KeptGrants
{
	Oid			nsp;
	char	   *name;
	Acl		   *acl;
} KeptGrants;

static List *kept_grants = NIL;
static LocalTransactionId kept_grants_lxid = InvalidLocalTransactionId;

static void
keep_grants(Oid relid)
{
	HeapTuple	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	bool		isnull;
	Datum		acl;
	MemoryContext old;
	KeptGrants *kept;

	if (!HeapTupleIsValid(tuple))
		return;
	acl = SysCacheGetAttr(RELOID, tuple, Anum_pg_class_relacl, &isnull);
	if (kept_grants_lxid != MyProc->lxid)
	{
		kept_grants = NIL;		/* of an earlier transaction, freed with it */
		kept_grants_lxid = MyProc->lxid;
	}
	if (!isnull)
	{
		old = MemoryContextSwitchTo(TopTransactionContext);
		kept = palloc(sizeof(KeptGrants));
		kept->nsp = get_rel_namespace(relid);
		kept->name = pstrdup(get_rel_name(relid));
		kept->acl = DatumGetAclPCopy(acl);
		kept_grants = lappend(kept_grants, kept);
		MemoryContextSwitchTo(old);
	}
	ReleaseSysCache(tuple);
}

/*
 * give_grants
 *		The new view relid gets the grants its model's former view had (the
 *		same owner: a model's owner does not change), as GRANT records them,
 *		dependencies on the grantees included.
 */
static void
give_grants(Oid relid)
{
	ListCell   *lc;

	if (kept_grants_lxid != MyProc->lxid)
		return;
	foreach(lc, kept_grants)
	{
		KeptGrants *kept = lfirst(lc);
		Relation	rel;
		HeapTuple	tuple;
		HeapTuple	newtuple;
		Datum		values[Natts_pg_class] = {0};
		bool		nulls[Natts_pg_class] = {0};
		bool		replace[Natts_pg_class] = {0};
		Oid		   *members;
		int			nmembers;
		Oid			owner;

		if (kept->nsp != get_rel_namespace(relid) || strcmp(kept->name, get_rel_name(relid)) != 0)
			continue;
		rel = table_open(RelationRelationId, RowExclusiveLock);
		tuple = SearchSysCacheCopy1(RELOID, ObjectIdGetDatum(relid));
		if (!HeapTupleIsValid(tuple))
			elog(ERROR, "cache lookup failed for relation %u", relid);
		owner = ((Form_pg_class) GETSTRUCT(tuple))->relowner;
		values[Anum_pg_class_relacl - 1] = PointerGetDatum(kept->acl);
		replace[Anum_pg_class_relacl - 1] = true;
		newtuple = heap_modify_tuple(tuple, RelationGetDescr(rel), values, nulls, replace);
		CatalogTupleUpdate(rel, &newtuple->t_self, newtuple);
		nmembers = aclmembers(kept->acl, &members);
		updateAclDependencies(RelationRelationId, relid, 0, owner, 0, NULL, nmembers, members);
		table_close(rel, RowExclusiveLock);
		CommandCounterIncrement();
		kept_grants = foreach_delete_current(kept_grants, lc);
		return;
	}
}

/*
 * drop_view_and_readers
 *		A view model's view that must be made again (a column of it is gone
 *		or of another type) goes, with what reads it: the bindings of the
 *		models that read it (their names are added to *unbound, and
 *		model.c binds them again, which makes the views of view models
 *		again) and the views of view models that read it, and what reads
 *		those.  A view medallion does not manage (a user's) is in the way:
 *		the error names it and the columns that change.
 */
static void
drop_view_and_readers(ModelDef *model, Oid relid, List *columns, List **unbound)
{
	Oid			bindnsp = RelBindNamespace(false);
	ListCell   *lc;

	foreach(lc, BindDependentViews(relid, NIL))
	{
		Oid			view = lfirst_oid(lc);
		ModelDef   *reader;

		if (get_rel_namespace(view) == bindnsp)
			continue;			/* BindDropDependents drops the bindings */
		reader = CatalogGetModel(get_rel_name(view), true);
		if (reader == NULL || reader->kind != MAT_VIEW || RelPublished(reader) != view)
		{
			SchemaChange *change = NULL;

			if (columns != NIL)
			{
				Relation	rel = relation_open(relid, AccessShareLock);

				change = BuildSchemaChange(rel, columns);
				relation_close(rel, AccessShareLock);
			}
			ereport(ERROR,
					(errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
					 errmsg("cannot change the columns of view model \"%s\": view %s depends on %s",
							model->name, SqlRelationName(view), SqlRelationName(relid)),
					 change != NULL ?
					 errdetail("The new definition removes columns (%s) or changes their types (%s); medallion keeps the other columns in place, but a view it does not manage cannot follow a removed or retyped column.",
							   BuildNameList(change->removed, false), BuildNameList(change->retyped, true)) :
					 errdetail("%s is the view of a view model that reads the changed model, so it is made again, and a view medallion does not manage cannot follow it.",
							   SqlRelationName(relid)),
					 errhint("Keep those columns in the model (new columns may go anywhere), or drop view %s first and create it again afterwards.",
							 SqlRelationName(view))));
		}
		/* a view model reading it: its view goes too, and it is bound and made again */
		drop_view_and_readers(reader, view, NIL, unbound);
		*unbound = lappend(*unbound, pstrdup(reader->name));
	}
	keep_grants(relid);
	drop_relation(model, relid, unbound);
}

/* set_comments: the comment of one column, from a row (column, description). */
static void *
set_column_comment(HeapTuple tuple, TupleDesc desc, void *arg)
{
	Oid			relid = *(Oid *) arg;
	AttrNumber	attno = get_attnum(relid, CatalogText(tuple, desc, 1));

	if (attno != InvalidAttrNumber)
		CreateComments(relid, RelationRelationId, attno, CatalogText(tuple, desc, 2));
	return NULL;
}

/* Comments from the model's description and column descriptions. */
static void
set_comments(ModelDef *model, Oid relid)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1];

	if (model->description != NULL)
		CreateComments(relid, RelationRelationId, 0, model->description);
	if (model->column_descriptions == NULL)
		return;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	values[0] = CStringGetTextDatum(model->column_descriptions);
	(void) CatalogScanRows(CurrentMemoryContext,
						   "SELECT key, value FROM pg_catalog.jsonb_each_text($1::pg_catalog.jsonb)",
						   1, argtypes, values, "reading column descriptions",
						   set_column_comment, &relid);
	SPI_finish();
}

/*
 * BuildDefineRelation
 *		Create or adjust the published relation of a model that is being
 *		defined (previous is its former definition, or NULL).  Runs as the
 *		current user, which the caller has made the model owner; what only
 *		medallion may create is created as the extension owner.  Returns the
 *		names of the bindings dropped because they read a relation that had
 *		to go (their models must be bound again).
 *
 *		A view is replaced in place when its columns only grow, and dropped
 *		and created again otherwise (an error names any object other than a
 *		binding depending on it).  A table that was never built is
 *		recreated when its columns change; a built one keeps its columns
 *		until the next run applies on_schema_change.
 */
List *
BuildDefineRelation(ModelDef *model, AnalyzedModel *analyzed, LayerDef *layer,
					ModelDef *previous)
{
	int			nestlevel = ScopeEnterSearchPath(MEDALLION_SAFE_PATH);
	Oid			relid = RelPublished(model);
	bool		is_view = model->kind == MAT_VIEW;
	List	   *unbound = NIL;

	if (!model->mat->has_relation)
	{
		/* no relation: one left from another materialization goes */
		if (OidIsValid(relid))
			drop_relation(model, relid, &unbound);
		ScopeLeaveSearchPath(nestlevel);
		return unbound;
	}

	if (OidIsValid(relid) &&
		(get_rel_relkind(relid) == RELKIND_VIEW) != is_view)
	{
		/* the materialization changed: the old relation goes */
		drop_relation(model, relid, &unbound);
		CommandCounterIncrement();
		relid = InvalidOid;
	}

	if (is_view)
	{
		Query	   *published = OidIsValid(relid) ? in_published_order(relid, analyzed->query) :
			analyzed->query;

		if (published == NULL)
		{
			drop_view_and_readers(model, relid, analyzed->columns, &unbound);
			CommandCounterIncrement();
			published = analyzed->query;
		}
		relid = BindCreateView(get_namespace_oid(model->schema, false), model->name,
							   published, ModelOwnerId(model));
		give_grants(relid);
	}
	else if (!OidIsValid(relid))
		create_table(model, analyzed);
	else if (model->kind == MAT_SNAPSHOT)
	{
		/* the history stays; a run refuses a changed query (BuildSnapshotDelta) */
	}
	else if (!columns_match(relid, analyzed->columns, false))
	{
		if (table_is_empty(model))
		{
			drop_relation(model, relid, &unbound);
			CommandCounterIncrement();
			create_table(model, analyzed);
		}
		else
			ereport(NOTICE,
					(errmsg("the columns of %s change at its next run", SqlModelName(model)),
					 errdetail("The table holds data; on_schema_change = %s decides what the run does.",
							   model->on_schema_change)));
	}
	CommandCounterIncrement();

	relid = RelPublished(model);
	if (!OidIsValid(relid))
		elog(ERROR, "published relation of model \"%s\" was not created", model->name);
	if (!is_view)
	{
		ContractApply(model, relid);
		BuildEnsureIndexes(model, relid);
	}
	if (layer->reader_role != NULL)
	{
		CatalogSession session;

		CatalogEnter(&session);
		if (SPI_execute(psprintf("GRANT SELECT ON %s TO %s", SqlModelName(model),
								 quote_identifier(layer->reader_role)), false, 0) != SPI_OK_UTILITY)
			elog(ERROR, "could not grant %s to %s", SqlModelName(model), layer->reader_role);
		CatalogLeave(&session);
	}
	set_comments(model, relid);

	ScopeLeaveSearchPath(nestlevel);
	return unbound;
}

/* Does relid have a plain index on exactly these columns (attnums)? */
static bool
has_plain_index(Relation rel, List *attnums)
{
	List	   *indexes = RelationGetIndexList(rel);
	ListCell   *lc;

	foreach(lc, indexes)
	{
		Relation	idx = index_open(lfirst_oid(lc), AccessShareLock);
		bool		match = idx->rd_index->indnatts == list_length(attnums) &&
			RelationGetIndexExpressions(idx) == NIL &&
			RelationGetIndexPredicate(idx) == NIL;

		for (int i = 0; match && i < idx->rd_index->indnatts; i++)
			match = idx->rd_index->indkey.values[i] == list_nth_int(attnums, i);
		index_close(idx, AccessShareLock);
		if (match)
			return true;
	}
	return false;
}

/*
 * BuildEnsureIndex
 *		Create an index on relid, model's published table, on the columns
 *		names unless it has a plain one on them, in that order (of any
 *		name).  Runs as the model owner.  Later builds of the model keep
 *		it: a candidate copies the published table's indexes.
 */
void
BuildEnsureIndex(ModelDef *model, Oid relid, List *names)
{
	List	   *attnums = NIL;
	StringInfoData cols;
	ListCell   *ln;
	Relation	rel;
	bool		present;

	initStringInfo(&cols);
	foreach(ln, names)
	{
		attnums = lappend_int(attnums, get_attnum(relid, lfirst(ln)));
		appendStringInfo(&cols, "%s%s", cols.len > 0 ? ", " : "", quote_identifier(lfirst(ln)));
	}
	rel = table_open(relid, AccessShareLock);
	present = has_plain_index(rel, attnums);
	table_close(rel, AccessShareLock);
	if (!present)
	{
		/* only medallion creates in the layer schemas; the index is the table owner's */
		CatalogSession session;

		CatalogEnter(&session);
		if (SPI_execute(psprintf("CREATE INDEX ON %s (%s)", SqlModelName(model), cols.data),
						false, 0) != SPI_OK_UTILITY)
			elog(ERROR, "could not index %s", SqlModelName(model));
		CatalogLeave(&session);
		CommandCounterIncrement();
	}
}

/*
 * BuildEnsureIndexes
 *		Create the indexes declared on a table model that its published
 *		table lacks (an index on the same columns in the same order, of any
 *		name, counts), and for incremental models that merge by key, one on
 *		the unique_key.  Indexes no longer declared are left alone: they may
 *		be the user's.  Runs as the model owner.
 */
void
BuildEnsureIndexes(ModelDef *model, Oid relid)
{
	ListCell   *lc;

	foreach(lc, model->indexes)
	{
		char	   *spec = pstrdup(lfirst(lc));
		List	   *names;

		if (!SplitIdentifierString(spec, ',', &names))
			elog(ERROR, "invalid index \"%s\" of model \"%s\"", (char *) lfirst(lc), model->name);
		BuildEnsureIndex(model, relid, names);
	}
	/* merge and delete+insert look rows up by key: index it */
	if (model->kind == MAT_INCREMENTAL && model->unique_key != NIL &&
		model->strategy != NULL && strcmp(model->strategy, "append") != 0)
		BuildEnsureIndex(model, relid, model->unique_key);
}

/*
 * BuildDropRelation
 *		Drop the model's published relation and its kept previous version,
 *		if they exist.  An object that
 *		is not a model and depends on it makes this fail with PostgreSQL's
 *		error naming that object.
 */
void
BuildDropRelation(ModelDef *model)
{
	Oid			relid = RelPublished(model);
	Oid			history_nsp = get_namespace_oid(MEDALLION_HISTORY_SCHEMA, true);
	Oid			history = OidIsValid(history_nsp) ?
		get_relname_relid(model->name, history_nsp) : InvalidOid;

	if (OidIsValid(relid))
	{
		List	   *unbound = NIL;

		drop_relation(model, relid, &unbound);
	}
	if (OidIsValid(history))
		SqlUtility(psprintf("DROP TABLE %s",
							 quote_qualified_identifier(MEDALLION_HISTORY_SCHEMA, model->name)));
	/* a hash-distributed model's candidate copy (scale.c) */
	if (OidIsValid(history_nsp) &&
		OidIsValid(get_relname_relid(ScaleCopyName(model, SCALE_CANDIDATE), history_nsp)))
		SqlUtility(psprintf("DROP TABLE %s",
							 quote_qualified_identifier(MEDALLION_HISTORY_SCHEMA,
														ScaleCopyName(model, SCALE_CANDIDATE))));
}
