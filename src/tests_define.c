/*-------------------------------------------------------------------------
 *
 * tests_define.c
 *	  Defining data-quality tests: medallion_add_test and
 *	  medallion_drop_test, checked against the model as its owner, and the
 *	  binding of the tests' own code.
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
#include "bind.h"
#include "build.h"
#include "catalog.h"
#include "relation.h"
#include "scale.h"
#include "scope.h"
#include "sqltext.h"
#include "subxact.h"
#include "tests.h"

PG_FUNCTION_INFO_V1(medallion_add_test);
PG_FUNCTION_INFO_V1(medallion_drop_test);

/* ----------------------------------------------------------------
 * Binding tests
 *
 * The code of a model's tests is bound like the model's query, when the
 * test is defined (or the model redefined, or re-bound by its owner):
 *
 * - expression tests, all in one view medallion_bind."<model>$" over the
 *   published relation: the row (medallion.row), the columns the model's
 *   fused tests read, and for each expression test a column
 *   "medallion.test.<test>" true for a failing row (named by a hash when
 *   that would not fit a name: TestsExpressionColumn);
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
	(void) BindCreateView(RelBindNamespace(true), name, query, owner);
}

/*
 * TestsUnbind
 *		Drop the bindings of the model's tests (those of tests, the list
 *		given, or all when NIL).
 */
void
TestsUnbind(ModelDef *model, List *tests)
{
	ListCell   *lc;

	BindDrop(BindName(model->name, ""));
	foreach(lc, tests ? tests : CatalogListTests(model->name))
		BindDrop(BindName(model->name, ((TestDef *) lfirst(lc))->name));
}

/*
 * TestsBind
 *		Bind the code of the model's tests again, as the model owner under
 *		the model's search_path (pg_temp last): what defining a test does,
 *		and defining the model again.
 */
void
TestsBind(ModelDef *model)
{
	List	   *tests = CatalogListTests(model->name);
	Oid			owner = ModelOwnerId(model);
	Oid			published = RelPublished(model);
	Oid			save_userid;
	int			save_sec;
	int			nestlevel;
	StringInfoData fused;
	List	   *columns = NIL;
	bool		expressions = false;
	ListCell   *lc;

	TestsUnbind(model, tests);
	if (tests == NIL || !OidIsValid(published))
		return;
	ModelBecomeOwner(model, &save_userid, &save_sec);
	nestlevel = ScopeEnterSearchPath(model->search_path);
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
			const char *failing;

			/*
			 * An anti-join.  Citus does not plan a correlated NOT EXISTS
			 * between a local and a distributed table, nor between
			 * distributed tables not joined on their distribution columns;
			 * with citus installed the referenced keys are a subquery of
			 * their own, which Citus pushes down or computes first, and the
			 * tested rows are joined to it (docs/scale-out.md).  On one node NOT
			 * EXISTS is faster: no DISTINCT.
			 */
			if (ScaleCitusInstalled())
				failing = psprintf("SELECT c.* FROM %s AS c LEFT JOIN (SELECT DISTINCT r.%s AS k FROM %s AS r) AS r "
								   "ON r.k OPERATOR(pg_catalog.=) %s WHERE %s IS NOT NULL AND r.k IS NULL",
								   SqlRelationName(published), quote_identifier(test->to_column),
								   SqlRelationName(TestsReferencedRelation(test)), TestsColumn(col),
								   TestsColumn(col));
			else
				failing = psprintf("SELECT c.* FROM %s AS c WHERE %s IS NOT NULL AND NOT EXISTS "
								   "(SELECT 1 FROM %s AS r WHERE r.%s OPERATOR(pg_catalog.=) %s)",
								   SqlRelationName(published), TestsColumn(col),
								   SqlRelationName(TestsReferencedRelation(test)),
								   quote_identifier(test->to_column), TestsColumn(col));
			bind_one(BindName(model->name, test->name), failing,
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
		appendStringInfo(&fused, "SELECT c AS %s", quote_identifier(TESTS_ROW_COLUMN));
		foreach(lc, columns)
			appendStringInfo(&fused, ", %s", TestsColumn(strVal(lfirst(lc))));
		foreach(lc, tests)
		{
			TestDef    *test = lfirst(lc);

			if (strcmp(test->kind, "expression") == 0)
				appendStringInfo(&fused, ", (NOT (%s)) AS %s", test->expression,
								 quote_identifier(TestsExpressionColumn(test)));
		}
		appendStringInfo(&fused, " FROM %s AS c", SqlRelationName(published));
		bind_one(BindName(model->name, ""), fused.data,
				 psprintf("expression tests of model \"%s\"", model->name), owner);
	}
	ScopeLeaveSearchPath(nestlevel);
	SetUserIdAndSecContext(save_userid, save_sec);
}

/*
 * TestsReadRelations
 *		The relations the bound code of a relationships or sql test of model
 *		reads (its binding's rule: the tested relation, the relation
 *		referenced, what a sql test reads), as a List of OIDs; NIL for
 *		other kinds, or a test not bound.  A run defers the test when one
 *		of them is a model built from the tested one (run_plan.c).
 */
List *
TestsReadRelations(ModelDef *model, TestDef *test)
{
	Oid			binding;

	if (strcmp(test->kind, "relationships") != 0 && strcmp(test->kind, "sql") != 0)
		return NIL;
	binding = RelBinding(BindName(model->name, test->name));
	return OidIsValid(binding) ? BindReadRelations(binding) : NIL;
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

/* The accepted values of a test, and the column type they must cast to. */
typedef struct AcceptedCheck
{
	List	   *values;			/* of char * */
	char	   *type;			/* the column's type, qualified, with typmod */
} AcceptedCheck;

/* Cast the accepted values to the column's type (a SubxactWork). */
static void
check_accepted_values(void *arg)
{
	AcceptedCheck *check = arg;
	Oid			argtypes[1] = {TEXTARRAYOID};
	Datum		values[1] = {ListToTextArray(check->values)};
	int			ret;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ret = SPI_execute_with_args(psprintf("SELECT $1::pg_catalog.text[]::%s[]", check->type),
								1, argtypes, values, NULL, false, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not check accepted values: %s", SPI_result_code_string(ret));
	SPI_finish();
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
	Oid			published = RelPublished(model);
	char	   *pubsql;
	ListCell   *lc;

	if (!OidIsValid(published))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("model \"%s\" has no relation %s to test", model->name,
						quote_qualified_identifier(model->schema, model->name)),
				 errdetail("Its relation has been dropped, renamed or moved to another schema."),
				 errhint("Define the model again with medallion_create_model.")));
	pubsql = SqlRelationName(published);

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
		AcceptedCheck check;
		ErrorData  *edata;

		/* every accepted value must be a value of the column's type */
		check.values = test->accepted;
		check.type = format_type_extended(col->type, col->typmod,
										  FORMAT_TYPE_TYPEMOD_GIVEN | FORMAT_TYPE_FORCE_QUALIFY);
		edata = SubxactRun(check_accepted_values, &check, true);
		if (edata != NULL)
			ereport(ERROR,
					(errcode(edata->sqlerrcode),
					 errmsg("accepted_values test \"%s\" lists a value that column \"%s\" of model \"%s\" cannot hold",
							test->name, col->name, model->name),
					 errdetail("Column \"%s\" is of type %s: %s.", col->name,
							   format_type_be(col->type), edata->message),
					 errhint("Write the accepted values as text the column's type reads, e.g. ARRAY['1', '2'] for an integer column.")));
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

			ref = RelPublished(refmodel);
			if (refmodel->kind == MAT_EPHEMERAL)
				ereport(ERROR,
						(errcode(ERRCODE_WRONG_OBJECT_TYPE),
						 errmsg("model \"%s\" is ephemeral: it has no relation to reference", refmodel->name),
						 errhint("Reference a model that is not ephemeral, or a relation (to_relation).")));
			if (!OidIsValid(ref))
				ereport(ERROR,
						(errcode(ERRCODE_UNDEFINED_TABLE),
						 errmsg("model \"%s\" has no relation %s to reference", refmodel->name,
								quote_qualified_identifier(refmodel->schema, refmodel->name)),
						 errdetail("Its relation has been dropped, renamed or moved to another schema."),
						 errhint("Define the model again with medallion_create_model.")));
		}
		else
		{
			List	   *names = stringToQualifiedNameList(test->to_relation);

			ref = RangeVarGetRelid(makeRangeVarFromNameList(names), AccessShareLock, false);
			test->to_relation = SqlRelationName(ref);
		}
		if (get_attnum(ref, test->to_column) == InvalidAttrNumber)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("column \"%s\" of %s does not exist", test->to_column, SqlRelationName(ref))));
		check_prepares(psprintf("SELECT 1 FROM %s AS c JOIN %s AS r ON r.%s OPERATOR(pg_catalog.=) c.%s",
								pubsql, SqlRelationName(ref), quote_identifier(test->to_column),
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
 * TestsOwnedModel
 *		The model named, for a caller who may action (a medallion admin)
 *		and acts for its owner, the definitions locked: where defining or
 *		dropping a test (a unit test: tests_unit.c) starts.
 */
ModelDef *
TestsOwnedModel(const char *name, const char *action)
{
	ModelDef   *model;

	CatalogRequireAdmin(action);
	CatalogLockDefinitions();
	model = CatalogGetModel(name, false);
	ModelRequireOwner(model);
	return model;
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

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("model and kind must not be NULL")));
	model = TestsOwnedModel(text_to_cstring(PG_GETARG_TEXT_PP(0)), "define tests");

	if (model->kind == MAT_EPHEMERAL)
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
	if (!TestsParseCondition(test->warn_if, op, &bound) || !TestsParseCondition(test->error_if, op, &bound))
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
	CatalogCheckTestName(test->name);
	ModelBecomeOwner(model, &save_userid, &save_sec);
	nestlevel = ScopeEnterSearchPath(model->search_path);
	check_test(model, test);
	ScopeLeaveSearchPath(nestlevel);
	SetUserIdAndSecContext(save_userid, save_sec);

	CatalogTestNameTaken(model->name, test->name, true);
	CatalogUpsertTest(test, description);
	CommandCounterIncrement();
	TestsBind(model);
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

	model = TestsOwnedModel(text_to_cstring(PG_GETARG_TEXT_PP(0)), "drop tests");
	if (!CatalogDeleteTest(model->name, name))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("model \"%s\" has no test \"%s\"", model->name, name),
				 errhint("Tests are listed in medallion.tests.")));
	CommandCounterIncrement();
	BindDrop(BindName(model->name, name));
	TestsBind(model);
	PG_RETURN_VOID();
}
