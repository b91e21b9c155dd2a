/*-------------------------------------------------------------------------
 *
 * contract.c
 *	  Contracts: a model's promised columns, checked against its bound query
 *	  when it is defined, and its constraints, enforced on the table it
 *	  publishes (dbt's model contracts).
 *
 * A contract is jsonb:
 *
 *	{"columns": [{"name": "id", "data_type": "integer", "not_null": true,
 *				  "unique": true, "primary_key": true, "check": "id > 0"}, ...],
 *	 "primary_key": ["a", "b"]}
 *
 * The query's output columns must be exactly the contract's, by name, each
 * of the contract's type (the same type; the same modifier when the
 * contract gives one); order does not matter.  A table model's published
 * table carries the constraints as named constraints medallion owns
 * (medallion_contract_*), made again whenever the model is defined: NOT
 * NULL, PRIMARY KEY, UNIQUE and CHECK.  A run then cannot publish what
 * breaks them: NOT NULL is checked as the candidate is filled, keys by the
 * candidate's copies of the table's unique indexes, and checks
 * (ContractVerifyCandidate) by a query over the candidate before it is
 * published.  View and ephemeral models check their columns only.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/indexing.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "parser/parse_type.h"
#include "parser/parser.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/varlena.h"

#include "analyze.h"
#include "bind.h"
#include "build.h"
#include "catalog.h"
#include "scale.h"
#include "sqltext.h"

/* One column of a contract. */
typedef struct ContractColumn
{
	char	   *name;
	char	   *data_type;
	bool		not_null;
	bool		unique;
	bool		primary_key;
	char	   *check;
} ContractColumn;

/* contract_columns: one row of the contract's columns. */
static void *
contract_column(HeapTuple tuple, TupleDesc desc, void *arg)
{
	ContractColumn *col = palloc0(sizeof(ContractColumn));
	char	   *shape = CatalogText(tuple, desc, 7);

	if (shape != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid contract of model \"%s\": %s", (char *) arg, shape),
				 errhint("A contract is {\"columns\": [{\"name\": \"id\", \"data_type\": \"integer\", \"not_null\": true, \"unique\": true, \"primary_key\": true, \"check\": \"id > 0\"}, ...]}.")));
	col->name = CatalogText(tuple, desc, 1);
	col->data_type = CatalogText(tuple, desc, 2);
	col->not_null = CatalogBool(tuple, desc, 3);
	col->unique = CatalogBool(tuple, desc, 4);
	col->primary_key = CatalogBool(tuple, desc, 5);
	col->check = CatalogText(tuple, desc, 6);
	return col;
}

/*
 * contract_columns
 *		The contract's columns; an error names what is wrong with its shape.
 */
static List *
contract_columns(ModelDef *model)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(model->contract)};
	List	   *columns;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	columns = CatalogScanRows(CurrentMemoryContext,
							  "WITH k AS (SELECT $1::pg_catalog.jsonb AS k) "
							  "SELECT c OPERATOR(pg_catalog.->>) 'name', c OPERATOR(pg_catalog.->>) 'data_type', "
							  "       coalesce((c OPERATOR(pg_catalog.->>) 'not_null')::bool, false), "
							  "       coalesce((c OPERATOR(pg_catalog.->>) 'unique')::bool, false), "
							  "       coalesce((c OPERATOR(pg_catalog.->>) 'primary_key')::bool, false), "
							  "       c OPERATOR(pg_catalog.->>) 'check', "
							  "       CASE WHEN pg_catalog.jsonb_typeof(c) <> 'object' THEN 'a column is not an object' "
							  "            WHEN pg_catalog.jsonb_typeof(c OPERATOR(pg_catalog.->) 'name') IS DISTINCT FROM 'string' "
							  "            THEN 'a column has no name' "
							  "            WHEN pg_catalog.jsonb_typeof(c OPERATOR(pg_catalog.->) 'data_type') IS DISTINCT FROM 'string' "
							  "            THEN pg_catalog.format('column %s has no data_type', c OPERATOR(pg_catalog.->>) 'name') "
							  "            WHEN EXISTS (SELECT FROM pg_catalog.jsonb_object_keys(c) o "
							  "                          WHERE o <> ALL ('{name,data_type,not_null,unique,primary_key,check,description}')) "
							  "            THEN pg_catalog.format('column %s has a setting a contract does not know', c OPERATOR(pg_catalog.->>) 'name') "
							  "       END "
							  "FROM k, pg_catalog.jsonb_array_elements(CASE WHEN pg_catalog.jsonb_typeof(k OPERATOR(pg_catalog.->) 'columns') = 'array' "
							  "                                             THEN k OPERATOR(pg_catalog.->) 'columns' "
							  "                                             ELSE pg_catalog.jsonb_build_array('not an array') END) AS c",
							  1, argtypes, values, "reading a contract", contract_column, model->name);
	SPI_finish();
	if (columns == NIL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid contract of model \"%s\": it promises no column", model->name)));
	return columns;
}

/* The contract's composite primary key ("primary_key": [...]), or NIL. */
static List *
contract_primary_key(ModelDef *model)
{
	char	   *key;
	List	   *names = NIL;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	key = SqlValue("SELECT pg_catalog.array_to_string(ARRAY(SELECT pg_catalog.quote_ident(x) FROM "
				   "pg_catalog.jsonb_array_elements_text($1::pg_catalog.jsonb OPERATOR(pg_catalog.->) 'primary_key') x), ',')",
				   1, (Datum[]) {CStringGetTextDatum(model->contract)}, NULL);
	SPI_finish();
	if (key != NULL && key[0] != '\0' && !SplitIdentifierString(key, ',', &names))
		elog(ERROR, "invalid primary_key in the contract of model \"%s\"", model->name);
	return names;
}

/*
 * ContractCheck
 *		The query's columns are exactly the contract's, by name and type;
 *		an error names the first that is not.  No contract: nothing.
 */
void
ContractCheck(ModelDef *model, List *columns)
{
	List	   *promised;
	ListCell   *lc;

	if (model->contract == NULL)
		return;
	promised = contract_columns(model);
	foreach(lc, promised)
	{
		ContractColumn *want = lfirst(lc);
		ModelColumn *got = SqlFindColumn(columns, want->name);
		Oid			typid;
		int32		typmod;

		parseTypeString(want->data_type, &typid, &typmod, false);
		if (got == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("model \"%s\" breaks its contract: it has no column \"%s\"", model->name, want->name),
					 errdetail("The contract promises column \"%s\" of type %s.", want->name,
							   format_type_with_typemod(typid, typmod)),
					 errhint("Give the query the column, or change the contract.")));
		if (got->type != typid || (typmod != -1 && got->typmod != typmod))
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("model \"%s\" breaks its contract: column \"%s\" is of type %s, not %s", model->name,
							want->name, format_type_with_typemod(got->type, got->typmod),
							format_type_with_typemod(typid, typmod)),
					 errhint("Cast the column in the query (%s::%s), or change the contract.", want->name,
							 format_type_with_typemod(typid, typmod))));
	}
	foreach(lc, columns)
	{
		ModelColumn *got = lfirst(lc);
		ListCell   *lp;
		bool		found = false;

		foreach(lp, promised)
			found |= strcmp(((ContractColumn *) lfirst(lp))->name, got->name) == 0;
		if (!found)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("model \"%s\" breaks its contract: column \"%s\" is not in it", model->name, got->name),
					 errhint("Add the column to the contract, or leave it out of the query.")));
	}
}

/*
 * ContractApply
 *		Make the contract's constraints on a table model's published table
 *		relid (as the model owner, who owns it), after dropping the ones an
 *		earlier definition made.  Data already there that breaks them fails
 *		the definition, with PostgreSQL's error.
 */
void
ContractApply(ModelDef *model, Oid relid)
{
	char	   *table = SqlRelationName(relid);
	List	   *old = NIL;
	List	   *key;
	ListCell   *lc;
	Relation	conrel;
	ScanKeyData skey;
	SysScanDesc scan;
	HeapTuple	tup;

	/* the constraints an earlier contract made go */
	conrel = table_open(ConstraintRelationId, AccessShareLock);
	ScanKeyInit(&skey, Anum_pg_constraint_conrelid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(relid));
	scan = systable_beginscan(conrel, ConstraintRelidTypidNameIndexId, true, NULL, 1, &skey);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_constraint con = (Form_pg_constraint) GETSTRUCT(tup);

		if (strncmp(NameStr(con->conname), "medallion_contract_", 19) == 0)
			old = lappend(old, pstrdup(NameStr(con->conname)));
	}
	systable_endscan(scan);
	table_close(conrel, AccessShareLock);
	foreach(lc, old)
		SqlUtility(psprintf("ALTER TABLE %s DROP CONSTRAINT %s", table, quote_identifier(lfirst(lc))));
	if (model->contract == NULL)
		return;

	key = contract_primary_key(model);
	foreach(lc, contract_columns(model))
	{
		ContractColumn *col = lfirst(lc);
		const char *name = quote_identifier(col->name);

		if (col->not_null || col->primary_key)
			SqlUtility(psprintf("ALTER TABLE %s ALTER COLUMN %s SET NOT NULL", table, name));
		if (col->primary_key)
			key = lappend(key, col->name);
		if (col->unique)
			SqlUtility(psprintf("ALTER TABLE %s ADD CONSTRAINT %s UNIQUE (%s)", table,
								 quote_identifier(psprintf("medallion_contract_%s_key", col->name)), name));
		if (col->check != NULL)
		{
			char	   *sql = psprintf("ALTER TABLE %s ADD CONSTRAINT %s CHECK (%s)", table,
									   quote_identifier(psprintf("medallion_contract_%s_check", col->name)),
									   col->check);

			/* an expression, not more statements after it */
			if (list_length(raw_parser(sql, RAW_PARSE_DEFAULT)) != 1)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("invalid check of column \"%s\" in the contract of model \"%s\"",
								col->name, model->name),
						 errdetail("A check is one boolean expression over the model's columns.")));
			SqlUtility(sql);
		}
	}
	if (key != NIL)
		SqlUtility(psprintf("ALTER TABLE %s ADD CONSTRAINT medallion_contract_pkey PRIMARY KEY (%s)", table,
							 SqlNameList(key)));
}

/*
 * ContractVerifyCandidate
 *		Before a candidate replaces published: each valid CHECK constraint
 *		of the published table holds for every row of the candidate (a new
 *		heap has none of the table's constraints; NOT NULL and unique ones
 *		are checked as it is filled and indexed).  Runs as the model owner,
 *		through the trust check of every query a run executes (the
 *		constraint may call a function).
 */
void
ContractVerifyCandidate(ModelDef *model, Oid published, Oid candidate)
{
	Relation	conrel;
	ScanKeyData skey;
	SysScanDesc scan;
	HeapTuple	tup;
	List	   *checks = NIL;
	List	   *names = NIL;
	ListCell   *lc;
	ListCell   *ln;

	/*
	 * A Citus table's candidate is copied into the published table when it
	 * is published, which checks the constraints on every node (as the
	 * owner: scale.c).
	 */
	if (ScaleIsCitusTable(published))
		return;
	/* most tables have none: the relation cache says so without a scan */
	{
		Relation	rel = table_open(published, AccessShareLock);
		bool		none = rel->rd_rel->relchecks == 0;

		table_close(rel, AccessShareLock);
		if (none)
			return;
	}
	conrel = table_open(ConstraintRelationId, AccessShareLock);
	ScanKeyInit(&skey, Anum_pg_constraint_conrelid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(published));
	scan = systable_beginscan(conrel, ConstraintRelidTypidNameIndexId, true, NULL, 1, &skey);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_constraint con = (Form_pg_constraint) GETSTRUCT(tup);

		if (con->contype != CONSTRAINT_CHECK || !con->convalidated)
			continue;
		checks = lappend(checks, TextDatumGetCString(DirectFunctionCall1(pg_get_constraintdef,
																		 ObjectIdGetDatum(con->oid))));
		names = lappend(names, pstrdup(NameStr(con->conname)));
	}
	systable_endscan(scan);
	table_close(conrel, AccessShareLock);

	forboth(lc, checks, ln, names)
	{
		/* "CHECK ((expression))" */
		char	   *def = lfirst(lc);
		char	   *failing;
		BindRows	rows = {0};

		if (strncmp(def, "CHECK ", 6) != 0)
			continue;
		/* as every query of a run: through the trust check of the code it calls */
		(void) BindExecute(psprintf("SELECT pg_catalog.count(*)::pg_catalog.text FROM %s WHERE NOT %s",
									SqlRelationName(candidate), def + 6),
						   0, NULL, NULL, NULL, NIL, NIL, BindRowsReceiver(&rows, 1, CurrentMemoryContext));
		failing = ((char **) linitial(rows.rows))[0];
		if (strcmp(failing, "0") != 0)
			ereport(ERROR,
					(errcode(ERRCODE_CHECK_VIOLATION),
					 errmsg("%s rows of model \"%s\" break check constraint \"%s\" of %s", failing, model->name,
							(char *) lfirst(ln), SqlModelName(model)),
					 errdetail("The constraint is %s; what is published stays.", def)));
	}
}
