/*-------------------------------------------------------------------------
 *
 * build.c
 *	  Materializations: the relations models are published as.
 *
 * When a model is defined its published relation is created at once in the
 * layer's schema, so BI tools see the schema before the first run: a view
 * (CREATE OR REPLACE VIEW with the deparsed analyzed query) or an empty
 * table with the query's columns.  The caller runs this as the model owner,
 * so the relation belongs to the owner.
 *
 * DDL is run through SPI with every name quoted.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "commands/comment.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/ruleutils.h"

#include "build.h"

/*
 * BuildPublishedRelid
 *		Returns the OID of the model's published relation, or InvalidOid.
 */
Oid
BuildPublishedRelid(ModelDef *model)
{
	Oid			nsp = get_namespace_oid(model->schema, true);

	if (!OidIsValid(nsp))
		return InvalidOid;
	return get_relname_relid(model->name, nsp);
}

static char *
qualified(ModelDef *model)
{
	return quote_qualified_identifier(model->schema, model->name);
}

/* Run one utility statement through SPI. */
static void
spi_utility(const char *sql)
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

/*
 * columns_match
 *		Do the relation's first columns have the names and types of the
 *		query's?  With prefix_ok, the query may add columns at the end (what
 *		CREATE OR REPLACE VIEW accepts).
 */
static bool
columns_match(Oid relid, List *columns, bool prefix_ok)
{
	Relation	rel = table_open(relid, AccessShareLock);
	TupleDesc	desc = RelationGetDescr(rel);
	int			natts = 0;
	bool		match = true;

	for (int i = 0; i < desc->natts && match; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		ModelColumn *col;

		if (att->attisdropped)
			continue;
		if (natts >= list_length(columns))
		{
			match = false;
			break;
		}
		col = list_nth(columns, natts++);
		match = strcmp(NameStr(att->attname), col->name) == 0 &&
			att->atttypid == col->type && att->atttypmod == col->typmod &&
			att->attcollation == col->collation;
	}
	table_close(rel, AccessShareLock);
	return match && (prefix_ok || natts == list_length(columns));
}

static void
create_view(ModelDef *model, AnalyzedModel *analyzed, bool replace)
{
	spi_utility(psprintf("CREATE %sVIEW %s AS %s", replace ? "OR REPLACE " : "",
						 qualified(model), pg_get_querydef(analyzed->query, false)));
}

static void
create_table(ModelDef *model, AnalyzedModel *analyzed)
{
	StringInfoData sql;
	ListCell   *lc;

	initStringInfo(&sql);
	appendStringInfo(&sql, "CREATE TABLE %s (", qualified(model));
	foreach(lc, analyzed->columns)
	{
		ModelColumn *col = lfirst(lc);

		appendStringInfo(&sql, "%s%s %s", foreach_current_index(lc) > 0 ? ", " : "",
						 quote_identifier(col->name),
						 format_type_with_typemod(col->type, col->typmod));
		if (OidIsValid(col->collation) && col->collation != get_typcollation(col->type))
			appendStringInfo(&sql, " COLLATE %s", generate_collation_name(col->collation));
	}
	appendStringInfoChar(&sql, ')');
	spi_utility(sql.data);
}

/* Is the table empty?  (Then it was never built and may be recreated.) */
static bool
table_is_empty(ModelDef *model)
{
	bool		empty;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute(psprintf("SELECT 1 FROM %s LIMIT 1", qualified(model)), true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read %s", qualified(model));
	empty = SPI_processed == 0;
	SPI_finish();
	return empty;
}

static void
drop_relation(ModelDef *model, Oid relid)
{
	spi_utility(psprintf("DROP %s %s",
						 get_rel_relkind(relid) == RELKIND_VIEW ? "VIEW" : "TABLE",
						 qualified(model)));
}

/* Comments from the model's description and column descriptions. */
static void
set_comments(ModelDef *model, Oid relid)
{
	int			ret;
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1];

	if (model->description != NULL)
		CreateComments(relid, RelationRelationId, 0, model->description);
	if (model->column_descriptions == NULL)
		return;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	values[0] = CStringGetTextDatum(model->column_descriptions);
	ret = SPI_execute_with_args("SELECT key, value FROM pg_catalog.jsonb_each_text($1::pg_catalog.jsonb)",
								1, argtypes, values, NULL, true, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not read column descriptions: %s", SPI_result_code_string(ret));
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		char	   *column = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
		char	   *text = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2);
		AttrNumber	attno = get_attnum(relid, column);

		if (attno != InvalidAttrNumber)
			CreateComments(relid, RelationRelationId, attno, text);
	}
	SPI_finish();
}

/*
 * BuildDefineRelation
 *		Create or adjust the published relation of a model that is being
 *		defined (previous is its former definition, or NULL).  Runs as the
 *		current user, which the caller has made the model owner.
 *
 *		A view is replaced in place when its columns only grow, and dropped
 *		and created again otherwise (an error names any object depending on
 *		it).  A table that was never built is recreated when its columns
 *		change; a built one keeps its columns until the next run applies
 *		on_schema_change.
 */
void
BuildDefineRelation(ModelDef *model, AnalyzedModel *analyzed, LayerDef *layer,
					ModelDef *previous)
{
	int			nestlevel = AnalyzeEnterSearchPath(model->search_path);
	Oid			relid = BuildPublishedRelid(model);
	bool		is_view = strcmp(model->materialized, "view") == 0;

	if (OidIsValid(relid) &&
		(get_rel_relkind(relid) == RELKIND_VIEW) != is_view)
	{
		/* the materialization changed: the old relation goes */
		drop_relation(model, relid);
		CommandCounterIncrement();
		relid = InvalidOid;
	}

	if (is_view)
	{
		if (OidIsValid(relid) && !columns_match(relid, analyzed->columns, true))
		{
			drop_relation(model, relid);
			CommandCounterIncrement();
			relid = InvalidOid;
		}
		create_view(model, analyzed, OidIsValid(relid));
	}
	else if (!OidIsValid(relid))
		create_table(model, analyzed);
	else if (!columns_match(relid, analyzed->columns, false))
	{
		if (table_is_empty(model))
		{
			drop_relation(model, relid);
			CommandCounterIncrement();
			create_table(model, analyzed);
		}
		else
			ereport(NOTICE,
					(errmsg("the columns of %s change at its next run", qualified(model)),
					 errdetail("The table holds data; on_schema_change = %s decides what the run does.",
							   model->on_schema_change)));
	}
	CommandCounterIncrement();

	relid = BuildPublishedRelid(model);
	if (!OidIsValid(relid))
		elog(ERROR, "published relation of model \"%s\" was not created", model->name);
	if (layer->reader_role != NULL)
		spi_utility(psprintf("GRANT SELECT ON %s TO %s", qualified(model),
							 quote_identifier(layer->reader_role)));
	set_comments(model, relid);

	AnalyzeLeaveSearchPath(nestlevel);
}

/*
 * BuildDropRelation
 *		Drop the model's published relation, if it exists.  An object that
 *		is not a model and depends on it makes this fail with PostgreSQL's
 *		error naming that object.
 */
void
BuildDropRelation(ModelDef *model)
{
	Oid			relid = BuildPublishedRelid(model);

	if (OidIsValid(relid))
		drop_relation(model, relid);
}
