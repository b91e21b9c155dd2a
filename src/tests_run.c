/*-------------------------------------------------------------------------
 *
 * tests_run.c
 *	  Running data-quality tests: the fused query of a model's column tests,
 *	  its relationships and sql tests, classifying the failures, storing the
 *	  failing rows.  medallion_check_sources is in tests_source.c.
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
 * the user's query, both bound when the test was defined (tests_define.c),
 * as the expressions of expression tests are.  Values (accepted lists,
 * ages, bounds) are passed as parameters; column names are quoted.  Every
 * query runs through BindExecute, as the model owner, reading this run's
 * candidates instead of what they replace.
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

#include "access/relation.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/dependency.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_type.h"
#include "common/md5.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "parser/parser.h"
#include "optimizer/optimizer.h"
#include "rewrite/rewriteHandler.h"
#include "rewrite/rewriteManip.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/regproc.h"
#include "utils/resowner.h"
#include "utils/ruleutils.h"
#include "utils/syscache.h"
#include "storage/lmgr.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"
#include "utils/varlena.h"

#include "bind.h"
#include "build.h"
#include "catalog.h"
#include "changes.h"
#include "relation.h"
#include "scale.h"
#include "scope.h"
#include "sqltext.h"
#include "subxact.h"
#include "tests.h"

int			tests_store_failures_limit = TESTS_DEFAULT_STORE_FAILURES_LIMIT;

/*
 * TestsInit
 *		Define this module's configuration parameters.
 */
void
TestsInit(void)
{
	DefineCustomIntVariable("medallion.store_failures_limit",
							"Sets how many failing rows a test with store_failures keeps.",
							NULL,
							&tests_store_failures_limit, TESTS_DEFAULT_STORE_FAILURES_LIMIT, 1, INT_MAX, PGC_USERSET, 0,
							NULL, NULL, NULL);
}

bool
TestsParseCondition(const char *text, char *op, int64 *value)
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

	if (!TestsParseCondition(text, op, &value))
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

/*
 * Which fused query a test goes in: the one over the whole table, or, for
 * a build that wrote some rows of a table whose tests all passed before
 * (TestsRunSome's written), the one over those rows, or the one of unique
 * tests over the values those rows hold.
 */
typedef enum FusedOver
{
	FUSED_TABLE,
	FUSED_WRITTEN,
	FUSED_VALUES
} FusedOver;

/* What the fused query needs to know about one test. */
typedef struct FusedPart
{
	TestResult *result;
	char	   *failures_sql;	/* an int8 aggregate over "c" */
	char	   *observed_sql;	/* a text expression, or NULL */
	char	   *predicate;		/* row tests: true for a failing row */
	FusedOver	over;			/* the query it goes in */
} FusedPart;

char *
TestsColumn(const char *column)
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
						 TestsColumn(lfirst(lc)));
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
	Oid			type;
	int32		typmod;
	Oid			collation;

	if (attno == InvalidAttrNumber)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("column \"%s\" of %s does not exist", column,
						get_rel_name(relid))));
	/* with its modifier: "character" alone would be character(1) */
	get_atttypetypmodcoll(relid, attno, &type, &typmod, &collation);
	return format_type_extended(type, typmod, FORMAT_TYPE_TYPEMOD_GIVEN | FORMAT_TYPE_FORCE_QUALIFY);
}

/*
 * The column of a model's fused test binding (medallion_bind."<model>$")
 * that is true for the rows failing expression test: its expression,
 * bound when the test was defined, negated.
 */
char *
TestsExpressionColumn(TestDef *test)
{
	char	   *column = psprintf("medallion.test.%s", test->name);
	char		hex[33];
	const char *errstr = NULL;

	if (strlen(column) < NAMEDATALEN)
		return column;
	/* cut to NAMEDATALEN, two long names could meet: named by a hash */
	if (!pg_md5_hash(test->name, strlen(test->name), hex, &errstr))
		elog(ERROR, "could not compute md5: %s", errstr);
	return psprintf("medallion.test.$%s", hex);
}

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
		return psprintf("%s IS NULL", TestsColumn(col));
	if (strcmp(test->kind, "accepted_values") == 0)
		return psprintf("%s IS NOT NULL AND %s OPERATOR(pg_catalog.<>) ALL (($%d::pg_catalog.text[])::%s[])",
						TestsColumn(col), TestsColumn(col), param, column_type_sql(relid, col));
	if (strcmp(test->kind, "expression") == 0)
		return TestsColumn(TestsExpressionColumn(test));
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
 * append_counts
 *		Append each fused part's failure count and observed value to the
 *		select list being written in sql; with zero_predicates, a row test
 *		(a part with a predicate) gets 0 and NULL: the filtered count over
 *		the predicates stands for them.
 */
static void
append_counts(StringInfo sql, List *fused, bool zero_predicates)
{
	ListCell   *lc;

	foreach(lc, fused)
	{
		FusedPart  *part = lfirst(lc);

		if (zero_predicates && part->predicate != NULL)
			appendStringInfoString(sql, ", 0::pg_catalog.int8, NULL::pg_catalog.text");
		else
			appendStringInfo(sql, ", (%s)::pg_catalog.int8, %s", part->failures_sql,
							 part->observed_sql ? part->observed_sql : "NULL::pg_catalog.text");
	}
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

	/* in the owner scope: the owner's limit, unless the caller acts for it */
	int			limit = ScopeOwnerInt(GetUserId(), "medallion.store_failures_limit",
									  tests_store_failures_limit);

	(void) BindExecute(psprintf("%s LIMIT %d", sql, limit),
					   nparams, types, values, NULL, from, to,
					   BindRowsReceiver(&rows, limit, resultcxt));
	foreach(lc, rows.rows)
	{
		MemoryContext old = MemoryContextSwitchTo(resultcxt);

		/* the list must outlive the model's subtransaction */
		result->failing_rows = lappend(result->failing_rows, ((char **) lfirst(lc))[0]);
		MemoryContextSwitchTo(old);
	}
}

/* A query for a few failing rows (a SubxactWork): their texts into rows. */
typedef struct SampleQuery
{
	const char *sql;
	int			nparams;
	Oid		   *types;
	Datum	   *values;
	List	   *from;
	List	   *to;
	List	   *rows;			/* out: of char **, in resultcxt */
	MemoryContext resultcxt;
} SampleQuery;

static void
sample_query_work(void *arg)
{
	SampleQuery *query = (SampleQuery *) arg;
	BindRows	rows;

	(void) BindExecute(psprintf("%s ORDER BY 1 LIMIT %d", query->sql, TESTS_SAMPLE_ROWS),
					   query->nparams, query->types, query->values, NULL,
					   query->from, query->to,
					   BindRowsReceiver(&rows, TESTS_SAMPLE_ROWS, query->resultcxt));
	query->rows = rows.rows;
}

/*
 * sample_failing_rows
 *		Set a failing test's message to its count of failing rows and a few
 *		of them (sql returns each as one text), read as the model owner (the
 *		caller's scope), and how to keep them all.  The message quotes the
 *		owner's data: it is shown only to roles acting for the owner
 *		(RunVisibleText, medallion.run_messages).  When the rows cannot be
 *		read, the message says so and the test's result stands.
 */
static void
sample_failing_rows(ModelDef *model, TestResult *result, const char *sql, int nparams,
					Oid *types, Datum *values, List *from, List *to,
					MemoryContext resultcxt)
{
	SampleQuery query = {sql, nparams, types, values, from, to, NIL, resultcxt};
	ErrorData  *edata = SubxactRun(sample_query_work, &query, true);
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	appendStringInfo(&buf, INT64_FORMAT " failure%s", result->failures,
					 result->failures == 1 ? "" : "s");
	if (edata != NULL)
		appendStringInfo(&buf, " (the failing rows could not be read: %s)", edata->message);
	foreach(lc, query.rows)
	{
		const char *row = ((char **) lfirst(lc))[0];

		if (foreach_current_index(lc) > 0)
			appendStringInfoString(&buf, ", ");
		else if (list_length(query.rows) < TESTS_SAMPLE_ROWS)
			appendStringInfoString(&buf, ": ");
		else
			appendStringInfo(&buf, ", the first %d: ", TESTS_SAMPLE_ROWS);
		if (row == NULL)
			appendStringInfoString(&buf, "(null)");
		else if (strlen(row) > TESTS_SAMPLE_WIDTH)
			appendStringInfo(&buf, "%.*s...", pg_mbcliplen(row, strlen(row), TESTS_SAMPLE_WIDTH), row);
		else
			appendStringInfoString(&buf, row);
	}
	if (result->test->store_failures)
		appendStringInfoString(&buf, "; all failing rows are kept in medallion_audit (medallion.audit_tables)");
	else
		appendStringInfoString(&buf, "; to keep all failing rows, add the test again with store_failures => true");
	result->message = MemoryContextStrdup(resultcxt, buf.data);
}

/*
 * The columns a failing row is shown by, as a JSON object: the model's
 * unique key (without one, its first column) and the columns the test
 * reads.  NULL for an expression test: the whole row.
 */
static char *
sample_columns(ModelDef *model, TestDef *test, Oid relid)
{
	List	   *columns = NIL;
	StringInfoData buf;
	ListCell   *lc;

	if (strcmp(test->kind, "expression") == 0)
		return NULL;
	foreach(lc, model->unique_key)
		columns = list_append_unique(columns, makeString(lfirst(lc)));
	if (model->unique_key == NIL)
	{
		Relation	rel = relation_open(relid, AccessShareLock);
		TupleDesc	desc = RelationGetDescr(rel);

		for (int i = 0; i < desc->natts; i++)
		{
			if (!TupleDescAttr(desc, i)->attisdropped)
			{
				columns = lappend(columns, makeString(pstrdup(NameStr(TupleDescAttr(desc, i)->attname))));
				break;
			}
		}
		relation_close(rel, AccessShareLock);
	}
	foreach(lc, test->columns)
		columns = list_append_unique(columns, makeString(lfirst(lc)));
	initStringInfo(&buf);
	appendStringInfoString(&buf, "pg_catalog.jsonb_build_object(");
	foreach(lc, columns)
	{
		const char *col = strVal(lfirst(lc));

		appendStringInfo(&buf, "%s%s, %s", foreach_current_index(lc) > 0 ? ", " : "",
						 quote_literal_cstr(col), TestsColumn(col));
	}
	appendStringInfoChar(&buf, ')');
	return buf.data;
}

static void
record(TestsOutcome *outcome, TestResult *result, int64 failures, const char *observed,
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

/*
 * TestsFreshnessAgain
 *		The freshness tests of a model whose data did not change since its
 *		last build, evaluated again without reading it: the newest value
 *		is what it was, so its age is the age the test's last result saw
 *		plus the time since that run started.  When one of them has no
 *		result in the ledger, the model's tests run against what is
 *		published (relid).  NULL when the model has no freshness test.
 */
TestsOutcome *
TestsFreshnessAgain(ModelDef *model, Oid relid, MemoryContext resultcxt)
{
	TestsOutcome *outcome = MemoryContextAllocZero(resultcxt, sizeof(TestsOutcome));
	MemoryContext oldcontext = MemoryContextSwitchTo(resultcxt);
	List	   *tests = CatalogListTests(model->name);	/* the results point at them */
	ListCell   *lc;

	MemoryContextSwitchTo(oldcontext);
	foreach(lc, tests)
	{
		TestDef    *test = lfirst(lc);
		CatalogSession session;
		Oid			argtypes[3] = {TEXTOID, TEXTOID, TEXTOID};
		Datum		values[3];
		char	   *age = NULL;
		bool		stale = false;
		TestResult *result;

		if (strcmp(test->kind, "freshness") != 0)
			continue;
		values[0] = CStringGetTextDatum(model->name);
		values[1] = CStringGetTextDatum(test->name);
		values[2] = CStringGetTextDatum(test->max_age);
		CatalogEnter(&session);
		if (CatalogQuery("SELECT a.age::text, a.age > $3::interval "
						 "  FROM (SELECT r.observed::interval + (now() - u.started_at) AS age "
						 "          FROM medallion.test_results r JOIN medallion.runs u ON u.run_id = r.run_id "
						 "         WHERE r.model = $1 AND r.test = $2 AND r.status <> 'error' "
						 "           AND r.observed IS NOT NULL "
						 "         ORDER BY r.run_id DESC LIMIT 1) a",
						 3, argtypes, values, NULL, 0) != SPI_OK_SELECT)
			elog(ERROR, "could not read the last freshness of model \"%s\"", model->name);
		if (SPI_processed == 1)
		{
			bool		isnull;

			age = MemoryContextStrdup(resultcxt, SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1));
			stale = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
		}
		CatalogLeave(&session);
		if (age == NULL)
		{
			/* on Citus, before its first multi-shard query: see ScaleSequential */
			if (ScaleIsCitusTable(relid))
				ScaleSequential();
			return TestsRun(model, relid, NIL, NIL, resultcxt);
		}
		oldcontext = MemoryContextSwitchTo(resultcxt);
		result = palloc0(sizeof(TestResult));
		result->test = test;
		outcome->results = lappend(outcome->results, result);
		MemoryContextSwitchTo(oldcontext);
		record(outcome, result, stale ? 1 : 0, age, NULL, resultcxt);
	}
	return outcome->results != NIL ? outcome : NULL;
}

/* The relation a relationships test references (what is published). */
Oid
TestsReferencedRelation(TestDef *test)
{
	if (test->to_model != NULL)
		return RelPublished(CatalogGetModel(test->to_model, false));
	return DatumGetObjectId(DirectFunctionCall1(regclassin, CStringGetDatum(test->to_relation)));
}

/*
 * TestsRun
 *		Run the tests of model against relation relid (its candidate, or what
 *		is published), as the current user (the caller made it the model
 *		owner, with medallion's safe search_path).  The tests' SQL reads
 *		what is published and the bindings of the tests' own code;
 *		BindExecute points each read of a relation in redirect_from (OIDs),
 *		and of the model's published relation, at redirect_to or relid, so
 *		tests see the run's candidates.  Returns the outcome, allocated in
 *		resultcxt.
 */
TestsOutcome *
TestsRun(ModelDef *model, Oid relid, List *redirect_from, List *redirect_to,
		 MemoryContext resultcxt)
{
	return TestsRunSome(model, relid, redirect_from, redirect_to, NIL, NIL, InvalidOid, resultcxt);
}

/*
 * run_fused
 *		Run the fused query of the parts of fused that go in over, reading
 *		fromsql as "c" (with params, reading to for from), and record each
 *		one's result.  Several row tests: first one filtered count over
 *		their predicates OR-ed (one aggregate step per row instead of one
 *		per test).  When no row fails, that is every row test's result;
 *		otherwise a second query counts each test's failures.
 */
static void
run_fused(TestsOutcome *outcome, List *fused, FusedOver over, const char *fromsql, int nparams,
		  Oid *types, Datum *values, List *from, List *to, MemoryContext resultcxt)
{
	List	   *parts = NIL;
	int			npredicates = 0;
	StringInfoData sql;
	char	  **row = NULL;
	double		ms = 0;
	char	   *error = NULL;
	bool		passed = false;
	ListCell   *lc;

	foreach(lc, fused)
	{
		FusedPart  *part = lfirst(lc);

		if (part->over != over)
			continue;
		parts = lappend(parts, part);
		npredicates += part->predicate != NULL;
	}
	if (parts == NIL)
		return;
	for (int pass = npredicates > 1 ? 0 : 1; pass < 2 && !passed && error == NULL; pass++)
	{
		initStringInfo(&sql);
		appendStringInfoString(&sql, pass == 0 ? "SELECT count(*) FILTER (WHERE false" : "SELECT count(*)");
		foreach(lc, pass == 0 ? parts : NIL)
		{
			FusedPart  *part = lfirst(lc);

			if (part->predicate != NULL)
				appendStringInfo(&sql, " OR (%s)", part->predicate);
		}
		if (pass == 0)
			appendStringInfoChar(&sql, ')');
		append_counts(&sql, parts, pass == 0);
		appendStringInfo(&sql, " FROM %s AS c", fromsql);
		error = run_counting_query(sql.data, nparams, types, values, from, to, &row, &ms,
								   resultcxt);
		outcome->queries++;
		passed = pass == 0 && error == NULL && strtoll(row[0], NULL, 10) == 0;
	}
	foreach(lc, parts)
	{
		FusedPart  *part = lfirst(lc);
		int			i = foreach_current_index(lc);

		part->result->ms = ms;
		record(outcome, part->result,
			   error ? 0 : strtoll(row[1 + 2 * i], NULL, 10),
			   error ? NULL : row[2 + 2 * i], error, resultcxt);
	}
}

/*
 * same_columns
 *		Has relation b the columns of a at the same positions (names,
 *		types, dropped ones): a query over a reads b in its place
 *		(AnalyzeRedirect) only then.
 */
static bool
same_columns(Oid a, Oid b)
{
	Relation	ra = relation_open(a, AccessShareLock);
	Relation	rb = relation_open(b, AccessShareLock);
	TupleDesc	da = RelationGetDescr(ra);
	TupleDesc	db = RelationGetDescr(rb);
	bool		same = da->natts == db->natts;

	for (int i = 0; same && i < da->natts; i++)
	{
		Form_pg_attribute x = TupleDescAttr(da, i);
		Form_pg_attribute y = TupleDescAttr(db, i);

		same = x->attisdropped == y->attisdropped &&
			(x->attisdropped ||
			 (strcmp(NameStr(x->attname), NameStr(y->attname)) == 0 && x->atttypid == y->atttypid &&
			  x->atttypmod == y->atttypmod && x->attcollation == y->attcollation));
	}
	relation_close(rb, AccessShareLock);
	relation_close(ra, AccessShareLock);
	return same;
}

/*
 * unique_over_values
 *		The failures of unique test over the whole of relsql counted from
 *		the values the rows of writtensql hold: the other rows' values were
 *		unique (its last run passed), so a value repeated is one of theirs,
 *		and each repeat counts as count(*) - count(DISTINCT) does.
 */
static char *
unique_over_values(TestDef *test, const char *relsql, const char *writtensql)
{
	StringInfoData d_not_null;
	ListCell   *lc;

	initStringInfo(&d_not_null);
	foreach(lc, test->columns)
		appendStringInfo(&d_not_null, " AND d.%s IS NOT NULL", quote_identifier(lfirst(lc)));
	return psprintf("(SELECT coalesce(sum(s.n OPERATOR(pg_catalog.-) 1), 0) FROM "
					"(SELECT count(*) AS n FROM %s AS d WHERE true%s AND (%s) IN (SELECT %s FROM %s AS w) "
					"GROUP BY %s) AS s)",
					relsql, d_not_null.data, column_tuple(test->columns, "d."),
					column_tuple(test->columns, "w."), writtensql, column_tuple(test->columns, "d."));
}

/* Does the binding of a model's test expressions read a table, or call a function not immutable? */
static bool
expressions_mutable(Oid binding)
{
	Relation	view = table_open(binding, AccessShareLock);
	Node	   *exprs = (Node *) get_view_query(view)->targetList;
	bool		mutable = contain_mutable_functions(exprs) || checkExprHasSubLink(exprs);

	table_close(view, AccessShareLock);
	return mutable;
}

/*
 * TestsRunSome
 *		As TestsRun, for some of the model's tests: those named in only (a
 *		List of String nodes; NIL: all of them), less those named in leave_out (a
 *		run evaluates them later: the deferred tests of run.c).  The
 *		outcome lists only the tests that ran.
 *
 *		written: when valid, a table holding the rows a maintained build
 *		wrote in the published table, the only rows that changed, in a
 *		table whose tests all passed at its last build (the caller knows:
 *		ChangesMaintainStoredState).  Its not_null and accepted_values
 *		tests then read only those rows (and its expression tests, through
 *		the binding of their expressions, when written has the table's
 *		columns at the same positions), and its unique tests only the rows
 *		holding their values (unique_over_values): what they would count
 *		over the whole table.  So do its relationships tests when the model
 *		they reference is, with what it reads, as that build's tests saw it
 *		(ChangesReferenceUnchanged): the rows written are anti-joined to it.
 *		Its other tests read the whole table.
 */
TestsOutcome *
TestsRunSome(ModelDef *model, Oid relid, List *redirect_from, List *redirect_to,
			 List *only, List *leave_out, Oid written, MemoryContext resultcxt)
{
	MemoryContext oldcontext = MemoryContextSwitchTo(resultcxt);
	TestsOutcome *outcome = palloc0(sizeof(TestsOutcome));
	List	   *tests = NIL;
	List	   *fused = NIL;
	Oid			published = RelPublished(model);
	char	   *relsql = SqlRelationName(published);
	char	   *fusedsql = relsql;
	const char *rowsql = "c";
	List	   *from = list_copy(redirect_from);
	List	   *to = list_copy(redirect_to);
	Oid			types[FUNC_MAX_ARGS];
	Datum		values[FUNC_MAX_ARGS];
	int			nparams = 0;
	bool		expressions_bound;
	bool		written_alike = false;	/* written read in place of the table */
	ListCell   *lc;

	foreach(lc, CatalogListTests(model->name))
	{
		TestDef    *test = lfirst(lc);

		if ((only == NIL || list_member(only, makeString(test->name))) &&
			!list_member(leave_out, makeString(test->name)))
			tests = lappend(tests, test);
	}
	MemoryContextSwitchTo(oldcontext);
	if (tests == NIL)
		return outcome;
	if (relid != published && !list_member_oid(from, published))
	{
		from = lappend_oid(from, published);
		to = lappend_oid(to, relid);
	}
	expressions_bound = OidIsValid(RelBinding(BindName(model->name, "")));
	if (expressions_bound)
	{
		/* the tests' expressions, bound, next to the columns the tests read */
		fusedsql = BindRelationSql(BindName(model->name, ""));
		rowsql = psprintf("c.%s", quote_identifier(TESTS_ROW_COLUMN));
	}
	/* not when an expression's answer may change with no row changed: now(), a table read */
	if (OidIsValid(written))
		written_alike = same_columns(published, written) &&
			!(expressions_bound && expressions_mutable(RelBinding(BindName(model->name, ""))));

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
			part->predicate = psprintf("%s IS NULL", TestsColumn(col));
		else if (strcmp(test->kind, "unique") == 0 && list_length(test->columns) == 1)
			part->failures_sql = psprintf("count(%s) - count(DISTINCT %s)", TestsColumn(col), TestsColumn(col));
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
										  TestsColumn(col), TestsColumn(col), nparams);
			part->observed_sql = psprintf("(pg_catalog.now() OPERATOR(pg_catalog.-) max(%s)::pg_catalog.timestamptz)::pg_catalog.text",
										  TestsColumn(col));
		}
		else
			elog(ERROR, "unknown test kind \"%s\"", test->kind);
		if (part->predicate != NULL)
			part->failures_sql = psprintf("count(*) FILTER (WHERE %s)", part->predicate);
		if (OidIsValid(written) &&
			(strcmp(test->kind, "not_null") == 0 || strcmp(test->kind, "accepted_values") == 0 ||
			 (strcmp(test->kind, "expression") == 0 && written_alike)))
			part->over = FUSED_WRITTEN;
		else if (OidIsValid(written) && strcmp(test->kind, "unique") == 0)
		{
			part->over = FUSED_VALUES;
			part->failures_sql = unique_over_values(test, relsql, SqlRelationName(written));
			/* the values looked up through an index, as the key's rows are */
			if (list_length(test->columns) == 1)
			{
				Relation	rel = relation_open(published, AccessShareLock);
				double		rows = rel->rd_rel->reltuples;

				relation_close(rel, AccessShareLock);
				(void) ChangesEnsureKeyIndex(model, published, test->columns, rows);
			}
		}
		fused = lappend(fused, part);
	}

	run_fused(outcome, fused, FUSED_TABLE, fusedsql, nparams, types, values, from, to, resultcxt);
	if (written_alike)
		run_fused(outcome, fused, FUSED_WRITTEN, fusedsql, nparams, types, values,
				  lappend_oid(list_copy(from), published), lappend_oid(list_copy(to), written),
				  resultcxt);
	else if (OidIsValid(written))
		run_fused(outcome, fused, FUSED_WRITTEN, SqlRelationName(written), nparams, types, values,
				  from, to, resultcxt);
	if (OidIsValid(written))
		run_fused(outcome, fused, FUSED_VALUES, "(SELECT)", nparams, types, values, from, to, resultcxt);

	/* one anti-join per relationships test, one count per sql test */
	foreach(lc, outcome->results)
	{
		TestResult *result = lfirst(lc);
		TestDef    *test = result->test;
		char	   *count_sql;
		char	   *rows_sql;
		char	   *sample_sql;
		char	  **row = NULL;
		char	   *error;
		bool		over_written;
		List	   *read_from = from;
		List	   *read_to = to;

		if (result->status != NULL)
			continue;			/* recorded above */
		if (strcmp(test->kind, "relationships") == 0 || strcmp(test->kind, "sql") == 0)
		{
			char	   *name = BindName(model->name, test->name);

			if (!OidIsValid(RelBinding(name)))
			{
				record(outcome, result, 0, NULL,
					   psprintf("test %s of model \"%s\" is not bound: its owner binds it again with medallion_reanalyze('%s')",
								test->name, model->name, model->name), resultcxt);
				continue;
			}
			/*
			 * Over the rows written, when the relation referenced is what
			 * the last build's tests, all passing, saw (and not the
			 * model's own table, which the redirect would replace too)
			 */
			over_written = written_alike && test->to_model != NULL &&
				strcmp(test->to_model, model->name) != 0 &&
				ChangesReferenceUnchanged(model, test->to_model);
			if (over_written)
			{
				read_from = lappend_oid(list_copy(from), published);
				read_to = lappend_oid(list_copy(to), written);
			}
			count_sql = psprintf("SELECT count(*) FROM %s AS q", BindRelationSql(name));
			rows_sql = psprintf("SELECT pg_catalog.to_jsonb(q) FROM %s AS q", BindRelationSql(name));
			sample_sql = psprintf("SELECT pg_catalog.to_jsonb(q)::pg_catalog.text FROM %s AS q",
								  BindRelationSql(name));
		}
		else
			continue;
		error = run_counting_query(count_sql, 0, NULL, NULL, read_from, read_to, &row, &result->ms,
								   resultcxt);
		outcome->queries++;
		record(outcome, result, error ? 0 : strtoll(row[0], NULL, 10), NULL, error, resultcxt);
		if (error == NULL && result->failures > 0 && strcmp(result->status, "pass") != 0)
			sample_failing_rows(model, result, sample_sql, 0, NULL, NULL, read_from, read_to, resultcxt);
		if (error == NULL && test->store_failures && result->failures > 0)
			collect_failing_rows(result, rows_sql, 0, NULL, NULL, read_from, read_to, resultcxt);
	}

	/* a few failing rows of the fused tests, in their messages */
	foreach(lc, fused)
	{
		FusedPart  *part = lfirst(lc);
		TestResult *result = part->result;
		TestDef    *test = result->test;
		char	   *predicate;
		char	   *shown;
		int			param = 0;

		if (!result->has_failures || result->failures == 0 || strcmp(result->status, "pass") == 0)
			continue;
		if (strcmp(test->kind, "accepted_values") == 0)
		{
			types[0] = TEXTARRAYOID;
			values[0] = ListToTextArray(test->accepted);
			param = 1;
		}
		predicate = failing_predicate(test, fusedsql, published, 1);
		if (predicate == NULL)
			continue;			/* row_count, freshness: the observed value says it */
		shown = sample_columns(model, test, published);
		sample_failing_rows(model, result,
							psprintf("SELECT %s%s::pg_catalog.text FROM %s AS c WHERE %s",
									 strcmp(test->kind, "unique") == 0 ? "DISTINCT " : "",
									 shown ? shown : psprintf("pg_catalog.to_jsonb(%s)", rowsql),
									 fusedsql, predicate),
							param, types, values, from, to, resultcxt);
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
			appendStringInfoChar(&json, '{');
			SqlJsonField(&json, "observed", result->observed ? result->observed : "", false);
			appendStringInfoChar(&json, '}');
			result->failing_rows = list_make1(json.data);
			MemoryContextSwitchTo(oldcxt);
		}
	}
	return outcome;
}

/* The owner of relid when it is a table; InvalidOid otherwise. */
static Oid
audit_owner_of(Oid relid)
{
	return get_rel_relkind(relid) == RELKIND_RELATION ? SqlRelationOwner(relid) : InvalidOid;
}

/*
 * audit_table
 *		The table in medallion_audit that keeps the failing rows of test of
 *		model: the relation recorded for them in medallion.audit_tables, or
 *		one made now.  Its name is BindName(model, test): "<model>$<test>"
 *		(no model or test name holds "$", so no other pair has it) or "$"
 *		and an md5 of that when it would not fit.  Only medallion creates in
 *		medallion_audit, as the extension owner, and gives the table to the
 *		model owner.  A relation there bearing the name is used only when it
 *		is a table of the model owner (compared exactly) that is recorded
 *		for this pair or for none (a dump restores the tables, not the
 *		record); one left by a dropped test of another owner is dropped; one
 *		recorded for another pair (renamed by its owner) is refused, and
 *		nothing is written.  Returns the table's OID, locked.
 */
static Oid
audit_table(ModelDef *model, const char *test)
{
	char	   *name = BindName(model->name, test);
	Oid			nsp = get_namespace_oid(MEDALLION_AUDIT_SCHEMA, false);
	Oid			owner = ModelOwnerId(model);
	Oid			relid;
	Oid			recorded = InvalidOid;
	char	   *value;
	char	   *other;
	Datum		args[3];
	CatalogSession session;

	relid = get_relname_relid(name, nsp);
	args[0] = CStringGetTextDatum(model->name);
	args[1] = CStringGetTextDatum(test);
	CatalogEnter(&session);
	value = SqlValue("SELECT (SELECT relid::pg_catalog.text FROM medallion.audit_tables "
					 "WHERE model = $1 AND test = $2)", 2, args, NULL);
	if (value != NULL)
		recorded = DatumGetObjectId(DirectFunctionCall1(oidin, CStringGetDatum(value)));
	if (OidIsValid(relid))
	{
		LockRelationOid(relid, AccessExclusiveLock);
		args[2] = CStringGetTextDatum(psprintf("%u", relid));
		other = SqlValue("SELECT (SELECT pg_catalog.format('test \"%s\" of model \"%s\"', test, model) "
						 "FROM medallion.audit_tables WHERE relid = $3::pg_catalog.oid "
						 "AND (model, test) <> ($1, $2))", 3, args, NULL);
		if (other != NULL)
			ereport(ERROR,
					(errcode(ERRCODE_DUPLICATE_TABLE),
					 errmsg("%s, where the failing rows of test \"%s\" of model \"%s\" go, is the table of %s",
							SqlRelationName(relid), test, model->name, other),
					 errdetail("Its owner \"%s\" renamed it; nothing was written to it.",
							   GetUserNameFromId(audit_owner_of(relid) != InvalidOid ?
												 audit_owner_of(relid) : BOOTSTRAP_SUPERUSERID, false)),
					 errhint("A superuser renames it back or drops it.")));
		if (audit_owner_of(relid) != owner || (OidIsValid(recorded) && recorded != relid))
		{
			/* a dropped test's, another owner's: not ours to write to */
			ObjectAddress obj;

			ObjectAddressSet(obj, RelationRelationId, relid);
			performDeletion(&obj, DROP_RESTRICT, 0);
			CommandCounterIncrement();
			relid = InvalidOid;
		}
	}
	if (!OidIsValid(relid))
	{
		CatalogLeave(&session);
		SqlCreateOwnedTable(MEDALLION_AUDIT_SCHEMA, name,
							"failure_no integer, failing_row pg_catalog.jsonb, run_id bigint, "
							"recorded_at timestamptz DEFAULT pg_catalog.now()", owner);
		relid = get_relname_relid(name, nsp);
		LockRelationOid(relid, AccessExclusiveLock);
		CatalogEnter(&session);
	}
	if (relid != recorded)
	{
		Oid			types[3] = {TEXTOID, TEXTOID, TEXTOID};

		args[2] = CStringGetTextDatum(psprintf("%u", relid));
		if (SPI_execute_with_args("INSERT INTO medallion.audit_tables (model, test, relid) "
								  "VALUES ($1, $2, $3::pg_catalog.oid) "
								  "ON CONFLICT (model, test) DO UPDATE SET relid = excluded.relid",
								  3, types, args, NULL, false, 0) != SPI_OK_INSERT)
			elog(ERROR, "could not record the audit table of test \"%s\"", test);
		CommandCounterIncrement();
	}
	CatalogLeave(&session);
	return relid;
}

/*
 * TestsStoreFailures
 *		Replace the rows of the audit table of each test of outcome with
 *		store_failures (audit_table): its failing rows as JSON (none when it
 *		passed).  Runs as the model owner, who owns the table: made by
 *		medallion once, then emptied at each run, so grants on it stay.
 */
void
TestsStoreFailures(ModelDef *model, TestsOutcome *outcome, int64 run_id)
{
	ListCell   *lc;

	foreach(lc, outcome->results)
	{
		TestResult *result = lfirst(lc);
		char	   *table;
		ListCell   *lr;
		Oid			types[3] = {INT4OID, TEXTOID, INT8OID};
		Datum		values[3];
		int			ret;

		if (!result->test->store_failures)
			continue;
		table = SqlRelationName(audit_table(model, result->test->name));
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		/* emptied, not dropped: the grants its owner gave stay */
		ret = SPI_execute(psprintf("TRUNCATE %s", table), false, 0);
		if (ret != SPI_OK_UTILITY)
			elog(ERROR, "could not empty %s", table);
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
