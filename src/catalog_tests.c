/*-------------------------------------------------------------------------
 *
 * catalog_tests.c
 *	  The readers and writers of the catalog tables of tests, one table at a
 *	  time: data tests (medallion.tests), unit tests and source tests.
 *	  Like catalog_tables.c, each runs in a catalog session (catalog.c),
 *	  copies what it read into the caller's memory context, and refuses a
 *	  row medallion's functions never write (CatalogInvalidRow).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"

#include "catalog.h"

/*
 * check_test_row
 *		What each kind of test needs, as medallion_add_test stores it.
 */
static void
check_test_row(TestDef *test, HeapTuple tuple, TupleDesc desc)
{
	char	   *what = psprintf("test %s of model \"%s\"", test->name, test->model);
	const char *kind = test->kind;
	int			ncolumns = list_length(test->columns);
	bool		valid;

	if (CatalogArrayHasNulls(tuple, desc, Anum_tests_columns) ||
		CatalogArrayHasNulls(tuple, desc, Anum_tests_accepted))
		CatalogInvalidRow("tests", what, "Its columns or accepted values hold a NULL.");
	if (strcmp(kind, "not_null") == 0)
		valid = ncolumns == 1;
	else if (strcmp(kind, "unique") == 0)
		valid = ncolumns >= 1;
	else if (strcmp(kind, "accepted_values") == 0)
		valid = ncolumns == 1 && test->accepted != NIL;
	else if (strcmp(kind, "relationships") == 0)
		valid = ncolumns == 1 && test->to_column != NULL &&
			(test->to_model == NULL) != (test->to_relation == NULL);
	else if (strcmp(kind, "freshness") == 0)
		valid = ncolumns == 1 && test->max_age != NULL;
	else if (strcmp(kind, "expression") == 0)
		valid = ncolumns == 0 && test->expression != NULL;
	else if (strcmp(kind, "row_count") == 0)
		valid = ncolumns == 0 && (test->min_rows != NULL || test->max_rows != NULL);
	else if (strcmp(kind, "sql") == 0)
		valid = ncolumns == 0 && test->sql != NULL;
	else
		valid = false;
	if (!valid)
		CatalogInvalidRow("tests", what,
					psprintf("A test of kind %s does not have the columns and settings medallion_add_test requires of its kind.", kind));
}

/*
 * CatalogReferencingTests
 *		The relationships tests of other models that reference model, as a
 *		List of char *[2]: the model tested and the test's name.
 */
List *
CatalogReferencingTests(const char *model)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(model)};

	return CatalogReadRows("SELECT model, name FROM medallion.tests "
						   "WHERE to_model OPERATOR(pg_catalog.=) $1 "
						   "AND model OPERATOR(pg_catalog.<>) $1 ORDER BY 1, 2",
						   1, argtypes, values, "reading tests", CatalogRowTexts, NULL);
}

/*
 * CatalogListTests
 *		Returns the tests of a model (List of TestDef *), by name.
 */
/* A row of medallion.tests as a TestDef, checked (a CatalogRowFn). */
static void *
test_from_tuple(HeapTuple tup, TupleDesc desc, void *arg)
{
	TestDef    *test = palloc0(sizeof(TestDef));

	test->model = CatalogText(tup, desc, Anum_tests_model);
	test->name = CatalogText(tup, desc, Anum_tests_name);
	test->kind = CatalogText(tup, desc, Anum_tests_kind);
	test->columns = CatalogTextList(tup, desc, Anum_tests_columns);
	test->accepted = CatalogTextList(tup, desc, Anum_tests_accepted);
	test->to_model = CatalogText(tup, desc, Anum_tests_to_model);
	test->to_relation = CatalogText(tup, desc, Anum_tests_to_relation);
	test->to_column = CatalogText(tup, desc, Anum_tests_to_column);
	test->expression = CatalogText(tup, desc, Anum_tests_expression);
	test->min_rows = CatalogText(tup, desc, Anum_tests_min_rows);
	test->max_rows = CatalogText(tup, desc, Anum_tests_max_rows);
	test->max_age = CatalogText(tup, desc, Anum_tests_max_age);
	test->sql = CatalogText(tup, desc, Anum_tests_sql);
	test->severity = CatalogText(tup, desc, Anum_tests_severity);
	test->warn_if = CatalogText(tup, desc, Anum_tests_warn_if);
	test->error_if = CatalogText(tup, desc, Anum_tests_error_if);
	test->blocking = CatalogBool(tup, desc, Anum_tests_blocking);
	test->store_failures = CatalogBool(tup, desc, Anum_tests_store_failures);
	check_test_row(test, tup, desc);
	return test;
}

List *
CatalogListTests(const char *model)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(model)};

	return CatalogReadRows("SELECT model, name, kind, columns, accepted, to_model, "
						   "to_relation, to_column, expression, min_rows::text, "
						   "max_rows::text, max_age::text, sql, severity, warn_if, "
						   "error_if, blocking, store_failures "
						   "FROM medallion.tests WHERE model = $1 ORDER BY name",
						   1, argtypes, values, "reading tests", test_from_tuple, NULL);
}

/*
 * CatalogTestEdges
 *		Pairs (model, to_model) of relationships tests between two models,
 *		as a List of List (char *, char *): run order edges.
 */
/* A row (model, to_model) as a List of the two (a CatalogRowFn). */
static void *
edge_from_tuple(HeapTuple tuple, TupleDesc desc, void *arg)
{
	return list_make2(CatalogText(tuple, desc, 1), CatalogText(tuple, desc, 2));
}

List *
CatalogTestEdges(void)
{
	return CatalogReadRows("SELECT DISTINCT model, to_model FROM medallion.tests "
						   "WHERE to_model IS NOT NULL AND to_model OPERATOR(pg_catalog.<>) model",
						   0, NULL, NULL, "reading tests", edge_from_tuple, NULL);
}

/*
 * CatalogModelsTestingOthers
 *		Names of the models (a List of char *) with a relationships or sql
 *		test: those whose tests read other relations than their own, which
 *		a run may have to defer (run_plan.c).
 */
List *
CatalogModelsTestingOthers(void)
{
	return CatalogReadRows("SELECT DISTINCT model FROM medallion.tests "
						   "WHERE kind OPERATOR(pg_catalog.=) ANY (ARRAY['relationships', 'sql'])",
						   0, NULL, NULL, "reading tests", CatalogRowText, NULL);
}

/*
 * CatalogUpsertTest
 *		Insert or replace a row of medallion.tests.
 */
void
CatalogUpsertTest(TestDef *test, const char *description)
{
	Oid			types[19];
	Datum		values[19];
	char		nulls[19];

	memset(nulls, ' ', sizeof(nulls));
	for (int i = 0; i < 19; i++)
		types[i] = TEXTOID;
	values[0] = CStringGetTextDatum(test->model);
	values[1] = CStringGetTextDatum(test->name);
	values[2] = CStringGetTextDatum(test->kind);
	types[3] = TEXTARRAYOID;
	values[3] = ListToTextArray(test->columns);
	types[4] = TEXTARRAYOID;
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
	types[16] = BOOLOID;
	values[16] = BoolGetDatum(test->blocking);
	types[17] = BOOLOID;
	values[17] = BoolGetDatum(test->store_failures);
	TEXT_OR_NULL(18, description);
#undef TEXT_OR_NULL
	(void) CatalogExecute("INSERT INTO medallion.tests (model, name, kind, columns, accepted, "
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
						  19, types, values, nulls, SPI_OK_INSERT, "writing a test");
}

/*
 * CatalogDeleteTest
 *		Delete a test; returns whether it existed.
 */
/*
 * delete_test_row
 *		Delete the row of a tests table (medallion.tests, unit_tests,
 *		source_tests) whose holder (its model or source, in column holder)
 *		and name are given; returns whether it existed.
 */
static bool
delete_test_row(const char *table, const char *holder, const char *of, const char *name)
{
	Oid			types[2] = {TEXTOID, TEXTOID};
	Datum		values[2] = {CStringGetTextDatum(of), CStringGetTextDatum(name)};

	return CatalogExecute(psprintf("DELETE FROM medallion.%s WHERE %s OPERATOR(pg_catalog.=) $1 "
								   "AND name OPERATOR(pg_catalog.=) $2", table, holder),
						  2, types, values, NULL, SPI_OK_DELETE, psprintf("dropping a row of medallion.%s", table)) > 0;
}

/*
 * CatalogTestNameTaken
 *		Error when model already has a test (unit: a unit test) of that
 *		name: a model's tests and unit tests share names, as their results
 *		share medallion.test_results.
 */
void
CatalogTestNameTaken(const char *model, const char *name, bool unit)
{
	Oid			types[2] = {TEXTOID, TEXTOID};
	Datum		values[2] = {CStringGetTextDatum(model), CStringGetTextDatum(name)};

	if (!CatalogHasTable(unit ? "unit_tests" : "tests"))
		return;					/* a catalog from before 0.3.0 */
	if (CatalogExecute(psprintf("SELECT FROM medallion.%s WHERE model OPERATOR(pg_catalog.=) $1 "
								"AND name OPERATOR(pg_catalog.=) $2", unit ? "unit_tests" : "tests"),
					   2, types, values, NULL, SPI_OK_SELECT, "reading tests") > 0)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("model \"%s\" has a %s named \"%s\"", model, unit ? "unit test" : "test", name),
				 errdetail("A model's tests and unit tests share names, as their results share medallion.test_results."),
				 errhint("Name it otherwise.")));
}

bool
CatalogDeleteTest(const char *model, const char *name)
{
	return delete_test_row("tests", "model", model, name);
}

/*
 * CatalogCheckTestName
 *		Error unless name is a test's name, as medallion.tests,
 *		unit_tests and source_tests take it.
 */
void
CatalogCheckTestName(const char *name)
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

/*
 * CatalogListUnitTests
 *		The unit tests of a model (List of UnitTestDef *), by name.
 */
/* A row of medallion.unit_tests as a UnitTestDef (a CatalogRowFn). */
static void *
unit_test_from_tuple(HeapTuple tup, TupleDesc desc, void *arg)
{
	UnitTestDef *test = palloc0(sizeof(UnitTestDef));

	test->model = CatalogText(tup, desc, Anum_unit_tests_model);
	test->name = CatalogText(tup, desc, Anum_unit_tests_name);
	test->given = CatalogText(tup, desc, Anum_unit_tests_given);
	test->expect = CatalogText(tup, desc, Anum_unit_tests_expect);
	test->incremental = CatalogBool(tup, desc, Anum_unit_tests_incremental);
	return test;
}

List *
CatalogListUnitTests(const char *model)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(model)};

	if (!CatalogHasTable("unit_tests"))
		return NIL;				/* a catalog from before 0.3.0 */

	return CatalogReadRows("SELECT model, name, given::text, expect::text, incremental "
						   "FROM medallion.unit_tests WHERE model OPERATOR(pg_catalog.=) $1 ORDER BY name",
						   1, argtypes, values, "reading unit tests", unit_test_from_tuple, NULL);
}

/*
 * CatalogUpsertUnitTest
 *		Insert or replace a row of medallion.unit_tests.
 */
void
CatalogUpsertUnitTest(UnitTestDef *test, const char *description)
{
	Oid			types[6] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID, BOOLOID, TEXTOID};
	Datum		values[6];
	char		nulls[6] = {' ', ' ', ' ', ' ', ' ', ' '};

	values[0] = CStringGetTextDatum(test->model);
	values[1] = CStringGetTextDatum(test->name);
	values[2] = CStringGetTextDatum(test->given);
	values[3] = CStringGetTextDatum(test->expect);
	values[4] = BoolGetDatum(test->incremental);
	values[5] = description ? CStringGetTextDatum(description) : (Datum) 0;
	nulls[5] = description ? ' ' : 'n';
	(void) CatalogExecute("INSERT INTO medallion.unit_tests (model, name, given, expect, "
						  "incremental, description) VALUES ($1, $2, $3::pg_catalog.jsonb, "
						  "$4::pg_catalog.jsonb, $5, $6) ON CONFLICT (model, name) DO UPDATE SET "
						  "given = EXCLUDED.given, expect = EXCLUDED.expect, "
						  "incremental = EXCLUDED.incremental, description = EXCLUDED.description",
						  6, types, values, nulls, SPI_OK_INSERT, "defining a unit test");
}

/*
 * CatalogDeleteUnitTest
 *		Delete a unit test; returns whether it existed.
 */
bool
CatalogDeleteUnitTest(const char *model, const char *name)
{
	return delete_test_row("unit_tests", "model", model, name);
}

/*
 * CatalogListSourceTests
 *		The tests of sources' relations (List of SourceTestDef *), with
 *		their source's owner and schema, by source and name.
 */
/* A row of medallion.source_tests as a SourceTestDef (a CatalogRowFn). */
static void *
source_test_from_tuple(HeapTuple tup, TupleDesc desc, void *arg)
{
	SourceTestDef *test = palloc0(sizeof(SourceTestDef));

	test->source = CatalogText(tup, desc, Anum_source_tests_source);
	test->name = CatalogText(tup, desc, Anum_source_tests_name);
	test->relation = CatalogText(tup, desc, Anum_source_tests_relation);
	test->kind = CatalogText(tup, desc, Anum_source_tests_kind);
	test->column_name = CatalogText(tup, desc, Anum_source_tests_column);
	test->accepted = CatalogTextList(tup, desc, Anum_source_tests_accepted);
	test->to_relation = CatalogText(tup, desc, Anum_source_tests_to_relation);
	test->to_column = CatalogText(tup, desc, Anum_source_tests_to_column);
	test->severity = CatalogText(tup, desc, Anum_source_tests_severity);
	test->owner = CatalogText(tup, desc, Anum_source_tests_owner);
	test->local_schema = CatalogText(tup, desc, Anum_source_tests_local_schema);
	return test;
}

List *
CatalogListSourceTests(void)
{
	if (!CatalogHasTable("source_tests"))
		return NIL;				/* a catalog from before 0.3.0 */
	return CatalogReadRows("SELECT t.source, t.name, t.relation, t.kind, t.column_name, t.accepted, "
						   "t.to_relation, t.to_column, t.severity, s.owner::text, s.local_schema::text "
						   "FROM medallion.source_tests t JOIN medallion.sources s ON s.name OPERATOR(pg_catalog.=) t.source "
						   "ORDER BY t.source, t.name",
						   0, NULL, NULL, "reading tests of sources", source_test_from_tuple, NULL);
}

/*
 * CatalogUpsertSourceTest
 *		Insert or replace a row of medallion.source_tests.
 */
void
CatalogUpsertSourceTest(SourceTestDef *test, const char *description)
{
	Oid			types[10] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTARRAYOID,
	TEXTOID, TEXTOID, TEXTOID, TEXTOID};
	Datum		values[10];
	char		nulls[10];
	const char *texts[10] = {test->source, test->name, test->relation, test->kind, test->column_name,
	NULL, test->to_relation, test->to_column, test->severity, description};

	for (int i = 0; i < 10; i++)
	{
		values[i] = texts[i] ? CStringGetTextDatum(texts[i]) : (Datum) 0;
		nulls[i] = texts[i] ? ' ' : 'n';
	}
	values[5] = ListToTextArray(test->accepted);
	nulls[5] = test->accepted ? ' ' : 'n';
	(void) CatalogExecute("INSERT INTO medallion.source_tests (source, name, relation, kind, column_name, "
						  "accepted, to_relation, to_column, severity, description) "
						  "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (source, name) DO UPDATE SET "
						  "relation = EXCLUDED.relation, kind = EXCLUDED.kind, column_name = EXCLUDED.column_name, "
						  "accepted = EXCLUDED.accepted, to_relation = EXCLUDED.to_relation, "
						  "to_column = EXCLUDED.to_column, severity = EXCLUDED.severity, "
						  "description = EXCLUDED.description",
						  10, types, values, nulls, SPI_OK_INSERT, "defining a test of a source");
}

/*
 * CatalogDeleteSourceTest
 *		Delete a test of a source; returns whether it existed.
 */
bool
CatalogDeleteSourceTest(const char *source, const char *name)
{
	return delete_test_row("source_tests", "source", source, name);
}
