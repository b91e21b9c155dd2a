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
 * row can be computed from the row alone.  The class this file accepts:
 *
 *   GROUP BY over one table: one plain or partitioned table in FROM, any
 *   aggregates, WHERE and HAVING, every grouping expression an output
 *   column of a type whose equality operator is built in, nothing that
 *   is not immutable, no subquery, set operation, window function,
 *   DISTINCT, grouping sets, LIMIT, set-returning function in the output,
 *   row locks or TABLESAMPLE, and no row-level security on the table.
 *
 * Anything else is rebuilt whole; MaintainClassify says why, in words a
 * model's author can act on ("uses a window function").  Nothing here is
 * a user annotation: the class is derived from the query alone.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/sysattr.h"
#include "catalog/pg_class.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_operator.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "parser/parsetree.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
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

/*
 * MaintainClassify
 *		Whether a table model whose bound (not rewritten) query is query can
 *		be maintained: NULL, with *plan filled (palloc'd in the caller's
 *		context), or the reason it cannot, in words.
 */
const char *
MaintainClassify(Query *query, MaintainPlan *plan)
{
	RangeTblEntry *rte;
	RangeTblRef *ref;
	Bitmapset  *attnos = NULL;
	ListCell   *lc;
	int			attno;

	memset(plan, 0, sizeof(MaintainPlan));
	if (query->commandType != CMD_SELECT || query->utilityStmt != NULL)
		return "is not a SELECT";
	if (query->setOperations != NULL)
		return "uses UNION, INTERSECT or EXCEPT";
	if (query->cteList != NIL)
		return "uses WITH";
	if (query->hasWindowFuncs)
		return "uses a window function";
	if (query->hasTargetSRFs)
		return "returns the rows of a set-returning function";
	if (query->hasSubLinks)
		return "uses a subquery";
	if (query->distinctClause != NIL)
		return query->hasDistinctOn ? "uses DISTINCT ON" : "uses DISTINCT";
	if (query->groupingSets != NIL)
		return "uses GROUPING SETS, CUBE or ROLLUP";
	if (query->limitCount != NULL || query->limitOffset != NULL)
		return "uses LIMIT or OFFSET";
	if (query->rowMarks != NIL)
		return "locks rows (FOR UPDATE or SHARE)";
	if (query->hasRecursive)
		return "uses WITH RECURSIVE";

	/* FROM: one table */
	if (list_length(query->jointree->fromlist) != 1 ||
		!IsA(linitial(query->jointree->fromlist), RangeTblRef))
	{
		foreach(lc, query->rtable)
		{
			rte = lfirst(lc);
			if (rte->rtekind == RTE_FUNCTION || rte->rtekind == RTE_TABLEFUNC)
				return "reads a function";
		}
		if (query->jointree->fromlist == NIL)
			return "reads no table";
		return "joins tables (only GROUP BY over one table is maintained in this version)";
	}
	ref = linitial(query->jointree->fromlist);
	rte = rt_fetch(ref->rtindex, query->rtable);
	switch (rte->rtekind)
	{
		case RTE_RELATION:
			break;
		case RTE_SUBQUERY:
			return "reads a subquery in FROM";
		case RTE_JOIN:
			return "joins tables (only GROUP BY over one table is maintained in this version)";
		case RTE_FUNCTION:
		case RTE_TABLEFUNC:
			return "reads a function";
		case RTE_VALUES:
			return "reads VALUES";
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
	if (get_rel_relispartition(rte->relid))
		return psprintf("reads the partition %s on its own", reason_relation(rte->relid));
	{
		HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(rte->relid));
		bool		rls;

		if (!HeapTupleIsValid(tup))
			elog(ERROR, "cache lookup failed for relation %u", rte->relid);
		rls = ((Form_pg_class) GETSTRUCT(tup))->relrowsecurity;
		ReleaseSysCache(tup);
		if (rls)
			return psprintf("reads %s, which has row-level security", reason_relation(rte->relid));
	}
	if (contain_mutable_functions((Node *) query->targetList) ||
		contain_mutable_functions(query->jointree->quals) ||
		contain_mutable_functions(query->havingQual))
		return "calls a function that is not immutable";
	if (query->groupClause == NIL)
		return query->hasAggs ? "aggregates without GROUP BY (one row: rebuilt whole)" :
			"has no GROUP BY (only GROUP BY over one table is maintained in this version)";

	/* every grouping expression is an output column whose type compares by a built-in = */
	foreach(lc, query->groupClause)
	{
		SortGroupClause *sgc = lfirst(lc);
		TargetEntry *tle = get_sortgroupclause_tle(sgc, query->targetList);
		Oid			type = exprType((Node *) tle->expr);

		if (tle->resjunk || tle->resname == NULL)
			return "groups by an expression that is not an output column";
		if (!builtin_equality(type))
			return psprintf("groups by \"%s\", of type %s, whose equality is not built in",
							tle->resname, format_type_be(type));
		plan->keys = lappend(plan->keys, pstrdup(tle->resname));
	}

	/* the columns of the table it reads: what its deltas capture */
	pull_varattnos((Node *) query->targetList, ref->rtindex, &attnos);
	pull_varattnos(query->jointree->quals, ref->rtindex, &attnos);
	pull_varattnos(query->havingQual, ref->rtindex, &attnos);
	attno = -1;
	while ((attno = bms_next_member(attnos, attno)) >= 0)
	{
		AttrNumber	a = attno + FirstLowInvalidHeapAttributeNumber;

		if (a == InvalidAttrNumber)
			return psprintf("reads whole rows of %s", reason_relation(rte->relid));
		if (a < 0)
			return psprintf("reads a system column of %s", reason_relation(rte->relid));
		plan->columns = lappend(plan->columns, get_attname(rte->relid, a, false));
	}
	if (plan->columns == NIL)
		return psprintf("reads no column of %s", reason_relation(rte->relid));
	plan->relid = rte->relid;
	plan->rtindex = ref->rtindex;
	return NULL;
}
