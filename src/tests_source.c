/*-------------------------------------------------------------------------
 *
 * tests_source.c
 *	  Tests of a source's own relations (dbt's tests of sources):
 *	  medallion_add_source_test, medallion_drop_source_test, and each
 *	  test's check; and medallion_check_sources, which checks the sources'
 *	  freshness rules, then runs those tests.
 *
 * A test of a source belongs to the source, not to a model: it runs on the
 * source's relation whether or not a model reads it.  Its kinds are those
 * dbt gives sources most (not_null, unique, accepted_values,
 * relationships); their SQL is medallion's, over names the catalog holds
 * (the source's schema, the relation, the column), quoted, with pg_catalog
 * functions and operators, parsed under search_path "pg_catalog, pg_temp"
 * and run as the source's owner, restricted, as the freshness check reads
 * it: a source whose owner does not own its schema is skipped.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rls.h"
#include "utils/tuplestore.h"
#include "utils/varlena.h"

#include "bind.h"
#include "catalog.h"
#include "scope.h"
#include "subxact.h"
#include "tests.h"

PG_FUNCTION_INFO_V1(medallion_add_source_test);
PG_FUNCTION_INFO_V1(medallion_drop_source_test);
PG_FUNCTION_INFO_V1(medallion_check_sources);

/* The source named, or an error; the caller must act for its owner. */
static SourceDef *
owned_source(const char *name)
{
	ListCell   *lc;

	foreach(lc, CatalogListSources())
	{
		SourceDef  *source = lfirst(lc);
		Oid			owner;

		if (strcmp(source->name, name) != 0)
			continue;
		owner = source->owner ? get_role_oid(source->owner, true) : InvalidOid;
		if (!OidIsValid(owner) || !has_privs_of_role(GetUserId(), owner))
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("must be owner of source \"%s\"", name),
					 errdetail("The source is owned by role \"%s\".", source->owner ? source->owner : "(none)")));
		return source;
	}
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_OBJECT),
			 errmsg("source \"%s\" does not exist", name),
			 errhint("Sources are listed in medallion.sources.")));
	return NULL;				/* keep the compiler quiet */
}

/* Whether strings (char *) has text. */
static bool
list_member_text(List *strings, const char *text)
{
	ListCell   *lc;

	foreach(lc, strings)
	{
		if (strcmp(lfirst(lc), text) == 0)
			return true;
	}
	return false;
}

/* strings (char *), comma-separated. */
static char *
names_text(List *strings)
{
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	foreach(lc, strings)
		appendStringInfo(&buf, "%s%s", buf.len > 0 ? ", " : "", (char *) lfirst(lc));
	return buf.data;
}

/* Error unless relid has column; what names the relation. */
static void
require_column(Oid relid, const char *column, const char *what)
{
	if (get_attnum(relid, column) == InvalidAttrNumber)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("%s has no column \"%s\"", what, column)));
}

/*
 * medallion_add_source_test(source, relation, kind, column_name, accepted,
 *		to_relation, to_column, severity, name, description) defines a test
 *		of a source's relation, checked against the relation; returns its
 *		name.
 */
Datum
medallion_add_source_test(PG_FUNCTION_ARGS)
{
	SourceTestDef *test = palloc0(sizeof(SourceTestDef));
	SourceDef  *source;
	Oid			nsp;
	Oid			relid;

	for (int i = 0; i < 4; i++)
	{
		if (PG_ARGISNULL(i))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("source, relation, kind and column_name must not be NULL")));
	}
	CatalogRequireAdmin("define tests of sources");
	CatalogLockDefinitions();
	source = owned_source(text_to_cstring(PG_GETARG_TEXT_PP(0)));
	test->source = source->name;
	test->relation = text_to_cstring(PG_GETARG_TEXT_PP(1));
	test->kind = text_to_cstring(PG_GETARG_TEXT_PP(2));
	test->column_name = text_to_cstring(PG_GETARG_TEXT_PP(3));
	test->accepted = PG_ARGISNULL(4) ? NIL : TextArrayToList(PG_GETARG_DATUM(4));
	test->to_relation = PG_ARGISNULL(5) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(5));
	test->to_column = PG_ARGISNULL(6) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(6));
	test->severity = PG_ARGISNULL(7) ? "error" : text_to_cstring(PG_GETARG_TEXT_PP(7));
	test->name = PG_ARGISNULL(8) ?
		psprintf("%s_%s_%s", test->relation, test->column_name, test->kind) :
		text_to_cstring(PG_GETARG_TEXT_PP(8));
	CatalogCheckTestName(test->name);

	if (strcmp(test->kind, "not_null") != 0 && strcmp(test->kind, "unique") != 0 &&
		strcmp(test->kind, "accepted_values") != 0 && strcmp(test->kind, "relationships") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown kind of test of a source \"%s\"", test->kind),
				 errhint("Kinds are not_null, unique, accepted_values and relationships; a test of a model reading the source (medallion_add_test) can be of any kind.")));
	if (strcmp(test->severity, "error") != 0 && strcmp(test->severity, "warn") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("severity must be error or warn, not \"%s\"", test->severity)));
	if (source->tables != NIL && !list_member_text(source->tables, test->relation))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("source \"%s\" has no relation \"%s\"", source->name, test->relation),
				 errdetail("Its relations: %s.", names_text(source->tables))));
	nsp = get_namespace_oid(source->local_schema, true);
	relid = OidIsValid(nsp) ? get_relname_relid(test->relation, nsp) : InvalidOid;
	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation \"%s.%s\" of source \"%s\" does not exist",
						source->local_schema, test->relation, source->name)));
	require_column(relid, test->column_name,
				   quote_qualified_identifier(source->local_schema, test->relation));
	if (strcmp(test->kind, "accepted_values") == 0 && test->accepted == NIL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a test of kind accepted_values needs accepted (the values allowed)")));
	if (strcmp(test->kind, "relationships") == 0)
	{
		List	   *names = NIL;
		Oid			to = InvalidOid;

		if (test->to_relation == NULL || test->to_column == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("a test of kind relationships needs to_relation (schema.name) and to_column")));
		if (SplitIdentifierString(pstrdup(test->to_relation), '.', &names) && list_length(names) == 2)
			to = get_relname_relid(lsecond(names), get_namespace_oid(linitial(names), true));
		if (!OidIsValid(to))
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_TABLE),
					 errmsg("relation \"%s\" does not exist", test->to_relation),
					 errhint("Name it schema.name.")));
		require_column(to, test->to_column, test->to_relation);
	}
	CatalogUpsertSourceTest(test, PG_ARGISNULL(9) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(9)));
	PG_RETURN_TEXT_P(cstring_to_text(test->name));
}

/* medallion_drop_source_test(source, name) */
Datum
medallion_drop_source_test(PG_FUNCTION_ARGS)
{
	SourceDef  *source;
	char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(1));

	CatalogRequireAdmin("drop tests of sources");
	CatalogLockDefinitions();
	source = owned_source(text_to_cstring(PG_GETARG_TEXT_PP(0)));
	if (!CatalogDeleteSourceTest(source->name, name))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("source \"%s\" has no test \"%s\"", source->name, name),
				 errhint("Tests of sources are listed in medallion.source_tests.")));
	PG_RETURN_VOID();
}

/* A check being run (the work of a subtransaction). */
typedef struct SourceCheck
{
	SourceTestDef *test;
	Oid			owner;
	char	   *failures;		/* the count, as text */
} SourceCheck;

/* The count of failing rows of a test's kind, as SQL ($1: accepted values). */
static char *
check_sql(SourceTestDef *test)
{
	char	   *rel = quote_qualified_identifier(test->local_schema, test->relation);
	const char *col = quote_identifier(test->column_name);

	if (strcmp(test->kind, "not_null") == 0)
		return psprintf("SELECT pg_catalog.count(*) FROM %s c WHERE c.%s IS NULL", rel, col);
	if (strcmp(test->kind, "unique") == 0)
		return psprintf("SELECT pg_catalog.count(*) FROM (SELECT c.%s FROM %s c WHERE c.%s IS NOT NULL "
						"GROUP BY c.%s HAVING pg_catalog.count(*) OPERATOR(pg_catalog.>) 1) d",
						col, rel, col, col);
	if (strcmp(test->kind, "accepted_values") == 0)
		return psprintf("SELECT pg_catalog.count(*) FROM %s c WHERE c.%s IS NOT NULL AND NOT "
						"(c.%s::pg_catalog.text OPERATOR(pg_catalog.=) ANY ($1))", rel, col, col);
	/* relationships: the referenced relation as written, schema.name */
	{
		List	   *names = NIL;

		if (test->to_relation == NULL || test->to_column == NULL ||
			!SplitIdentifierString(pstrdup(test->to_relation), '.', &names) || list_length(names) != 2)
			elog(ERROR, "test \"%s\" of source \"%s\" references no relation", test->name, test->source);
		return psprintf("SELECT pg_catalog.count(*) FROM %s c WHERE c.%s IS NOT NULL AND NOT EXISTS "
						"(SELECT FROM %s t WHERE t.%s = c.%s)", rel, col,
						quote_qualified_identifier(linitial(names), lsecond(names)),
						quote_identifier(test->to_column), col);
	}
}

static void
check_work(void *arg)
{
	SourceCheck *check = arg;
	MemoryContext cxt = CurrentMemoryContext;
	ModelScope	scope;
	BindRows	rows;
	Oid			types[1] = {TEXTARRAYOID};
	Datum		values[1] = {ListToTextArray(check->test->accepted)};
	bool		accepted = strcmp(check->test->kind, "accepted_values") == 0;

	/* read as the source's owner, restricted: what it reads may run code */
	ModelScopeEnter(&scope, check->owner, 0);
	(void) BindExecute(check_sql(check->test), accepted ? 1 : 0, types, values, NULL, NIL, NIL,
					   BindRowsReceiver(&rows, 1, cxt));
	ModelScopeLeave(&scope);
	check->failures = ((char **) linitial(rows.rows))[0];
}

/*
 * TestsSourceCheck
 *		Run a test of a source's relation: *status pass, warn or error (by
 *		its severity when rows fail; error when the check itself fails),
 *		skipped when the source's owner does not own its schema; *message
 *		says why.
 */
void
TestsSourceCheck(SourceTestDef *test, const char **status, char **message)
{
	SourceCheck check = {test, InvalidOid, NULL};
	ErrorData  *error;
	int64		failures;

	if (!CatalogSourceActsFor(test->owner, test->local_schema, InvalidOid))
	{
		*status = "skipped";
		*message = psprintf("test %s: the source's owner \"%s\" does not own schema \"%s\"",
							test->name, test->owner ? test->owner : "(none)", test->local_schema);
		return;
	}
	check.owner = get_role_oid(test->owner, false);
	error = SubxactRun(check_work, &check, true);
	if (error != NULL)
	{
		*status = "error";
		*message = psprintf("test %s (%s of %s) could not run: %s", test->name, test->kind,
							test->column_name, error->message);
		return;
	}
	failures = strtoi64(check.failures, NULL, 10);
	*status = failures == 0 ? "pass" : test->severity;
	*message = psprintf("test %s (%s of %s): " INT64_FORMAT " failing %s", test->name, test->kind,
						test->column_name, failures,
						strcmp(test->kind, "unique") == 0 ? "values" : "rows");
}

/*
 * source_values_readable
 *		May role read the freshness column of a source's relation itself?
 *		It acts for the source's owner, or may SELECT the column of a
 *		relation without row-level security (with it, the newest value it
 *		may see can differ from the owner's).
 */
static bool
source_values_readable(Oid role, Oid owner, Oid relid, const char *column)
{
	AttrNumber	attnum;

	if (has_privs_of_role(role, owner))
		return true;

	/*
	 * Only a table's own grants and policies say what role may read: a
	 * view (security_invoker or not) reads others, whose policies would
	 * apply to role differently than to the source's owner, and a foreign
	 * table was read through the owner's user mapping, not role's.
	 */
	if (get_rel_relkind(relid) != RELKIND_RELATION && get_rel_relkind(relid) != RELKIND_PARTITIONED_TABLE)
		return false;
	attnum = get_attnum(relid, column);
	if (attnum == InvalidAttrNumber || check_enable_rls(relid, role, true) != RLS_NONE)
		return false;
	return pg_attribute_aclcheck(relid, attnum, role, ACL_SELECT) == ACLCHECK_OK ||
		pg_class_aclcheck(relid, role, ACL_SELECT) == ACLCHECK_OK;
}

/*
 * medallion_check_sources() checks the freshness rules of sources, then
 * the tests of their relations (TestsSourceCheck, tests_source.c): for
 * each relation of a source with a freshness_column, the age of the newest
 * value against warn_after and error_after.  It reads as the source's
 * owner, and only a source over a schema its owner owns
 * (CatalogSourceActsFor); the newest value and its age are shown only to
 * a caller that may read them itself (source_values_readable), others
 * get the status.
 */
Datum
medallion_check_sources(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MemoryContext callercxt = CurrentMemoryContext;
	Oid			caller = GetUserId();
	List	   *rules = NIL;
	ListCell   *lc;

	CatalogRequireAdmin("check sources");
	InitMaterializedSRF(fcinfo, 0);

	/* (source, relation, column, warn_after, error_after, owner, schema, OID) to check */
	rules = CatalogFreshnessRules();

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
		else if (!CatalogSourceActsFor(rule[5], rule[6], InvalidOid))
		{
			/* another role's schema: its owner, not the source's, says what is read there */
			status = "skipped";
			message = psprintf("the source's owner \"%s\" does not own schema \"%s\"", rule[5], rule[6]);
			values[1] = CStringGetTextDatum(rule[1]);
			nulls[3] = nulls[4] = true;
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
			ModelScope	scope;

			if (!OidIsValid(owner))
				ereport(ERROR,
						(errcode(ERRCODE_UNDEFINED_OBJECT),
						 errmsg("owner \"%s\" of source \"%s\" does not exist", rule[5], rule[0]),
						 errhint("A superuser registers the source again as an existing role.")));
			args[0] = rule[3] ? CStringGetTextDatum(rule[3]) : (Datum) 0;
			args[1] = rule[4] ? CStringGetTextDatum(rule[4]) : (Datum) 0;

			/* read as the source's owner, restricted: what it reads may run code */
			ModelScopeEnter(&scope, owner, 0);
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
			ModelScopeLeave(&scope);
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
			/* read with the owner's rights: shown to whom may read them */
			if (!source_values_readable(caller, get_role_oid(rule[5], false),
										(Oid) strtoul(rule[7], NULL, 10), rule[2]))
				newest = age = NULL;
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

	/* then the tests of the sources' relations (tests_source.c) */
	foreach(lc, CatalogListSourceTests())
	{
		SourceTestDef *test = lfirst(lc);
		Datum		values[6];
		bool		nulls[6] = {false, false, false, true, true, false};
		const char *status;
		char	   *message;

		TestsSourceCheck(test, &status, &message);
		values[0] = CStringGetTextDatum(test->source);
		values[1] = CStringGetTextDatum(quote_qualified_identifier(test->local_schema, test->relation));
		values[2] = CStringGetTextDatum(status);
		values[5] = CStringGetTextDatum(message);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	PG_RETURN_VOID();
}
