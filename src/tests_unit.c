/*-------------------------------------------------------------------------
 *
 * tests_unit.c
 *	  Unit tests of a model: its bound query run on given rows, its rows
 *	  compared with those expected (medallion_add_unit_test,
 *	  medallion_drop_unit_test; medallion_test(unit => true) runs them).
 *
 * A unit test gives rows (jsonb: a list of row objects, as many columns as
 * the test needs) for some of the relations a model reads, its inputs:
 * a model by its name, another relation by schema.name, and "this", the
 * model's own table, for the incremental form.  It expects rows of the
 * model, compared on the columns the expected rows name.
 *
 * Running one, everything happens in a subtransaction that is rolled back
 * (SubxactDiscard), so nothing is kept and nothing published:
 *
 * - each given input becomes a temporary table with the input's columns
 *   at their positions (a dropped column stays dropped), filled from the
 *   rows given, typed by the input's columns; a column not given is NULL;
 * - the model's bound query (its binding's rule, BindLoad: nothing is
 *   parsed again) has each read of a given input pointed at its table,
 *   before the rewriter expands views, so a view model read can be given
 *   too; it runs as the model owner, in the owner scope, as a build runs
 *   it, into a temporary table of the model's columns;
 * - the incremental form keeps the rows a build would take: those whose
 *   watermark is past the newest of the given "this", less the lookback;
 * - the expected rows, typed by the model's columns, and the model's rows
 *   are compared as multisets on the expected columns (EXCEPT ALL both
 *   ways); the differing rows are the test's message.
 *
 * The temporary tables are the caller's (a model owner's query may not
 * create any: it runs restricted), named in pg_temp explicitly, and the
 * owner may read them.  Defining a test checks all of it but running the
 * model: the names of inputs and columns, and every value against its
 * column's type.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/varlena.h"

#include "analyze.h"
#include "bind.h"
#include "build.h"
#include "catalog.h"
#include "relation.h"
#include "scope.h"
#include "sqltext.h"
#include "subxact.h"
#include "tests.h"

PG_FUNCTION_INFO_V1(medallion_add_unit_test);
PG_FUNCTION_INFO_V1(medallion_drop_unit_test);

/* Differing rows a failing unit test's message shows, of each side */
#define UNIT_SAMPLE_ROWS 5

/* One given input of a unit test. */
typedef struct UnitInput
{
	char	   *name;			/* as the test names it */
	char	   *rows;			/* jsonb text: a list of row objects */
	Oid			relid;			/* what the model reads */
	Oid			temp;			/* the temporary table standing for it */
} UnitInput;

/* A unit test being checked or run (the work of a subtransaction). */
typedef struct UnitRun
{
	ModelDef   *model;
	UnitTestDef *test;
	bool		execute;		/* false: check it only (definition) */
	const char *context;		/* what errors are about, for errcontext */
	/* the outcome */
	int64		rows;			/* rows the model gave */
	int64		missing;		/* expected rows it did not give */
	int64		unexpected;		/* rows it gave that were not expected */
	StringInfoData diff;		/* some of both */
} UnitRun;

/* To name temporary tables: counted from 1 in each subtransaction, which drops them */
static int	unit_tables = 0;

/* errcontext: which part of which unit test a value error is in */
static void
unit_error_context(void *arg)
{
	errcontext("%s", (const char *) arg);
}

/*
 * unit_query
 *		Run sql (with $1, a jsonb given as text, when json is not NULL)
 *		through SPI as the current user; returns the first column of each
 *		row (NULL for an SQL NULL) in the caller's memory context.
 */
static List *
unit_query(const char *sql, const char *json, int expected)
{
	MemoryContext callercxt = CurrentMemoryContext;
	Oid			types[1] = {JSONBOID};
	Datum		values[1];
	List	   *result = NIL;
	int			ret;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (json != NULL)
		values[0] = DirectFunctionCall1(jsonb_in, CStringGetDatum(json));
	ret = SPI_execute_with_args(sql, json != NULL ? 1 : 0, types, values, NULL, false, 0);
	if (ret != expected)
		elog(ERROR, "SPI_execute failed for \"%s\": %s", sql, SPI_result_code_string(ret));
	if (SPI_tuptable != NULL)
	{
		for (uint64 i = 0; i < SPI_processed; i++)
		{
			char	   *value = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
			MemoryContext spicxt = MemoryContextSwitchTo(callercxt);

			result = lappend(result, value ? pstrdup(value) : NULL);
			MemoryContextSwitchTo(spicxt);
		}
	}
	SPI_finish();
	return result;
}

/*
 * rows_columns
 *		The column names rows (jsonb text) use, sorted, after checking that
 *		it is a list of row objects; what says whose rows they are.
 */
static List *
rows_columns(const char *rows, const char *what)
{
	List	   *kinds = unit_query("SELECT pg_catalog.jsonb_typeof($1) OPERATOR(pg_catalog.=) 'array' "
								   "AND coalesce(pg_catalog.bool_and(pg_catalog.jsonb_typeof(e) "
								   "OPERATOR(pg_catalog.=) 'object'), true) "
								   "FROM pg_catalog.jsonb_array_elements(CASE WHEN pg_catalog.jsonb_typeof($1) "
								   "OPERATOR(pg_catalog.=) 'array' THEN $1 ELSE '[]' END) e",
								   rows, SPI_OK_SELECT);

	if (strcmp(linitial(kinds), "t") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s are not a list of rows", what),
				 errdetail("They are: %s", rows),
				 errhint("Write rows as a jsonb list of objects, one per row, e.g. '[{\"id\": 1, \"name\": \"a\"}]'.")));
	return unit_query("SELECT DISTINCT k FROM pg_catalog.jsonb_array_elements($1) e, "
					  "pg_catalog.jsonb_object_keys(e) k ORDER BY 1", rows, SPI_OK_SELECT);
}

/*
 * columns_of
 *		The columns of relid as ModelColumns, a dropped one as NULL (so
 *		that a table made of them has every column at its position).
 */
static List *
columns_of(Oid relid)
{
	Relation	rel = relation_open(relid, AccessShareLock);
	TupleDesc	desc = RelationGetDescr(rel);
	List	   *columns = NIL;

	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		ModelColumn *col = NULL;

		if (!att->attisdropped)
		{
			col = palloc(sizeof(ModelColumn));
			col->name = pstrdup(NameStr(att->attname));
			col->type = att->atttypid;
			col->typmod = att->atttypmod;
			col->collation = att->attcollation;
		}
		columns = lappend(columns, col);
	}
	relation_close(rel, NoLock);
	return columns;
}

/*
 * temp_table
 *		A temporary table of the current user with columns (ModelColumn *,
 *		NULL for a dropped one), readable by owner; returns its OID and its
 *		name, as SQL, in *sqlname.
 */
static Oid
temp_table(List *columns, Oid owner, char **sqlname)
{
	char	   *name = psprintf("medallion_unit_%d", ++unit_tables);
	StringInfoData sql;
	List	   *live = NIL;
	List	   *dropped = NIL;
	ListCell   *lc;
	Oid			relid;

	*sqlname = psprintf("pg_temp.%s", quote_identifier(name));
	foreach(lc, columns)
	{
		ModelColumn *col = lfirst(lc);

		if (col == NULL)
		{
			/* a placeholder, dropped at once: the next columns keep their positions */
			col = palloc0(sizeof(ModelColumn));
			col->name = psprintf("medallion.dropped.%d", foreach_current_index(lc) + 1);
			col->type = INT4OID;
			col->typmod = -1;
			dropped = lappend(dropped, col->name);
		}
		live = lappend(live, col);
	}
	initStringInfo(&sql);
	appendStringInfo(&sql, "CREATE TEMPORARY TABLE %s (%s)", *sqlname, SqlColumnDefinitions(live));
	(void) unit_query(sql.data, NULL, SPI_OK_UTILITY);
	foreach(lc, dropped)
		(void) unit_query(psprintf("ALTER TABLE %s DROP COLUMN %s", *sqlname,
								   quote_identifier(lfirst(lc))), NULL, SPI_OK_UTILITY);
	if (owner != GetUserId())
		(void) unit_query(psprintf("GRANT SELECT ON %s TO %s", *sqlname,
								   quote_identifier(GetUserNameFromId(owner, false))),
						  NULL, SPI_OK_UTILITY);
	relid = get_relname_relid(name, LookupCreationNamespace("pg_temp"));
	if (!OidIsValid(relid))
		elog(ERROR, "could not find the temporary table %s", *sqlname);
	return relid;
}

/*
 * fill_temp
 *		Insert rows (jsonb text) into the temporary table sqlname, each
 *		value typed by its column (a typed literal: '2024-01-31' is a date
 *		in a date column); errors say whose rows they are (what).
 */
static void
fill_temp(const char *sqlname, const char *rows, const char *what)
{
	ErrorContextCallback callback;

	callback.callback = unit_error_context;
	callback.arg = (void *) what;
	callback.previous = error_context_stack;
	error_context_stack = &callback;
	(void) unit_query(psprintf("INSERT INTO %s SELECT * FROM pg_catalog.jsonb_populate_recordset("
							   "NULL::%s, $1)", sqlname, sqlname), rows, SPI_OK_INSERT);
	error_context_stack = callback.previous;
}

/* The names of the relations a model reads, for an error's detail. */
static char *
inputs_text(ModelDef *model)
{
	StringInfoData names;
	ListCell   *lc;

	initStringInfo(&names);
	foreach(lc, CatalogListDependencies(model->name))
	{
		DependencyRow *dep = lfirst(lc);

		if (dep->via != NULL && dep->via[0] != '\0')
			continue;
		appendStringInfo(&names, "%s%s", names.len > 0 ? ", " : "",
						 strcmp(dep->kind, "model") == 0 ? dep->name :
						 psprintf("%s.%s", dep->schema, dep->name));
	}
	return names.len > 0 ? names.data : "nothing";
}

/*
 * input_relation
 *		The relation a unit test's input name stands for: this (the model's
 *		own table), a model (its published relation; an ephemeral model's
 *		binding), or a relation written schema.name.  Errors when there is
 *		none.
 */
static Oid
input_relation(ModelDef *model, UnitTestDef *test, const char *name)
{
	ModelDef   *input;
	Oid			relid = InvalidOid;

	if (strcmp(name, "this") == 0)
	{
		if (!test->incremental)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unit test \"%s\" of model \"%s\" gives rows for this, but does not test the incremental form",
							test->name, model->name),
					 errdetail("this, the model's own rows, matters only to its incremental form."),
					 errhint("Say incremental => true (dbt: overrides: {macros: {is_incremental: true}}), or leave this out.")));
		return RelPublished(model);
	}
	input = CatalogGetModel(name, true);
	if (input != NULL)
		relid = input->kind == MAT_EPHEMERAL ? RelBinding(input->name) : RelPublished(input);
	else if (strchr(name, '.') != NULL)
	{
		List	   *names = NIL;
		char	   *copy = pstrdup(name);

		if (SplitIdentifierString(copy, '.', &names) && list_length(names) == 2)
			relid = get_relname_relid(lsecond(names), get_namespace_oid(linitial(names), true));
	}
	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("unit test \"%s\" of model \"%s\" gives rows for \"%s\", which is neither a model nor a relation",
						test->name, model->name, name),
				 errdetail("Model \"%s\" reads %s.", model->name, inputs_text(model)),
				 errhint("Name a model it reads by its name, another relation it reads as schema.name, or this.")));
	return relid;
}

/*
 * check_columns
 *		Error unless every name in used is a column of columns (ModelColumn
 *		*, NULLs skipped); what and whose say where they were used.
 */
static void
check_columns(List *used, List *columns, const char *what, const char *whose)
{
	ListCell   *lc;
	List	   *live = NIL;

	foreach(lc, columns)
	{
		if (lfirst(lc) != NULL)
			live = lappend(live, lfirst(lc));
	}
	foreach(lc, used)
	{
		if (SqlFindColumn(live, lfirst(lc)) == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("%s name column \"%s\", which %s does not have", what,
							(char *) lfirst(lc), whose),
					 errdetail("Its columns: %s.", SqlNameList(SqlColumnNames(live))),
					 errhint("Give values only for its columns; a column left out is NULL in the rows given, and not compared in the rows expected.")));
	}
}

/*
 * differing
 *		Rows of the query a EXCEPT ALL b (on cols), counted; a few of them
 *		as JSON objects appended to run->diff after label.
 */
static int64
differing(UnitRun *run, const char *label, const char *a, const char *b, const char *cols)
{
	List	   *rows;
	ListCell   *lc;

	rows = unit_query(psprintf("SELECT pg_catalog.to_jsonb(d)::pg_catalog.text FROM "
							   "(SELECT %s FROM %s EXCEPT ALL SELECT %s FROM %s) d",
							   cols, a, cols, b), NULL, SPI_OK_SELECT);
	if (rows != NIL)
		appendStringInfo(&run->diff, "%s%s:", run->diff.len > 0 ? "; " : "", label);
	foreach(lc, rows)
	{
		if (foreach_current_index(lc) == UNIT_SAMPLE_ROWS)
		{
			appendStringInfo(&run->diff, " and %d more", list_length(rows) - UNIT_SAMPLE_ROWS);
			break;
		}
		appendStringInfo(&run->diff, " %s", (char *) lfirst(lc));
	}
	return list_length(rows);
}

/*
 * unit_work
 *		Check a unit test and, when run->execute, run it (see the header);
 *		the work of a subtransaction that is rolled back.
 */
static void
unit_work(void *arg)
{
	UnitRun    *run = arg;
	ModelDef   *model = run->model;
	UnitTestDef *test = run->test;
	Oid			owner = ModelOwnerId(model);
	AnalyzedModel *analyzed = BindLoad(model);
	List	   *from = NIL;
	List	   *to = NIL;
	List	   *given;
	List	   *expected_columns;
	char	   *this_table = NULL;
	char	   *result_table;
	char	   *expected_table;
	Oid			result;
	ListCell   *lc;
	int			nestlevel = ScopeEnterSearchPath(MEDALLION_SAFE_PATH);

	unit_tables = 0;

	/* the inputs: names, rows, columns; each a temporary table */
	if (strcmp(linitial(unit_query("SELECT pg_catalog.jsonb_typeof($1)", test->given,
								   SPI_OK_SELECT)), "object") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the given rows of unit test \"%s\" are not an object of inputs", test->name),
				 errdetail("They are: %s", test->given),
				 errhint("Write given as '{\"input\": [{\"column\": value, ...}, ...], ...}', an input being a model, a relation as schema.name, or this.")));
	given = unit_query("SELECT pg_catalog.jsonb_build_array(key, value)::pg_catalog.text "
					   "FROM pg_catalog.jsonb_each($1) ORDER BY key", test->given, SPI_OK_SELECT);
	foreach(lc, given)
	{
		UnitInput  *input = palloc0(sizeof(UnitInput));
		List	   *pair = unit_query("SELECT x FROM pg_catalog.unnest(ARRAY[$1->>0, ($1->1)::pg_catalog.text]) "
									  "WITH ORDINALITY AS u (x, n) ORDER BY n", lfirst(lc), SPI_OK_SELECT);
		char	   *what;
		char	   *sqlname;
		List	   *columns;

		input->name = linitial(pair);
		input->rows = lsecond(pair);
		what = psprintf("the rows given for \"%s\"", input->name);
		input->relid = input_relation(model, test, input->name);
		columns = columns_of(input->relid);
		check_columns(rows_columns(input->rows, what), columns, what,
					  SqlRelationName(input->relid));
		input->temp = temp_table(columns, owner, &sqlname);
		if (strcmp(input->name, "this") == 0)
			this_table = sqlname;
		else
		{
			/* the model must read it itself */
			if (!AnalyzeRedirect(copyObject(analyzed->query), list_make1_oid(input->relid),
								 list_make1_oid(input->temp)))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("unit test \"%s\" gives rows for \"%s\", which model \"%s\" does not read",
								test->name, input->name, model->name),
						 errdetail("Model \"%s\" reads %s.", model->name, inputs_text(model)),
						 errhint("Give rows for what the model's SQL names itself, not for what those read.")));
			from = lappend_oid(from, input->relid);
			to = lappend_oid(to, input->temp);
		}
		fill_temp(sqlname, input->rows, psprintf("%s of unit test \"%s\"", what, test->name));
	}

	/* the rows expected, typed by the model's columns */
	expected_columns = rows_columns(test->expect, "the rows expected");
	check_columns(expected_columns, analyzed->columns, "the rows expected",
				  psprintf("model \"%s\"", model->name));
	(void) temp_table(analyzed->columns, owner, &expected_table);
	fill_temp(expected_table, test->expect,
			  psprintf("the rows expected of unit test \"%s\"", test->name));
	result = temp_table(analyzed->columns, owner, &result_table);
	if (!run->execute)
	{
		ScopeLeaveSearchPath(nestlevel);
		return;
	}

	/* the model's rows, as the owner */
	{
		ModelScope	scope;

		ModelScopeEnter(&scope, owner, ModelTimeoutMs(model));
		run->rows = BuildFillHeapBound(result, analyzed, SqlModelName(model), from, to);
		ModelScopeLeave(&scope);
	}

	/* the incremental form: the rows past the given this's high-water mark */
	if (test->incremental && model->watermark != NULL && this_table != NULL)
	{
		char	   *type = SqlColumnType(analyzed->columns, model->watermark);
		char	   *mark = psprintf("(SELECT pg_catalog.max(%s) FROM %s)",
									quote_identifier(model->watermark), this_table);

		if (model->lookback != NULL)
			mark = psprintf("(%s OPERATOR(pg_catalog.-) %s::pg_catalog.interval)::%s", mark,
							quote_literal_cstr(model->lookback), type);
		run->rows -= list_length(unit_query(psprintf("DELETE FROM %s r WHERE %s IS NOT NULL AND "
													 "(r.%s OPERATOR(pg_catalog.>) %s) IS NOT TRUE "
													 "RETURNING 1",
													 result_table, mark,
													 quote_identifier(model->watermark), mark),
											NULL, SPI_OK_DELETE_RETURNING));
	}

	/* compared as multisets on the columns expected */
	if (expected_columns == NIL)
	{
		int64		nexpected = atoi(linitial(unit_query("SELECT pg_catalog.jsonb_array_length($1)",
														 test->expect, SPI_OK_SELECT)));

		run->missing = Max(nexpected - run->rows, 0);
		run->unexpected = Max(run->rows - nexpected, 0);
	}
	else
	{
		StringInfoData cols;

		initStringInfo(&cols);
		foreach(lc, expected_columns)
			appendStringInfo(&cols, "%s%s", cols.len > 0 ? ", " : "",
							 quote_identifier(lfirst(lc)));
		run->missing = differing(run, "missing", expected_table, result_table, cols.data);
		run->unexpected = differing(run, "unexpected", result_table, expected_table, cols.data);
	}
	ScopeLeaveSearchPath(nestlevel);
}

/* The outcome of one unit test as a TestResult of kind "unit". */
static TestResult *
unit_result(ModelDef *model, UnitTestDef *unit, UnitRun *run, ErrorData *error)
{
	TestResult *result = palloc0(sizeof(TestResult));
	TestDef    *test = palloc0(sizeof(TestDef));

	test->model = model->name;
	test->name = unit->name;
	test->kind = "unit";
	test->severity = "error";
	test->warn_if = "> 0";
	test->error_if = "> 0";
	result->test = test;
	if (error != NULL)
	{
		result->status = "error";
		result->message = error->message;
		return result;
	}
	result->has_failures = true;
	result->failures = run->missing + run->unexpected;
	result->observed = psprintf(INT64_FORMAT " rows", run->rows);
	result->status = result->failures > 0 ? "fail" : "pass";
	if (result->failures > 0)
		result->message = psprintf(INT64_FORMAT " expected rows missing, " INT64_FORMAT
								   " rows not expected: %s",
								   run->missing, run->unexpected, run->diff.data);
	return result;
}

/*
 * TestsUnitRun
 *		Run the unit tests of model, each in a subtransaction rolled back;
 *		the outcome (kind "unit", never blocking) in resultcxt.
 */
TestsOutcome *
TestsUnitRun(ModelDef *model, MemoryContext resultcxt)
{
	MemoryContext old = MemoryContextSwitchTo(resultcxt);
	TestsOutcome *outcome = palloc0(sizeof(TestsOutcome));
	ListCell   *lc;

	foreach(lc, CatalogListUnitTests(model->name))
	{
		UnitTestDef *unit = lfirst(lc);
		UnitRun    *run = palloc0(sizeof(UnitRun));
		ErrorData  *error;
		TestResult *result;

		run->model = model;
		run->test = unit;
		run->execute = true;
		initStringInfo(&run->diff);
		error = SubxactDiscard(unit_work, run);
		result = unit_result(model, unit, run, error);
		outcome->results = lappend(outcome->results, result);
		outcome->queries++;
		if (strcmp(result->status, "pass") == 0)
			outcome->passed++;
		else
			outcome->failed++;
	}
	MemoryContextSwitchTo(old);
	return outcome;
}

/*
 * medallion_add_unit_test(model, name, given, expect, incremental,
 *		description) defines a unit test, after checking it against the
 *		model (its inputs, their columns and types, the model's columns)
 *		without running the model; returns its name.
 */
Datum
medallion_add_unit_test(PG_FUNCTION_ARGS)
{
	UnitTestDef *test = palloc0(sizeof(UnitTestDef));
	UnitRun    *run = palloc0(sizeof(UnitRun));
	ModelDef   *model;
	ErrorData  *error;

	for (int i = 0; i < 4; i++)
	{
		if (PG_ARGISNULL(i))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("model, name, given and expect must not be NULL"),
					 errhint("A unit test that gives no rows says given => '{}'; one that expects none, expect => '[]'.")));
	}
	model = TestsOwnedModel(text_to_cstring(PG_GETARG_TEXT_PP(0)), "define unit tests");
	if (model->kind == MAT_EPHEMERAL)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("model \"%s\" is ephemeral: it has no rows of its own to test", model->name),
				 errhint("Unit-test the models that read it: give rows for what it reads, or for it.")));
	test->model = model->name;
	test->name = text_to_cstring(PG_GETARG_TEXT_PP(1));
	CatalogCheckTestName(test->name);
	test->given = DatumGetCString(DirectFunctionCall1(jsonb_out, PG_GETARG_DATUM(2)));
	test->expect = DatumGetCString(DirectFunctionCall1(jsonb_out, PG_GETARG_DATUM(3)));
	test->incremental = PG_ARGISNULL(4) ? false : PG_GETARG_BOOL(4);
	if (test->incremental && model->kind != MAT_INCREMENTAL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("model \"%s\" is not incremental: it has no incremental form to test", model->name),
				 errdetail("It is materialized as %s.", model->materialized),
				 errhint("Leave incremental out.")));

	run->model = model;
	run->test = test;
	run->execute = false;
	initStringInfo(&run->diff);
	CatalogTestNameTaken(model->name, test->name, false);
	error = SubxactDiscard(unit_work, run);
	if (error != NULL)
		ReThrowError(error);
	CatalogUpsertUnitTest(test, PG_ARGISNULL(5) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(5)));
	PG_RETURN_TEXT_P(cstring_to_text(test->name));
}

/* medallion_drop_unit_test(model, name) */
Datum
medallion_drop_unit_test(PG_FUNCTION_ARGS)
{
	ModelDef   *model;
	char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(1));

	model = TestsOwnedModel(text_to_cstring(PG_GETARG_TEXT_PP(0)), "drop unit tests");
	if (!CatalogDeleteUnitTest(model->name, name))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("model \"%s\" has no unit test \"%s\"", model->name, name),
				 errhint("Unit tests are listed in medallion.unit_tests.")));
	PG_RETURN_VOID();
}
