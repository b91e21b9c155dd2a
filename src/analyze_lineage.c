/*-------------------------------------------------------------------------
 *
 * analyze_lineage.c
 *	  Column lineage: for every output column of a model's query, the base
 *	  columns it derives from and how ("projection", "filter", "join",
 *	  "group").
 *
 * The pass computes, for every output column of every query level, the
 * set of base columns (relation OID, attribute number, kind) it derives
 * from.  "projection" items flow values; "filter", "join" and "group"
 * items only decide which rows or groups exist.  Each query level also has
 * row-level items (WHERE, JOIN ON, GROUP BY, HAVING, DISTINCT ON, LIMIT)
 * that apply to all its output columns.  Var references are resolved
 * through subqueries, CTEs (a fixpoint for recursive ones), join alias
 * variables, functions, VALUES and read-through views (plain views, and
 * the bindings of ephemeral models).  The rules are documented in the
 * README ("Column lineage") and checked by sql/lineage.sql.
 *
 * Memory: everything is allocated in the caller's memory context.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "parser/analyze.h"
#include "parser/parse_relation.h"
#include "catalog/namespace.h"
#include "parser/parsetree.h"
#include "rewrite/rewriteHandler.h"
#include "tcop/tcopprot.h"
#include "tcop/utility.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/varlena.h"

#include "analyze.h"
#include "analyze_lineage.h"
#include "catalog.h"

/* Kinds of lineage items, as one character while analyzing. */
#define KIND_PROJECTION 'p'
#define KIND_FILTER		'f'
#define KIND_JOIN		'j'
#define KIND_GROUP		'g'

/* Recursive CTE fixpoints converge long before this many rounds. */
#define MAX_CTE_ROUNDS	100

/* A base column and how it takes part. */
typedef struct LinItem
{
	Oid			relid;
	AttrNumber	attno;
	char		kind;
} LinItem;

/* Lineage of one query level: per output column (by resno) and row-level. */
typedef struct QueryLineage
{
	int			ncols;
	List	  **cols;			/* cols[resno - 1]: List of LinItem * */
	List	   *rows;			/* List of LinItem *, never projection */
} QueryLineage;

/* Analysis state of a CTE while its query level is being analyzed. */
typedef struct CteState
{
	QueryLineage *lineage;
	bool		in_progress;	/* a recursive CTE's fixpoint is running */
	bool		self_referenced;	/* the running fixpoint read itself */
} CteState;

/* One query level of the lineage pass; parent is the enclosing level. */
typedef struct Level
{
	Query	   *query;
	struct Level *parent;
	QueryLineage **rte_lineage; /* per range table index - 1, lazily */
	CteState   *ctes;			/* per entry of query->cteList */
} Level;

/* Expression walker state of the lineage pass. */
typedef struct ExprWalk
{
	AnalyzeContext *ctx;
	Level	   *level;
	char		role;
	List	  **out;
	QueryLineage *sublink;		/* resolves PARAM_SUBLINK in a testexpr */
} ExprWalk;


static QueryLineage *analyze_level(AnalyzeContext *ctx, Query *query, Level *parent);
static void expr_items(AnalyzeContext *ctx, Level *level, Node *node, char role,
					   List **out);
static bool expr_walker(Node *node, ExprWalk *walk);

/* ----------------------------------------------------------------
 * Classification of relations, for both passes (analyze.c calls these)
 * ---------------------------------------------------------------- */

/* The model published as relid, or NULL. */
const char *
AnalyzeModelOf(AnalyzeContext *ctx, Oid relid)
{
	ListCell   *lc1,
			   *lc2;

	forboth(lc1, ctx->model_relids, lc2, ctx->model_names)
	{
		if (lfirst_oid(lc1) == relid)
			return lfirst(lc2);
	}
	return NULL;
}

/*
 * Is relid a view that lineage reads through: a plain view (not a model),
 * or the binding of an ephemeral model?
 */
bool
AnalyzeReadsThrough(AnalyzeContext *ctx, Oid relid)
{
	return (get_rel_relkind(relid) == RELKIND_VIEW &&
			AnalyzeModelOf(ctx, relid) == NULL) ||
		list_member_oid(ctx->ephemeral_relids, relid);
}

/* A copy of a view's query (its _RETURN rule). */
Query *
AnalyzeViewQuery(Oid relid)
{
	Relation	rel = table_open(relid, AccessShareLock);
	Query	   *query = copyObject(get_view_query(rel));

	table_close(rel, AccessShareLock);
	return query;
}

/* ----------------------------------------------------------------
 * Lineage pass: item sets
 * ---------------------------------------------------------------- */

static void
add_item(List **set, Oid relid, AttrNumber attno, char kind)
{
	ListCell   *lc;
	LinItem    *item;

	foreach(lc, *set)
	{
		item = lfirst(lc);
		if (item->relid == relid && item->attno == attno && item->kind == kind)
			return;
	}
	item = palloc(sizeof(LinItem));
	item->relid = relid;
	item->attno = attno;
	item->kind = kind;
	*set = lappend(*set, item);
}

/*
 * add_items
 *		Add the items of from to *set as seen in role: projection items take
 *		the role, the others keep their kind.
 */
static void
add_items(List **set, List *from, char role)
{
	ListCell   *lc;

	foreach(lc, from)
	{
		LinItem    *item = lfirst(lc);

		add_item(set, item->relid, item->attno,
				 item->kind == KIND_PROJECTION ? role : item->kind);
	}
}

/*
 * add_derived_items
 *		Add the items of a derived column (of a subquery, CTE or view) seen
 *		in role.  A derived column that filters rows (the outer WHERE of
 *		"WHERE rn = 1" over row_number() OVER (PARTITION BY k ORDER BY t))
 *		makes everything it derives from decide which rows exist: all its
 *		items become filter.  Otherwise as add_items.
 */
static void
add_derived_items(List **set, List *from, char role)
{
	ListCell   *lc;

	if (role != KIND_FILTER)
	{
		add_items(set, from, role);
		return;
	}
	foreach(lc, from)
	{
		LinItem    *item = lfirst(lc);

		add_item(set, item->relid, item->attno, KIND_FILTER);
	}
}

static QueryLineage *
new_lineage(int ncols)
{
	QueryLineage *lineage = palloc0(sizeof(QueryLineage));

	lineage->ncols = ncols;
	lineage->cols = palloc0(sizeof(List *) * (ncols + 1));
	return lineage;
}

static int
lineage_size(QueryLineage *lineage)
{
	int			n = list_length(lineage->rows);

	for (int i = 0; i < lineage->ncols; i++)
		n += list_length(lineage->cols[i]);
	return n;
}

/* Items of column attno of a query's lineage (0: every column). */
static void
add_column_items(List **set, QueryLineage *lineage, AttrNumber attno, char role)
{
	if (attno == InvalidAttrNumber)
	{
		for (int i = 0; i < lineage->ncols; i++)
			add_items(set, lineage->cols[i], role);
	}
	else if (attno > 0 && attno <= lineage->ncols)
		add_items(set, lineage->cols[attno - 1], role);
}

/* ----------------------------------------------------------------
 * Lineage pass: range table entries
 * ---------------------------------------------------------------- */

/*
 * cte_lineage
 *		Lineage of entry index of level's WITH list.  A recursive CTE that
 *		reads itself is iterated to a fixpoint: each round sees the previous
 *		round's result for the self-reference, and sets only grow.
 */
static QueryLineage *
cte_lineage(AnalyzeContext *ctx, Level *level, int index)
{
	CteState   *state = &level->ctes[index];
	CommonTableExpr *cte = list_nth(level->query->cteList, index);
	Query	   *query = castNode(Query, cte->ctequery);

	if (state->in_progress)
	{
		state->self_referenced = true;
		return state->lineage;
	}
	if (state->lineage != NULL)
		return state->lineage;

	state->in_progress = true;
	state->lineage = new_lineage(list_length(query->targetList));
	for (int round = 0; round < MAX_CTE_ROUNDS; round++)
	{
		QueryLineage *next;
		bool		grew;

		state->self_referenced = false;
		next = analyze_level(ctx, query, level);
		grew = lineage_size(next) != lineage_size(state->lineage);
		state->lineage = next;
		if (!state->self_referenced || !grew)
			break;
	}
	state->in_progress = false;
	return state->lineage;
}

/*
 * rte_lineage
 *		Lineage of the query behind a subquery, CTE reference or read-through
 *		view entry of level's range table; NULL for other kinds.
 */
static QueryLineage *
rte_lineage(AnalyzeContext *ctx, Level *level, Index rtindex)
{
	RangeTblEntry *rte = rt_fetch(rtindex, level->query->rtable);
	QueryLineage **cached = &level->rte_lineage[rtindex - 1];

	switch (rte->rtekind)
	{
		case RTE_SUBQUERY:
			if (*cached == NULL)
				*cached = analyze_level(ctx, rte->subquery, level);
			return *cached;
		case RTE_CTE:
			{
				Level	   *owner = level;
				int			index = 0;
				ListCell   *lc;

				for (Index up = 0; up < rte->ctelevelsup; up++)
					owner = owner->parent;
				foreach(lc, owner->query->cteList)
				{
					if (strcmp(((CommonTableExpr *) lfirst(lc))->ctename, rte->ctename) == 0)
						return cte_lineage(ctx, owner, index);
					index++;
				}
				elog(ERROR, "could not find CTE \"%s\"", rte->ctename);
			}
			break;
		case RTE_RELATION:
			if (!AnalyzeReadsThrough(ctx, rte->relid))
				return NULL;
			if (*cached == NULL)
			{
				check_stack_depth();
				*cached = analyze_level(ctx, AnalyzeViewQuery(rte->relid), NULL);
			}
			return *cached;
		default:
			break;
	}
	return NULL;
}

/* Items of user column attno (0: all columns) of a base relation. */
static void
relation_items(Oid relid, AttrNumber attno, char role, List **out)
{
	if (attno > 0)
		add_item(out, relid, attno, role);
	else if (attno == InvalidAttrNumber)
	{
		Relation	rel = table_open(relid, AccessShareLock);
		TupleDesc	desc = RelationGetDescr(rel);

		for (int i = 0; i < desc->natts; i++)
		{
			if (!TupleDescAttr(desc, i)->attisdropped)
				add_item(out, relid, i + 1, role);
		}
		table_close(rel, AccessShareLock);
	}
	/* system columns carry no user data lineage */
}

/*
 * var_items
 *		Add to *out the base columns a Var of level (or an enclosing level)
 *		refers to, seen in role.
 */
static void
var_items(AnalyzeContext *ctx, Level *level, Var *var, char role, List **out)
{
	Level	   *owner = level;
	RangeTblEntry *rte;
	AttrNumber	attno = var->varattno;
	ListCell   *lc;

	for (Index up = 0; up < var->varlevelsup; up++)
		owner = owner->parent;
	rte = rt_fetch(var->varno, owner->query->rtable);

	switch (rte->rtekind)
	{
		case RTE_RELATION:
			if (AnalyzeReadsThrough(ctx, rte->relid))
			{
				List	   *items = NIL;

				add_column_items(&items, rte_lineage(ctx, owner, var->varno), attno,
								 KIND_PROJECTION);
				add_derived_items(out, items, role);
			}
			else
				relation_items(rte->relid, attno, role, out);
			break;
		case RTE_SUBQUERY:
		case RTE_CTE:
			{
				List	   *items = NIL;

				add_column_items(&items, rte_lineage(ctx, owner, var->varno), attno,
								 KIND_PROJECTION);
				add_derived_items(out, items, role);
			}
			break;
		case RTE_JOIN:
			{
				int			i = 0;

				foreach(lc, rte->joinaliasvars)
				{
					i++;
					if (attno == InvalidAttrNumber || attno == i)
						expr_items(ctx, owner, lfirst(lc), role, out);
				}
			}
			break;
		case RTE_FUNCTION:
			{
				int			first = 1;

				foreach(lc, rte->functions)
				{
					RangeTblFunction *rtfunc = lfirst(lc);

					if (attno == InvalidAttrNumber ||
						(attno >= first && attno < first + rtfunc->funccolcount))
						expr_items(ctx, owner, rtfunc->funcexpr, role, out);
					first += rtfunc->funccolcount;
				}
				/* an ORDINALITY column derives from nothing */
			}
			break;
		case RTE_VALUES:
			foreach(lc, rte->values_lists)
			{
				List	   *row = lfirst(lc);

				if (attno == InvalidAttrNumber)
					expr_items(ctx, owner, (Node *) row, role, out);
				else if (attno <= list_length(row))
					expr_items(ctx, owner, list_nth(row, attno - 1), role, out);
			}
			break;
		case RTE_TABLEFUNC:
			expr_items(ctx, owner, (Node *) rte->tablefunc, role, out);
			break;
		default:
			/* named tuplestores and RTE_RESULT derive from nothing */
			break;
	}
}

/* ----------------------------------------------------------------
 * Lineage pass: expressions
 * ---------------------------------------------------------------- */

static void
sortgroup_items(AnalyzeContext *ctx, Level *level, List *clauses, List *tlist,
				char role, List **out)
{
	ListCell   *lc;

	foreach(lc, clauses)
	{
		SortGroupClause *sgc = lfirst(lc);

		expr_items(ctx, level, get_sortgroupclause_expr(sgc, tlist), role, out);
	}
}

static void
walk_with_role(ExprWalk *walk, Node *node, char role)
{
	ExprWalk	sub = *walk;

	sub.role = role;
	sub.sublink = NULL;
	(void) expr_walker(node, &sub);
}

static void
sublink_items(ExprWalk *walk, SubLink *sublink)
{
	QueryLineage *sub = analyze_level(walk->ctx, castNode(Query, sublink->subselect),
									  walk->level);

	switch (sublink->subLinkType)
	{
		case EXISTS_SUBLINK:
			break;
		case EXPR_SUBLINK:
		case ARRAY_SUBLINK:
			add_column_items(walk->out, sub, 1, walk->role);
			break;
		case ANY_SUBLINK:
		case ALL_SUBLINK:
		case ROWCOMPARE_SUBLINK:
			{
				ExprWalk	test = *walk;

				test.sublink = sub;
				(void) expr_walker(sublink->testexpr, &test);
			}
			break;
		default:
			/* MULTIEXPR and CTE sublinks do not occur in a SELECT */
			break;
	}
	add_items(walk->out, sub->rows, walk->role);
}

static bool
expr_walker(Node *node, ExprWalk *walk)
{
	if (node == NULL)
		return false;
	check_stack_depth();

	if (IsA(node, Var))
	{
		var_items(walk->ctx, walk->level, (Var *) node, walk->role, walk->out);
		return false;
	}
	if (IsA(node, Param))
	{
		Param	   *param = (Param *) node;

		if (param->paramkind == PARAM_SUBLINK && walk->sublink != NULL)
			add_column_items(walk->out, walk->sublink, param->paramid, walk->role);
		return false;
	}
	if (IsA(node, SubLink))
	{
		sublink_items(walk, (SubLink *) node);
		return false;
	}
	if (IsA(node, Aggref))
	{
		Aggref	   *agg = (Aggref *) node;
		ListCell   *lc;

		/* direct and aggregated arguments flow; ORDER BY inputs are junk */
		walk_with_role(walk, (Node *) agg->aggdirectargs, walk->role);
		foreach(lc, agg->args)
		{
			TargetEntry *tle = lfirst(lc);

			walk_with_role(walk, (Node *) tle->expr,
						   tle->resjunk ? KIND_GROUP : walk->role);
		}
		walk_with_role(walk, (Node *) agg->aggfilter, KIND_FILTER);
		return false;
	}
	if (IsA(node, WindowFunc))
	{
		WindowFunc *wfunc = (WindowFunc *) node;
		Query	   *query = walk->level->query;
		ListCell   *lc;

		walk_with_role(walk, (Node *) wfunc->args, walk->role);
		walk_with_role(walk, (Node *) wfunc->aggfilter, KIND_FILTER);
		foreach(lc, query->windowClause)
		{
			WindowClause *wc = lfirst(lc);

			if (wc->winref != wfunc->winref)
				continue;
			sortgroup_items(walk->ctx, walk->level, wc->partitionClause,
							query->targetList, KIND_GROUP, walk->out);
			sortgroup_items(walk->ctx, walk->level, wc->orderClause,
							query->targetList, KIND_GROUP, walk->out);
		}
		return false;
	}
	return expression_tree_walker(node, expr_walker, walk);
}

/*
 * expr_items
 *		Add to *out the base columns an expression of level reads, in role.
 */
static void
expr_items(AnalyzeContext *ctx, Level *level, Node *node, char role, List **out)
{
	ExprWalk	walk;

	walk.ctx = ctx;
	walk.level = level;
	walk.role = role;
	walk.out = out;
	walk.sublink = NULL;
	(void) expr_walker(node, &walk);
}

/* ----------------------------------------------------------------
 * Lineage pass: query levels
 * ---------------------------------------------------------------- */

/* Row-level items of the FROM clause: join conditions, WHERE, and the rows
 * decided inside subqueries, CTEs and views that it reads. */
static void
from_items(AnalyzeContext *ctx, Level *level, Node *node, QueryLineage *lineage)
{
	if (node == NULL)
		return;
	check_stack_depth();
	if (IsA(node, RangeTblRef))
	{
		QueryLineage *inner = rte_lineage(ctx, level, ((RangeTblRef *) node)->rtindex);

		if (inner != NULL)
			add_items(&lineage->rows, inner->rows, KIND_FILTER);
	}
	else if (IsA(node, JoinExpr))
	{
		JoinExpr   *join = (JoinExpr *) node;

		from_items(ctx, level, join->larg, lineage);
		from_items(ctx, level, join->rarg, lineage);
		expr_items(ctx, level, join->quals, KIND_JOIN, &lineage->rows);
	}
	else if (IsA(node, FromExpr))
	{
		FromExpr   *from = (FromExpr *) node;
		ListCell   *lc;

		foreach(lc, from->fromlist)
			from_items(ctx, level, lfirst(lc), lineage);
		expr_items(ctx, level, from->quals, KIND_FILTER, &lineage->rows);
	}
	else
		elog(ERROR, "unrecognized jointree node type: %d", (int) nodeTag(node));
}

/*
 * setop_items
 *		Column lineage of a set operation tree: UNION branches all flow; the
 *		right side of INTERSECT and EXCEPT only filters.
 */
static void
setop_items(AnalyzeContext *ctx, Level *level, Node *node, QueryLineage *lineage,
			char role)
{
	check_stack_depth();
	if (IsA(node, RangeTblRef))
	{
		QueryLineage *branch = rte_lineage(ctx, level, ((RangeTblRef *) node)->rtindex);

		/*
		 * A UNION branch flows column by column; the rows of the right side
		 * of INTERSECT or EXCEPT are compared whole, so each of its columns
		 * decides which rows there are.
		 */
		for (int i = 0; i < lineage->ncols && i < branch->ncols; i++)
			add_items(role == KIND_FILTER ? &lineage->rows : &lineage->cols[i],
					  branch->cols[i], role);
		add_items(&lineage->rows, branch->rows, KIND_FILTER);
	}
	else
	{
		SetOperationStmt *setop = castNode(SetOperationStmt, node);

		setop_items(ctx, level, setop->larg, lineage, role);
		setop_items(ctx, level, setop->rarg, lineage,
					setop->op == SETOP_UNION ? role : KIND_FILTER);
	}
}

/*
 * analyze_level
 *		Lineage of one query level; parent resolves outer references.
 */
static QueryLineage *
analyze_level(AnalyzeContext *ctx, Query *query, Level *parent)
{
	Level		level;
	QueryLineage *lineage = new_lineage(list_length(query->targetList));
	ListCell   *lc;

	check_stack_depth();
	level.query = query;
	level.parent = parent;
	level.rte_lineage = palloc0(sizeof(QueryLineage *) * (list_length(query->rtable) + 1));
	level.ctes = palloc0(sizeof(CteState) * (list_length(query->cteList) + 1));

	if (query->setOperations != NULL)
		setop_items(ctx, &level, query->setOperations, lineage, KIND_PROJECTION);
	else
	{
		from_items(ctx, &level, (Node *) query->jointree, lineage);
		foreach(lc, query->targetList)
		{
			TargetEntry *tle = lfirst(lc);

			expr_items(ctx, &level, (Node *) tle->expr, KIND_PROJECTION,
					   &lineage->cols[tle->resno - 1]);
		}
		sortgroup_items(ctx, &level, query->groupClause, query->targetList,
						KIND_GROUP, &lineage->rows);
		expr_items(ctx, &level, query->havingQual, KIND_FILTER, &lineage->rows);
		if (query->hasDistinctOn)
		{
			/* DISTINCT ON keeps the first row of each group in ORDER BY order */
			sortgroup_items(ctx, &level, query->distinctClause, query->targetList,
							KIND_GROUP, &lineage->rows);
			sortgroup_items(ctx, &level, query->sortClause, query->targetList,
							KIND_FILTER, &lineage->rows);
		}
	}

	/* With LIMIT or OFFSET, the ordering decides which rows survive. */
	if (query->limitCount != NULL || query->limitOffset != NULL)
	{
		expr_items(ctx, &level, query->limitCount, KIND_FILTER, &lineage->rows);
		expr_items(ctx, &level, query->limitOffset, KIND_FILTER, &lineage->rows);
		if (query->setOperations != NULL)
		{
			/*
			 * The sort keys of a set operation are its output columns, which
			 * every branch feeds: ORDER BY ... LIMIT picks rows of them all.
			 */
			foreach(lc, query->sortClause)
			{
				TargetEntry *tle = get_sortgroupclause_tle(lfirst(lc), query->targetList);

				add_items(&lineage->rows, lineage->cols[tle->resno - 1], KIND_FILTER);
			}
		}
		else
			sortgroup_items(ctx, &level, query->sortClause, query->targetList,
							KIND_FILTER, &lineage->rows);
	}

	/* Row-level items are never projection. */
	foreach(lc, lineage->rows)
	{
		LinItem    *item = lfirst(lc);

		if (item->kind == KIND_PROJECTION)
			item->kind = KIND_FILTER;
	}
	return lineage;
}

/* ----------------------------------------------------------------
 * Results
 * ---------------------------------------------------------------- */

static const char *
kind_name(char kind)
{
	switch (kind)
	{
		case KIND_PROJECTION:
			return "projection";
		case KIND_FILTER:
			return "filter";
		case KIND_JOIN:
			return "join";
		case KIND_GROUP:
			return "group";
	}
	elog(ERROR, "unknown lineage kind %c", kind);
	return NULL;				/* keep compiler quiet */
}

/* Does set hold (relid, attno) as projection? */
static bool
has_projection(List *set, Oid relid, AttrNumber attno)
{
	ListCell   *lc;

	foreach(lc, set)
	{
		LinItem    *item = lfirst(lc);

		if (item->relid == relid && item->attno == attno &&
			item->kind == KIND_PROJECTION)
			return true;
	}
	return false;
}

/*
 * lineage_rows
 *		Turn the top level's lineage into LineageRow *s: each output column
 *		gets its own items plus the level's row-level items; a column that
 *		is projection is not listed again with another kind.
 */
static List *
lineage_rows(Query *query, QueryLineage *lineage)
{
	List	   *rows = NIL;
	ListCell   *lc;
	int			ordinal = 0;

	foreach(lc, query->targetList)
	{
		TargetEntry *tle = lfirst(lc);
		List	   *set = NIL;
		ListCell   *li;

		if (tle->resjunk)
			continue;
		ordinal++;
		add_items(&set, lineage->cols[tle->resno - 1], KIND_PROJECTION);
		add_items(&set, lineage->rows, KIND_FILTER);
		foreach(li, set)
		{
			LinItem    *item = lfirst(li);
			LineageRow *row;

			if (item->kind != KIND_PROJECTION &&
				has_projection(set, item->relid, item->attno))
				continue;
			row = palloc(sizeof(LineageRow));
			row->column = pstrdup(tle->resname);
			row->ordinal = ordinal;
			row->src_schema = get_namespace_name(get_rel_namespace(item->relid));
			row->src_relation = get_rel_name(item->relid);
			row->src_column = get_attname(item->relid, item->attno, false);
			row->kind = kind_name(item->kind);
			rows = lappend(rows, row);
		}
	}
	return rows;
}

/*
 * AnalyzeLineageRows
 *		The column lineage of a model's analyzed query (LineageRow *s, in the
 *		caller's memory context).
 */
List *
AnalyzeLineageRows(AnalyzeContext *ctx, Query *query)
{
	return lineage_rows(query, analyze_level(ctx, query, NULL));
}
