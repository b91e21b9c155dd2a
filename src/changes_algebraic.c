/*-------------------------------------------------------------------------
 *
 * changes_algebraic.c
 *	  A table's delta copy (D) in a maintained build, the queries run
 *	  over it, and the algebraic path's per-group sums of it.
 *
 * A maintained build copies a changed table's delta out of its log
 * (ChangesDeltaCopy, after ChangesDeltaCount weighed it) and reads it
 * where the model's query reads the table (the keys its changes touch:
 * ChangesKeysQuery; the model's rows over it): the query tree is the bound one, its range table
 * entry pointed at D, a copy of the delta rows shaped like the table
 * (changes_maintain.c, ChangesDeltaCopy), whose last column is each
 * row's sign: 1 for a new image, -1 for an old one.
 *
 * The algebraic path (analyze_maintain.c, combine_columns) runs the
 * model's GROUP BY over the delta alone and combines each group's
 * aggregates with the group's row in the published table
 * (changes_apply.c, ChangesMaintainCombine).  With only new images that
 * is the query over D.  With old images too (plan->subtract: counts and
 * sums, never NULL), it is the query over the new images, less the query
 * over the old ones: each group's aggregates of the new images, and of
 * the old ones negated, summed per group into K.  A row updated in place
 * is taken out of its old group and added to its new one; a row inserted
 * and deleted since the last build comes to nothing.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "nodes/pathnodes.h"
#include "optimizer/clauses.h"
#include "optimizer/optimizer.h"
#include "parser/parse_oper.h"
#include "parser/parsetree.h"
#include "storage/bufmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/ruleutils.h"
#include "utils/snapmgr.h"
#include "utils/xid8.h"

#include "bind.h"
#include "build.h"
#include "changes.h"
#include "sqltext.h"

/*
 * ChangesDeltaCopyColumns
 *		The column definitions of a table shaped like relid, column for
 *		column at the same positions, for D: the columns the model reads
 *		(columns, names) of their types, without typmod (no type input
 *		code runs; the values are copied as they are), every other one an
 *		int4 placeholder of a name no column of relid has; then the sign
 *		of each row's image, 1 new, -1 old (the algebraic path's).
 */
char *
ChangesDeltaCopyColumns(Oid relid, List *columns)
{
	Relation	rel = table_open(relid, AccessShareLock);
	TupleDesc	desc = RelationGetDescr(rel);
	StringInfoData cols;

	initStringInfo(&cols);
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		bool		read = false;
		ListCell   *lc;

		foreach(lc, columns)
			read |= !att->attisdropped && strcmp(lfirst(lc), NameStr(att->attname)) == 0;
		if (i > 0)
			appendStringInfoString(&cols, ", ");
		if (!read)
		{
			char	   *name = psprintf("medallion_unread_%d", i + 1);

			while (get_attnum(relid, name) != InvalidAttrNumber)
				name = psprintf("%s_", name);
			appendStringInfo(&cols, "%s pg_catalog.int4", quote_identifier(name));
		}
		else
		{
			appendStringInfo(&cols, "%s %s", quote_identifier(NameStr(att->attname)),
							 format_type_extended(att->atttypid, -1, FORMAT_TYPE_FORCE_QUALIFY));
			if (OidIsValid(att->attcollation) && att->attcollation != get_typcollation(att->atttypid))
				appendStringInfo(&cols, " COLLATE %s", generate_collation_name(att->attcollation));
		}
	}
	/* last, the image's sign (ChangesDeltaCopy), of a name no column has */
	{
		char	   *name = pstrdup("medallion_sign");

		while (get_attnum(relid, name) != InvalidAttrNumber)
			name = psprintf("%s_", name);
		appendStringInfo(&cols, ", %s pg_catalog.int2", quote_identifier(name));
	}
	table_close(rel, AccessShareLock);
	return cols.data;
}

/*
 * ChangesDeltaQuery
 *		query (a maintained model's, views flattened) reading d, table's
 *		delta copy, where it reads table; no ORDER BY.  D has the table's
 *		columns at their positions, so every Var still reads the column it
 *		read.
 */
Query *
ChangesDeltaQuery(Query *query, MaintainTable *table, Oid d)
{
	Query	   *q = copyObject(query);
	RangeTblEntry *rte = rt_fetch(table->rtindex, q->rtable);

	q->sortClause = NIL;
	rte->relid = d;
	rte->relkind = RELKIND_RELATION;
	rte->inh = false;
	return q;
}

/*
 * signed_query
 *		ChangesDeltaQuery grouped by D's sign column (its last) too, which
 *		it outputs last: each group's aggregates of its new images and, in
 *		another row, of its old ones.  One query reads the other tables
 *		once for both.
 */
static Query *
signed_query(MaintainPlan *plan, MaintainTable *table, Oid d)
{
	Query	   *q = ChangesDeltaQuery(plan->query, table, d);
	Relation	rel = table_open(d, AccessShareLock);
	AttrNumber	sign = RelationGetNumberOfAttributes(rel);
	SortGroupClause *group = makeNode(SortGroupClause);
	TargetEntry *tle;
	Index		ref = 0;
	ListCell   *lc;

	table_close(rel, AccessShareLock);
	if (get_atttype(d, sign) != INT2OID)
		elog(ERROR, "the delta copy \"%s\" has no sign column", get_rel_name(d));
	foreach(lc, q->targetList)
		ref = Max(ref, ((TargetEntry *) lfirst(lc))->ressortgroupref);
	tle = makeTargetEntry((Expr *) makeVar(table->rtindex, sign, INT2OID, -1, InvalidOid, 0),
						  list_length(q->targetList) + 1, NULL, false);
	tle->ressortgroupref = ref + 1;
	q->targetList = lappend(q->targetList, tle);
	group->tleSortGroupRef = ref + 1;
	get_sort_group_operators(INT2OID, true, true, false, &group->sortop, &group->eqop, NULL,
							 &group->hashable);
	q->groupClause = lappend(q->groupClause, group);
	return q;
}

/*
 * ChangesAlgebraicSums
 *		Fill k (the model's columns) with each group's change from table's
 *		delta d: the model's query over d when it holds new images only;
 *		with old images too (olds > 0, plan->subtract), the new images'
 *		aggregates less the old ones', summed per group through a work
 *		table (rows, in the build schema, owned by owner, dropped after) of
 *		the model's columns and the sign.  Runs as the model owner; the
 *		sums are built-in arithmetic on counts and sums (int8, numeric).
 */
void
ChangesAlgebraicSums(ModelDef *model, AnalyzedModel *bound, MaintainPlan *plan, MaintainTable *table,
					 Oid d, int64 olds, Oid k, const char *rows, Oid owner)
{
	AnalyzedModel sums = {0};
	ModelColumn sign = {.name = "medallion_sign", .type = INT2OID, .typmod = -1};
	const char *shown = psprintf("the delta's aggregates model \"%s\" adds", model->name);
	StringInfoData select;
	Oid			heap;
	ListCell   *lc;

	sums.columns = bound->columns;
	if (olds == 0)
	{
		sums.query = ChangesDeltaQuery(plan->query, table, d);
		(void) BuildFillHeapBound(k, &sums, shown, NIL, NIL);
		return;
	}
	if (!plan->subtract)
		elog(ERROR, "model \"%s\" cannot take old images from its groups", model->name);
	while (SqlFindColumn(bound->columns, sign.name) != NULL)
		sign.name = psprintf("%s_", sign.name);
	sums.columns = lappend(list_copy(bound->columns), &sign);
	heap = SqlCreateWorkTable(rows, SqlColumnDefinitions(sums.columns), owner);
	sums.query = signed_query(plan, table, d);
	(void) BuildFillHeapBound(heap, &sums, shown, NIL, NIL);

	/* the groups' changes: each column summed, by the key columns (NULLs one group) */
	initStringInfo(&select);
	foreach(lc, bound->columns)
	{
		const char *name = quote_identifier(((ModelColumn *) lfirst(lc))->name);
		MaintainCombine how = list_nth_int(plan->combine, foreach_current_index(lc));

		if (select.len > 0)
			appendStringInfoString(&select, ", ");
		if (how == MAINTAIN_COMBINE_KEY)
			appendStringInfo(&select, "s.%s", name);
		else
			appendStringInfo(&select, "pg_catalog.sum(CASE WHEN s.%s OPERATOR(pg_catalog.<) 0 "
							 "THEN OPERATOR(pg_catalog.-) s.%s ELSE s.%s END)",
							 quote_identifier(sign.name), name, name);
	}
	(void) BindExecute(psprintf("INSERT INTO %s (%s) SELECT %s FROM %s s GROUP BY %s",
								SqlRelationName(k), SqlNameList(SqlColumnNames(bound->columns)), select.data,
								SqlRelationName(heap), SqlNameList(plan->keys)),
					   0, NULL, NULL, NULL, NIL, NIL, None_Receiver);
	BindDropRelation(heap);
}

/*
 * ChangesAlgebraicUnfit
 *		Why the per-group changes in K (ChangesAlgebraicSums, old images
 *		among them) cannot be added to the groups' rows, or NULL when they
 *		can.  A numeric column holds NaN and infinities too (numeric(p, s)
 *		NaN): a sum that took one in or out is not its old sum plus the
 *		change (NaN less NaN is NaN), so such a delta is rebuilt whole.  A
 *		group's sum that is already NaN or infinite, and a change that is
 *		not, keeps it: the row that made it so is still there.
 */
const char *
ChangesAlgebraicUnfit(AnalyzedModel *bound, MaintainPlan *plan, Oid k)
{
	StringInfoData odd;
	ListCell   *lc;

	initStringInfo(&odd);
	foreach(lc, bound->columns)
	{
		ModelColumn *col = lfirst(lc);

		if (list_nth_int(plan->combine, foreach_current_index(lc)) == MAINTAIN_COMBINE_KEY ||
			col->type != NUMERICOID)
			continue;
		appendStringInfo(&odd, "%s k.%s OPERATOR(pg_catalog.=) ANY ('{NaN,Infinity,-Infinity}'::pg_catalog.numeric[])",
						 odd.len > 0 ? " OR" : "", quote_identifier(col->name));
	}
	if (odd.len == 0 ||
		BindCount(psprintf("SELECT pg_catalog.count(*) FROM %s k WHERE%s", SqlRelationName(k), odd.data)) == 0)
		return NULL;
	return "a sum of its delta is NaN or infinite, which cannot be taken out of a group's sum";
}

/* The JoinExpr of range table index rtindex in the join tree node, or NULL. */
static JoinExpr *
find_join(Node *node, Index rtindex)
{
	ListCell   *lc;
	JoinExpr   *found = NULL;

	check_stack_depth();
	if (IsA(node, JoinExpr))
	{
		JoinExpr   *join = (JoinExpr *) node;

		if (join->rtindex == rtindex)
			return join;
		found = find_join(join->larg, rtindex);
		return found != NULL ? found : find_join(join->rarg, rtindex);
	}
	if (IsA(node, FromExpr))
	{
		foreach(lc, ((FromExpr *) node)->fromlist)
		{
			found = find_join(lfirst(lc), rtindex);
			if (found != NULL)
				return found;
		}
	}
	return NULL;
}

/* The range table indexes of the tables and joins in join tree node, added to rels. */
static Relids
join_tree_rels(Node *node, Relids rels)
{
	ListCell   *lc;

	check_stack_depth();
	if (IsA(node, RangeTblRef))
		return bms_add_member(rels, ((RangeTblRef *) node)->rtindex);
	if (IsA(node, JoinExpr))
	{
		rels = bms_add_member(rels, ((JoinExpr *) node)->rtindex);
		rels = join_tree_rels(((JoinExpr *) node)->larg, rels);
		return join_tree_rels(((JoinExpr *) node)->rarg, rels);
	}
	if (IsA(node, FromExpr))
	{
		foreach(lc, ((FromExpr *) node)->fromlist)
			rels = join_tree_rels(lfirst(lc), rels);
	}
	return rels;
}

/*
 * Add to rels (the tables whose rows a change may make match or not, and
 * their joins) the right side of each LEFT JOIN in join tree node whose
 * condition reads one of them; true when it added some.
 */
static bool
add_dependent_sides(Query *q, Node *node, Relids *rels)
{
	bool		added = false;
	ListCell   *lc;

	check_stack_depth();
	if (IsA(node, JoinExpr))
	{
		JoinExpr   *join = (JoinExpr *) node;

		if (join->jointype == JOIN_LEFT && !bms_is_member(join->rtindex, *rels) && join->quals != NULL &&
			bms_overlap(pull_varnos(NULL, flatten_join_alias_vars(q, join->quals)), *rels))
		{
			*rels = join_tree_rels(join->rarg, bms_add_member(*rels, join->rtindex));
			added = true;
		}
		added |= add_dependent_sides(q, join->larg, rels);
		added |= add_dependent_sides(q, join->rarg, rels);
	}
	else if (IsA(node, FromExpr))
	{
		foreach(lc, ((FromExpr *) node)->fromlist)
			added |= add_dependent_sides(q, lfirst(lc), rels);
	}
	return added;
}

/*
 * left_side_quals
 *		The conditions of q's WHERE that read no table on the right side of
 *		join (a LEFT JOIN ChangesKeysQuery makes inner) nor of a LEFT JOIN whose
 *		condition reads one (which the change may NULL-extend too), ANDed;
 *		NULL for none.  A driving row they reject has no row in the model
 *		before the change or after it (what they read does not change with
 *		it: a change to a table they read is that table's delta), and they
 *		guard what the query computes of it: a cast, a division, the join's
 *		condition (PostgreSQL applies them before the join, as it does in
 *		the model's query).
 */
static Node *
left_side_quals(Query *q, JoinExpr *join)
{
	Relids		right = join_tree_rels(join->rarg, bms_make_singleton(join->rtindex));
	List	   *kept = NIL;
	ListCell   *lc;

	if (q->jointree->quals == NULL)
		return NULL;
	while (add_dependent_sides(q, (Node *) q->jointree, &right))
		;
	foreach(lc, make_ands_implicit((Expr *) q->jointree->quals))
	{
		Node	   *qual = lfirst(lc);
		Node	   *flat = flatten_join_alias_vars(q, qual);

		/*
		 * one strict in a table of join's right side stays too: a row
		 * NULL-extended by the change fails it before and after, and the
		 * rows of the changed table's images it is read on as they were
		 */
		if (!bms_overlap(pull_varnos(NULL, flat), right) ||
			bms_overlap(find_nonnullable_rels(flat), join_tree_rels(join->rarg, NULL)))
			kept = lappend(kept, qual);
	}
	return kept == NIL ? NULL : (Node *) make_ands_explicit(kept);
}

/*
 * ChangesKeysQuery
 *		The query of the affected keys: the model's bound query with the
 *		views it reads flattened (plan->query; UNION ALL: the branch that
 *		reads table) reading d for table, its output the
 *		key columns (named as the model's), with no grouping, aggregates,
 *		HAVING, DISTINCT, window nor order.
 *
 *		A table on the right of a LEFT JOIN (joins keyed by a driving
 *		table, the driving table on the left): the driving rows whose
 *		matches changed are those the old or new images match through the
 *		join's condition, whatever WHERE says of the columns it adds (a row
 *		that lost its only match comes out NULL-extended, which WHERE may
 *		now keep); so that join is made inner and WHERE's conditions on
 *		what it adds dropped (those on the left side alone stay:
 *		left_side_quals), which gives the driving rows matching a changed
 *		row, a superset of the affected keys.  The joins after it are LEFT JOINs too
 *		(analyze_maintain.c): they keep every row.
 */
Query *
ChangesKeysQuery(Query *bound, MaintainPlan *plan, MaintainTable *table, Oid d)
{
	Query	   *q;
	List	   *tlist = NIL;
	ListCell   *lc;

	/* UNION ALL: the keys of the branch that reads the table */
	if (table->branch != 0)
		bound = rt_fetch(table->branch, bound->rtable)->subquery;
	q = ChangesDeltaQuery(bound, table, d);
	foreach(lc, plan->key_resnos)
	{
		TargetEntry *tle = list_nth(q->targetList, lfirst_int(lc) - 1);

		tlist = lappend(tlist, makeTargetEntry(copyObject(tle->expr), list_length(tlist) + 1,
											   pstrdup(list_nth(plan->keys, foreach_current_index(lc))),
											   false));
	}
	q->targetList = tlist;
	q->groupClause = NIL;
	q->groupDistinct = false;
	q->havingQual = NULL;
	q->hasAggs = false;
	q->distinctClause = NIL;
	q->windowClause = NIL;
	q->hasWindowFuncs = false;
	if (table->outer_join != 0)
	{
		JoinExpr   *join = find_join((Node *) q->jointree, table->outer_join);

		if (join == NULL)
			elog(ERROR, "could not find the LEFT JOIN of range table entry %u", table->outer_join);
		join->jointype = JOIN_INNER;
		rt_fetch(table->outer_join, q->rtable)->jointype = JOIN_INNER;
		q->jointree->quals = left_side_quals(q, join);
	}
	return q;
}

/*
 * ChangesDrivingColumns
 *		The columns of plan's driving table (table) that its key columns
 *		are, in the order of plan->keys, or NIL when one is not a plain
 *		column of it.
 */
List *
ChangesDrivingColumns(MaintainPlan *plan, MaintainTable *table)
{
	List	   *names = NIL;
	ListCell   *lc;

	foreach(lc, plan->key_resnos)
	{
		TargetEntry *te = list_nth(plan->query->targetList, lfirst_int(lc) - 1);
		Var		   *var = (Var *) te->expr;

		if (!IsA(var, Var) || var->varno != table->rtindex || var->varlevelsup != 0 ||
			var->varattno <= 0)
			return NIL;
		names = lappend(names, get_attname(table->relid, var->varattno, false));
	}
	return names;
}

/*
 * ChangesDropAddedKeys
 *		Take out of keys table k the keys of the new rows of plan's driving
 *		table (table; d, its delta copy, in the table's columns): their rows
 *		are added, not recomputed.  The keys are never NULL (a unique key
 *		of NOT NULL columns).
 */
void
ChangesDropAddedKeys(Oid k, MaintainPlan *plan, MaintainTable *table, Oid d)
{
	StringInfoData match;
	ListCell   *lk;
	ListCell   *lc;

	initStringInfo(&match);
	forboth(lk, plan->keys, lc, ChangesDrivingColumns(plan, table))
		appendStringInfo(&match, "%sk.%s OPERATOR(pg_catalog.=) d.%s", match.len > 0 ? " AND " : "",
						 quote_identifier(lfirst(lk)), quote_identifier(lfirst(lc)));
	(void) BindExecute(psprintf("DELETE FROM %s k USING %s d WHERE %s", SqlRelationName(k),
								SqlRelationName(d), match.data),
					   0, NULL, NULL, NULL, NIL, NIL, None_Receiver);
}

/* ChangesDeltaCount: logs up to this many blocks are counted whole, larger ones on a sample */
#define DELTA_COUNT_EXACT_BLOCKS	512
#define DELTA_COUNT_STRIDE			8

/*
 * ChangesDeltaCopy
 *		Copy the log rows of relid that the snapshot since (pg_snapshot
 *		text) does not see, read under the build's pinned snapshot (its
 *		first read), into copy, a table shaped like relid (its columns at
 *		the same positions) and one more, the image's sign (int2: 1 new,
 *		-1 old): only the columns named in columns, which
 *		reader (the model owner) must be allowed to read.  Returns the rows
 *		copied, with *olds the old images among them; or -1 with *why when
 *		the log cannot give them (a column not captured, gone, of another
 *		type now, or not the reader's to read).
 *
 * The copy is done here, tuple by tuple, and not by SQL: an INSERT would
 * run what the table's owner chose for its column types (a domain's
 * default and checks) as whoever ran it, and the log holds columns other
 * models read that the reader may not.
 */
int64
ChangesDeltaCopy(Oid relid, Oid copy, List *columns, const char *since, Oid reader,
				 int64 *olds, const char **why)
{
	Oid			log = ChangesDeltaLog(relid);
	Relation	logrel;
	Relation	dest;
	TupleDesc	ldesc;
	TupleDesc	ddesc;
	int		   *map;
	bool		whole = pg_class_aclcheck(relid, reader, ACL_SELECT) == ACLCHECK_OK;
	Datum		snapshot;
	Snapshot	read_with;
	TableScanDesc scan;
	TupleTableSlot *slot;
	BulkInsertState bistate;
	Datum	   *values;
	bool	   *nulls;
	int64		rows = 0;
	ListCell   *lc;

	*olds = 0;
	*why = NULL;
	if (!OidIsValid(log))
	{
		*why = psprintf("%s is not captured", SqlRelationName(relid));
		return -1;
	}
	logrel = table_open(log, AccessShareLock);
	dest = table_open(copy, RowExclusiveLock);
	ldesc = RelationGetDescr(logrel);
	ddesc = RelationGetDescr(dest);
	map = palloc(sizeof(int) * ldesc->natts);
	for (int a = 0; a < ldesc->natts; a++)
		map[a] = -1;
	foreach(lc, columns)
	{
		const char *name = lfirst(lc);
		AttrNumber	att = get_attnum(relid, name);
		int			found = -1;

		if (att == InvalidAttrNumber || att >= ddesc->natts)
			*why = psprintf("column %s of %s is gone", quote_identifier(name), SqlRelationName(relid));
		else if (!whole && pg_attribute_aclcheck(relid, att, reader, ACL_SELECT) != ACLCHECK_OK)
			*why = psprintf("its owner may not read column %s of %s", quote_identifier(name),
							SqlRelationName(relid));
		else
		{
			for (int a = DELTA_FIRST_COLUMN - 1; a < ldesc->natts; a++)
			{
				Form_pg_attribute la = TupleDescAttr(ldesc, a);

				if (!la->attisdropped && strcmp(NameStr(la->attname), name) == 0)
					found = a;
			}
			if (found < 0)
				*why = psprintf("column %s of %s is not captured", quote_identifier(name),
								SqlRelationName(relid));
			else if (TupleDescAttr(ldesc, found)->atttypid != TupleDescAttr(ddesc, att - 1)->atttypid)
				*why = psprintf("column %s of %s is of another type than when its capture began",
								quote_identifier(name), SqlRelationName(relid));
			else
				map[found] = att - 1;
		}
		if (*why != NULL)
		{
			table_close(dest, RowExclusiveLock);
			table_close(logrel, AccessShareLock);
			return -1;
		}
	}

	snapshot = DirectFunctionCall1(pg_snapshot_in, CStringGetDatum(since));
	values = palloc0(sizeof(Datum) * ddesc->natts);
	nulls = palloc(sizeof(bool) * ddesc->natts);
	read_with = BindPushPinnedRead();
	scan = table_beginscan(logrel, read_with, 0, NULL);
	slot = table_slot_create(logrel, NULL);
	bistate = GetBulkInsertState();
	while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
	{
		HeapTuple	tuple;

		CHECK_FOR_INTERRUPTS();
		slot_getallattrs(slot);
		if (DatumGetBool(DirectFunctionCall2(pg_visible_in_snapshot, slot->tts_values[DELTA_XID_ATTNUM - 1],
											 snapshot)))
			continue;
		memset(nulls, true, sizeof(bool) * ddesc->natts);
		for (int a = 0; a < ldesc->natts; a++)
		{
			if (map[a] < 0)
				continue;
			values[map[a]] = slot->tts_values[a];
			nulls[map[a]] = slot->tts_isnull[a];
		}
		values[ddesc->natts - 1] = slot->tts_values[DELTA_W_ATTNUM - 1];
		nulls[ddesc->natts - 1] = false;
		tuple = heap_form_tuple(ddesc, values, nulls);
		heap_insert(dest, tuple, GetCurrentCommandId(true), 0, bistate);
		heap_freetuple(tuple);
		rows++;
		if (DatumGetInt16(slot->tts_values[DELTA_W_ATTNUM - 1]) < 0)
			(*olds)++;
	}
	FreeBulkInsertState(bistate);
	ExecDropSingleTupleTableSlot(slot);
	table_endscan(scan);
	PopActiveSnapshot();
	table_close(dest, RowExclusiveLock);
	table_close(logrel, AccessShareLock);
	CommandCounterIncrement();
	return rows;
}

/*
 * Count the log rows of scan that snapshot does not see, as
 * ChangesDeltaCount, until the scan ends or *rows reaches limit.
 */
static void
count_unseen(TableScanDesc scan, TupleTableSlot *slot, Datum snapshot, int64 limit,
			 int64 *rows, int64 *olds)
{
	while (*rows < limit && table_scan_getnextslot(scan, ForwardScanDirection, slot))
	{
		bool		isnull;
		Datum		xid = slot_getattr(slot, DELTA_XID_ATTNUM, &isnull);

		CHECK_FOR_INTERRUPTS();
		if (!DatumGetBool(DirectFunctionCall2(pg_visible_in_snapshot, xid, snapshot)))
		{
			(*rows)++;
			if (DatumGetInt16(slot_getattr(slot, DELTA_W_ATTNUM, &isnull)) < 0)
				(*olds)++;
		}
	}
}

/*
 * ChangesDeltaCount
 *		The number of log rows of relid that the snapshot since does not
 *		see, under the build's pinned snapshot (ChangesDeltaCopy's rows,
 *		counted without reading their values); -1 when relid is not
 *		captured.  What a maintained build checks before it copies
 *		anything: a delta over half its table is rebuilt whole at once.
 *		The count stops at limit: the build only asks whether it is
 *		reached, and a delta that large is what costs most to count.  The
 *		old images among the rows counted go into *olds.
 *
 *		A log of more than DELTA_COUNT_EXACT_BLOCKS blocks is counted on
 *		every DELTA_COUNT_STRIDE-th block, and the counts scaled: the count
 *		only chooses between copying the delta and rebuilding at once, and
 *		counting every row of a log holding half a table's rows cost a
 *		fifth to a half of the rebuild it was choosing
 *		(bench/maintain_matrix.sh at 50%).  A delta that large spans many
 *		blocks, so its sample is close; a small one in a large log (the
 *		backlog of another reader) may come out a few blocks' rows off,
 *		which its copy then counts exactly.
 */
int64
ChangesDeltaCount(Oid relid, const char *since, int64 limit, int64 *olds)
{
	Oid			log = ChangesDeltaLog(relid);
	Relation	logrel;
	Datum		snapshot;
	TableScanDesc scan;
	TupleTableSlot *slot;
	BlockNumber nblocks;
	BlockNumber sampled = 0;
	double		scale;
	int64		rows = 0;

	*olds = 0;
	if (!OidIsValid(log))
		return -1;
	logrel = table_open(log, AccessShareLock);
	nblocks = RelationGetNumberOfBlocks(logrel);
	snapshot = DirectFunctionCall1(pg_snapshot_in, CStringGetDatum(since));
	/* no synchronized scan: a sample sets the blocks it reads */
	scan = table_beginscan_strat(logrel, BindPushPinnedRead(), 0, NULL, true, false);
	slot = table_slot_create(logrel, NULL);
	if (nblocks <= DELTA_COUNT_EXACT_BLOCKS)
		count_unseen(scan, slot, snapshot, limit, &rows, olds);
	else
	{
		BlockNumber block;

		for (block = 0; block < nblocks && rows * DELTA_COUNT_STRIDE < limit; block += DELTA_COUNT_STRIDE)
		{
			table_rescan(scan, NULL);
			heap_setscanlimits(scan, block, 1);
			count_unseen(scan, slot, snapshot, PG_INT64_MAX, &rows, olds);
			sampled++;
		}
		/* each block read stands for the blocks up to the next (the limit: those before it) */
		scale = block < nblocks ? DELTA_COUNT_STRIDE : (double) nblocks / sampled;
		rows = (int64) (rows * scale);
		*olds = (int64) (*olds * scale);
	}
	ExecDropSingleTupleTableSlot(slot);
	table_endscan(scan);
	PopActiveSnapshot();
	table_close(logrel, AccessShareLock);
	return rows;
}
