/*-------------------------------------------------------------------------
 *
 * analyze.c
 *	  Parse analysis of model SQL: validation, dependencies and column
 *	  lineage, all from PostgreSQL's own parser.
 *
 * A model's SQL is parsed (pg_parse_query), must be exactly one plain query,
 * and is analyzed (parse_analyze_fixedparams) but not rewritten, so views
 * stay visible as range table entries; this happens only when a model is
 * defined or re-bound by its owner (bind.c stores the result).  Two passes
 * then walk the analyzed tree (or, later, the bound one):
 *
 * - The dependency pass (here) visits every range table entry at every
 *   level (subqueries, CTEs, sublinks) and records each relation read.
 *   Plain views that are not models are read through: the view is
 *   recorded, then its own query is visited with "via" naming the view.
 *   The pass also checks that the current user (the model owner) may read
 *   what the query reads, as the executor would.
 *
 * - The lineage pass (analyze_lineage.c) derives each output column's
 *   base columns.
 *
 * This file also redirects a query's reads of rebuilt tables to their
 * candidates (AnalyzeRedirect), and sets the search_path of definitions
 * with pg_temp last.
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
#include "relation.h"
#include "scope.h"

/* A relation read by the model. */
typedef struct DepItem
{
	Oid			relid;
	const char *kind;
	char	   *via;
} DepItem;



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
		(void) deps_walker((Node *) AnalyzeViewQuery(relid), ctx);
		ctx->skip_relid = save_skip;
	}
	else if (AnalyzeModelOf(ctx, relid) != NULL)
		add_dependency(ctx, relid, "model");
	else if (is_source_relation(ctx, relid))
		add_dependency(ctx, relid, "source");
	else if (get_rel_relkind(relid) == RELKIND_VIEW)
	{
		char	   *save_via = ctx->via;
		Oid			save_skip = ctx->skip_relid;

		add_dependency(ctx, relid, "view");
		if (++ctx->view_depth > ANALYZE_MAX_VIEW_DEPTH)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("views are nested more than %d deep below the model",
							ANALYZE_MAX_VIEW_DEPTH)));
		ctx->via = save_via ? psprintf("%s > %s", save_via, qualified_name(relid))
			: qualified_name(relid);
		ctx->skip_relid = relid;
		(void) deps_walker((Node *) AnalyzeViewQuery(relid), ctx);
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
	nestlevel = ScopeEnterSearchPath(psprintf("%s, %s", search_path, MEDALLION_BIND_SCHEMA));
	query = parse_model_sql(sql);
	(void) check_columns(query);
	ScopeLeaveSearchPath(nestlevel);
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
		bool		ephemeral = model->kind == MAT_EPHEMERAL;
		Oid			relid;

		if (ephemeral)
			relid = RelBinding(model->name);
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
	result->lineage = AnalyzeLineageRows(&ctx, query);

	foreach(lc, ctx.deps)
	{
		DepItem    *dep = lfirst(lc);
		DependencyRow *row = palloc0(sizeof(DependencyRow));
		const char *model = AnalyzeModelOf(&ctx, dep->relid);

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

/*
 * column_source
 *		Follow expr, an expression of query, to the table columns whose
 *		values it takes, unchanged, appending each table's OID to *relids
 *		and the column's number to *attnums: a Var, through subqueries
 *		(views expanded), CTEs and join aliases, down to a plain or
 *		partitioned table; or GREATEST of such columns of its own type,
 *		which is never below a non-null argument.  False for anything else:
 *		another expression, a cast, an aggregate, a set operation, a merged
 *		join column, an outer query's column.
 */
static bool
column_source(Query *query, Expr *expr, List **relids, List **attnums, int depth)
{
	Var		   *var;
	RangeTblEntry *rte;

	check_stack_depth();
	if (expr == NULL || depth > ANALYZE_MAX_VIEW_DEPTH)
		return false;
	if (IsA(expr, MinMaxExpr) && ((MinMaxExpr *) expr)->op == IS_GREATEST)
	{
		MinMaxExpr *greatest = (MinMaxExpr *) expr;
		ListCell   *lc;

		foreach(lc, greatest->args)
		{
			if (exprType(lfirst(lc)) != greatest->minmaxtype ||
				!column_source(query, lfirst(lc), relids, attnums, depth + 1))
				return false;
		}
		return true;
	}
	if (!IsA(expr, Var))
		return false;
	var = (Var *) expr;
	if (var->varlevelsup != 0 || var->varattno <= 0 || query->setOperations != NULL ||
		var->varno < 1 || var->varno > list_length(query->rtable))
		return false;
	rte = rt_fetch(var->varno, query->rtable);
	switch (rte->rtekind)
	{
		case RTE_RELATION:
			if (rte->relkind != RELKIND_RELATION && rte->relkind != RELKIND_PARTITIONED_TABLE)
				return false;
			*relids = lappend_oid(*relids, rte->relid);
			*attnums = lappend_int(*attnums, var->varattno);
			return true;
		case RTE_SUBQUERY:
			{
				TargetEntry *te = get_tle_by_resno(rte->subquery->targetList, var->varattno);

				return te != NULL && !te->resjunk &&
					column_source(rte->subquery, te->expr, relids, attnums, depth + 1);
			}
		case RTE_JOIN:
			if (var->varattno > list_length(rte->joinaliasvars))
				return false;
			return column_source(query, list_nth(rte->joinaliasvars, var->varattno - 1),
								 relids, attnums, depth + 1);
		case RTE_CTE:
			{
				ListCell   *lc;

				if (rte->ctelevelsup != 0 || rte->self_reference)
					return false;
				foreach(lc, query->cteList)
				{
					CommonTableExpr *cte = lfirst_node(CommonTableExpr, lc);
					Query	   *ctequery = (Query *) cte->ctequery;
					TargetEntry *te;

					if (strcmp(cte->ctename, rte->ctename) != 0)
						continue;
					if (cte->cterecursive || !IsA(ctequery, Query) ||
						ctequery->commandType != CMD_SELECT)
						return false;
					te = get_tle_by_resno(ctequery->targetList, var->varattno);
					return te != NULL && !te->resjunk &&
						column_source(ctequery, te->expr, relids, attnums, depth + 1);
				}
				return false;
			}
		default:
			return false;
	}
}

/*
 * AnalyzeColumnSources
 *		The table columns that the output column named column of query (an
 *		analyzed model query, not rewritten) takes its values from,
 *		unchanged, through the views, subqueries and CTEs it reads: one
 *		column, or the arguments of GREATEST(...).  Sets *relids and
 *		*attnums (in step, a table may come twice) and returns true; false
 *		when the column is computed otherwise (see column_source).  Every
 *		row built from a row written with a value v in one of them has a
 *		value at least v there: an incremental model's rows past its
 *		watermark are then found from the rows written to those tables
 *		(build_incremental.c).
 */
bool
AnalyzeColumnSources(Query *query, const char *column, List **relids, List **attnums)
{
	Query	   *copy = copyObject(query);
	List	   *rewritten;
	ListCell   *lc;

	*relids = *attnums = NIL;
	AcquireRewriteLocks(copy, true, false);
	rewritten = QueryRewrite(copy);
	if (list_length(rewritten) != 1)
		return false;
	copy = linitial_node(Query, rewritten);
	foreach(lc, copy->targetList)
	{
		TargetEntry *te = lfirst_node(TargetEntry, lc);

		if (!te->resjunk && te->resname != NULL && strcmp(te->resname, column) == 0)
			return column_source(copy, te->expr, relids, attnums, 0);
	}
	return false;
}

static bool
reads_foreign_walker(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, RangeTblEntry))
	{
		RangeTblEntry *rte = (RangeTblEntry *) node;

		return rte->rtekind == RTE_RELATION && rte->relkind == RELKIND_FOREIGN_TABLE;
	}
	if (IsA(node, Query))
		return query_tree_walker((Query *) node, reads_foreign_walker, context,
								 QTW_EXAMINE_RTES_BEFORE);
	return expression_tree_walker(node, reads_foreign_walker, context);
}

/*
 * AnalyzeReadsForeign
 *		Does query (analyzed, not rewritten) read a foreign table, through
 *		the views it reads too?
 */
bool
AnalyzeReadsForeign(Query *query)
{
	Query	   *copy = copyObject(query);
	ListCell   *lc;

	AcquireRewriteLocks(copy, true, false);
	foreach(lc, QueryRewrite(copy))
	{
		if (reads_foreign_walker(lfirst(lc), NULL))
			return true;
	}
	return false;
}
