/*-------------------------------------------------------------------------
 *
 * analyze.c
 *	  Parse analysis of model SQL: validation, dependencies and column
 *	  lineage, all from PostgreSQL's own parser.
 *
 * A model's SQL is parsed (pg_parse_query), must be exactly one plain query,
 * and is analyzed (parse_analyze_fixedparams) but not rewritten, so views
 * stay visible as range table entries.  Two passes then walk the analyzed
 * tree:
 *
 * - The dependency pass visits every range table entry at every level
 *   (subqueries, CTEs, sublinks) and records each relation read.  Plain
 *   views that are not models are read through: the view is recorded, then
 *   its own query is visited with "via" naming the view.  The pass also
 *   checks that the current user (the model owner) may read what the query
 *   reads, as the executor would.
 *
 * - The lineage pass computes, for every output column of every query
 *   level, the set of base columns (relation OID, attribute number, kind)
 *   it derives from.  "projection" items flow values; "filter", "join" and
 *   "group" items only decide which rows or groups exist.  Each query level
 *   also has row-level items (WHERE, JOIN ON, GROUP BY, HAVING, DISTINCT ON,
 *   LIMIT) that apply to all its output columns.  Var references are
 *   resolved through subqueries, CTEs (a fixpoint for recursive ones), join
 *   alias variables, functions, VALUES and read-through views.  The rules
 *   are documented in the README ("Column lineage").
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
#include "bind.h"
#include "catalog.h"

/* Kinds of lineage items, as one character while analyzing. */
#define KIND_PROJECTION 'p'
#define KIND_FILTER		'f'
#define KIND_JOIN		'j'
#define KIND_GROUP		'g'

/* Nested read-through views deeper than this are reported as an error. */
#define MAX_VIEW_DEPTH	64

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

/* A relation read by the model. */
typedef struct DepItem
{
	Oid			relid;
	const char *kind;
	char	   *via;
} DepItem;

/* State shared by both passes. */
typedef struct AnalyzeContext
{
	List	   *model_relids;	/* OIDs of the models' published relations */
	List	   *model_names;	/* parallel to model_relids */
	List	   *model_schemas;	/* parallel to model_relids: the models' layer schemas */
	List	   *ephemeral_relids;	/* bindings of ephemeral models: read through */
	List	   *sources;		/* of SourceDef * */
	List	   *deps;			/* of DepItem * */
	/* dependency pass */
	char	   *via;			/* view path being read through, or NULL */
	Oid			skip_relid;		/* the view being read through (its OLD/NEW) */
	int			view_depth;
} AnalyzeContext;

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

/*
 * model_error_callback
 *		Adds "model x" to errors and moves a cursor position into the model
 *		SQL (instead of the calling statement), as SQL functions do.
 */
static void
model_error_callback(void *arg)
{
	SqlErrorContext *sec = (SqlErrorContext *) arg;
	int			position = geterrposition();

	if (position > 0 && sec->sql != NULL)
	{
		errposition(0);
		internalerrposition(position);
		internalerrquery(sec->sql);
	}
	errcontext("%s", sec->what);
}

/*
 * AnalyzePushErrorContext
 *		Until AnalyzePopErrorContext, errors get the context line "what" and
 *		their cursor position points into sql (not the calling statement).
 */
void
AnalyzePushErrorContext(SqlErrorContext *sec, const char *what, const char *sql)
{
	sec->what = what;
	sec->sql = sql;
	sec->callback.callback = model_error_callback;
	sec->callback.arg = sec;
	sec->callback.previous = error_context_stack;
	error_context_stack = &sec->callback;
}

void
AnalyzePopErrorContext(SqlErrorContext *sec)
{
	error_context_stack = sec->callback.previous;
}

/*
 * AnalyzeSearchPathText
 *		search_path text for the schemas of a search_path (a List of char *
 *		as SplitIdentifierString gives), leaving out temporary schemas: no
 *		path medallion stores or sets names pg_temp but last.
 */
char *
AnalyzeSearchPathText(List *schemas)
{
	StringInfoData path;
	ListCell   *lc;

	initStringInfo(&path);
	foreach(lc, schemas)
	{
		char	   *elem = lfirst(lc);

		if (strcmp(elem, "pg_temp") == 0 || strncmp(elem, "pg_temp_", 8) == 0)
			continue;
		appendStringInfo(&path, "%s%s", path.len > 0 ? ", " : "",
						 strcmp(elem, "$user") == 0 ? "\"$user\"" : quote_identifier(elem));
	}
	return path.data;
}

/*
 * AnalyzeSearchPathSchemas
 *		The schemas of search_path text, as a List of char *.
 */
List *
AnalyzeSearchPathSchemas(const char *search_path)
{
	List	   *elems;

	if (!SplitIdentifierString(pstrdup(search_path), ',', &elems))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("search_path \"%s\" cannot be parsed", search_path)));
	return elems;
}

/*
 * AnalyzeEnterSearchPath
 *		Set search_path for the current GUC nest level: the given path with
 *		any temporary schema taken out and pg_temp named last, so that no
 *		temporary object is ever found before another; returns the nest
 *		level to pass to AnalyzeLeaveSearchPath.
 */
int
AnalyzeEnterSearchPath(const char *search_path)
{
	int			nestlevel = NewGUCNestLevel();
	char	   *path = AnalyzeSearchPathText(AnalyzeSearchPathSchemas(search_path));

	(void) set_config_option("search_path", psprintf("%s%spg_temp", path, path[0] ? ", " : ""),
							 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
							 true, 0, false);
	return nestlevel;
}

void
AnalyzeLeaveSearchPath(int nestlevel)
{
	AtEOXact_GUC(true, nestlevel);
}

/* ----------------------------------------------------------------
 * Validation
 * ---------------------------------------------------------------- */

static void
reject_model_sql(const char *detail, const char *hint)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
			 errmsg("model SQL must be a single plain query"),
			 errdetail_internal("%s", detail),
			 hint ? errhint("%s", hint) : 0));
}

/*
 * check_raw_sql
 *		Parse model SQL and check that it is exactly one plain SELECT;
 *		returns the raw statement.
 */
static RawStmt *
check_raw_sql(const char *sql)
{
	List	   *raw;
	RawStmt    *rawstmt;

	raw = pg_parse_query(sql);
	if (list_length(raw) == 0)
		reject_model_sql("The SQL text is empty.", "Write one SELECT statement.");
	if (list_length(raw) > 1)
		reject_model_sql(psprintf("The SQL text holds %d statements.", list_length(raw)),
						 "A model is one SELECT statement; split it into several models or use CTEs.");
	rawstmt = linitial_node(RawStmt, raw);
	if (!IsA(rawstmt->stmt, SelectStmt))
		reject_model_sql(psprintf("The statement is %s.",
								  GetCommandTagName(CreateCommandTag(rawstmt->stmt))),
						 "Models are defined by a SELECT statement; medallion creates and fills the relation.");
	if (((SelectStmt *) rawstmt->stmt)->intoClause != NULL)
		reject_model_sql("SELECT INTO creates a table.",
						 "Remove the INTO clause; medallion creates the model's relation.");
	return rawstmt;
}

/* Is funcid in a temporary schema? */
static bool
temp_function_checker(Oid funcid, void *context)
{
	return isAnyTempNamespace(get_func_namespace(funcid));
}

static bool
temp_function_walker(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, Query))
		return query_tree_walker((Query *) node, temp_function_walker, context, 0);
	if (check_functions_in_node(node, temp_function_checker, context))
		return true;
	return expression_tree_walker(node, temp_function_walker, context);
}

/*
 * parse_model_sql
 *		Parse and analyze model SQL; returns the analyzed query.  Rejects
 *		anything but exactly one plain SELECT.
 */
static Query *
parse_model_sql(const char *sql)
{
	RawStmt    *rawstmt = check_raw_sql(sql);
	Query	   *query;

	query = parse_analyze_fixedparams(rawstmt, sql, NULL, 0, NULL);
	if (query->commandType != CMD_SELECT || query->utilityStmt != NULL)
		reject_model_sql("The statement is not a plain query.", NULL);
	if (query->hasModifyingCTE)
		reject_model_sql("The query has a data-modifying WITH clause.",
						 "Models must not write data; use a separate step for that.");
	if (isQueryUsingTempRelation(query) ||
		check_functions_in_node((Node *) query, temp_function_checker, NULL) ||
		query_tree_walker(query, temp_function_walker, NULL, 0))
		reject_model_sql("The query reads a temporary relation or calls a temporary function.",
						 "A model outlives the session: read permanent relations only.");
	return query;
}

/*
 * check_columns
 *		Returns the output columns of the query; each must have a unique,
 *		explicit name so that it can become a table column.
 */
static List *
check_columns(Query *query)
{
	List	   *columns = NIL;
	ListCell   *lc;

	foreach(lc, query->targetList)
	{
		TargetEntry *tle = lfirst(lc);
		ModelColumn *col;
		ListCell   *prev;

		if (tle->resjunk)
			continue;
		if (tle->resname == NULL || strcmp(tle->resname, "?column?") == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_COLUMN_DEFINITION),
					 errmsg("output column %d of the model query has no name", tle->resno),
					 errhint("Give the expression an alias with AS.")));
		foreach(prev, columns)
		{
			if (strcmp(((ModelColumn *) lfirst(prev))->name, tle->resname) == 0)
				ereport(ERROR,
						(errcode(ERRCODE_DUPLICATE_COLUMN),
						 errmsg("the model query has more than one column named \"%s\"",
								tle->resname),
						 errhint("Give the columns distinct aliases with AS.")));
		}
		col = palloc(sizeof(ModelColumn));
		col->name = pstrdup(tle->resname);
		col->type = exprType((Node *) tle->expr);
		col->typmod = exprTypmod((Node *) tle->expr);
		col->collation = exprCollation((Node *) tle->expr);
		columns = lappend(columns, col);
	}
	return columns;
}

/* ----------------------------------------------------------------
 * Classification of relations
 * ---------------------------------------------------------------- */

/* The model published as relid, or NULL. */
static const char *
model_of_relation(AnalyzeContext *ctx, Oid relid)
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

static bool
is_source_relation(AnalyzeContext *ctx, Oid relid)
{
	char	   *schema = get_namespace_name(get_rel_namespace(relid));
	char	   *relname = get_rel_name(relid);
	ListCell   *lc;

	foreach(lc, ctx->sources)
	{
		SourceDef  *source = lfirst(lc);
		ListCell   *lt;

		if (strcmp(source->local_schema, schema) != 0)
			continue;
		if (source->tables == NIL)
			return true;
		foreach(lt, source->tables)
		{
			if (strcmp((char *) lfirst(lt), relname) == 0)
				return true;
		}
	}
	return false;
}

/*
 * Is relid a view that lineage reads through: a plain view (not a model),
 * or the binding of an ephemeral model?
 */
static bool
is_read_through_view(AnalyzeContext *ctx, Oid relid)
{
	return (get_rel_relkind(relid) == RELKIND_VIEW &&
			model_of_relation(ctx, relid) == NULL) ||
		list_member_oid(ctx->ephemeral_relids, relid);
}

/* A copy of a view's query (its _RETURN rule). */
static Query *
view_query(Oid relid)
{
	Relation	rel = table_open(relid, AccessShareLock);
	Query	   *query = copyObject(get_view_query(rel));

	table_close(rel, AccessShareLock);
	return query;
}

static char *
qualified_name(Oid relid)
{
	return psprintf("%s.%s", get_namespace_name(get_rel_namespace(relid)),
					get_rel_name(relid));
}

/* ----------------------------------------------------------------
 * Dependency pass
 * ---------------------------------------------------------------- */

static bool deps_walker(Node *node, AnalyzeContext *ctx);

static void
add_dependency(AnalyzeContext *ctx, Oid relid, const char *kind)
{
	const char *via = ctx->via ? ctx->via : "";
	ListCell   *lc;
	DepItem    *dep;

	foreach(lc, ctx->deps)
	{
		dep = lfirst(lc);
		if (dep->relid == relid && strcmp(dep->via, via) == 0)
			return;
	}
	dep = palloc(sizeof(DepItem));
	dep->relid = relid;
	dep->kind = kind;
	dep->via = pstrdup(via);
	ctx->deps = lappend(ctx->deps, dep);
}

/*
 * deps_relation
 *		Record one relation range table entry; read through plain views.
 */
static void
deps_relation(AnalyzeContext *ctx, RangeTblEntry *rte)
{
	Oid			relid = rte->relid;

	if (relid == ctx->skip_relid)
		return;					/* OLD/NEW entries of the view being read */

	/*
	 * The model's own query runs with the owner's privileges; what a view
	 * reads is checked as the view owner when the view is used, so only the
	 * top level is checked here.
	 */
	if (ctx->via == NULL && !ExecCheckRTPerms(list_make1(rte), false))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("model owner \"%s\" cannot read relation \"%s\"",
						GetUserNameFromId(GetUserId(), false), qualified_name(relid)),
				 errdetail("Model SQL runs with the privileges of its owner."),
				 errhint("GRANT SELECT on the relation to the model owner, or define the model as a role that can read it.")));

	if (list_member_oid(ctx->ephemeral_relids, relid))
	{
		Oid			save_skip = ctx->skip_relid;

		/* an ephemeral model: what it reads is read here too */
		add_dependency(ctx, relid, "model");
		ctx->skip_relid = relid;
		(void) deps_walker((Node *) view_query(relid), ctx);
		ctx->skip_relid = save_skip;
	}
	else if (model_of_relation(ctx, relid) != NULL)
		add_dependency(ctx, relid, "model");
	else if (is_source_relation(ctx, relid))
		add_dependency(ctx, relid, "source");
	else if (get_rel_relkind(relid) == RELKIND_VIEW)
	{
		char	   *save_via = ctx->via;
		Oid			save_skip = ctx->skip_relid;

		add_dependency(ctx, relid, "view");
		if (++ctx->view_depth > MAX_VIEW_DEPTH)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("views are nested more than %d deep below the model",
							MAX_VIEW_DEPTH)));
		ctx->via = save_via ? psprintf("%s > %s", save_via, qualified_name(relid))
			: qualified_name(relid);
		ctx->skip_relid = relid;
		(void) deps_walker((Node *) view_query(relid), ctx);
		ctx->via = save_via;
		ctx->skip_relid = save_skip;
		ctx->view_depth--;
	}
	else
		add_dependency(ctx, relid, "relation");
}

static bool
deps_walker(Node *node, AnalyzeContext *ctx)
{
	if (node == NULL)
		return false;
	check_stack_depth();
	if (IsA(node, Query))
	{
		Query	   *query = (Query *) node;
		ListCell   *lc;

		if (ctx->via == NULL && query->rowMarks != NIL)
			reject_model_sql("The query has a locking clause (FOR UPDATE, FOR SHARE, ...).",
							 "Remove the locking clause; models only read.");
		foreach(lc, query->rtable)
		{
			RangeTblEntry *rte = lfirst(lc);

			if (rte->rtekind == RTE_RELATION)
				deps_relation(ctx, rte);
		}
		return query_tree_walker(query, deps_walker, ctx, 0);
	}
	return expression_tree_walker(node, deps_walker, ctx);
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
			if (!is_read_through_view(ctx, rte->relid))
				return NULL;
			if (*cached == NULL)
			{
				check_stack_depth();
				*cached = analyze_level(ctx, view_query(rte->relid), NULL);
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
			if (is_read_through_view(ctx, rte->relid))
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

static int
compare_strings(const ListCell *a, const ListCell *b)
{
	return strcmp((char *) lfirst(a), (char *) lfirst(b));
}

static bool
string_member(List *strings, const char *s)
{
	ListCell   *lc;

	foreach(lc, strings)
	{
		if (strcmp((char *) lfirst(lc), s) == 0)
			return true;
	}
	return false;
}

/*
 * AnalyzeParseModel
 *		Parse and analyze a model's SQL as the current user (the model
 *		owner), under its stored search_path followed by medallion_bind
 *		(where ephemeral models are bound) and pg_temp, last.  Rejects
 *		anything but one plain query, with the position inside the model
 *		SQL for syntax errors.  This is the only place a model's text is
 *		read: the result is bound (bind.c) and never parsed again.
 */
Query *
AnalyzeParseModel(const char *name, const char *sql, const char *search_path)
{
	SqlErrorContext sec;
	int			nestlevel;
	Query	   *query;

	AnalyzePushErrorContext(&sec, psprintf("model \"%s\"", name), sql);
	nestlevel = AnalyzeEnterSearchPath(psprintf("%s, %s", search_path, MEDALLION_BIND_SCHEMA));
	query = parse_model_sql(sql);
	(void) check_columns(query);
	AnalyzeLeaveSearchPath(nestlevel);
	AnalyzePopErrorContext(&sec);
	return query;
}

/*
 * AnalyzeDerive
 *		What a model's analyzed query reads (dependencies), its output
 *		columns and their lineage, as the current user (the model owner).
 *		binding is the view the query was read from (its own "old" and "new"
 *		entries are skipped), or InvalidOid for a query just parsed.
 *		models (ModelDef *) and sources (SourceDef *) classify the relations
 *		read; an ephemeral model is read through its binding.  Returns a
 *		palloc'd AnalyzedModel.
 */
AnalyzedModel *
AnalyzeDerive(const char *name, Query *query, Oid binding, List *models, List *sources)
{
	AnalyzedModel *result = palloc0(sizeof(AnalyzedModel));
	AnalyzeContext ctx;
	SqlErrorContext sec;
	ListCell   *lc;

	memset(&ctx, 0, sizeof(ctx));
	ctx.sources = sources;
	ctx.skip_relid = binding;
	AnalyzePushErrorContext(&sec, psprintf("model \"%s\"", name), NULL);
	foreach(lc, models)
	{
		ModelDef   *model = lfirst(lc);
		bool		ephemeral = strcmp(model->materialized, "ephemeral") == 0;
		Oid			relid;

		if (ephemeral)
			relid = BindRelid(model->name);
		else
		{
			Oid			nsp = get_namespace_oid(model->schema, true);

			relid = OidIsValid(nsp) ? get_relname_relid(model->name, nsp) : InvalidOid;
		}
		if (!OidIsValid(relid))
			continue;
		ctx.model_relids = lappend_oid(ctx.model_relids, relid);
		ctx.model_names = lappend(ctx.model_names, model->name);
		ctx.model_schemas = lappend(ctx.model_schemas, model->schema);
		if (ephemeral)
			ctx.ephemeral_relids = lappend_oid(ctx.ephemeral_relids, relid);
	}

	result->query = query;
	result->binding = binding;
	result->columns = check_columns(query);
	(void) deps_walker((Node *) query, &ctx);
	result->lineage = lineage_rows(query, analyze_level(&ctx, query, NULL));

	foreach(lc, ctx.deps)
	{
		DepItem    *dep = lfirst(lc);
		DependencyRow *row = palloc0(sizeof(DependencyRow));
		const char *model = model_of_relation(&ctx, dep->relid);

		row->schema = get_namespace_name(get_rel_namespace(dep->relid));
		row->name = get_rel_name(dep->relid);
		if (model != NULL)
		{
			/* a model is named by its layer schema, ephemeral ones too */
			ListCell   *lr,
					   *ls;

			forboth(lr, ctx.model_relids, ls, ctx.model_schemas)
			{
				if (lfirst_oid(lr) == dep->relid)
					row->schema = pstrdup(lfirst(ls));
			}
			row->name = pstrdup(model);
		}
		row->kind = pstrdup(dep->kind);
		row->via = dep->via;
		result->dependencies = lappend(result->dependencies, row);
		if (model != NULL && !string_member(result->upstream_models, model))
			result->upstream_models = lappend(result->upstream_models, pstrdup(model));
	}
	list_sort(result->upstream_models, compare_strings);
	AnalyzePopErrorContext(&sec);
	return result;
}

/*
 * AnalyzeModel
 *		Parse a model's SQL (AnalyzeParseModel) and derive what it reads
 *		(AnalyzeDerive): what defining a model does before binding it.
 */
AnalyzedModel *
AnalyzeModel(const char *name, const char *sql, const char *search_path,
			 List *models, List *sources)
{
	return AnalyzeDerive(name, AnalyzeParseModel(name, sql, search_path), InvalidOid,
						 models, sources);
}

/*
 * AnalyzeQuery
 *		Parse and analyze SQL that must be one plain query (a test's SQL),
 *		under the current search_path; returns the analyzed query.  what
 *		names it in error context lines.
 */
Query *
AnalyzeQuery(const char *sql, const char *what)
{
	SqlErrorContext sec;
	Query	   *query;

	AnalyzePushErrorContext(&sec, what, sql);
	query = parse_model_sql(sql);
	AnalyzePopErrorContext(&sec);
	return query;
}

/* ----------------------------------------------------------------
 * Redirection (runs)
 * ---------------------------------------------------------------- */

typedef struct RedirectContext
{
	List	   *from;			/* OIDs of published relations */
	List	   *to;				/* OIDs of their candidates */
	int			count;			/* references redirected */
} RedirectContext;

static bool
redirect_walker(Node *node, RedirectContext *ctx)
{
	if (node == NULL)
		return false;
	if (IsA(node, Query))
	{
		Query	   *query = (Query *) node;
		ListCell   *lc;

		foreach(lc, query->rtable)
		{
			RangeTblEntry *rte = lfirst(lc);
			ListCell   *lf,
					   *lt;

			if (rte->rtekind != RTE_RELATION)
				continue;
			forboth(lf, ctx->from, lt, ctx->to)
			{
				if (rte->relid == lfirst_oid(lf))
				{
					rte->relid = lfirst_oid(lt);
					rte->relkind = get_rel_relkind(rte->relid);
					ctx->count++;
					break;
				}
			}
		}
		return query_tree_walker(query, redirect_walker, ctx, 0);
	}
	return expression_tree_walker(node, redirect_walker, ctx);
}

/*
 * AnalyzeRedirect
 *		Point every reference to a relation of from (OIDs) at the relation
 *		of to at the same position, at every level of the analyzed query, so
 *		that a model reads the candidates of this run.  Returns whether
 *		anything was redirected.  The candidates have the same columns at
 *		the same positions as what they replace.
 */
bool
AnalyzeRedirect(Query *query, List *from, List *to)
{
	RedirectContext ctx;

	ctx.from = from;
	ctx.to = to;
	ctx.count = 0;
	(void) redirect_walker((Node *) query, &ctx);
	return ctx.count > 0;
}
