/*-------------------------------------------------------------------------
 *
 * analyze_maintain.c
 *	  Which table models can be maintained from their inputs' row deltas
 *	  (issue 31), read off the bound query tree, and, for the others, the
 *	  construct that prevents it.
 *
 * A maintained model is brought up to date by recomputing exactly the
 * keys its inputs' changes affect, from current data, and replacing those
 * keys' rows in a copy of its table (maintain.c).  That is exact when
 * every output row belongs to exactly one key, the rows of a key are a
 * function of the input rows carrying that key, and the key of an input
 * row can be computed from the row and the current state of the other
 * tables.  The classes this file accepts:
 *
 *   GROUP BY over one table, or over joins of tables (inner joins, and
 *   LEFT JOINs: then keyed by the left side's grouping columns): any
 *   aggregates, WHERE and HAVING, every grouping expression an output
 *   column of a type whose equality operator is built in.  A change to
 *   one table maps to groups through the others (changes_maintain.c).
 *   The same holds of the two next classes, keyed by output values too.
 *
 *   SELECT DISTINCT over one table or joins, no grouping nor aggregate:
 *   the key is the whole output row, every column of a type whose
 *   equality is built in.
 *
 *   Window functions over one table, joins, or a GROUP BY of them:
 *   every window the same PARTITION BY, of output columns (no aggregate)
 *   whose equality is built in: the key is the partition, whose rows
 *   depend on its own input rows only.
 *
 *   Joins keyed by a driving table (select-project-join): plain or
 *   partitioned tables joined by inner joins (or listed in FROM), then
 *   LEFT JOINs each of one table, WHERE, no grouping nor aggregate, the
 *   output carrying every column of a unique index of one table not on
 *   the right of a LEFT JOIN (its primary key, or a unique index of NOT
 *   NULL columns, no expression nor predicate): that table drives, each
 *   output row belongs to the key of the driving row it came from
 *   (NULL-extended or not), and a change to any table maps to driving
 *   keys through the join (changes_maintain.c).  Each table read once.
 *
 *   UNION ALL of branches each in one of those classes, keyed by the
 *   same output columns of the union's types, each table read by one
 *   branch: the union's rows of a key are each branch's rows of it.
 *
 * All: nothing that is not immutable, no subquery, set operation other
 * than UNION ALL, DISTINCT ON, grouping sets, LIMIT, set-returning
 * function in the output, row locks or TABLESAMPLE, and no row-level
 * security on a table read.  A group, a distinct row or a partition over
 * LEFT JOINs is keyed by the key columns read off the left tables only
 * (products LEFT JOINed to their order lines, grouped by product and
 * category: the product): a column read off a right side may be
 * NULL-extended, which no image of that side gives.
 *
 * Anything else is rebuilt whole; MaintainClassify says why, in words a
 * model's author can act on ("has windows with different PARTITION
 * BY").  Nothing here is a user annotation: the class is derived from
 * the query alone.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/sysattr.h"
#include "access/table.h"
#include "miscadmin.h"
#include "catalog/indexing.h"
#include "catalog/pg_am.h"
#include "catalog/pg_aggregate.h"
#include "catalog/pg_class.h"
#include "catalog/pg_index.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_operator.h"
#include "commands/defrem.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/clauses.h"
#include "optimizer/optimizer.h"
#include "parser/parsetree.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/syscache.h"
#include "utils/typcache.h"

#include "analyze.h"
#include "sqltext.h"

/* Is type's default equality operator a built-in one (in pg_catalog), with an array type? */
static bool
builtin_equality(Oid type)
{
	TypeCacheEntry *tc = lookup_type_cache(type, TYPECACHE_EQ_OPR);
	HeapTuple	tup;
	bool		builtin;

	if (!OidIsValid(tc->eq_opr) || !OidIsValid(get_array_type(type)))
		return false;
	tup = SearchSysCache1(OPEROID, ObjectIdGetDatum(tc->eq_opr));
	if (!HeapTupleIsValid(tup))
		return false;
	builtin = ((Form_pg_operator) GETSTRUCT(tup))->oprnamespace == PG_CATALOG_NAMESPACE;
	ReleaseSysCache(tup);
	return builtin;
}

/* The name of a relation for a reason: schema-qualified as it would be written. */
static char *
reason_relation(Oid relid)
{
	return SqlRelationName(relid);
}

/* The number of tables relid inherits from directly (pg_inherits). */
static int
parents_of(Oid relid)
{
	Relation	rel = table_open(InheritsRelationId, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	int			n = 0;

	ScanKeyInit(&key, Anum_pg_inherits_inhrelid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(relid));
	scan = systable_beginscan(rel, InheritsRelidSeqnoIndexId, true, NULL, 1, &key);
	while (HeapTupleIsValid(systable_getnext(scan)))
		n++;
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return n;
}

/*
 * check_tree
 *		Why the tables below relid (and relid) cannot be captured, or NULL:
 *		the writes to a foreign partition or child are made elsewhere, and
 *		a table with two parents would have to write its rows to two logs.
 */
static const char *
check_tree(Oid relid)
{
	ListCell   *lc;

	foreach(lc, find_all_inheritors(relid, AccessShareLock, NULL))
	{
		Oid			member = lfirst_oid(lc);
		char		relkind = get_rel_relkind(member);

		if (relkind != RELKIND_RELATION && relkind != RELKIND_PARTITIONED_TABLE)
			return psprintf("reads %s, of which %s is not a table (its writes are not seen here)",
							reason_relation(relid), reason_relation(member));
		if (parents_of(member) > 1)
			return psprintf("reads %s, of which %s inherits from more than one table",
							reason_relation(relid), reason_relation(member));
	}
	return NULL;
}

/*
 * check_relation
 *		Why the relation of rte cannot be read by a maintained model, or
 *		NULL.
 */
static const char *
check_relation(RangeTblEntry *rte)
{
	HeapTuple	tup;
	bool		rls;
	const char *why;

	switch (rte->rtekind)
	{
		case RTE_RELATION:
			break;
		case RTE_SUBQUERY:
			return "reads a subquery in FROM";
		case RTE_FUNCTION:
		case RTE_TABLEFUNC:
			return "reads a function";
		case RTE_VALUES:
			return "reads VALUES";
		case RTE_CTE:
			return "uses WITH";
		default:
			return "reads something other than a table";
	}
	switch (rte->relkind)
	{
		case RELKIND_RELATION:
		case RELKIND_PARTITIONED_TABLE:
			break;
		case RELKIND_VIEW:
			return psprintf("reads the view %s", reason_relation(rte->relid));
		case RELKIND_MATVIEW:
			return psprintf("reads the materialized view %s", reason_relation(rte->relid));
		case RELKIND_FOREIGN_TABLE:
			return psprintf("reads the foreign table %s", reason_relation(rte->relid));
		default:
			return psprintf("reads %s, which is not a table", reason_relation(rte->relid));
	}
	if (rte->tablesample != NULL)
		return "uses TABLESAMPLE";

	/*
	 * ONLY: a table's delta log holds the rows of the tables below it too
	 * (inheritance children, partitions), which the query does not read
	 */
	if (!rte->inh)
		return psprintf("reads %s with ONLY", reason_relation(rte->relid));
	if (get_rel_relispartition(rte->relid))
		return psprintf("reads the partition %s on its own", reason_relation(rte->relid));
	/* its statements' rows are logged with its parent's, whose log it has not */
	if (has_superclass(rte->relid))
		return psprintf("reads %s, a child of another table, on its own", reason_relation(rte->relid));
	why = check_tree(rte->relid);
	if (why != NULL)
		return why;
	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(rte->relid));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for relation %u", rte->relid);
	rls = ((Form_pg_class) GETSTRUCT(tup))->relrowsecurity;
	ReleaseSysCache(tup);
	if (rls)
		return psprintf("reads %s, which has row-level security", reason_relation(rte->relid));
	return NULL;
}

/* The tables of a join tree, as check_join_tree finds them. */
typedef struct JoinShape
{
	List	   *rtindexes;		/* int: each table's range table index */
	List	   *outer_joins;	/* int, alike: the LEFT JOIN whose right side it
								 * is (its range table index), or 0 */
	int			nleft;			/* LEFT JOINs seen */
} JoinShape;

/* What reads_nullable looks for. */
typedef struct NullableCheck
{
	Query	   *query;
	JoinShape  *shape;
} NullableCheck;

static bool
nullable_walker(Node *node, NullableCheck *check)
{
	if (node == NULL)
		return false;
	if (IsA(node, Var) && ((Var *) node)->varlevelsup == 0)
	{
		Var		   *var = (Var *) node;
		ListCell   *lc;

		if (rt_fetch(var->varno, check->query->rtable)->rtekind != RTE_RELATION)
			return true;		/* a join's column: it may come from either side */
		foreach(lc, check->shape->rtindexes)
		{
			if (lfirst_int(lc) == var->varno &&
				list_nth_int(check->shape->outer_joins, foreach_current_index(lc)) != 0)
				return true;
		}
		return false;
	}
	return expression_tree_walker(node, nullable_walker, check);
}

/*
 * reads_nullable
 *		Does quals read a column of a table on the right side of a LEFT
 *		JOIN (or of a join)?  The affected keys of a change to such a table
 *		are found with its LEFT JOIN made inner and the query's WHERE
 *		dropped (ChangesKeysQuery): a superset of the keys, unless another
 *		condition above reads its NULL-extended columns (coalesce(s.k, 0)
 *		keeps a row the inner join would lose).  An inner join above a
 *		LEFT JOIN whose condition reads only the left side's tables (the
 *		lines of an order joined to a view of products LEFT JOINed to their
 *		categories) changes nothing of that.
 */
static bool
reads_nullable(Query *query, Node *quals, JoinShape *shape)
{
	NullableCheck check = {query, shape};

	return nullable_walker(quals, &check);
}

/*
 * check_join_tree
 *		Walk the join tree node: tables joined by inner joins and by LEFT
 *		JOINs each of one table (nothing listed in FROM beside a LEFT JOIN,
 *		no inner join above one whose condition reads its right side:
 *		reads_nullable); appends each table to shape.  Why not, or NULL.
 */
static const char *
check_join_tree(Query *query, Node *node, JoinShape *shape)
{
	ListCell   *lc;
	const char *why;
	int			nleft = shape->nleft;

	check_stack_depth();
	if (IsA(node, RangeTblRef))
	{
		int			rtindex = ((RangeTblRef *) node)->rtindex;

		why = check_relation(rt_fetch(rtindex, query->rtable));
		if (why == NULL)
		{
			shape->rtindexes = lappend_int(shape->rtindexes, rtindex);
			shape->outer_joins = lappend_int(shape->outer_joins, 0);
		}
		return why;
	}
	if (IsA(node, JoinExpr))
	{
		JoinExpr   *join = (JoinExpr *) node;

		switch (join->jointype)
		{
			case JOIN_INNER:
				why = check_join_tree(query, join->larg, shape);
				if (why == NULL)
					why = check_join_tree(query, join->rarg, shape);
				if (why == NULL && shape->nleft != nleft &&
					reads_nullable(query, join->quals, shape))
					why = "joins by an inner join whose condition reads the right side of a LEFT JOIN";
				return why;
			case JOIN_LEFT:
				if (!IsA(join->rarg, RangeTblRef))
					return "uses a LEFT JOIN whose right side is not one table";
				why = check_join_tree(query, join->larg, shape);
				if (why == NULL)
					why = check_join_tree(query, join->rarg, shape);
				if (why == NULL)
				{
					llast_int(shape->outer_joins) = join->rtindex;
					shape->nleft++;
				}
				return why;
			case JOIN_RIGHT:
			case JOIN_FULL:
				return "uses a RIGHT or FULL join";
			default:
				return "uses an outer join";
		}
	}
	if (IsA(node, FromExpr))
	{
		List	   *fromlist = ((FromExpr *) node)->fromlist;

		foreach(lc, fromlist)
		{
			why = check_join_tree(query, lfirst(lc), shape);
			if (why != NULL)
				return why;
		}
		if (shape->nleft != nleft && list_length(fromlist) > 1)
			return "lists tables in FROM beside a LEFT JOIN";
		/* a view's WHERE, inside the join tree (the query's own is dropped for keys) */
		if (node != (Node *) query->jointree && shape->nleft != nleft &&
			reads_nullable(query, ((FromExpr *) node)->quals, shape))
			return "reads a view whose WHERE reads the right side of a LEFT JOIN";
		return NULL;
	}
	return "reads something other than a table";
}

/*
 * Does column k of the index (its pg_index row tup) compare as column att
 * does: the type's default btree operator class and att's collation?
 */
static bool
index_column_equality(HeapTuple tup, int k, Form_pg_attribute att)
{
	bool		isnull;
	oidvector  *classes = (oidvector *) DatumGetPointer(SysCacheGetAttr(INDEXRELID, tup,
																	   Anum_pg_index_indclass, &isnull));
	oidvector  *collations;

	if (isnull || classes->values[k] != GetDefaultOpClass(att->atttypid, BTREE_AM_OID))
		return false;
	collations = (oidvector *) DatumGetPointer(SysCacheGetAttr(INDEXRELID, tup,
															   Anum_pg_index_indcollation, &isnull));
	return !isnull && collations->values[k] == att->attcollation;
}

/*
 * Is every index below the partitioned index indexid (its partitions')
 * checked at once?  A partition attached with its own deferrable key
 * keeps it under the parent's immediate one.
 */
static bool
partitions_immediate(Oid indexid)
{
	ListCell   *lc;

	foreach(lc, find_all_inheritors(indexid, NoLock, NULL))
	{
		HeapTuple	tup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(lfirst_oid(lc)));
		bool		immediate;

		if (!HeapTupleIsValid(tup))
			return false;
		immediate = ((Form_pg_index) GETSTRUCT(tup))->indimmediate;
		ReleaseSysCache(tup);
		if (!immediate)
			return false;
	}
	return true;
}

/*
 * driving_key
 *		The first unique index of relid (the primary key first) whose
 *		columns are NOT NULL, with no expression nor predicate, each an
 *		output column of query (a plain column of the table at rtindex):
 *		fills plan->keys and key_resnos, true; false when none.
 */
static bool
driving_key(Query *query, Index rtindex, Oid relid, List *tlist, MaintainPlan *plan)
{
	Relation	rel = table_open(relid, AccessShareLock);
	List	   *indexes = RelationGetIndexList(rel);
	Oid			pk = RelationGetPrimaryKeyIndex(rel);
	ListCell   *lc;
	bool		found = false;

	if (OidIsValid(pk))
		indexes = lcons_oid(pk, list_delete_oid(indexes, pk));
	foreach(lc, indexes)
	{
		HeapTuple	tup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(lfirst_oid(lc)));
		Form_pg_index index;
		List	   *keys = NIL;
		List	   *resnos = NIL;
		bool		usable;

		if (!HeapTupleIsValid(tup))
			continue;
		index = (Form_pg_index) GETSTRUCT(tup);
		usable = index->indisunique && index->indisvalid &&
			heap_attisnull(tup, Anum_pg_index_indexprs, NULL) &&
			heap_attisnull(tup, Anum_pg_index_indpred, NULL);
		for (int k = 0; usable && k < index->indnkeyatts; k++)
		{
			AttrNumber	attnum = index->indkey.values[k];
			ListCell   *lt;
			bool		output = false;

			/*
			 * unique by the column's own equality: the type's default btree
			 * class and the column's collation (an index on code COLLATE "C"
			 * holds 'A' and 'a' apart, which a case-insensitive column's =
			 * matches)
			 */
			if (attnum <= 0 || !TupleDescAttr(RelationGetDescr(rel), attnum - 1)->attnotnull ||
				!builtin_equality(TupleDescAttr(RelationGetDescr(rel), attnum - 1)->atttypid) ||
				!index_column_equality(tup, k, TupleDescAttr(RelationGetDescr(rel), attnum - 1)))
			{
				usable = false;
				break;
			}
			foreach(lt, tlist)
			{
				TargetEntry *tle = lfirst(lt);
				Var		   *var = (Var *) tle->expr;

				if (!tle->resjunk && tle->resname != NULL && IsA(var, Var) && var->varno == rtindex &&
					var->varattno == attnum && var->varlevelsup == 0)
				{
					keys = lappend(keys, pstrdup(tle->resname));
					resnos = lappend_int(resnos, tle->resno);
					output = true;
					break;
				}
			}
			usable = output;
		}
		if (usable)
			plan->driving_unique = index->indimmediate &&
				(rel->rd_rel->relkind == RELKIND_PARTITIONED_TABLE ?
				 partitions_immediate(lfirst_oid(lc)) : !rel->rd_rel->relhassubclass);
		ReleaseSysCache(tup);
		if (usable)
		{
			plan->keys = keys;
			plan->key_resnos = resnos;
			found = true;
			break;
		}
	}
	table_close(rel, AccessShareLock);
	return found;
}

/* Append the range table indexes of the leaves of the UNION ALL tree node to *leaves: false when not all UNION ALL. */
static bool
union_all_leaves(Node *node, List **leaves)
{
	SetOperationStmt *op;

	check_stack_depth();
	if (IsA(node, RangeTblRef))
	{
		*leaves = lappend_int(*leaves, ((RangeTblRef *) node)->rtindex);
		return true;
	}
	op = (SetOperationStmt *) node;
	if (op->op != SETOP_UNION || !op->all)
		return false;
	return union_all_leaves(op->larg, leaves) && union_all_leaves(op->rarg, leaves);
}

/*
 * union_keys
 *		UNION ALL: every branch in a maintained class, each keyed by the
 *		same output columns, of the types of the union's columns, and every
 *		table read once.  The key is those columns: the union's rows of a
 *		key are each branch's rows of that key, a function of the branch's
 *		input rows carrying it.  Fills plan: why not, or NULL.
 */
static const char *
union_keys(Query *query, MaintainPlan *plan)
{
	List	   *leaves = NIL;
	ListCell   *lc;
	ListCell   *lk;

	if (!union_all_leaves(query->setOperations, &leaves))
		return "uses UNION, INTERSECT or EXCEPT";
	foreach(lc, leaves)
	{
		Index		branch = lfirst_int(lc);
		RangeTblEntry *rte = rt_fetch(branch, query->rtable);
		MaintainPlan bp;
		const char *why;

		if (rte->rtekind != RTE_SUBQUERY)
			return "uses UNION ALL of something other than queries";
		why = MaintainClassify(rte->subquery, &bp);
		if (why != NULL)
			return psprintf("has a UNION ALL branch that %s", why);
		if (foreach_current_index(lc) == 0)
			plan->key_resnos = bp.key_resnos;
		else if (list_difference_int(bp.key_resnos, plan->key_resnos) != NIL ||
				 list_difference_int(plan->key_resnos, bp.key_resnos) != NIL)
			return "has UNION ALL branches keyed by different output columns";
		foreach(lk, plan->key_resnos)
		{
			TargetEntry *top = list_nth(query->targetList, lfirst_int(lk) - 1);
			TargetEntry *tle = list_nth(rte->subquery->targetList, lfirst_int(lk) - 1);

			if (exprType((Node *) tle->expr) != exprType((Node *) top->expr))
				return psprintf("has a UNION ALL branch whose key column \"%s\" is of another type",
								top->resname);
		}
		foreach(lk, bp.tables)
		{
			MaintainTable *table = lfirst(lk);
			ListCell   *lt;

			foreach(lt, plan->tables)
			{
				if (((MaintainTable *) lfirst(lt))->relid == table->relid)
					return psprintf("reads %s twice", reason_relation(table->relid));
			}
			table->branch = branch;
			plan->tables = lappend(plan->tables, table);
		}
	}
	foreach(lk, plan->key_resnos)
		plan->keys = lappend(plan->keys,
							 pstrdup(((TargetEntry *) list_nth(query->targetList, lfirst_int(lk) - 1))->resname));
	plan->key_kind = MAINTAIN_KEY_UNION;
	plan->grouped = true;
	return NULL;
}

/* Add tle, an output column of query, to plan's keys: why not, or NULL. */
static const char *
add_key(TargetEntry *tle, const char *what, MaintainPlan *plan)
{
	Oid			type = exprType((Node *) tle->expr);

	if (tle->resjunk || tle->resname == NULL)
		return psprintf("%s an expression that is not an output column", what);
	if (!builtin_equality(type))
		return psprintf("%s \"%s\", of type %s, whose equality is not built in",
						what, tle->resname, format_type_be(type));
	plan->keys = lappend(plan->keys, pstrdup(tle->resname));
	plan->key_resnos = lappend_int(plan->key_resnos, tle->resno);
	return NULL;
}

/*
 * window_keys
 *		Window functions: every window the same PARTITION BY, of output
 *		columns (none an aggregate), the key.  Why not, or NULL.
 */
static const char *
window_keys(Query *query, MaintainPlan *plan)
{
	List	   *partition = NIL;	/* TargetEntry *: the first window's */
	ListCell   *lc;
	ListCell   *lp;
	const char *why;

	foreach(lc, query->windowClause)
	{
		WindowClause *wc = lfirst(lc);
		List	   *tles = NIL;

		if (wc->partitionClause == NIL)
			return "uses a window function without PARTITION BY";
		foreach(lp, wc->partitionClause)
			tles = list_append_unique_ptr(tles, get_sortgroupclause_tle(lfirst(lp), query->targetList));
		if (foreach_current_index(lc) == 0)
			partition = tles;
		else if (list_difference_ptr(tles, partition) != NIL ||
				 list_difference_ptr(partition, tles) != NIL)
			return "has windows with different PARTITION BY";
	}
	foreach(lp, partition)
	{
		TargetEntry *tle = lfirst(lp);

		if (contain_agg_clause((Node *) tle->expr))
			return "partitions by an aggregate";
		why = add_key(tle, "partitions by", plan);
		if (why != NULL)
			return why;
	}
	plan->key_kind = MAINTAIN_KEY_PARTITION;
	return NULL;
}

/*
 * output_keys
 *		The key of each output row of query when it is one of a group, a
 *		distinct row or a partition (plan->grouped), into plan: why not,
 *		or NULL.  Not a query of those: NULL, plan->grouped false.
 */
static const char *
output_keys(Query *query, JoinShape *shape, MaintainPlan *plan)
{
	ListCell   *lc;
	const char *why;
	const char *what;

	if (query->hasWindowFuncs)
	{
		if (query->distinctClause != NIL)
			return "uses DISTINCT with a window function";
		if (query->hasAggs && query->groupClause == NIL)
			return "aggregates without GROUP BY (one row: rebuilt whole)";
		what = "a window function";
		why = window_keys(query, plan);
	}
	else if (query->distinctClause != NIL)
	{
		if (query->groupClause != NIL || query->hasAggs)
			return "uses DISTINCT with GROUP BY or aggregates";
		what = "DISTINCT";
		plan->key_kind = MAINTAIN_KEY_ROW;
		why = NULL;
		foreach(lc, query->targetList)
		{
			if (!((TargetEntry *) lfirst(lc))->resjunk)
				why = add_key(lfirst(lc), "is DISTINCT over", plan);
			if (why != NULL)
				break;
		}
	}
	else if (query->groupClause != NIL)
	{
		/* every grouping expression an output column whose type compares by a built-in = */
		what = "GROUP BY";
		plan->key_kind = MAINTAIN_KEY_GROUP;
		why = NULL;
		foreach(lc, query->groupClause)
		{
			why = add_key(get_sortgroupclause_tle(lfirst(lc), query->targetList), "groups by", plan);
			if (why != NULL)
				break;
		}
	}
	else
		return NULL;
	if (why != NULL)
		return why;

	/*
	 * Over LEFT JOINs, the key is the key columns read off the tables that
	 * are on no LEFT JOIN's right side.  A column read off a right side
	 * (the category a product's LEFT JOIN finds) is NULL for a left row that
	 * lost its last match, which no image of that side carries; the others
	 * are the left rows' own, whatever they match.  Each output row still
	 * belongs to one key, whose rows are those of its left rows (groups
	 * that differ only by right-side columns are recomputed together), and
	 * a change to a right side maps to the keys of the left rows its images
	 * match (ChangesKeysQuery in changes_algebraic.c).
	 */
	if (shape->nleft > 0)
	{
		List	   *keys = NIL;
		List	   *resnos = NIL;

		foreach(lc, plan->key_resnos)
		{
			TargetEntry *tle = list_nth(query->targetList, lfirst_int(lc) - 1);

			if (reads_nullable(query, flatten_join_alias_vars(query, (Node *) tle->expr), shape))
				continue;
			keys = lappend(keys, list_nth(plan->keys, foreach_current_index(lc)));
			resnos = lappend_int(resnos, tle->resno);
		}
		if (keys == NIL)
			return psprintf("uses a LEFT JOIN with %s whose every key reads the right side of a LEFT JOIN", what);
		plan->left_keys = list_length(keys) < list_length(plan->keys);
		plan->keys = keys;
		plan->key_resnos = resnos;
	}
	plan->grouped = true;
	/* over one table, its changes are the keys' own; over a join, none drives */
	if (list_length(shape->rtindexes) == 1)
		plan->driving = rt_fetch(linitial_int(shape->rtindexes), query->rtable)->relid;
	return NULL;
}

/* Is type one whose sums subtract exactly: an integer or numeric? */
static bool
exact_number(Oid type)
{
	return type == INT2OID || type == INT4OID || type == INT8OID || type == NUMERICOID;
}

/*
 * never_null
 *		Whether expr (of query, join aliases flattened) is never NULL: a
 *		NOT NULL column of a table, a constant, built-in arithmetic (+, -,
 *		*) and casts of integers and numeric over such (those return no
 *		NULL for arguments that are not: they fail instead), a COALESCE
 *		with such an argument, a CASE whose every result is such.
 */
static bool
never_null(Query *query, Node *expr)
{
	if (expr == NULL)
		return false;
	if (IsA(expr, RelabelType))
		return never_null(query, (Node *) ((RelabelType *) expr)->arg);
	if (IsA(expr, Const))
		return !((Const *) expr)->constisnull;
	if (IsA(expr, Var))
	{
		Var		   *var = (Var *) expr;
		RangeTblEntry *rte;
		HeapTuple	tuple;
		bool		notnull;

		if (var->varlevelsup != 0 || var->varattno <= 0)
			return false;
		rte = rt_fetch(var->varno, query->rtable);
		if (rte->rtekind != RTE_RELATION)
			return false;
		tuple = SearchSysCache2(ATTNUM, ObjectIdGetDatum(rte->relid), Int16GetDatum(var->varattno));
		if (!HeapTupleIsValid(tuple))
			return false;
		notnull = ((Form_pg_attribute) GETSTRUCT(tuple))->attnotnull;
		ReleaseSysCache(tuple);
		return notnull;
	}
	if (IsA(expr, CoalesceExpr))
	{
		/* never NULL when one of its arguments is not */
		ListCell   *lc;

		foreach(lc, ((CoalesceExpr *) expr)->args)
		{
			if (never_null(query, lfirst(lc)))
				return true;
		}
		return false;
	}
	if (IsA(expr, CaseExpr))
	{
		/* never NULL when none of its results is */
		CaseExpr   *c = (CaseExpr *) expr;
		ListCell   *lc;

		foreach(lc, c->args)
		{
			if (!never_null(query, (Node *) ((CaseWhen *) lfirst(lc))->result))
				return false;
		}
		return never_null(query, (Node *) c->defresult);
	}
	if (IsA(expr, OpExpr) || IsA(expr, FuncExpr))
	{
		List	   *args = IsA(expr, OpExpr) ? ((OpExpr *) expr)->args : ((FuncExpr *) expr)->args;
		Oid			func = IsA(expr, OpExpr) ? ((OpExpr *) expr)->opfuncid : ((FuncExpr *) expr)->funcid;
		ListCell   *lc;

		if (!OidIsValid(func))
			func = get_opcode(((OpExpr *) expr)->opno);
		if (func >= FirstGenbkiObjectId || !func_strict(func) || !exact_number(exprType(expr)))
			return false;
		if (IsA(expr, OpExpr))
		{
			char	   *name = get_opname(((OpExpr *) expr)->opno);

			if (name == NULL || list_length(args) != 2 || strlen(name) != 1 || strchr("+-*", name[0]) == NULL)
				return false;
		}
		else if (((FuncExpr *) expr)->funcformat != COERCE_IMPLICIT_CAST &&
				 ((FuncExpr *) expr)->funcformat != COERCE_EXPLICIT_CAST)
			return false;
		foreach(lc, args)
		{
			if (!exact_number(exprType(lfirst(lc))) || !never_null(query, lfirst(lc)))
				return false;
		}
		return true;
	}
	return false;
}

/*
 * numeric_scale_of
 *		The display scale every value of expr (numeric, as never_null
 *		accepts) has, or -1 when values may differ in it.  A sum's scale is
 *		the largest of its values'; subtracting a value keeps it where the
 *		sum recomputed without the value could have a smaller one (1.5 +
 *		2.25 less 2.25 is 1.50, the sum of 1.5 is 1.5), so only sums whose
 *		values share one scale take old images.
 */
static int
numeric_scale_of(Node *expr)
{
	int32		typmod = exprTypmod(expr);

	if (exprType(expr) != NUMERICOID)
		return exact_number(exprType(expr)) ? 0 : -1;
	if (typmod >= (int32) VARHDRSZ)
	{
		/* numeric(p, s): every value rounded to s places (none below 0) */
		int			scale = ((((typmod - VARHDRSZ) & 0x7ff) ^ 1024) - 1024);

		return Max(scale, 0);
	}
	if (IsA(expr, RelabelType))
		return numeric_scale_of((Node *) ((RelabelType *) expr)->arg);
	if (IsA(expr, Const))
		return DatumGetInt32(DirectFunctionCall1(numeric_scale, ((Const *) expr)->constvalue));
	if (IsA(expr, CoalesceExpr) || IsA(expr, CaseExpr))
	{
		/* one of its arguments' (results'): all of one scale */
		List	   *args = NIL;
		int			scale = -1;
		ListCell   *lc;

		if (IsA(expr, CoalesceExpr))
			args = ((CoalesceExpr *) expr)->args;
		else
		{
			foreach(lc, ((CaseExpr *) expr)->args)
				args = lappend(args, ((CaseWhen *) lfirst(lc))->result);
			args = lappend(args, ((CaseExpr *) expr)->defresult);
		}
		foreach(lc, args)
		{
			int			s = numeric_scale_of(lfirst(lc));

			if (s < 0 || (scale >= 0 && s != scale))
				return -1;
			scale = s;
		}
		return scale;
	}
	if (IsA(expr, FuncExpr))
	{
		FuncExpr   *func = (FuncExpr *) expr;

		/* a cast from an integer */
		if (list_length(func->args) == 1 && exprType(linitial(func->args)) != NUMERICOID)
			return 0;
		return -1;
	}
	if (IsA(expr, OpExpr) && list_length(((OpExpr *) expr)->args) == 2)
	{
		int			a = numeric_scale_of(linitial(((OpExpr *) expr)->args));
		int			b = numeric_scale_of(lsecond(((OpExpr *) expr)->args));
		char	   *name = get_opname(((OpExpr *) expr)->opno);

		if (a < 0 || b < 0 || name == NULL)
			return -1;
		/* numeric's +, - keep the larger scale, * adds them; / chooses one */
		if (strcmp(name, "*") == 0)
			return a + b;
		return strcmp(name, "+") == 0 || strcmp(name, "-") == 0 ? Max(a, b) : -1;
	}
	return -1;
}

/*
 * combine_columns
 *		A GROUP BY whose groups a delta's rows can be added to without
 *		reading the groups' other rows (the algebraic path, changes_apply.c):
 *		each output column a grouping column or a plain count, sum of
 *		integers or numeric, min or max, no HAVING (a group it leaves out
 *		has no row to add to), no window.  The MaintainCombine of each
 *		output column (as ints), or NIL.  Sums of floats are left out:
 *		adding in another order rounds otherwise.
 *
 *		Old images (deleted and updated rows) are taken from the groups too
 *		(plan->subtract) when no column is a min or max (the rows left
 *		decide those), every sum's values are never NULL, of one scale and
 *		unfiltered (a sum whose values all went is NULL, which subtracting
 *		cannot tell), and a count counts every row (plan->count_column):
 *		a group whose count comes to zero is gone.
 */
static List *
combine_columns(Query *query, MaintainPlan *plan)
{
	List	   *combine = NIL;
	bool		subtract = true;
	ListCell   *lc;

	plan->count_column = -1;
	if (plan->key_kind != MAINTAIN_KEY_GROUP || query->havingQual != NULL ||
		query->hasWindowFuncs || query->distinctClause != NIL)
		return NIL;
	foreach(lc, query->targetList)
	{
		TargetEntry *tle = lfirst(lc);
		Aggref	   *agg = (Aggref *) tle->expr;
		Node	   *arg = NULL;
		MaintainCombine how;

		if (tle->resjunk)
			continue;
		if (list_member_int(plan->key_resnos, tle->resno))
		{
			combine = lappend_int(combine, MAINTAIN_COMBINE_KEY);
			continue;
		}
		if (!IsA(agg, Aggref) || agg->aggdistinct != NIL || agg->aggorder != NIL ||
			agg->aggdirectargs != NIL || agg->agglevelsup != 0 || agg->aggkind != AGGKIND_NORMAL)
			return NIL;
		if (list_length(agg->args) == 1)
			arg = flatten_join_alias_vars(query, (Node *) ((TargetEntry *) linitial(agg->args))->expr);
		if (agg->aggfnoid == F_COUNT_ || agg->aggfnoid == F_COUNT_ANY)
		{
			how = MAINTAIN_COMBINE_ADD;
			if (plan->count_column < 0 && agg->aggfilter == NULL &&
				(agg->aggfnoid == F_COUNT_ || never_null(query, arg)))
				plan->count_column = list_length(combine);
		}
		else if (agg->aggfnoid == F_SUM_INT2 || agg->aggfnoid == F_SUM_INT4 ||
				 agg->aggfnoid == F_SUM_INT8 || agg->aggfnoid == F_SUM_NUMERIC)
		{
			how = MAINTAIN_COMBINE_SUM;
			subtract &= agg->aggfilter == NULL && never_null(query, arg) && numeric_scale_of(arg) >= 0;
		}
		else if (agg->aggfnoid < FirstGenbkiObjectId &&
				 get_func_namespace(agg->aggfnoid) == PG_CATALOG_NAMESPACE &&
				 strcmp(get_func_name(agg->aggfnoid), "min") == 0)
			how = MAINTAIN_COMBINE_MIN;
		else if (agg->aggfnoid < FirstGenbkiObjectId &&
				 get_func_namespace(agg->aggfnoid) == PG_CATALOG_NAMESPACE &&
				 strcmp(get_func_name(agg->aggfnoid), "max") == 0)
			how = MAINTAIN_COMBINE_MAX;
		else
			return NIL;
		subtract &= how == MAINTAIN_COMBINE_ADD || how == MAINTAIN_COMBINE_SUM;
		combine = lappend_int(combine, how);
	}
	plan->subtract = subtract && plan->count_column >= 0;
	return combine;
}

/*
 * MaintainClassify
 *		Whether a table model whose bound (not rewritten) query is query can
 *		be maintained: NULL, with *plan filled (palloc'd in the caller's
 *		context), or the reason it cannot, in words.
 */
const char *
MaintainClassify(Query *query, MaintainPlan *plan)
{
	JoinShape	shape = {0};
	List	   *tlist;
	Node	   *quals;
	ListCell   *lc;
	const char *why;

	memset(plan, 0, sizeof(MaintainPlan));
	if (query->commandType != CMD_SELECT || query->utilityStmt != NULL)
		return "is not a SELECT";
	if (query->cteList != NIL)
		return "uses WITH";
	if (query->hasTargetSRFs)
		return "returns the rows of a set-returning function";
	if (query->hasSubLinks)
		return "uses a subquery";
	if (query->hasDistinctOn)
		return "uses DISTINCT ON";
	if (query->groupingSets != NIL)
		return "uses GROUPING SETS, CUBE or ROLLUP";
	if (query->limitCount != NULL || query->limitOffset != NULL)
		return "uses LIMIT or OFFSET";
	if (query->rowMarks != NIL)
		return "locks rows (FOR UPDATE or SHARE)";
	if (query->hasRecursive)
		return "uses WITH RECURSIVE";
	if (query->setOperations != NULL)
		return union_keys(query, plan);
	if (query->jointree->fromlist == NIL)
		return "reads no table";
	why = check_join_tree(query, (Node *) query->jointree, &shape);
	if (why != NULL)
		return why;
	if (contain_mutable_functions((Node *) query->targetList) ||
		contain_mutable_functions((Node *) query->jointree) ||
		contain_mutable_functions(query->havingQual))
		return "calls a function that is not immutable";

	/* each table once: a change maps to keys through the others as they are */
	foreach(lc, shape.rtindexes)
	{
		Oid			relid = rt_fetch(lfirst_int(lc), query->rtable)->relid;
		ListCell   *lo;

		for_each_from(lo, shape.rtindexes, foreach_current_index(lc) + 1)
		{
			if (rt_fetch(lfirst_int(lo), query->rtable)->relid == relid)
				return psprintf("reads %s twice", reason_relation(relid));
		}
	}

	/* join alias columns as the table columns they stand for */
	tlist = (List *) flatten_join_alias_vars(query, (Node *) query->targetList);
	quals = flatten_join_alias_vars(query, (Node *) query->jointree);

	why = output_keys(query, &shape, plan);
	if (why != NULL)
		return why;
	if (!plan->grouped && query->hasAggs)
		return "aggregates without GROUP BY (one row: rebuilt whole)";
	if (!plan->grouped && list_length(shape.rtindexes) == 1)
		return "selects rows of one table (a copy: rebuilt whole; joins keyed by a table are maintained)";
	if (!plan->grouped)
	{
		/* the first table with a key in the output, not on the nullable side of a LEFT JOIN */
		plan->key_kind = MAINTAIN_KEY_DRIVING;
		foreach(lc, shape.rtindexes)
		{
			RangeTblEntry *rte = rt_fetch(lfirst_int(lc), query->rtable);

			if (list_nth_int(shape.outer_joins, foreach_current_index(lc)) == 0 &&
				driving_key(query, lfirst_int(lc), rte->relid, tlist, plan))
			{
				plan->driving = rte->relid;
				break;
			}
		}
		if (!OidIsValid(plan->driving))
			return shape.nleft > 0 ?
				"has no unique key of a table on the left of its LEFT JOINs in its output" :
				"has no unique key of any table it joins in its output";
	}

	/* the columns of each table it reads: what its deltas capture */
	foreach(lc, shape.rtindexes)
	{
		Index		rtindex = lfirst_int(lc);
		RangeTblEntry *rte = rt_fetch(rtindex, query->rtable);
		MaintainTable *table = palloc0(sizeof(MaintainTable));
		Bitmapset  *attnos = NULL;
		int			attno = -1;

		pull_varattnos((Node *) tlist, rtindex, &attnos);
		pull_varattnos(quals, rtindex, &attnos);
		pull_varattnos(query->havingQual, rtindex, &attnos);
		while ((attno = bms_next_member(attnos, attno)) >= 0)
		{
			AttrNumber	a = attno + FirstLowInvalidHeapAttributeNumber;
			char	   *name;

			if (a == InvalidAttrNumber)
				return psprintf("reads whole rows of %s", reason_relation(rte->relid));
			if (a < 0)
				return psprintf("reads a system column of %s", reason_relation(rte->relid));
			name = get_attname(rte->relid, a, false);
			table->columns = lappend(table->columns, name);
		}
		if (table->columns == NIL)
			return psprintf("reads no column of %s", reason_relation(rte->relid));
		table->relid = rte->relid;
		table->rtindex = rtindex;
		table->outer_join = list_nth_int(shape.outer_joins, foreach_current_index(lc));
		plan->tables = lappend(plan->tables, table);
	}
	/*
	 * No algebraic path over a LEFT JOIN: a right side's new row replaces a
	 * NULL-extended row, which the delta's own aggregates do not take out
	 */
	plan->count_column = -1;
	if (shape.nleft == 0)
		plan->combine = combine_columns(query, plan);
	return NULL;
}
