/*-------------------------------------------------------------------------
 *
 * analyze_flatten.c
 *	  A model's bound query with the views it reads replaced by what they
 *	  read (issue 31): the tree the classes of maintained models are read
 *	  from (analyze_maintain.c), and the affected keys of a maintained
 *	  build computed from (changes_maintain.c), so that a table model
 *	  reading view models (joins of tables) is maintained from the row
 *	  deltas of the tables under them.
 *
 * A view read in the join tree of the query (a plain view, the published
 * view of a view model, the binding of an ephemeral model) is followed
 * when it is simple: one SELECT whose rows are those of its FROM and
 * WHERE, one output row per joined row, with no aggregate, grouping,
 * HAVING, DISTINCT, window function, set operation, LIMIT or OFFSET,
 * set-returning function in its output, subquery, WITH, row lock or
 * function that is not immutable, reading at least one relation.  It is
 * then flattened into the query, as the planner pulls up a simple
 * subquery:
 *
 *	- its range table goes after the query's, and every reference to one
 *	  of its entries (Vars, join tree references, join indexes) is shifted
 *	  by the query's former length;
 *	- every Var of the query that reads a column of the view becomes the
 *	  view's expression for that column;
 *	- its WHERE clause is ANDed to the query's, unless the view is on the
 *	  nullable side of an outer join (where it must filter the view's rows
 *	  before the join, not the joined rows after it): a row the view
 *	  drops is dropped from every row it is part of, whether it meets it
 *	  in an inner join or on the preserved side of an outer one;
 *	- its join tree takes the place of the view's reference: in a FROM
 *	  list, its FROM items join that list (and on the nullable side its
 *	  WHERE clause is ANDed to the list's); in an inner join, its one FROM
 *	  item takes the place (its WHERE clause, on the nullable side, in the
 *	  join's condition); anywhere else its FROM list (and WHERE clause)
 *	  stay together, as a subtree.
 *
 * Views over views are followed down (depth first, before the view is
 * flattened into its reader).  A view on the nullable side of an outer
 * join is followed only when each of its columns is a plain column: an
 * expression above a null-extended row would not be NULL (coalesce),
 * which only a placeholder could keep exact.
 *
 * Whose code is followed.  A view is code its owner decides; flattening
 * it bakes its definition into how the model is maintained.  A view is
 * followed only when its owner has the privileges of the model's owner
 * (the owner itself, a role that is a member of it, a superuser): the
 * rule trust.c applies to the functions a model's query calls.  A view
 * of another role, and a security_barrier view (whose conditions must
 * run before the reader's), are not followed: the model is rebuilt whole.
 * The view's entries keep the permission checks PostgreSQL gives them
 * (as the view's owner, or the reader for a security_invoker view), and
 * the view's own entry stays in the range table, unreferenced, so that
 * reading the view is still checked as the reader.  CHECK OPTION only
 * governs writes through a view: reading is the same with or without.
 *
 * The views are locked (AccessShareLock, to the end of the transaction)
 * as the rewriter locks them: their definitions cannot change while the
 * flattened query is used.  Across transactions they can; the caller
 * records each view's digest (AnalyzeViewDigest) with the state of its
 * build, and a build over a view whose digest changed is not maintained.
 *
 * Memory: everything is allocated in the caller's memory context.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/relation.h"
#include "catalog/pg_class.h"
#include "common/md5.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "parser/parsetree.h"
#include "rewrite/rewriteHandler.h"
#include "rewrite/rewriteManip.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "analyze.h"
#include "sqltext.h"

/* The state of one flattening. */
typedef struct Flatten
{
	Oid			owner;			/* the model owner */
	List	   *path;			/* OIDs of the views being followed, outermost first */
	List	   *views;			/* OIDs of every view followed, in the order met */
	const char *why;			/* why a view is not followed */
} Flatten;

/* A view read in a join tree. */
typedef struct ViewRead
{
	Index		rtindex;
	bool		nullable;		/* on the nullable side of an outer join */
} ViewRead;

static Query *flatten_query(Query *query, Flatten *fl);

/*
 * view_reads
 *		The views read by the join tree node of query, appended to *reads
 *		(ViewRead *); nullable: node is on the nullable side of an outer
 *		join.
 */
static void
view_reads(Query *query, Node *node, bool nullable, List **reads)
{
	ListCell   *lc;

	check_stack_depth();
	if (node == NULL)
		return;
	if (IsA(node, RangeTblRef))
	{
		Index		rtindex = ((RangeTblRef *) node)->rtindex;
		RangeTblEntry *rte = rt_fetch(rtindex, query->rtable);

		if (rte->rtekind == RTE_RELATION && rte->relkind == RELKIND_VIEW)
		{
			ViewRead   *read = palloc(sizeof(ViewRead));

			read->rtindex = rtindex;
			read->nullable = nullable;
			*reads = lappend(*reads, read);
		}
	}
	else if (IsA(node, JoinExpr))
	{
		JoinExpr   *join = (JoinExpr *) node;

		view_reads(query, join->larg,
				   nullable || join->jointype == JOIN_RIGHT || join->jointype == JOIN_FULL, reads);
		view_reads(query, join->rarg,
				   nullable || join->jointype == JOIN_LEFT || join->jointype == JOIN_FULL, reads);
	}
	else if (IsA(node, FromExpr))
	{
		foreach(lc, ((FromExpr *) node)->fromlist)
			view_reads(query, lfirst(lc), nullable, reads);
	}
}

/*
 * view_not_simple
 *		What makes the query of a view more than its FROM and WHERE (the
 *		end of "reads the view v, which ..."), or NULL when it is simple.
 */
static const char *
view_not_simple(Query *view)
{
	if (view->commandType != CMD_SELECT || view->utilityStmt != NULL)
		return "is not a SELECT";
	if (view->groupClause != NIL || view->groupingSets != NIL || view->havingQual != NULL)
		return "groups";
	if (view->hasAggs)
		return "aggregates";
	if (view->distinctClause != NIL)
		return "uses DISTINCT";
	if (view->hasWindowFuncs)
		return "uses a window function";
	if (view->setOperations != NULL)
		return "uses UNION, INTERSECT or EXCEPT";
	if (view->limitCount != NULL || view->limitOffset != NULL)
		return "uses LIMIT or OFFSET";
	if (view->hasTargetSRFs)
		return "returns the rows of a set-returning function";
	if (view->hasSubLinks)
		return "uses a subquery";
	if (view->cteList != NIL || view->hasRecursive)
		return "uses WITH";
	if (view->rowMarks != NIL || view->hasForUpdate)
		return "locks rows";
	if (view->jointree == NULL || view->jointree->fromlist == NIL)
		return "reads no table";
	if (contain_mutable_functions((Node *) view->targetList) ||
		contain_mutable_functions((Node *) view->jointree))
		return "calls a function that is not immutable";
	return NULL;
}

/*
 * replace_view_ref
 *		Put the join tree of view (its entries already shifted) where the
 *		join tree under *node reads rtindex (see the file header); true
 *		when it was found.
 */
static bool
replace_view_ref(Node **node, Index rtindex, FromExpr *view)
{
	ListCell   *lc;

	check_stack_depth();
	if (IsA(*node, FromExpr))
	{
		FromExpr   *from = (FromExpr *) *node;
		List	   *items = NIL;
		bool		found = false;

		foreach(lc, from->fromlist)
		{
			Node	   *item = lfirst(lc);

			if (!found && IsA(item, RangeTblRef) && ((RangeTblRef *) item)->rtindex == rtindex)
			{
				/* its FROM items join the list, its WHERE the list's */
				items = list_concat(items, view->fromlist);
				from->quals = make_and_qual(from->quals, view->quals);
				found = true;
				continue;
			}
			if (!found)
				found = replace_view_ref((Node **) &lfirst(lc), rtindex, view);
			items = lappend(items, lfirst(lc));
		}
		from->fromlist = items;
		return found;
	}
	if (IsA(*node, JoinExpr))
	{
		JoinExpr   *join = (JoinExpr *) *node;
		Node	  **sides[2] = {&join->larg, &join->rarg};

		for (int i = 0; i < 2; i++)
		{
			Node	   *side = *sides[i];

			if (IsA(side, RangeTblRef) && ((RangeTblRef *) side)->rtindex == rtindex)
			{
				if (list_length(view->fromlist) == 1 &&
					(view->quals == NULL || join->jointype == JOIN_INNER))
				{
					/* one FROM item in its place, its WHERE in the join's condition */
					*sides[i] = linitial(view->fromlist);
					join->quals = make_and_qual(join->quals, view->quals);
				}
				else
					*sides[i] = (Node *) view;
				return true;
			}
			if (replace_view_ref(sides[i], rtindex, view))
				return true;
		}
	}
	return false;
}

/*
 * flatten_view
 *		Flatten the view query reads at read into query (see the file
 *		header): the new query, or NULL with fl->why.
 */
static Query *
flatten_view(Query *query, ViewRead *read, Flatten *fl)
{
	RangeTblEntry *rte = rt_fetch(read->rtindex, query->rtable);
	Relation	rel = relation_open(rte->relid, AccessShareLock);
	char	   *name = SqlRelationName(rte->relid);
	Oid			viewowner = rel->rd_rel->relowner;
	bool		barrier = RelationIsSecurityView(rel);
	Query	   *view;
	const char *why;
	int			offset;
	bool		sublinks = false;
	ListCell   *lc;

	view = copyObject(get_view_query(rel));
	relation_close(rel, NoLock);
	if (!has_privs_of_role(viewowner, fl->owner))
	{
		fl->why = psprintf("reads the view %s of role %s (a view of another role is not followed)",
						   name, quote_identifier(GetUserNameFromId(viewowner, false)));
		return NULL;
	}
	if (barrier)
	{
		fl->why = psprintf("reads the view %s, a security_barrier view", name);
		return NULL;
	}
	if (list_member_oid(fl->path, rte->relid))
	{
		fl->why = psprintf("reads the view %s, which reads itself", name);
		return NULL;
	}
	why = view_not_simple(view);
	if (why != NULL)
	{
		fl->why = psprintf("reads the view %s, which %s", name, why);
		return NULL;
	}

	/* the views it reads first, as the rewriter locks and expands them */
	AcquireRewriteLocks(view, true, false);
	fl->views = lappend_oid(fl->views, rte->relid);
	fl->path = lappend_oid(fl->path, rte->relid);
	view = flatten_query(view, fl);
	fl->path = list_delete_last(fl->path);
	if (view == NULL)
		return NULL;

	/* on the nullable side of an outer join, only plain columns stay exact */
	if (read->nullable)
	{
		foreach(lc, view->targetList)
		{
			TargetEntry *tle = lfirst(lc);

			if (!tle->resjunk && !(IsA(tle->expr, Var) && ((Var *) tle->expr)->varlevelsup == 0))
			{
				fl->why = psprintf("reads the view %s on the nullable side of an outer join, and its column %s is computed",
								   name, quote_identifier(tle->resname));
				return NULL;
			}
		}
	}

	/* its entries after the query's; the view's columns as its expressions */
	offset = list_length(query->rtable);
	OffsetVarNodes((Node *) view, offset, 0);
	query = (Query *) ReplaceVarsFromTargetList((Node *) query, read->rtindex, 0, rte,
												view->targetList, REPLACEVARS_REPORT_ERROR, 0,
												&sublinks);
	query->hasSubLinks = query->hasSubLinks || sublinks;
	query->rtable = list_concat(query->rtable, view->rtable);
	if (!read->nullable)
	{
		/* its WHERE filters the query's rows as it filtered the view's */
		query->jointree->quals = make_and_qual(query->jointree->quals, view->jointree->quals);
		view->jointree->quals = NULL;
	}
	if (!replace_view_ref((Node **) &query->jointree, read->rtindex, view->jointree))
		elog(ERROR, "view %s is not in the join tree that reads it", name);
	return query;
}

/*
 * flatten_query
 *		query (a copy the caller owns), with every view its join tree reads
 *		flattened into it; NULL with fl->why when one cannot be.
 */
static Query *
flatten_query(Query *query, Flatten *fl)
{
	List	   *reads = NIL;
	ListCell   *lc;

	check_stack_depth();
	view_reads(query, (Node *) query->jointree, false, &reads);
	foreach(lc, reads)
	{
		query = flatten_view(query, lfirst(lc), fl);
		if (query == NULL)
			return NULL;
	}
	return query;
}

/*
 * AnalyzeFlattenViews
 *		query, a model's bound query (not rewritten), with every view its
 *		join tree reads, and every view those read, replaced by what it
 *		reads (see the file header): a new Query, with the OIDs of the
 *		views followed in *views, outermost first; or NULL with *why, in
 *		words ("reads the view x, which groups"), when a view cannot be
 *		followed.  owner: the model owner, whose privileges a view's owner
 *		must have.  Every relation read is locked as the rewriter locks it.
 *		Allocated in the caller's memory context.
 */
Query *
AnalyzeFlattenViews(Query *query, Oid owner, List **views, const char **why)
{
	Flatten		fl;
	Query	   *flat = copyObject(query);

	memset(&fl, 0, sizeof(fl));
	fl.owner = owner;
	AcquireRewriteLocks(flat, true, false);
	flat = flatten_query(flat, &fl);
	*views = fl.views;
	*why = fl.why;
	return flat;
}

/*
 * AnalyzeViewDigest
 *		"view <oid> <md5>": the view and an md5 of its definition as
 *		PostgreSQL loads it (its query, with the permission checks its
 *		owner gives it).  Two digests differ when the view was redefined
 *		in between, or changed owner.  Palloc'd.
 */
char *
AnalyzeViewDigest(Oid view)
{
	Relation	rel = relation_open(view, AccessShareLock);
	char	   *text = nodeToString(get_view_query(rel));
	char		hex[33];
	const char *errstr = NULL;

	relation_close(rel, NoLock);
	if (!pg_md5_hash(text, strlen(text), hex, &errstr))
		elog(ERROR, "could not compute md5: %s", errstr);
	return psprintf("view %u %s", view, hex);
}
