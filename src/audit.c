/*-------------------------------------------------------------------------
 *
 * audit.c
 *	  Data-quality tests: medallion_add_test, medallion_drop_test, the
 *	  fused execution of a model's tests against its candidate (or against
 *	  what is published, for medallion_test), and the results.
 *
 * Fusing: every column-level test of a model (not_null, unique,
 * accepted_values, expression, row_count, freshness) becomes one aggregate
 * of a single query over the relation, so k tests cost one scan:
 *
 *	 SELECT count(*), count(*) FILTER (WHERE c.a IS NULL), NULL,
 *			count(c.b) - count(DISTINCT c.b), NULL, ... FROM rel AS c
 *
 * With several row tests (not_null, accepted_values, expression), a first
 * query counts the rows failing any of them, one aggregate step per row;
 * only when some row fails does the query above count each test's.
 *
 * Each relationships test is one anti-join, each sql test one count over
 * the user's query.  Values (accepted lists, ages, bounds) are passed as
 * parameters; column names are quoted; expressions and test SQL are the
 * user's code, validated at definition time and run as the model owner.
 *
 * Every query runs in a subtransaction of its own, so a test whose query
 * fails is reported as "error" while the others still run; a cancel or a
 * timeout is raised again.
 *
 * Results are allocated in the caller's result context, so that they
 * survive the rollback of a model that a blocking test failed.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "common/md5.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "parser/parser.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/regproc.h"
#include "utils/resowner.h"
#include "utils/ruleutils.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"
#include "utils/varlena.h"

#include "analyze.h"
#include "audit.h"
#include "bind.h"
#include "build.h"
#include "catalog.h"
#include "graph.h"
#include "model.h"
#include "run.h"
#include "subxact.h"

PG_FUNCTION_INFO_V1(medallion_add_test);
PG_FUNCTION_INFO_V1(medallion_drop_test);
PG_FUNCTION_INFO_V1(medallion_check_sources);

int			audit_store_failures_limit = 100;

/*
 * AuditInit
 *		Define this module's configuration parameters.
 */
void
AuditInit(void)
{
	DefineCustomIntVariable("medallion.store_failures_limit",
							"Sets how many failing rows a test with store_failures keeps.",
							NULL,
							&audit_store_failures_limit, 100, 1, INT_MAX, PGC_USERSET, 0,
							NULL, NULL, NULL);
}

/* ----------------------------------------------------------------
 * Reading tests
 * ---------------------------------------------------------------- */

/*
 * AuditListTests
 *		Returns the tests of a model (List of TestDef *), by name.
 */
List *
AuditListTests(const char *model)
{
	MemoryContext callercxt = CurrentMemoryContext;
	CatalogSession session;
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(model)};
	List	   *result = NIL;
	int			ret;

	CatalogEnter(&session);
	ret = SPI_execute_with_args("SELECT model, name, kind, columns, accepted, to_model, "
								"to_relation, to_column, expression, min_rows::text, "
								"max_rows::text, max_age::text, sql, severity, warn_if, "
								"error_if, blocking, store_failures "
								"FROM medallion.tests WHERE model = $1 ORDER BY name",
								1, argtypes, values, NULL, false, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not read tests: %s", SPI_result_code_string(ret));
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		MemoryContext spicxt = MemoryContextSwitchTo(callercxt);
		TestDef    *test = palloc0(sizeof(TestDef));
		bool		isnull;
		Datum		d;

		test->model = SPI_getvalue(tup, desc, 1);
		test->name = SPI_getvalue(tup, desc, 2);
		test->kind = SPI_getvalue(tup, desc, 3);
		d = SPI_getbinval(tup, desc, 4, &isnull);
		test->columns = isnull ? NIL : TextArrayToList(d);
		d = SPI_getbinval(tup, desc, 5, &isnull);
		test->accepted = isnull ? NIL : TextArrayToList(d);
		test->to_model = SPI_getvalue(tup, desc, 6);
		test->to_relation = SPI_getvalue(tup, desc, 7);
		test->to_column = SPI_getvalue(tup, desc, 8);
		test->expression = SPI_getvalue(tup, desc, 9);
		test->min_rows = SPI_getvalue(tup, desc, 10);
		test->max_rows = SPI_getvalue(tup, desc, 11);
		test->max_age = SPI_getvalue(tup, desc, 12);
		test->sql = SPI_getvalue(tup, desc, 13);
		test->severity = SPI_getvalue(tup, desc, 14);
		test->warn_if = SPI_getvalue(tup, desc, 15);
		test->error_if = SPI_getvalue(tup, desc, 16);
		test->blocking = DatumGetBool(SPI_getbinval(tup, desc, 17, &isnull));
		test->store_failures = DatumGetBool(SPI_getbinval(tup, desc, 18, &isnull));
		result = lappend(result, test);
		MemoryContextSwitchTo(spicxt);
	}
	CatalogLeave(&session);
	return result;
}

/* ----------------------------------------------------------------
 * Conditions on failure counts: "> 0", ">= 10", "= 0", "!= 3", ...
 * ---------------------------------------------------------------- */

static bool
parse_condition(const char *text, char *op, int64 *value)
{
	const char *p = text;
	int			oplen = 0;
	char	   *end;

	while (isspace((unsigned char) *p))
		p++;
	while (oplen < 2 && (p[oplen] == '<' || p[oplen] == '>' || p[oplen] == '=' || p[oplen] == '!'))
	{
		op[oplen] = p[oplen];
		oplen++;
	}
	op[oplen] = '\0';
	if (strcmp(op, ">") != 0 && strcmp(op, ">=") != 0 && strcmp(op, "<") != 0 &&
		strcmp(op, "<=") != 0 && strcmp(op, "=") != 0 && strcmp(op, "!=") != 0 &&
		strcmp(op, "<>") != 0)
		return false;
	p += oplen;
	while (isspace((unsigned char) *p))
		p++;
	if (!isdigit((unsigned char) *p))
		return false;
	errno = 0;
	*value = strtoll(p, &end, 10);
	if (errno != 0)
		return false;
	while (isspace((unsigned char) *end))
		end++;
	return *end == '\0';
}

static bool
condition_holds(const char *text, int64 failures)
{
	char		op[3];
	int64		value;

	if (!parse_condition(text, op, &value))
		elog(ERROR, "invalid test condition \"%s\"", text);
	if (strcmp(op, ">") == 0)
		return failures > value;
	if (strcmp(op, ">=") == 0)
		return failures >= value;
	if (strcmp(op, "<") == 0)
		return failures < value;
	if (strcmp(op, "<=") == 0)
		return failures <= value;
	if (strcmp(op, "=") == 0)
		return failures == value;
	return failures != value;
}

/* pass, warn or fail for a failure count, by severity and thresholds. */
static const char *
classify(TestDef *test, int64 failures)
{
	if (strcmp(test->severity, "error") == 0 && condition_holds(test->error_if, failures))
		return "fail";
	if (condition_holds(test->warn_if, failures))
		return "warn";
	return "pass";
}

/* ----------------------------------------------------------------
 * Running tests
 * ---------------------------------------------------------------- */

/* What the fused query needs to know about one test. */
typedef struct FusedPart
{
	TestResult *result;
	char	   *failures_sql;	/* an int8 aggregate over "c" */
	char	   *observed_sql;	/* a text expression, or NULL */
	char	   *predicate;		/* row tests: true for a failing row */
} FusedPart;

static char *
qcol(const char *column)
{
	return psprintf("c.%s", quote_identifier(column));
}

/* "c.a IS NOT NULL AND c.b IS NOT NULL" */
static char *
all_not_null(List *columns)
{
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	foreach(lc, columns)
		appendStringInfo(&buf, "%s%s IS NOT NULL", buf.len > 0 ? " AND " : "",
						 qcol(lfirst(lc)));
	return buf.data;
}

static char *
column_tuple(List *columns, const char *prefix)
{
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	foreach(lc, columns)
		appendStringInfo(&buf, "%s%s%s", buf.len > 0 ? ", " : "", prefix,
						 quote_identifier(lfirst(lc)));
	return buf.data;
}

/* The type of a column of relid, as SQL text. */
static char *
column_type_sql(Oid relid, const char *column)
{
	AttrNumber	attno = get_attnum(relid, column);

	if (attno == InvalidAttrNumber)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("column \"%s\" of %s does not exist", column,
						get_rel_name(relid))));
	return format_type_be_qualified(get_atttype(relid, attno));
}

/*
 * The column of a model's fused test binding (medallion_bind."<model>$")
 * that is true for the rows failing expression test: its expression,
 * bound when the test was defined, negated.
 */
static char *
expression_column(TestDef *test)
{
	return psprintf("medallion.test.%s", test->name);
}

/* The column of the fused test binding holding the whole row. */
#define ROW_COLUMN "medallion.row"

/*
 * failing_predicate
 *		A WHERE condition over "c" true for the failing rows of a column
 *		test (for store_failures), or NULL when the test has no rows.
 */
static char *
failing_predicate(TestDef *test, const char *relsql, Oid relid, int param)
{
	const char *col = test->columns ? linitial(test->columns) : NULL;

	if (strcmp(test->kind, "not_null") == 0)
		return psprintf("%s IS NULL", qcol(col));
	if (strcmp(test->kind, "accepted_values") == 0)
		return psprintf("%s IS NOT NULL AND %s OPERATOR(pg_catalog.<>) ALL (($%d::pg_catalog.text[])::%s[])",
						qcol(col), qcol(col), param, column_type_sql(relid, col));
	if (strcmp(test->kind, "expression") == 0)
		return qcol(expression_column(test));
	if (strcmp(test->kind, "unique") == 0)
		return psprintf("%s AND (%s) IN (SELECT %s FROM %s AS d GROUP BY %s HAVING count(*) > 1)",
						all_not_null(test->columns), column_tuple(test->columns, "c."),
						column_tuple(test->columns, "d."), relsql,
						column_tuple(test->columns, "d."));
	return NULL;
}

/* A query whose one row run_counting_query returns. */
typedef struct CountingQuery
{
	const char *sql;
	int			nparams;
	Oid		   *types;
	Datum	   *values;
	List	   *from;			/* redirections, as BindExecute takes them */
	List	   *to;
	char	  **row;			/* out: the values as strings */
	MemoryContext resultcxt;
} CountingQuery;

static void
counting_query_work(void *arg)
{
	CountingQuery *query = (CountingQuery *) arg;
	BindRows	rows;

	(void) BindExecute(query->sql, query->nparams, query->types, query->values, NULL,
					   query->from, query->to, BindRowsReceiver(&rows, 2, query->resultcxt));
	if (list_length(rows.rows) != 1)
		elog(ERROR, "test query returned %d rows", list_length(rows.rows));
	query->row = linitial(rows.rows);
}

/*
 * run_counting_query
 *		Run sql (returning one row) with params in a subtransaction, reading
 *		redirect_to for redirect_from; on success returns NULL and the row's
 *		values as strings in *row, on failure the error message.  Cancels
 *		are raised again.
 */
static char *
run_counting_query(const char *sql, int nparams, Oid *types, Datum *values,
				   List *from, List *to, char ***row, double *ms, MemoryContext resultcxt)
{
	CountingQuery query = {sql, nparams, types, values, from, to, NULL, resultcxt};
	TimestampTz start = GetCurrentTimestamp();
	ErrorData  *edata = SubxactRun(counting_query_work, &query, true);

	*ms = (double) (GetCurrentTimestamp() - start) / 1000.0;
	*row = query.row;
	return edata ? MemoryContextStrdup(resultcxt, edata->message) : NULL;
}

/* Keep up to the limit of failing rows, as JSON, for store_failures. */
static void
collect_failing_rows(TestResult *result, const char *sql, int nparams, Oid *types,
					 Datum *values, List *from, List *to, MemoryContext resultcxt)
{
	BindRows	rows;
	ListCell   *lc;

	(void) BindExecute(psprintf("%s LIMIT %d", sql, audit_store_failures_limit),
					   nparams, types, values, NULL, from, to,
					   BindRowsReceiver(&rows, audit_store_failures_limit, resultcxt));
	foreach(lc, rows.rows)
	{
		MemoryContext old = MemoryContextSwitchTo(resultcxt);

		/* the list must outlive the model's subtransaction */
		result->failing_rows = lappend(result->failing_rows, ((char **) lfirst(lc))[0]);
		MemoryContextSwitchTo(old);
	}
}

static void
record(AuditOutcome *outcome, TestResult *result, int64 failures, const char *observed,
	   const char *error, MemoryContext resultcxt)
{
	if (error != NULL)
	{
		result->status = "error";
		result->message = MemoryContextStrdup(resultcxt, error);
	}
	else
	{
		result->has_failures = true;
		result->failures = failures;
		result->status = classify(result->test, failures);
		if (observed != NULL)
			result->observed = MemoryContextStrdup(resultcxt, observed);
	}
	if (strcmp(result->status, "pass") == 0)
		outcome->passed++;
	else if (strcmp(result->status, "warn") == 0)
		outcome->warned++;
	else
	{
		outcome->failed++;
		if (result->test->blocking && outcome->blocker == NULL)
			outcome->blocker = result;
	}
}

/* The relation a relationships test references (what is published). */
static Oid
referenced_relation(TestDef *test)
{
	if (test->to_model != NULL)
		return BuildPublishedRelid(CatalogGetModel(test->to_model, false));
	return DatumGetObjectId(DirectFunctionCall1(regclassin, CStringGetDatum(test->to_relation)));
}

static char *
relation_sql(Oid relid)
{
	return quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
									  get_rel_name(relid));
}

/*
 * AuditRunTests
 *		Run the tests of model against relation relid (its candidate, or what
 *		is published), as the current user (the caller made it the model
 *		owner, with medallion's safe search_path).  The tests' SQL reads
 *		what is published and the bindings of the tests' own code;
 *		BindExecute points each read of a relation in redirect_from (OIDs),
 *		and of the model's published relation, at redirect_to or relid, so
 *		tests see the run's candidates.  Returns the outcome, allocated in
 *		resultcxt.
 */
AuditOutcome *
AuditRunTests(ModelDef *model, Oid relid, List *redirect_from, List *redirect_to,
			  MemoryContext resultcxt)
{
	MemoryContext oldcontext = MemoryContextSwitchTo(resultcxt);
	AuditOutcome *outcome = palloc0(sizeof(AuditOutcome));
	List	   *tests = AuditListTests(model->name);
	List	   *fused = NIL;
	int			npredicates = 0;
	Oid			published = BuildPublishedRelid(model);
	char	   *relsql = relation_sql(published);
	char	   *fusedsql = relsql;
	const char *rowsql = "c";
	List	   *from = list_copy(redirect_from);
	List	   *to = list_copy(redirect_to);
	Oid			types[FUNC_MAX_ARGS];
	Datum		values[FUNC_MAX_ARGS];
	int			nparams = 0;
	bool		expressions_bound;
	ListCell   *lc;

	MemoryContextSwitchTo(oldcontext);
	if (tests == NIL)
		return outcome;
	if (relid != published && !list_member_oid(from, published))
	{
		from = lappend_oid(from, published);
		to = lappend_oid(to, relid);
	}
	expressions_bound = OidIsValid(BindRelid(BindName(model->name, "")));
	if (expressions_bound)
	{
		/* the tests' expressions, bound, next to the columns the tests read */
		fusedsql = BindRelationSql(BindName(model->name, ""));
		rowsql = psprintf("c.%s", quote_identifier(ROW_COLUMN));
	}

	/* one fused query for the column-level tests */
	foreach(lc, tests)
	{
		TestDef    *test = lfirst(lc);
		TestResult *result;
		FusedPart  *part;
		const char *col = test->columns ? linitial(test->columns) : NULL;

		oldcontext = MemoryContextSwitchTo(resultcxt);
		result = palloc0(sizeof(TestResult));
		result->test = test;
		outcome->results = lappend(outcome->results, result);
		MemoryContextSwitchTo(oldcontext);

		if (strcmp(test->kind, "relationships") == 0 || strcmp(test->kind, "sql") == 0)
			continue;
		if (strcmp(test->kind, "expression") == 0 && !expressions_bound)
		{
			record(outcome, result, 0, NULL,
				   psprintf("the expression tests of model \"%s\" are not bound: its owner binds them again with medallion_reanalyze('%s')",
							model->name, model->name), resultcxt);
			continue;
		}
		/* accepted_values and freshness tests take a parameter each */
		if (nparams >= FUNC_MAX_ARGS &&
			(strcmp(test->kind, "accepted_values") == 0 || strcmp(test->kind, "freshness") == 0))
		{
			record(outcome, result, 0, NULL,
				   psprintf("model \"%s\" has more than %d accepted_values and freshness tests: this one did not run",
							model->name, FUNC_MAX_ARGS), resultcxt);
			continue;
		}
		part = palloc0(sizeof(FusedPart));
		part->result = result;
		if (strcmp(test->kind, "not_null") == 0)
			part->predicate = psprintf("%s IS NULL", qcol(col));
		else if (strcmp(test->kind, "unique") == 0 && list_length(test->columns) == 1)
			part->failures_sql = psprintf("count(%s) - count(DISTINCT %s)", qcol(col), qcol(col));
		else if (strcmp(test->kind, "unique") == 0)
			part->failures_sql = psprintf("count(*) FILTER (WHERE %s) - count(DISTINCT (%s)) FILTER (WHERE %s)",
										  all_not_null(test->columns),
										  column_tuple(test->columns, "c."),
										  all_not_null(test->columns));
		else if (strcmp(test->kind, "accepted_values") == 0)
		{
			types[nparams] = TEXTARRAYOID;
			values[nparams++] = ListToTextArray(test->accepted);
			part->predicate = failing_predicate(test, relsql, published, nparams);
		}
		else if (strcmp(test->kind, "expression") == 0)
			part->predicate = failing_predicate(test, relsql, published, 0);
		else if (strcmp(test->kind, "row_count") == 0)
		{
			part->failures_sql = psprintf("CASE WHEN count(*) OPERATOR(pg_catalog.<) %s OR count(*) OPERATOR(pg_catalog.>) %s THEN 1 ELSE 0 END",
										  test->min_rows ? test->min_rows : "0",
										  test->max_rows ? test->max_rows : "9223372036854775807");
			part->observed_sql = "count(*)::pg_catalog.text";
		}
		else if (strcmp(test->kind, "freshness") == 0)
		{
			types[nparams] = TEXTOID;
			values[nparams++] = CStringGetTextDatum(test->max_age);
			part->failures_sql = psprintf("CASE WHEN max(%s) IS NULL OR pg_catalog.now() OPERATOR(pg_catalog.-) max(%s)::pg_catalog.timestamptz OPERATOR(pg_catalog.>) $%d::pg_catalog.interval THEN 1 ELSE 0 END",
										  qcol(col), qcol(col), nparams);
			part->observed_sql = psprintf("(pg_catalog.now() OPERATOR(pg_catalog.-) max(%s)::pg_catalog.timestamptz)::pg_catalog.text",
										  qcol(col));
		}
		else
			elog(ERROR, "unknown test kind \"%s\"", test->kind);
		if (part->predicate != NULL)
		{
			part->failures_sql = psprintf("count(*) FILTER (WHERE %s)", part->predicate);
			npredicates++;
		}
		fused = lappend(fused, part);
	}

	if (fused != NIL)
	{
		StringInfoData sql;
		char	  **row = NULL;
		double		ms;
		char	   *error = NULL;
		bool		passed = false;

		/*
		 * Several row tests: first one filtered count over the predicates
		 * OR-ed (one aggregate step per row instead of one per test).  When
		 * no row fails, that is every row test's result; otherwise the
		 * query below counts each test's failures.
		 */
		if (npredicates > 1)
		{
			initStringInfo(&sql);
			appendStringInfoString(&sql, "SELECT count(*) FILTER (WHERE false");
			foreach(lc, fused)
			{
				FusedPart  *part = lfirst(lc);

				if (part->predicate != NULL)
					appendStringInfo(&sql, " OR (%s)", part->predicate);
			}
			appendStringInfoChar(&sql, ')');
			foreach(lc, fused)
			{
				FusedPart  *part = lfirst(lc);

				if (part->predicate != NULL)
					appendStringInfoString(&sql, ", 0::pg_catalog.int8, NULL::pg_catalog.text");
				else
					appendStringInfo(&sql, ", (%s)::pg_catalog.int8, %s", part->failures_sql,
									 part->observed_sql ? part->observed_sql : "NULL::pg_catalog.text");
			}
			appendStringInfo(&sql, " FROM %s AS c", fusedsql);
			error = run_counting_query(sql.data, nparams, types, values, from, to, &row, &ms,
									   resultcxt);
			outcome->queries++;
			passed = error == NULL && strtoll(row[0], NULL, 10) == 0;
		}
		if (!passed && error == NULL)
		{
			initStringInfo(&sql);
			appendStringInfoString(&sql, "SELECT count(*)");
			foreach(lc, fused)
			{
				FusedPart  *part = lfirst(lc);

				appendStringInfo(&sql, ", (%s)::pg_catalog.int8, %s", part->failures_sql,
								 part->observed_sql ? part->observed_sql : "NULL::pg_catalog.text");
			}
			appendStringInfo(&sql, " FROM %s AS c", fusedsql);
			error = run_counting_query(sql.data, nparams, types, values, from, to, &row, &ms,
									   resultcxt);
			outcome->queries++;
		}
		foreach(lc, fused)
		{
			FusedPart  *part = lfirst(lc);
			int			i = foreach_current_index(lc);

			part->result->ms = ms;
			record(outcome, part->result,
				   error ? 0 : strtoll(row[1 + 2 * i], NULL, 10),
				   error ? NULL : row[2 + 2 * i], error, resultcxt);
		}
	}

	/* one anti-join per relationships test, one count per sql test */
	foreach(lc, outcome->results)
	{
		TestResult *result = lfirst(lc);
		TestDef    *test = result->test;
		char	   *count_sql;
		char	   *rows_sql;
		char	  **row = NULL;
		char	   *error;

		if (result->status != NULL)
			continue;			/* recorded above */
		if (strcmp(test->kind, "relationships") == 0 || strcmp(test->kind, "sql") == 0)
		{
			char	   *name = BindName(model->name, test->name);

			if (!OidIsValid(BindRelid(name)))
			{
				record(outcome, result, 0, NULL,
					   psprintf("test %s of model \"%s\" is not bound: its owner binds it again with medallion_reanalyze('%s')",
								test->name, model->name, model->name), resultcxt);
				continue;
			}
			count_sql = psprintf("SELECT count(*) FROM %s AS q", BindRelationSql(name));
			rows_sql = psprintf("SELECT pg_catalog.to_jsonb(q) FROM %s AS q", BindRelationSql(name));
		}
		else
			continue;
		error = run_counting_query(count_sql, 0, NULL, NULL, from, to, &row, &result->ms,
								   resultcxt);
		outcome->queries++;
		record(outcome, result, error ? 0 : strtoll(row[0], NULL, 10), NULL, error, resultcxt);
		if (error == NULL && test->store_failures && result->failures > 0)
			collect_failing_rows(result, rows_sql, 0, NULL, NULL, from, to, resultcxt);
	}

	/* failing rows of the fused tests, for store_failures */
	foreach(lc, fused)
	{
		FusedPart  *part = lfirst(lc);
		TestResult *result = part->result;
		TestDef    *test = result->test;
		char	   *predicate;
		int			param = 0;

		if (!test->store_failures || !result->has_failures || result->failures == 0)
			continue;
		if (strcmp(test->kind, "accepted_values") == 0)
		{
			types[0] = TEXTARRAYOID;
			values[0] = ListToTextArray(test->accepted);
			param = 1;
		}
		predicate = failing_predicate(test, fusedsql, published, 1);
		if (predicate != NULL)
			collect_failing_rows(result, psprintf("SELECT pg_catalog.to_jsonb(%s) FROM %s AS c WHERE %s",
												  rowsql, fusedsql, predicate),
								 param, types, values, from, to, resultcxt);
		else
		{
			MemoryContext oldcxt = MemoryContextSwitchTo(resultcxt);
			StringInfoData json;

			initStringInfo(&json);
			appendStringInfoString(&json, "{\"observed\": ");
			escape_json(&json, result->observed ? result->observed : "");
			appendStringInfoChar(&json, '}');
			result->failing_rows = list_make1(json.data);
			MemoryContextSwitchTo(oldcxt);
		}
	}
	return outcome;
}

/*
 * AuditStoreFailures
 *		Replace the rows of medallion_audit.<model>__<test> for each test of
 *		outcome with store_failures: its failing rows as JSON (none when it
 *		passed).  Runs as the model owner, who owns the table: made by
 *		medallion once, then emptied at each run, so grants on it stay.
 */
void
AuditStoreFailures(ModelDef *model, AuditOutcome *outcome, int64 run_id)
{
	ListCell   *lc;

	foreach(lc, outcome->results)
	{
		TestResult *result = lfirst(lc);
		char	   *name;
		char	   *table;
		ListCell   *lr;
		Oid			types[3] = {INT4OID, TEXTOID, INT8OID};
		Datum		values[3];
		int			ret;

		if (!result->test->store_failures)
			continue;
		name = psprintf("%s__%s", model->name, result->test->name);
		table = quote_qualified_identifier("medallion_audit", name);
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		if (OidIsValid(get_relname_relid(name, get_namespace_oid("medallion_audit", false))))
		{
			/* emptied, not dropped: the grants its owner gave stay */
			ret = SPI_execute(psprintf("TRUNCATE %s", table), false, 0);
			if (ret != SPI_OK_UTILITY)
				elog(ERROR, "could not empty %s", table);
		}
		else
		{
			/* only medallion creates in medallion_audit; the owner owns it */
			CatalogSession session;

			CatalogEnter(&session);
			ret = SPI_execute(psprintf("CREATE TABLE %s (failure_no integer, failing_row pg_catalog.jsonb, "
									   "run_id bigint, recorded_at timestamptz DEFAULT pg_catalog.now())",
									   table), false, 0);
			if (ret != SPI_OK_UTILITY)
				elog(ERROR, "could not create %s", table);
			ret = SPI_execute(psprintf("ALTER TABLE %s OWNER TO %s", table,
									   quote_identifier(model->owner)), false, 0);
			if (ret != SPI_OK_UTILITY)
				elog(ERROR, "could not give %s to its owner", table);
			CatalogLeave(&session);
		}
		foreach(lr, result->failing_rows)
		{
			values[0] = Int32GetDatum(foreach_current_index(lr) + 1);
			values[1] = CStringGetTextDatum((char *) lfirst(lr));
			values[2] = Int64GetDatum(run_id);
			ret = SPI_execute_with_args(psprintf("INSERT INTO %s (failure_no, failing_row, run_id) "
												 "VALUES ($1, $2::pg_catalog.jsonb, $3)", table),
										3, types, values, NULL, false, 0);
			if (ret != SPI_OK_INSERT)
				elog(ERROR, "could not store failing rows in %s", table);
		}
		SPI_finish();
	}
}

/* ----------------------------------------------------------------
 * Binding tests
 *
 * The code of a model's tests is bound like the model's query, when the
 * test is defined (or the model redefined, or re-bound by its owner):
 *
 * - expression tests, all in one view medallion_bind."<model>$" over the
 *   published relation: the row (medallion.row), the columns the model's
 *   fused tests read, and for each expression test a column
 *   "medallion.test.<test>" true for a failing row;
 * - each sql test as a view medallion_bind."<model>$<test>".
 *
 * They are owned by the model owner and read as the owner.  A run reads
 * them and redirects the published relation to the candidate.
 * ---------------------------------------------------------------- */

static void
bind_one(const char *name, const char *sql, const char *what, Oid owner)
{
	Query	   *query = AnalyzeQuery(sql, what);

	BindCheckDefinition(query);
	(void) BindCreateView(BindNamespace(true), name, query, owner);
}

/*
 * AuditUnbindTests
 *		Drop the bindings of the model's tests (those of tests, the list
 *		given, or all when NIL).
 */
void
AuditUnbindTests(ModelDef *model, List *tests)
{
	ListCell   *lc;

	BindDrop(BindName(model->name, ""));
	foreach(lc, tests ? tests : AuditListTests(model->name))
		BindDrop(BindName(model->name, ((TestDef *) lfirst(lc))->name));
}

/*
 * AuditBindTests
 *		Bind the code of the model's tests again, as the model owner under
 *		the model's search_path (pg_temp last): what defining a test does,
 *		and defining the model again.
 */
void
AuditBindTests(ModelDef *model)
{
	List	   *tests = AuditListTests(model->name);
	Oid			owner = ModelOwnerId(model);
	Oid			published = BuildPublishedRelid(model);
	Oid			save_userid;
	int			save_sec;
	int			nestlevel;
	StringInfoData fused;
	List	   *columns = NIL;
	bool		expressions = false;
	ListCell   *lc;

	AuditUnbindTests(model, tests);
	if (tests == NIL || !OidIsValid(published))
		return;
	ModelBecomeOwner(model, &save_userid, &save_sec);
	nestlevel = AnalyzeEnterSearchPath(model->search_path);
	foreach(lc, tests)
	{
		TestDef    *test = lfirst(lc);
		ListCell   *lcol;

		if (strcmp(test->kind, "sql") == 0)
			bind_one(BindName(model->name, test->name), test->sql,
					 psprintf("sql of test %s of model \"%s\"", test->name, model->name), owner);
		else if (strcmp(test->kind, "relationships") == 0)
		{
			/* the failing rows: bound, so the relation referenced is too */
			const char *col = linitial(test->columns);

			bind_one(BindName(model->name, test->name),
					 psprintf("SELECT c.* FROM %s AS c WHERE %s IS NOT NULL AND NOT EXISTS "
							  "(SELECT 1 FROM %s AS r WHERE r.%s OPERATOR(pg_catalog.=) %s)",
							  relation_sql(published), qcol(col),
							  relation_sql(referenced_relation(test)),
							  quote_identifier(test->to_column), qcol(col)),
					 psprintf("relationships test %s of model \"%s\"", test->name, model->name),
					 owner);
		}
		else if (strcmp(test->kind, "expression") == 0)
			expressions = true;
		else if (strcmp(test->kind, "relationships") != 0)
		{
			foreach(lcol, test->columns)
			{
				if (!list_member(columns, makeString(lfirst(lcol))))
					columns = lappend(columns, makeString(lfirst(lcol)));
			}
		}
	}
	if (expressions)
	{
		initStringInfo(&fused);
		appendStringInfo(&fused, "SELECT c AS %s", quote_identifier(ROW_COLUMN));
		foreach(lc, columns)
			appendStringInfo(&fused, ", %s", qcol(strVal(lfirst(lc))));
		foreach(lc, tests)
		{
			TestDef    *test = lfirst(lc);

			if (strcmp(test->kind, "expression") == 0)
				appendStringInfo(&fused, ", (NOT (%s)) AS %s", test->expression,
								 quote_identifier(expression_column(test)));
		}
		appendStringInfo(&fused, " FROM %s AS c", relation_sql(published));
		bind_one(BindName(model->name, ""), fused.data,
				 psprintf("expression tests of model \"%s\"", model->name), owner);
	}
	AnalyzeLeaveSearchPath(nestlevel);
	SetUserIdAndSecContext(save_userid, save_sec);
}

/* ----------------------------------------------------------------
 * Defining tests
 * ---------------------------------------------------------------- */

static void
check_test_name(const char *name)
{
	bool		ok = name[0] != '\0' && !isdigit((unsigned char) name[0]) &&
		strlen(name) < NAMEDATALEN;

	for (const char *p = name; *p && ok; p++)
		ok = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_';
	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_NAME),
				 errmsg("invalid test name \"%s\"", name),
				 errdetail("A test name is made of lower-case letters, digits and underscores, does not start with a digit, and has at most %d characters.",
						   NAMEDATALEN - 1)));
}

/* A default name: kind and columns, shortened with a hash when too long. */
static char *
default_test_name(TestDef *test, const char *extra)
{
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	appendStringInfoString(&buf, test->kind);
	foreach(lc, test->columns)
		appendStringInfo(&buf, "_%s", (char *) lfirst(lc));
	if (extra != NULL)
	{
		char		hex[33];
		const char *errstr = NULL;

		if (!pg_md5_hash(extra, strlen(extra), hex, &errstr))
			elog(ERROR, "could not compute md5: %s", errstr);
		hex[8] = '\0';
		appendStringInfo(&buf, "_%s", hex);
	}
	for (char *p = buf.data; *p; p++)
	{
		*p = tolower((unsigned char) *p);
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')))
			*p = '_';
	}
	if (buf.len >= NAMEDATALEN)
	{
		char		hex[33];
		const char *errstr = NULL;

		if (!pg_md5_hash(buf.data, buf.len, hex, &errstr))
			elog(ERROR, "could not compute md5: %s", errstr);
		buf.data[NAMEDATALEN - 10] = '\0';
		return psprintf("%s_%.8s", buf.data, hex);
	}
	return buf.data;
}

static void
test_arg_error(const char *kind, const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("a test of kind %s needs %s", kind, what)));
}

static ModelColumn *
model_column(ModelDef *model, AnalyzedModel *analyzed, const char *name)
{
	ListCell   *lc;

	foreach(lc, analyzed->columns)
	{
		if (strcmp(((ModelColumn *) lfirst(lc))->name, name) == 0)
			return lfirst(lc);
	}
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_COLUMN),
			 errmsg("model \"%s\" has no column \"%s\"", model->name, name),
			 errhint("Tests name the model query's output columns.")));
	return NULL;				/* keep compiler quiet */
}

/* Prepare sql (not run it) to check that it is valid. */
static void
check_prepares(const char *sql)
{
	SPIPlanPtr	plan;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	plan = SPI_prepare(sql, 0, NULL);
	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
	SPI_finish();
}

/* Is raw (parsed as a PL/pgSQL expression) exactly one expression? */
static bool
one_expression(List *raw)
{
	SelectStmt *select;

	if (list_length(raw) != 1 || !IsA(linitial_node(RawStmt, raw)->stmt, SelectStmt))
		return false;
	select = (SelectStmt *) linitial_node(RawStmt, raw)->stmt;
	return list_length(select->targetList) == 1 && select->fromClause == NIL &&
		select->whereClause == NULL && select->groupClause == NIL &&
		select->havingClause == NULL && select->windowClause == NIL &&
		select->sortClause == NIL && select->limitCount == NULL &&
		select->limitOffset == NULL && select->distinctClause == NIL &&
		select->lockingClause == NIL && select->intoClause == NULL &&
		((ResTarget *) linitial(select->targetList))->name == NULL;
}

/*
 * check_test
 *		Validate a test against its model, as the model owner under the
 *		model's search_path.  Fills in what is derived (to_relation).
 */
static void
check_test(ModelDef *model, TestDef *test)
{
	AnalyzedModel *analyzed = BindLoad(model);
	Oid			published = BuildPublishedRelid(model);
	char	   *pubsql = relation_sql(published);
	ListCell   *lc;

	foreach(lc, test->columns)
		(void) model_column(model, analyzed, lfirst(lc));

	if (strcmp(test->kind, "freshness") == 0)
	{
		ModelColumn *col = model_column(model, analyzed, linitial(test->columns));

		if (col->type != DATEOID && col->type != TIMESTAMPOID && col->type != TIMESTAMPTZOID)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("column \"%s\" of model \"%s\" is of type %s, not a date or timestamp",
							col->name, model->name, format_type_be(col->type)),
					 errhint("A freshness test needs a date, timestamp or timestamptz column.")));
	}
	else if (strcmp(test->kind, "accepted_values") == 0)
	{
		ModelColumn *col = model_column(model, analyzed, linitial(test->columns));
		Oid			argtypes[1] = {TEXTARRAYOID};
		Datum		values[1] = {ListToTextArray(test->accepted)};
		int			ret;

		/* every accepted value must be a value of the column's type */
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		ret = SPI_execute_with_args(psprintf("SELECT $1::pg_catalog.text[]::%s[]",
											 format_type_be_qualified(col->type)),
									1, argtypes, values, NULL, false, 0);
		if (ret != SPI_OK_SELECT)
			elog(ERROR, "could not check accepted values: %s", SPI_result_code_string(ret));
		SPI_finish();
	}
	else if (strcmp(test->kind, "expression") == 0)
	{
		SqlErrorContext sec;
		List	   *raw;

		AnalyzePushErrorContext(&sec, psprintf("expression of a test of model \"%s\"", model->name),
								test->expression);
		raw = raw_parser(test->expression, RAW_PARSE_PLPGSQL_EXPR);
		AnalyzePopErrorContext(&sec);
		if (!one_expression(raw))
			ereport(ERROR,
					(errcode(ERRCODE_SYNTAX_ERROR),
					 errmsg("the expression of an expression test must be one expression"),
					 errdetail("It is written as a condition on a row, such as \"amount >= 0\", without FROM, WHERE or other clauses.")));
		check_prepares(psprintf("SELECT count(*) FILTER (WHERE NOT (%s)) FROM %s AS c",
								test->expression, pubsql));
	}
	else if (strcmp(test->kind, "relationships") == 0)
	{
		Oid			ref;

		if (test->to_model != NULL)
		{
			ModelDef   *refmodel = CatalogGetModel(test->to_model, false);

			ref = BuildPublishedRelid(refmodel);
		}
		else
		{
			List	   *names = stringToQualifiedNameList(test->to_relation);

			ref = RangeVarGetRelid(makeRangeVarFromNameList(names), AccessShareLock, false);
			test->to_relation = relation_sql(ref);
		}
		if (get_attnum(ref, test->to_column) == InvalidAttrNumber)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("column \"%s\" of %s does not exist", test->to_column, relation_sql(ref))));
		check_prepares(psprintf("SELECT 1 FROM %s AS c JOIN %s AS r ON r.%s OPERATOR(pg_catalog.=) c.%s",
								pubsql, relation_sql(ref), quote_identifier(test->to_column),
								quote_identifier(linitial(test->columns))));
	}
	else if (strcmp(test->kind, "sql") == 0)
		(void) AnalyzeQuery(test->sql, psprintf("sql of a test of model \"%s\"", model->name));
}

static char *
nullable_text(FunctionCallInfo fcinfo, int n)
{
	return PG_ARGISNULL(n) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(n));
}

/*
 * medallion_add_test(model, kind, column_name, columns, accepted, to_model,
 *		to_relation, to_column, expression, min_rows, max_rows, max_age, sql,
 *		severity, warn_if, error_if, blocking, store_failures, name,
 *		description) defines or redefines a test; returns its name.
 */
Datum
medallion_add_test(PG_FUNCTION_ARGS)
{
	TestDef    *test = palloc0(sizeof(TestDef));
	ModelDef   *model;
	char	   *column_name = nullable_text(fcinfo, 2);
	char	   *name = nullable_text(fcinfo, 18);
	char	   *description = nullable_text(fcinfo, 19);
	char		op[3];
	int64		bound;
	Oid			save_userid;
	int			save_sec;
	int			nestlevel;
	CatalogSession session;
	Oid			argtypes[20];
	Datum		values[20];
	char		nulls[20];
	int			ret;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("model and kind must not be NULL")));
	CatalogRequireAdmin("define tests");
	CatalogLockDefinitions();
	model = CatalogGetModel(text_to_cstring(PG_GETARG_TEXT_PP(0)), false);
	if (!has_privs_of_role(GetUserId(), ModelOwnerId(model)))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("must be owner of model \"%s\"", model->name)));

	if (strcmp(model->materialized, "ephemeral") == 0)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("model \"%s\" is ephemeral: it has no relation to test", model->name),
				 errhint("Test the models that read it.")));
	test->model = model->name;
	test->kind = text_to_cstring(PG_GETARG_TEXT_PP(1));
	if (strcmp(test->kind, "not_null") != 0 && strcmp(test->kind, "unique") != 0 &&
		strcmp(test->kind, "accepted_values") != 0 && strcmp(test->kind, "relationships") != 0 &&
		strcmp(test->kind, "expression") != 0 && strcmp(test->kind, "row_count") != 0 &&
		strcmp(test->kind, "freshness") != 0 && strcmp(test->kind, "sql") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown test kind \"%s\"", test->kind),
				 errhint("Kinds are not_null, unique, accepted_values, relationships, expression, row_count, freshness and sql.")));
	if (column_name != NULL && !PG_ARGISNULL(3))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("give column_name or columns, not both")));
	test->columns = column_name ? list_make1(column_name) :
		(PG_ARGISNULL(3) ? NIL : TextArrayToList(PG_GETARG_DATUM(3)));
	test->accepted = PG_ARGISNULL(4) ? NIL : TextArrayToList(PG_GETARG_DATUM(4));
	test->to_model = nullable_text(fcinfo, 5);
	test->to_relation = nullable_text(fcinfo, 6);
	test->to_column = nullable_text(fcinfo, 7);
	test->expression = nullable_text(fcinfo, 8);
	test->min_rows = PG_ARGISNULL(9) ? NULL : psprintf(INT64_FORMAT, PG_GETARG_INT64(9));
	test->max_rows = PG_ARGISNULL(10) ? NULL : psprintf(INT64_FORMAT, PG_GETARG_INT64(10));
	test->max_age = PG_ARGISNULL(11) ? NULL :
		DatumGetCString(DirectFunctionCall1(interval_out, PG_GETARG_DATUM(11)));
	test->sql = nullable_text(fcinfo, 12);
	test->severity = PG_ARGISNULL(13) ? "error" : text_to_cstring(PG_GETARG_TEXT_PP(13));
	test->warn_if = PG_ARGISNULL(14) ? "> 0" : text_to_cstring(PG_GETARG_TEXT_PP(14));
	test->error_if = PG_ARGISNULL(15) ? "> 0" : text_to_cstring(PG_GETARG_TEXT_PP(15));
	test->store_failures = PG_ARGISNULL(17) ? false : PG_GETARG_BOOL(17);

	/* what each kind needs */
	if ((strcmp(test->kind, "not_null") == 0 || strcmp(test->kind, "accepted_values") == 0 ||
		 strcmp(test->kind, "relationships") == 0 || strcmp(test->kind, "freshness") == 0) &&
		list_length(test->columns) != 1)
		test_arg_error(test->kind, "one column (column_name)");
	if (strcmp(test->kind, "unique") == 0 && test->columns == NIL)
		test_arg_error(test->kind, "column_name or columns");
	if ((strcmp(test->kind, "expression") == 0 || strcmp(test->kind, "row_count") == 0 ||
		 strcmp(test->kind, "sql") == 0) && test->columns != NIL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a test of kind %s takes no column", test->kind)));
	if (strcmp(test->kind, "accepted_values") == 0 && test->accepted == NIL)
		test_arg_error(test->kind, "accepted (the values allowed)");
	if (strcmp(test->kind, "relationships") == 0 &&
		((test->to_model == NULL) == (test->to_relation == NULL) || test->to_column == NULL))
		test_arg_error(test->kind, "to_model or to_relation (one of them) and to_column");
	if (strcmp(test->kind, "expression") == 0 && test->expression == NULL)
		test_arg_error(test->kind, "expression");
	if (strcmp(test->kind, "row_count") == 0)
	{
		if (test->min_rows == NULL && test->max_rows == NULL)
			test_arg_error(test->kind, "min_rows or max_rows");
		if ((!PG_ARGISNULL(9) && PG_GETARG_INT64(9) < 0) ||
			(!PG_ARGISNULL(10) && PG_GETARG_INT64(10) < 0) ||
			(!PG_ARGISNULL(9) && !PG_ARGISNULL(10) && PG_GETARG_INT64(9) > PG_GETARG_INT64(10)))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("row_count bounds must satisfy 0 <= min_rows <= max_rows")));
	}
	if (strcmp(test->kind, "freshness") == 0 && test->max_age == NULL)
		test_arg_error(test->kind, "max_age");
	if (test->max_age != NULL &&
		DatumGetInt32(DirectFunctionCall2(interval_cmp, PG_GETARG_DATUM(11),
										  DirectFunctionCall3(interval_in, CStringGetDatum("0"),
															  ObjectIdGetDatum(InvalidOid),
															  Int32GetDatum(-1)))) <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("max_age must be greater than zero"),
				 errhint("max_age is how old the newest value may be, such as '1 day'.")));
	if (strcmp(test->kind, "sql") == 0 && test->sql == NULL)
		test_arg_error(test->kind, "sql (a query returning the failing rows)");
	if (strcmp(test->severity, "error") != 0 && strcmp(test->severity, "warn") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown severity \"%s\"", test->severity),
				 errhint("severity is error or warn.")));
	if (!parse_condition(test->warn_if, op, &bound) || !parse_condition(test->error_if, op, &bound))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid warn_if or error_if condition"),
				 errhint("A condition is a comparison with the failure count, such as '> 0' or '>= 10'.")));
	test->blocking = PG_ARGISNULL(16) ? strcmp(test->severity, "error") == 0 : PG_GETARG_BOOL(16);

	test->name = name ? name :
		default_test_name(test, strcmp(test->kind, "expression") == 0 ? test->expression :
						  strcmp(test->kind, "sql") == 0 ? test->sql :
						  strcmp(test->kind, "relationships") == 0 ?
						  (test->to_model ? test->to_model : test->to_relation) : NULL);
	check_test_name(test->name);
	if (test->store_failures && strlen(model->name) + 2 + strlen(test->name) >= NAMEDATALEN)
		ereport(ERROR,
				(errcode(ERRCODE_NAME_TOO_LONG),
				 errmsg("the failure table name %s__%s would be too long", model->name, test->name),
				 errhint("Give the test a shorter name.")));

	ModelBecomeOwner(model, &save_userid, &save_sec);
	nestlevel = AnalyzeEnterSearchPath(model->search_path);
	check_test(model, test);
	AnalyzeLeaveSearchPath(nestlevel);
	SetUserIdAndSecContext(save_userid, save_sec);

	memset(nulls, ' ', sizeof(nulls));
	for (int i = 0; i < 20; i++)
		argtypes[i] = TEXTOID;
	values[0] = CStringGetTextDatum(test->model);
	values[1] = CStringGetTextDatum(test->name);
	values[2] = CStringGetTextDatum(test->kind);
	argtypes[3] = TEXTARRAYOID;
	values[3] = ListToTextArray(test->columns);
	argtypes[4] = TEXTARRAYOID;
	values[4] = ListToTextArray(test->accepted);
	nulls[4] = test->accepted ? ' ' : 'n';
#define TEXT_OR_NULL(i, v) do { values[i] = (v) ? CStringGetTextDatum(v) : (Datum) 0; nulls[i] = (v) ? ' ' : 'n'; } while (0)
	TEXT_OR_NULL(5, test->to_model);
	TEXT_OR_NULL(6, test->to_relation);
	TEXT_OR_NULL(7, test->to_column);
	TEXT_OR_NULL(8, test->expression);
	TEXT_OR_NULL(9, test->min_rows);
	TEXT_OR_NULL(10, test->max_rows);
	TEXT_OR_NULL(11, test->max_age);
	TEXT_OR_NULL(12, test->sql);
	TEXT_OR_NULL(13, test->severity);
	TEXT_OR_NULL(14, test->warn_if);
	TEXT_OR_NULL(15, test->error_if);
	argtypes[16] = BOOLOID;
	values[16] = BoolGetDatum(test->blocking);
	argtypes[17] = BOOLOID;
	values[17] = BoolGetDatum(test->store_failures);
	TEXT_OR_NULL(18, description);
#undef TEXT_OR_NULL

	CatalogEnter(&session);
	ret = SPI_execute_with_args("INSERT INTO medallion.tests (model, name, kind, columns, accepted, "
								"to_model, to_relation, to_column, expression, min_rows, max_rows, "
								"max_age, sql, severity, warn_if, error_if, blocking, store_failures, "
								"description) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, "
								"$10::bigint, $11::bigint, $12::interval, $13, $14, $15, $16, $17, "
								"$18, $19) ON CONFLICT (model, name) DO UPDATE SET "
								"kind = EXCLUDED.kind, columns = EXCLUDED.columns, "
								"accepted = EXCLUDED.accepted, to_model = EXCLUDED.to_model, "
								"to_relation = EXCLUDED.to_relation, to_column = EXCLUDED.to_column, "
								"expression = EXCLUDED.expression, min_rows = EXCLUDED.min_rows, "
								"max_rows = EXCLUDED.max_rows, max_age = EXCLUDED.max_age, "
								"sql = EXCLUDED.sql, severity = EXCLUDED.severity, "
								"warn_if = EXCLUDED.warn_if, error_if = EXCLUDED.error_if, "
								"blocking = EXCLUDED.blocking, store_failures = EXCLUDED.store_failures, "
								"description = EXCLUDED.description",
								19, argtypes, values, nulls, false, 0);
	if (ret != SPI_OK_INSERT)
		elog(ERROR, "could not write the test: %s", SPI_result_code_string(ret));
	CatalogLeave(&session);
	CommandCounterIncrement();
	AuditBindTests(model);
	PG_RETURN_TEXT_P(cstring_to_text(test->name));
}

/*
 * medallion_drop_test(model, name) drops a test.
 */
Datum
medallion_drop_test(PG_FUNCTION_ARGS)
{
	ModelDef   *model;
	char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(1));
	CatalogSession session;
	Oid			argtypes[2] = {TEXTOID, TEXTOID};
	Datum		values[2];
	int			ret;

	CatalogRequireAdmin("drop tests");
	CatalogLockDefinitions();
	model = CatalogGetModel(text_to_cstring(PG_GETARG_TEXT_PP(0)), false);
	if (!has_privs_of_role(GetUserId(), ModelOwnerId(model)))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("must be owner of model \"%s\"", model->name)));
	values[0] = CStringGetTextDatum(model->name);
	values[1] = CStringGetTextDatum(name);
	CatalogEnter(&session);
	ret = SPI_execute_with_args("DELETE FROM medallion.tests WHERE model = $1 AND name = $2",
								2, argtypes, values, NULL, false, 0);
	if (ret != SPI_OK_DELETE)
		elog(ERROR, "could not drop the test: %s", SPI_result_code_string(ret));
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("model \"%s\" has no test \"%s\"", model->name, name),
				 errhint("Tests are listed in medallion.tests.")));
	CatalogLeave(&session);
	CommandCounterIncrement();
	BindDrop(BindName(model->name, name));
	AuditBindTests(model);
	PG_RETURN_VOID();
}

/*
 * medallion_check_sources() checks the freshness rules of sources: for
 * each relation of a source with a freshness_column, the age of the newest
 * value against warn_after and error_after.
 */
Datum
medallion_check_sources(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MemoryContext callercxt = CurrentMemoryContext;
	CatalogSession session;
	List	   *rules = NIL;
	ListCell   *lc;
	int			ret;

	CatalogRequireAdmin("check sources");
	InitMaterializedSRF(fcinfo, 0);

	/* (source, relation, column, warn_after, error_after) to check */
	CatalogEnter(&session);
	ret = SPI_execute("SELECT s.name, pg_catalog.quote_ident(s.local_schema) || '.' || "
					  "pg_catalog.quote_ident(c.relname), s.freshness_column, "
					  "s.warn_after::text, s.error_after::text, s.owner::text "
					  "FROM medallion.sources s "
					  "LEFT JOIN pg_catalog.pg_namespace n ON n.nspname = s.local_schema "
					  "LEFT JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid "
					  " AND c.relkind IN ('r', 'v', 'm', 'f', 'p') "
					  " AND (s.tables = '{}' OR c.relname::text = ANY (s.tables)) "
					  " AND EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a WHERE a.attrelid = c.oid "
					  "             AND a.attname::text = s.freshness_column AND NOT a.attisdropped) "
					  "ORDER BY 1, 2", false, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not read sources: %s", SPI_result_code_string(ret));
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		MemoryContext spicxt = MemoryContextSwitchTo(callercxt);
		char	  **rule = palloc(sizeof(char *) * 6);

		for (int j = 0; j < 6; j++)
			rule[j] = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, j + 1);
		rules = lappend(rules, rule);
		MemoryContextSwitchTo(spicxt);
	}
	CatalogLeave(&session);

	foreach(lc, rules)
	{
		char	  **rule = lfirst(lc);
		Datum		values[6];
		bool		nulls[6] = {false};
		const char *status;
		char	   *message = NULL;

		values[0] = CStringGetTextDatum(rule[0]);
		if (rule[2] == NULL || rule[1] == NULL)
		{
			status = "skipped";
			message = rule[2] == NULL ? "no freshness rule (freshness_column is not set)" :
				psprintf("no relation of the source has column \"%s\"", rule[2]);
			nulls[1] = nulls[3] = nulls[4] = true;
		}
		else
		{
			Oid			argtypes[2] = {TEXTOID, TEXTOID};
			Datum		args[2];
			char		argnulls[2] = {rule[3] ? ' ' : 'n', rule[4] ? ' ' : 'n'};
			char	   *newest;
			char	   *age;
			char	   *warn;
			char	   *error;

			Oid			owner = get_role_oid(rule[5], true);
			BindRows	rows;
			Oid			save_userid;
			int			save_sec;
			int			nestlevel;

			if (!OidIsValid(owner))
				ereport(ERROR,
						(errcode(ERRCODE_UNDEFINED_OBJECT),
						 errmsg("owner \"%s\" of source \"%s\" does not exist", rule[5], rule[0]),
						 errhint("A superuser registers the source again as an existing role.")));
			args[0] = rule[3] ? CStringGetTextDatum(rule[3]) : (Datum) 0;
			args[1] = rule[4] ? CStringGetTextDatum(rule[4]) : (Datum) 0;

			/* read as the source's owner, restricted: what it reads may run code */
			GetUserIdAndSecContext(&save_userid, &save_sec);
			SetUserIdAndSecContext(owner, save_sec | SECURITY_LOCAL_USERID_CHANGE |
								   SECURITY_RESTRICTED_OPERATION);
			nestlevel = AnalyzeEnterSearchPath(MEDALLION_SAFE_PATH);
			(void) BindExecute(psprintf("SELECT max(c.%s)::pg_catalog.text, "
										"(pg_catalog.now() OPERATOR(pg_catalog.-) max(c.%s)::pg_catalog.timestamptz)::pg_catalog.text, "
										"pg_catalog.now() OPERATOR(pg_catalog.-) max(c.%s)::pg_catalog.timestamptz OPERATOR(pg_catalog.>) $1::pg_catalog.interval, "
										"pg_catalog.now() OPERATOR(pg_catalog.-) max(c.%s)::pg_catalog.timestamptz OPERATOR(pg_catalog.>) $2::pg_catalog.interval "
										"FROM %s AS c",
										quote_identifier(rule[2]), quote_identifier(rule[2]),
										quote_identifier(rule[2]), quote_identifier(rule[2]),
										rule[1]),
							   2, argtypes, args, argnulls, NIL, NIL,
							   BindRowsReceiver(&rows, 1, callercxt));
			AnalyzeLeaveSearchPath(nestlevel);
			SetUserIdAndSecContext(save_userid, save_sec);
			newest = ((char **) linitial(rows.rows))[0];
			age = ((char **) linitial(rows.rows))[1];
			warn = ((char **) linitial(rows.rows))[2];
			error = ((char **) linitial(rows.rows))[3];
			if (newest == NULL)
			{
				status = "error";
				message = "the relation has no rows";
			}
			else if (error != NULL && strcmp(error, "t") == 0)
			{
				status = "error";
				message = psprintf("newest value is older than error_after (%s)", rule[4]);
			}
			else if (warn != NULL && strcmp(warn, "t") == 0)
			{
				status = "warn";
				message = psprintf("newest value is older than warn_after (%s)", rule[3]);
			}
			else
				status = "pass";
			values[1] = CStringGetTextDatum(rule[1]);
			values[3] = newest ? CStringGetTextDatum(newest) : (Datum) 0;
			nulls[3] = newest == NULL;
			values[4] = age ? DirectFunctionCall3(interval_in, CStringGetDatum(age),
												  ObjectIdGetDatum(InvalidOid),
												  Int32GetDatum(-1)) : (Datum) 0;
			nulls[4] = age == NULL;
		}
		values[2] = CStringGetTextDatum(status);
		values[5] = message ? CStringGetTextDatum(message) : (Datum) 0;
		nulls[5] = message == NULL;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	PG_RETURN_VOID();
}
