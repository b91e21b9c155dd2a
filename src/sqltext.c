/*-------------------------------------------------------------------------
 *
 * sqltext.c
 *	  SQL text and SPI helpers shared by the build files: quoted names and
 *	  column lists, typed values, statements run through SPI, tables that
 *	  only medallion may create, and the fields of JSON objects medallion
 *	  writes (the ledger's entries, the graph as JSON).
 *
 * Everything here builds SQL that medallion writes itself: names are
 * quoted, types qualified, values passed as parameters.  The text reads
 * relations only (bindings, candidates, published tables), never a
 * model's own SQL, and runs under search_path "pg_catalog, pg_temp".
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/attmap.h"
#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/dependency.h"
#include "catalog/index.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/objectaddress.h"
#include "catalog/pg_am.h"
#include "catalog/pg_class.h"
#include "catalog/pg_depend.h"
#include "catalog/pg_rewrite.h"
#include "catalog/pg_statistic.h"
#include "catalog/pg_type.h"
#include "commands/cluster.h"
#include "commands/comment.h"
#include "commands/defrem.h"
#include "commands/tablecmds.h"
#include "commands/tablespace.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "nodes/params.h"
#include "parser/parse_utilcmd.h"
#include "rewrite/rewriteHandler.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/ruleutils.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/varlena.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/latch.h"
#include "utils/memutils.h"
#include "utils/resowner.h"

#include "catalog.h"
#include "relation.h"
#include "sqltext.h"

/*
 * SqlCompareNames
 *		list_sort comparator for Lists of C strings (names).
 */
int
SqlCompareNames(const ListCell *a, const ListCell *b)
{
	return strcmp((char *) lfirst(a), (char *) lfirst(b));
}

char *
SqlModelName(ModelDef *model)
{
	return quote_qualified_identifier(model->schema, model->name);
}

/* Run one utility statement through SPI. */
void
SqlUtility(const char *sql)
{
	int			ret;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ret = SPI_execute(sql, false, 0);
	if (ret != SPI_OK_UTILITY)
		elog(ERROR, "SPI_execute failed for \"%s\": %s", sql, SPI_result_code_string(ret));
	if (SPI_finish() != SPI_OK_FINISH)
		elog(ERROR, "SPI_finish failed");
}

/* Run one statement through SPI and return the rows it processed; expected
 * is the SPI result code, or 0 for any success. */
uint64
SqlRun(const char *sql, int expected)
{
	int			ret;
	uint64		rows;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ret = SPI_execute(sql, false, 0);
	if (ret < 0 || (expected != 0 && ret != expected))
		elog(ERROR, "SPI_execute failed for \"%s\": %s", sql, SPI_result_code_string(ret));
	rows = SPI_processed;
	if (SPI_finish() != SPI_OK_FINISH)
		elog(ERROR, "SPI_finish failed");
	return rows;
}

/*
 * SqlRelationName
 *		Returns the quoted, schema-qualified name of relid (palloc'd).
 *		Errors when relid names no relation (InvalidOid included): one that
 *		medallion looked up, such as a model's published relation, has
 *		been dropped, renamed or moved since.
 */
char *
SqlRelationName(Oid relid)
{
	char	   *name = OidIsValid(relid) ? get_rel_name(relid) : NULL;
	char	   *nspname = name ? get_namespace_name(get_rel_namespace(relid)) : NULL;

	if (nspname == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid),
				 errdetail("A relation medallion made or reads has been dropped, renamed or moved to another schema.")));
	return quote_qualified_identifier(nspname, name);
}

/*
 * SqlRelationOwner
 *		The owner of relation relid, InvalidOid when it is gone.
 */
Oid
SqlRelationOwner(Oid relid)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Oid			owner;

	if (!HeapTupleIsValid(tup))
		return InvalidOid;
	owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
	ReleaseSysCache(tup);
	return owner;
}

/* "a, b" from a List of names, quoted. */
char *
SqlNameList(List *names)
{
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	foreach(lc, names)
		appendStringInfo(&buf, "%s%s", buf.len > 0 ? ", " : "", quote_identifier(lfirst(lc)));
	return buf.data;
}

/*
 * SqlEachColumn
 *		From the quoted column list "a, b": "p.a, p.b" (prefix p.), or with
 *		assign "a = s.a, b = s.b" (prefix s.).
 */
char *
SqlEachColumn(const char *cols, const char *prefix, bool assign)
{
	List	   *names;
	StringInfoData buf;
	ListCell   *lc;
	char	   *copy = pstrdup(cols);

	if (!SplitIdentifierString(copy, ',', &names))
		elog(ERROR, "invalid column list \"%s\"", cols);
	initStringInfo(&buf);
	foreach(lc, names)
	{
		const char *name = quote_identifier(lfirst(lc));

		appendStringInfo(&buf, "%s%s%s%s%s", buf.len > 0 ? ", " : "",
						 assign ? name : "", assign ? " = " : "", prefix, name);
	}
	return buf.data;
}

ModelColumn *
SqlFindColumn(List *columns, const char *name)
{
	ListCell   *lc;

	foreach(lc, columns)
	{
		if (strcmp(((ModelColumn *) lfirst(lc))->name, name) == 0)
			return lfirst(lc);
	}
	return NULL;
}

/* The names of columns (List of ModelColumn *), as a List of char *. */
List *
SqlColumnNames(List *columns)
{
	List	   *names = NIL;
	ListCell   *lc;

	foreach(lc, columns)
		names = lappend(names, ((ModelColumn *) lfirst(lc))->name);
	return names;
}

/* The type of a model column, as SQL text. */
char *
SqlColumnType(List *columns, const char *name)
{
	ModelColumn *col = SqlFindColumn(columns, name);

	if (col == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("the model query has no column \"%s\"", name)));
	return format_type_be_qualified(col->type);
}

bool
SqlIsTimeType(List *columns, const char *name)
{
	ModelColumn *col = SqlFindColumn(columns, name);

	return col != NULL && (col->type == DATEOID || col->type == TIMESTAMPOID ||
						   col->type == TIMESTAMPTZOID);
}

/*
 * SqlJsonField
 *		Append "key": value to the JSON object being written in buf, after
 *		", " unless it is the object's first field (buf is empty or ends
 *		with "{").  value is a string, escaped, or NULL for null; with raw,
 *		value is JSON already (a number, true, an object) and goes in as it
 *		is.  Every JSON object medallion writes by hand is written with it.
 */
void
SqlJsonField(StringInfo buf, const char *key, const char *value, bool raw)
{
	if (buf->len > 0 && buf->data[buf->len - 1] != '{')
		appendStringInfoString(buf, ", ");
	escape_json(buf, key);
	appendStringInfoString(buf, ": ");
	if (value == NULL)
		appendStringInfoString(buf, "null");
	else if (raw)
		appendStringInfoString(buf, value);
	else
		escape_json(buf, value);
}

/* One value computed by SQL (with text parameters), as text or NULL. */
char *
SqlValue(const char *sql, int nparams, Datum *values, const char *nulls)
{
	MemoryContext callercxt = CurrentMemoryContext;
	Oid			types[4] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID};
	char	   *result = NULL;
	int			ret;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ret = SPI_execute_with_args(sql, nparams, types, values, nulls, false, 1);
	if (ret != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "SPI_execute failed for \"%s\": %s", sql, SPI_result_code_string(ret));
	{
		char	   *value = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);

		if (value != NULL)
			result = MemoryContextStrdup(callercxt, value);
	}
	SPI_finish();
	return result;
}

/*
 * SqlColumnLists
 *		For INSERT INTO relid (*target) SELECT *source FROM q: the live
 *		columns of relid, and for each the column of q of the same name, or
 *		NULL when q (whose columns are given) has none.
 */
void
SqlColumnLists(Oid relid, List *columns, char **target, char **source)
{
	Relation	rel = table_open(relid, AccessShareLock);
	TupleDesc	desc = RelationGetDescr(rel);
	StringInfoData tbuf;
	StringInfoData sbuf;

	initStringInfo(&tbuf);
	initStringInfo(&sbuf);
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		const char *name = NameStr(att->attname);

		if (att->attisdropped)
			continue;
		appendStringInfo(&tbuf, "%s%s", tbuf.len > 0 ? ", " : "", quote_identifier(name));
		appendStringInfo(&sbuf, "%s%s", sbuf.len > 0 ? ", " : "",
						 SqlFindColumn(columns, name) ? quote_identifier(name) : "NULL");
	}
	table_close(rel, AccessShareLock);
	*target = tbuf.data;
	*source = sbuf.data;
}

/*
 * CREATE [UNLOGGED | TEMP] TABLE schema.name (columns) as the extension
 * owner, given to owner; returns its OID.  A temporary table's schema is
 * pg_temp, this backend's own.
 *
 * A build runs as a security-restricted operation, in which PostgreSQL
 * makes no temporary table: one made by code run for another role would
 * outlive it, and could stand in for a name its session resolves later.
 * A work table is made by medallion itself, as the extension owner (only
 * trusted code runs, CatalogEnter), and dropped before its build ends (or
 * with the build's transaction); so the restriction is lifted for the two
 * statements that make it, as REFRESH MATERIALIZED VIEW CONCURRENTLY does
 * for its own temporary table.
 */
static Oid
create_owned_table(const char *schema, const char *name, const char *columns, Oid owner,
				   char persistence)
{
	CatalogSession session;
	char	   *table = quote_qualified_identifier(schema, name);
	bool		temp = persistence == RELPERSISTENCE_TEMP;
	Oid			userid;
	int			sec;
	Oid			relid;

	CatalogEnter(&session);
	GetUserIdAndSecContext(&userid, &sec);
	if (temp)
		SetUserIdAndSecContext(userid, sec & ~SECURITY_RESTRICTED_OPERATION);
	if (SPI_execute(psprintf("CREATE %sTABLE %s (%s)",
							 temp ? "TEMP " : persistence == RELPERSISTENCE_UNLOGGED ? "UNLOGGED " : "",
							 table, columns),
					false, 0) != SPI_OK_UTILITY ||
		SPI_execute(psprintf("ALTER TABLE %s OWNER TO %s", table,
							 quote_identifier(GetUserNameFromId(owner, false))),
					false, 0) != SPI_OK_UTILITY)
		elog(ERROR, "could not create %s", table);
	SetUserIdAndSecContext(userid, sec);
	CatalogLeave(&session);
	CommandCounterIncrement();
	relid = RangeVarGetRelid(makeRangeVar(pstrdup(schema), pstrdup(name), -1), NoLock, false);
	RelNotExtensionMember(relid);
	return relid;
}

/*
 * SqlCreateOwnedTable
 *		CREATE TABLE schema.name (columns), as the extension owner, then
 *		give it to owner.  columns is SQL text with quoted names and
 *		qualified types.
 */
void
SqlCreateOwnedTable(const char *schema, const char *name, const char *columns, Oid owner)
{
	(void) create_owned_table(schema, name, columns, owner, RELPERSISTENCE_PERMANENT);
}

/*
 * The first PostgreSQL 15 release that refuses, within a security-restricted
 * operation, to make a type (a domain, an enum, a range) in the session's
 * temporary schema, as it refuses a temporary table (CVE-2026-116316;
 * found in 15.20, whose binary carries the message): code a build runs for
 * a model's owner cannot then put a type there that the session, whose
 * temporary schema a work table has made, would resolve first later.
 * Releases of other major versions are not listed: they keep unlogged
 * work tables.
 */
#define WORK_TABLES_TEMP_FROM	150020
#define WORK_TABLES_TEMP_BELOW	160000

/* Does the server running refuse to make types in pg_temp when restricted? */
static bool
temp_types_refused(void)
{
	static int	refused = -1;

	if (refused < 0)
	{
		const char *version = GetConfigOption("server_version_num", false, false);
		long		num = version != NULL ? strtol(version, NULL, 10) : 0;

		refused = num >= WORK_TABLES_TEMP_FROM && num < WORK_TABLES_TEMP_BELOW;
	}
	return refused == 1;
}

/*
 * SqlCreateWorkTable
 *		SqlCreateOwnedTable of a work table of one build (a maintained
 *		build's delta copies and keys), dropped before the build ends, whose
 *		rows no crash needs to keep; returns its OID.  A temporary table
 *		where the server refuses restricted code a type in the temporary
 *		schema (temp_types_refused): no WAL, no init fork to write and sync
 *		as an unlogged table has (its TOAST table's and index's too), local
 *		buffers, nothing for the commit that drops it to look for in the
 *		shared buffers, and a schema no other session can make a name in.
 *		With fsync on and 1 GB of shared buffers, three unlogged work
 *		tables made and dropped cost 12 to 20 ms a build, three temporary
 *		ones 3 ms.  Made by the extension owner, it needs no TEMP privilege
 *		of the model owner, which may use what it owns in the session's
 *		own temporary schema.  Elsewhere, an unlogged table in the build
 *		schema.
 */
Oid
SqlCreateWorkTable(const char *name, const char *columns, Oid owner)
{
	if (temp_types_refused())
		return create_owned_table("pg_temp", name, columns, owner, RELPERSISTENCE_TEMP);
	return create_owned_table(MEDALLION_BUILD_SCHEMA, name, columns, owner, RELPERSISTENCE_UNLOGGED);
}

/*
 * SqlLiveColumns
 *		The columns of desc that are not dropped, as ModelColumns (name,
 *		type, typmod, collation), palloc'd in the current context.
 */
List *
SqlLiveColumns(TupleDesc desc)
{
	List	   *columns = NIL;

	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		ModelColumn *col;

		if (att->attisdropped)
			continue;
		col = palloc0(sizeof(ModelColumn));
		col->name = pstrdup(NameStr(att->attname));
		col->type = att->atttypid;
		col->typmod = att->atttypmod;
		col->collation = att->attcollation;
		columns = lappend(columns, col);
	}
	return columns;
}

/* The column list of a CREATE TABLE for columns (ModelColumn *). */
char *
SqlColumnDefinitions(List *columns)
{
	StringInfoData sql;
	ListCell   *lc;

	initStringInfo(&sql);
	foreach(lc, columns)
	{
		ModelColumn *col = lfirst(lc);

		appendStringInfo(&sql, "%s%s %s", foreach_current_index(lc) > 0 ? ", " : "",
						 quote_identifier(col->name),
						 format_type_with_typemod(col->type, col->typmod));
		if (OidIsValid(col->collation) && col->collation != get_typcollation(col->type))
			appendStringInfo(&sql, " COLLATE %s", generate_collation_name(col->collation));
	}
	return sql.data;
}
