/*-------------------------------------------------------------------------
 *
 * catalog.c
 *	  Reading and writing medallion's catalog tables (schema "medallion").
 *
 * All catalog access goes through SPI with parameters, as the extension
 * owner (members of medallion_admin can read the catalog but not write it
 * directly) and with search_path pinned to pg_catalog, so that nothing a
 * user put on the search_path can capture an operator or function.
 * CatalogEnter/CatalogLeave bracket that; an error in between is cleaned up
 * by transaction abort, which restores the user id and GUC nest level.
 *
 * Results are copied into the caller's memory context before SPI_finish.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/indexing.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "storage/lock.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "catalog.h"
#include "materialize.h"

static char *spi_text(HeapTuple tuple, TupleDesc desc, int col);
static void spi_check(int ret, int expected, const char *what);

/*
 * CatalogExtensionOwner
 *		Returns the role that owns the medallion extension.
 */
Oid
CatalogExtensionOwner(void)
{
	Oid			extoid = get_extension_oid("medallion", false);
	Relation	rel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tuple;
	Oid			owner;

	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_extension_oid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(extoid));
	scan = systable_beginscan(rel, ExtensionOidIndexId, true, NULL, 1, &key);
	tuple = systable_getnext(scan);
	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "could not find extension medallion (oid %u)", extoid);
	owner = ((Form_pg_extension) GETSTRUCT(tuple))->extowner;
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return owner;
}

/*
 * CatalogEnter
 *		Become the extension owner with a safe search_path, and connect SPI.
 *		Must be paired with CatalogLeave.
 */
void
CatalogEnter(CatalogSession *session)
{
	GetUserIdAndSecContext(&session->save_userid, &session->save_sec_context);
	SetUserIdAndSecContext(CatalogExtensionOwner(),
						   session->save_sec_context | SECURITY_LOCAL_USERID_CHANGE);
	session->save_nestlevel = NewGUCNestLevel();
	(void) set_config_option("search_path", "pg_catalog, pg_temp",
							 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
							 true, 0, false);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
}

/*
 * CatalogLeave
 *		Undo CatalogEnter.
 */
void
CatalogLeave(CatalogSession *session)
{
	if (SPI_finish() != SPI_OK_FINISH)
		elog(ERROR, "SPI_finish failed");
	AtEOXact_GUC(true, session->save_nestlevel);
	SetUserIdAndSecContext(session->save_userid, session->save_sec_context);
}

/*
 * CatalogRequireAdmin
 *		Raise an error unless the current user has the privileges of
 *		medallion_admin (superusers always do).
 */
void
CatalogRequireAdmin(const char *action)
{
	Oid			admin = get_role_oid("medallion_admin", true);

	if (superuser())
		return;
	if (!OidIsValid(admin) || !has_privs_of_role(GetUserId(), admin))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to %s", action),
				 errdetail("Only members of role \"medallion_admin\" can %s.", action),
				 errhint("GRANT medallion_admin TO %s;",
						 quote_identifier(GetUserNameFromId(GetUserId(), false)))));
}

/* Check an SPI return code; every code other than the expected one is a bug. */
static void
spi_check(int ret, int expected, const char *what)
{
	if (ret != expected)
		elog(ERROR, "SPI failed while %s: %s", what, SPI_result_code_string(ret));
}

/* Column col (1-based) of an SPI result as a palloc'd string, or NULL. */
static char *
spi_text(HeapTuple tuple, TupleDesc desc, int col)
{
	return SPI_getvalue(tuple, desc, col);
}

/*
 * TextArrayToList
 *		Returns a List of palloc'd C strings for a text[] datum (NULL
 *		elements are skipped).
 */
List *
TextArrayToList(Datum array)
{
	ArrayType  *arr = DatumGetArrayTypeP(array);
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	List	   *result = NIL;

	deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	for (int i = 0; i < n; i++)
	{
		if (!nulls[i])
			result = lappend(result, TextDatumGetCString(elems[i]));
	}
	return result;
}

/*
 * ListToTextArray
 *		Returns a text[] datum holding the C strings of a List.
 */
Datum
ListToTextArray(List *strings)
{
	Datum	   *elems = palloc(sizeof(Datum) * (list_length(strings) + 1));
	int			i = 0;
	ListCell   *lc;

	foreach(lc, strings)
		elems[i++] = CStringGetTextDatum((char *) lfirst(lc));
	return PointerGetDatum(construct_array(elems, i, TEXTOID, -1, false, TYPALIGN_INT));
}

/* Value of a text[] column as a List, in the caller's memory context. */
static List *
spi_text_list(HeapTuple tuple, TupleDesc desc, int col)
{
	bool		isnull;
	Datum		d = SPI_getbinval(tuple, desc, col, &isnull);

	return isnull ? NIL : TextArrayToList(d);
}

static LayerDef *
layer_from_tuple(HeapTuple tuple, TupleDesc desc)
{
	LayerDef   *layer = palloc0(sizeof(LayerDef));

	layer->name = spi_text(tuple, desc, 1);
	layer->schema = spi_text(tuple, desc, 2);
	layer->ordinal = atoi(spi_text(tuple, desc, 3));
	layer->default_materialization = spi_text(tuple, desc, 4);
	layer->reader_role = spi_text(tuple, desc, 5);
	return layer;
}

#define LAYER_COLUMNS \
	"name, schema_name::text, ordinal, default_materialization, reader_role::text"

/*
 * CatalogListLayers
 *		Returns all layers (List of LayerDef *) by ordinal, allocated in the
 *		caller's memory context.
 */
List *
CatalogListLayers(void)
{
	MemoryContext callercxt = CurrentMemoryContext;
	CatalogSession session;
	List	   *result = NIL;
	int			ret;

	CatalogEnter(&session);
	ret = SPI_execute("SELECT " LAYER_COLUMNS " FROM medallion.layers ORDER BY ordinal",
					  false, 0);
	spi_check(ret, SPI_OK_SELECT, "reading layers");
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		MemoryContext spicxt = MemoryContextSwitchTo(callercxt);

		result = lappend(result, layer_from_tuple(SPI_tuptable->vals[i],
												  SPI_tuptable->tupdesc));
		MemoryContextSwitchTo(spicxt);
	}
	CatalogLeave(&session);
	return result;
}

/*
 * CatalogGetLayer
 *		Returns the named layer, or NULL (missing_ok) / an error if there is
 *		none.  The error lists the layers that exist.
 */
LayerDef *
CatalogGetLayer(const char *name, bool missing_ok)
{
	List	   *layers = CatalogListLayers();
	ListCell   *lc;
	StringInfoData names;

	initStringInfo(&names);
	foreach(lc, layers)
	{
		LayerDef   *layer = lfirst(lc);

		if (strcmp(layer->name, name) == 0)
			return layer;
		appendStringInfo(&names, "%s%s", names.len > 0 ? ", " : "", layer->name);
	}
	if (missing_ok)
		return NULL;
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_OBJECT),
			 errmsg("layer \"%s\" does not exist", name),
			 errhint("Layers are: %s.", names.data)));
	return NULL;				/* keep compiler quiet */
}

#define MODEL_COLUMNS \
	"m.name, m.layer, l.schema_name::text, l.ordinal, m.materialized, m.sql, " \
	"m.owner::text, m.search_path, m.unique_key, m.indexes, m.tags, " \
	"m.description, m.column_descriptions::text, m.on_schema_change, " \
	"m.statement_timeout::text, m.enabled, m.version, m.sql_hash, " \
	"coalesce(a.version, -1), m.strategy, m.watermark, m.lookback::text, " \
	"m.full_refresh_threshold::text, m.snapshot_strategy, m.updated_at_column, " \
	"m.check_columns, m.hard_deletes " \
	"FROM medallion.models m JOIN medallion.layers l ON l.name = m.layer " \
	"LEFT JOIN medallion.analysis a ON a.model = m.name "

static ModelDef *
model_from_tuple(HeapTuple tuple, TupleDesc desc)
{
	ModelDef   *model = palloc0(sizeof(ModelDef));
	bool		isnull;

	model->name = spi_text(tuple, desc, 1);
	model->layer = spi_text(tuple, desc, 2);
	model->schema = spi_text(tuple, desc, 3);
	model->layer_ordinal = atoi(spi_text(tuple, desc, 4));
	model->materialized = spi_text(tuple, desc, 5);
	model->kind = MaterializeParse(model->materialized);
	model->ops = MaterializeOpsOf(model->kind);
	model->sql = spi_text(tuple, desc, 6);
	model->owner = spi_text(tuple, desc, 7);
	model->search_path = spi_text(tuple, desc, 8);
	model->unique_key = spi_text_list(tuple, desc, 9);
	model->indexes = spi_text_list(tuple, desc, 10);
	model->tags = spi_text_list(tuple, desc, 11);
	model->description = spi_text(tuple, desc, 12);
	model->column_descriptions = spi_text(tuple, desc, 13);
	model->on_schema_change = spi_text(tuple, desc, 14);
	model->statement_timeout = spi_text(tuple, desc, 15);
	model->enabled = DatumGetBool(SPI_getbinval(tuple, desc, 16, &isnull));
	model->version = DatumGetInt32(SPI_getbinval(tuple, desc, 17, &isnull));
	model->sql_hash = spi_text(tuple, desc, 18);
	model->analyzed_version = DatumGetInt32(SPI_getbinval(tuple, desc, 19, &isnull));
	model->strategy = spi_text(tuple, desc, 20);
	model->watermark = spi_text(tuple, desc, 21);
	model->lookback = spi_text(tuple, desc, 22);
	model->full_refresh_threshold = spi_text(tuple, desc, 23);
	model->snapshot_strategy = spi_text(tuple, desc, 24);
	model->updated_at = spi_text(tuple, desc, 25);
	model->check_columns = spi_text_list(tuple, desc, 26);
	model->hard_deletes = spi_text(tuple, desc, 27);
	return model;
}

/* Run a model query (with an optional name parameter) and collect rows. */
static List *
fetch_models(const char *where, const char *name)
{
	MemoryContext callercxt = CurrentMemoryContext;
	CatalogSession session;
	List	   *result = NIL;
	char	   *query;
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1];
	int			ret;

	CatalogEnter(&session);
	query = psprintf("SELECT " MODEL_COLUMNS "%s ORDER BY l.ordinal, m.name", where);
	if (name != NULL)
	{
		values[0] = CStringGetTextDatum(name);
		ret = SPI_execute_with_args(query, 1, argtypes, values, NULL, false, 0);
	}
	else
		ret = SPI_execute(query, false, 0);
	spi_check(ret, SPI_OK_SELECT, "reading models");
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		MemoryContext spicxt = MemoryContextSwitchTo(callercxt);

		result = lappend(result, model_from_tuple(SPI_tuptable->vals[i],
												  SPI_tuptable->tupdesc));
		MemoryContextSwitchTo(spicxt);
	}
	CatalogLeave(&session);
	return result;
}

/*
 * CatalogListModels
 *		Returns every model (List of ModelDef *), by layer ordinal and name.
 */
List *
CatalogListModels(void)
{
	return fetch_models("", NULL);
}

/*
 * CatalogGetModel
 *		Returns the named model, or NULL (missing_ok) / an error.
 */
ModelDef *
CatalogGetModel(const char *name, bool missing_ok)
{
	List	   *models = fetch_models("WHERE m.name = $1", name);

	if (models != NIL)
		return linitial(models);
	if (!missing_ok)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("model \"%s\" does not exist", name),
				 errhint("Models are listed in medallion.models.")));
	return NULL;
}

/*
 * CatalogListSources
 *		Returns every source (List of SourceDef *).
 */
List *
CatalogListSources(void)
{
	MemoryContext callercxt = CurrentMemoryContext;
	CatalogSession session;
	List	   *result = NIL;
	int			ret;

	CatalogEnter(&session);
	ret = SPI_execute("SELECT name, kind, local_schema::text, tables, "
					  "coalesce((options->>'retries')::int, 0)::text, "
					  "coalesce(options->>'retry_delay', '1s'), "
					  "coalesce((options->>'batch_size')::int, 0)::text "
					  "FROM medallion.sources ORDER BY name", false, 0);
	spi_check(ret, SPI_OK_SELECT, "reading sources");
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tuple = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		MemoryContext spicxt = MemoryContextSwitchTo(callercxt);
		SourceDef  *source = palloc0(sizeof(SourceDef));

		source->name = spi_text(tuple, desc, 1);
		source->kind = spi_text(tuple, desc, 2);
		source->local_schema = spi_text(tuple, desc, 3);
		source->tables = spi_text_list(tuple, desc, 4);
		source->retries = atoi(spi_text(tuple, desc, 5));
		source->retry_delay = spi_text(tuple, desc, 6);
		source->batch_size = atoi(spi_text(tuple, desc, 7));
		result = lappend(result, source);
		MemoryContextSwitchTo(spicxt);
	}
	CatalogLeave(&session);
	return result;
}

/*
 * CatalogListDependencies
 *		Returns the dependency rows of one model, or of all models when model
 *		is NULL (List of DependencyRow *, ordered by model then relation).
 */
List *
CatalogListDependencies(const char *model)
{
	MemoryContext callercxt = CurrentMemoryContext;
	CatalogSession session;
	List	   *result = NIL;
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1];
	int			ret;
	const char *query =
		"SELECT model, dep_schema::text, dep_name::text, kind, via "
		"FROM medallion.model_dependencies %s "
		"ORDER BY model, dep_schema, dep_name, via";

	CatalogEnter(&session);
	if (model != NULL)
	{
		values[0] = CStringGetTextDatum(model);
		ret = SPI_execute_with_args(psprintf(query, "WHERE model = $1"),
									1, argtypes, values, NULL, false, 0);
	}
	else
		ret = SPI_execute(psprintf(query, ""), false, 0);
	spi_check(ret, SPI_OK_SELECT, "reading model dependencies");
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tuple = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		MemoryContext spicxt = MemoryContextSwitchTo(callercxt);
		DependencyRow *dep = palloc0(sizeof(DependencyRow));

		dep->model = spi_text(tuple, desc, 1);
		dep->schema = spi_text(tuple, desc, 2);
		dep->name = spi_text(tuple, desc, 3);
		dep->kind = spi_text(tuple, desc, 4);
		dep->via = spi_text(tuple, desc, 5);
		result = lappend(result, dep);
		MemoryContextSwitchTo(spicxt);
	}
	CatalogLeave(&session);
	return result;
}

/* A nullable text parameter. */
static void
set_text_arg(Datum *values, char *nulls, int i, const char *value)
{
	values[i] = value ? CStringGetTextDatum(value) : (Datum) 0;
	nulls[i] = value ? ' ' : 'n';
}

/*
 * CatalogUpsertModel
 *		Insert a new model row, or update the definition of an existing one
 *		(the caller has already decided the version number).
 */
void
CatalogUpsertModel(ModelDef *model, bool is_new)
{
	CatalogSession session;
	Oid			argtypes[24];
	Datum		values[24];
	char		nulls[24];
	int			ret;

	for (int i = 0; i < 24; i++)
		argtypes[i] = TEXTOID;
	argtypes[6] = argtypes[7] = argtypes[8] = argtypes[22] = TEXTARRAYOID;
	argtypes[13] = BOOLOID;
	argtypes[14] = INT4OID;
	memset(nulls, ' ', sizeof(nulls));
	set_text_arg(values, nulls, 0, model->name);
	set_text_arg(values, nulls, 1, model->layer);
	set_text_arg(values, nulls, 2, model->materialized);
	set_text_arg(values, nulls, 3, model->sql);
	set_text_arg(values, nulls, 4, model->owner);
	set_text_arg(values, nulls, 5, model->search_path);
	values[6] = ListToTextArray(model->unique_key);
	if (model->unique_key == NIL)
		nulls[6] = 'n';
	values[7] = ListToTextArray(model->indexes);
	values[8] = ListToTextArray(model->tags);
	set_text_arg(values, nulls, 9, model->description);
	set_text_arg(values, nulls, 10, model->column_descriptions);
	set_text_arg(values, nulls, 11, model->on_schema_change);
	set_text_arg(values, nulls, 12, model->statement_timeout);
	values[13] = BoolGetDatum(model->enabled);
	values[14] = Int32GetDatum(model->version);
	set_text_arg(values, nulls, 15, model->sql_hash);
	set_text_arg(values, nulls, 16, model->strategy);
	set_text_arg(values, nulls, 17, model->watermark);
	set_text_arg(values, nulls, 18, model->lookback);
	set_text_arg(values, nulls, 19, model->full_refresh_threshold);
	set_text_arg(values, nulls, 20, model->snapshot_strategy);
	set_text_arg(values, nulls, 21, model->updated_at);
	values[22] = ListToTextArray(model->check_columns);
	if (model->check_columns == NIL)
		nulls[22] = 'n';
	set_text_arg(values, nulls, 23, model->hard_deletes);

	CatalogEnter(&session);
	if (is_new)
		ret = SPI_execute_with_args(
									"INSERT INTO medallion.models (name, layer, materialized, sql, owner, "
									"search_path, unique_key, indexes, tags, description, "
									"column_descriptions, on_schema_change, statement_timeout, enabled, "
									"version, sql_hash, strategy, watermark, lookback, "
									"full_refresh_threshold, snapshot_strategy, updated_at_column, check_columns, "
									"hard_deletes) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, "
									"$11::jsonb, $12, $13::interval, $14, $15, $16, $17, $18, "
									"$19::interval, $20::real, $21, $22, $23, $24)",
									24, argtypes, values, nulls, false, 0);
	else
		ret = SPI_execute_with_args(
									"UPDATE medallion.models SET layer = $2, materialized = $3, sql = $4, "
									"owner = $5, search_path = $6, unique_key = $7, indexes = $8, "
									"tags = $9, description = $10, column_descriptions = $11::jsonb, "
									"on_schema_change = $12, statement_timeout = $13::interval, "
									"enabled = $14, version = $15, sql_hash = $16, strategy = $17, "
									"watermark = $18, lookback = $19::interval, "
									"full_refresh_threshold = $20::real, snapshot_strategy = $21, "
									"updated_at_column = $22, check_columns = $23, hard_deletes = $24, "
									"updated_at = pg_catalog.now() WHERE name = $1",
									24, argtypes, values, nulls, false, 0);
	spi_check(ret, is_new ? SPI_OK_INSERT : SPI_OK_UPDATE, "writing a model");
	if (SPI_processed != 1)
		elog(ERROR, "model \"%s\" was not written", model->name);
	CatalogLeave(&session);
}

/*
 * CatalogReferencingTests
 *		The relationships tests of other models that reference model, as a
 *		List of char *[2]: the model tested and the test's name.
 */
List *
CatalogReferencingTests(const char *model)
{
	MemoryContext callercxt = CurrentMemoryContext;
	CatalogSession session;
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(model)};
	List	   *result = NIL;
	int			ret;

	CatalogEnter(&session);
	ret = SPI_execute_with_args("SELECT model, name FROM medallion.tests "
								"WHERE to_model OPERATOR(pg_catalog.=) $1 "
								"AND model OPERATOR(pg_catalog.<>) $1 ORDER BY 1, 2",
								1, argtypes, values, NULL, false, 0);
	spi_check(ret, SPI_OK_SELECT, "reading tests");
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		MemoryContext spicxt = MemoryContextSwitchTo(callercxt);
		char	  **pair = palloc(sizeof(char *) * 2);

		pair[0] = spi_text(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
		pair[1] = spi_text(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2);
		result = lappend(result, pair);
		MemoryContextSwitchTo(spicxt);
	}
	CatalogLeave(&session);
	return result;
}

/*
 * CatalogDeleteModel
 *		Delete a model row; its derived rows and tests go with it (ON DELETE
 *		CASCADE), and so do other models' relationships tests referencing it.
 */
void
CatalogDeleteModel(const char *name)
{
	CatalogSession session;
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(name)};
	int			ret;

	CatalogEnter(&session);
	ret = SPI_execute_with_args("DELETE FROM medallion.tests WHERE to_model = $1 AND model <> $1",
								1, argtypes, values, NULL, false, 0);
	spi_check(ret, SPI_OK_DELETE, "deleting tests");
	if (SPI_processed > 0)
		ereport(NOTICE,
				(errmsg("dropped %llu relationships test%s referencing model \"%s\"",
						(unsigned long long) SPI_processed, SPI_processed == 1 ? "" : "s", name)));
	ret = SPI_execute_with_args("DELETE FROM medallion.models WHERE name = $1",
								1, argtypes, values, NULL, false, 0);
	spi_check(ret, SPI_OK_DELETE, "deleting a model");
	CatalogLeave(&session);
}

/*
 * CatalogReplaceDerived
 *		Replace a model's dependency and column lineage rows with the given
 *		ones (Lists of DependencyRow * and LineageRow *) and record the model
 *		version they were derived from.
 */
void
CatalogReplaceDerived(const char *model, int version, List *dependencies,
					  List *lineage)
{
	CatalogSession session;
	Oid			argtypes[7] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID,
	TEXTOID, TEXTOID};
	Datum		values[7];
	Oid			ver_types[2] = {TEXTOID, INT4OID};
	Datum		ver_values[2];
	SPIPlanPtr	plan;
	ListCell   *lc;
	int			ret;

	CatalogEnter(&session);
	values[0] = CStringGetTextDatum(model);
	ret = SPI_execute_with_args("DELETE FROM medallion.model_dependencies WHERE model = $1",
								1, argtypes, values, NULL, false, 0);
	spi_check(ret, SPI_OK_DELETE, "replacing dependencies");
	ret = SPI_execute_with_args("DELETE FROM medallion.column_lineage WHERE model = $1",
								1, argtypes, values, NULL, false, 0);
	spi_check(ret, SPI_OK_DELETE, "replacing column lineage");

	plan = SPI_prepare("INSERT INTO medallion.model_dependencies "
					   "(model, dep_schema, dep_name, kind, via) VALUES ($1, $2, $3, $4, $5)",
					   5, argtypes);
	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
	foreach(lc, dependencies)
	{
		DependencyRow *dep = lfirst(lc);

		values[1] = CStringGetTextDatum(dep->schema);
		values[2] = CStringGetTextDatum(dep->name);
		values[3] = CStringGetTextDatum(dep->kind);
		values[4] = CStringGetTextDatum(dep->via);
		spi_check(SPI_execute_plan(plan, values, NULL, false, 0), SPI_OK_INSERT,
				  "writing a dependency");
	}

	argtypes[2] = INT4OID;
	plan = SPI_prepare("INSERT INTO medallion.column_lineage (model, column_name, "
					   "column_ordinal, src_schema, src_relation, src_column, kind) "
					   "VALUES ($1, $2, $3, $4, $5, $6, $7)", 7, argtypes);
	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
	foreach(lc, lineage)
	{
		LineageRow *row = lfirst(lc);

		values[1] = CStringGetTextDatum(row->column);
		values[2] = Int32GetDatum(row->ordinal);
		values[3] = CStringGetTextDatum(row->src_schema);
		values[4] = CStringGetTextDatum(row->src_relation);
		values[5] = CStringGetTextDatum(row->src_column);
		values[6] = CStringGetTextDatum(row->kind);
		spi_check(SPI_execute_plan(plan, values, NULL, false, 0), SPI_OK_INSERT,
				  "writing column lineage");
	}

	ver_values[0] = CStringGetTextDatum(model);
	ver_values[1] = Int32GetDatum(version);
	ret = SPI_execute_with_args("INSERT INTO medallion.analysis (model, version) "
								"VALUES ($1, $2) ON CONFLICT (model) DO UPDATE "
								"SET version = EXCLUDED.version, analyzed_at = pg_catalog.now()",
								2, ver_types, ver_values, NULL, false, 0);
	spi_check(ret, SPI_OK_INSERT, "recording the analysis");
	CatalogLeave(&session);
}

/*
 * CatalogLockDefinitions
 *		Serialize changes to model definitions until the end of the
 *		transaction.  Definitions change rarely; one lock keeps the cycle
 *		check and the version numbers right when two sessions redefine
 *		models at once.  It is an advisory lock (key 'medallion', 1) so that
 *		readers of the catalog are never blocked.
 */
void
CatalogLockDefinitions(void)
{
	LOCKTAG		tag;

	SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, MEDALLION_LOCK_KEY, 1, 2);
	(void) LockAcquire(&tag, ExclusiveLock, false, false);
}

/*
 * CatalogGetState
 *		The stored high-water mark of an incremental model: returns false
 *		when there is none (never built), else sets *watermark and
 *		*max_seen (either may be NULL), allocated in the caller's context.
 */
bool
CatalogGetState(const char *model, char **watermark, char **max_seen)
{
	MemoryContext callercxt = CurrentMemoryContext;
	CatalogSession session;
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(model)};
	bool		found;
	int			ret;

	CatalogEnter(&session);
	ret = SPI_execute_with_args("SELECT watermark, max_seen FROM medallion.model_state WHERE model = $1",
								1, argtypes, values, NULL, false, 0);
	spi_check(ret, SPI_OK_SELECT, "reading model state");
	found = SPI_processed == 1;
	if (found)
	{
		MemoryContext spicxt = MemoryContextSwitchTo(callercxt);

		*watermark = spi_text(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
		*max_seen = spi_text(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
		MemoryContextSwitchTo(spicxt);
	}
	CatalogLeave(&session);
	return found;
}

/*
 * CatalogSetState
 *		Store an incremental model's high-water mark, in the current
 *		transaction (so it commits with the data it describes).
 */
void
CatalogSetState(const char *model, const char *watermark, const char *max_seen, int64 run_id)
{
	CatalogSession session;
	Oid			argtypes[4] = {TEXTOID, TEXTOID, TEXTOID, INT8OID};
	Datum		values[4];
	char		nulls[4] = {' ', ' ', ' ', ' '};
	int			ret;

	set_text_arg(values, nulls, 0, model);
	set_text_arg(values, nulls, 1, watermark);
	set_text_arg(values, nulls, 2, max_seen);
	values[3] = Int64GetDatum(run_id);
	CatalogEnter(&session);
	ret = SPI_execute_with_args("INSERT INTO medallion.model_state (model, watermark, max_seen, run_id) "
								"VALUES ($1, $2, $3, $4) ON CONFLICT (model) DO UPDATE SET "
								"watermark = EXCLUDED.watermark, max_seen = EXCLUDED.max_seen, "
								"run_id = EXCLUDED.run_id, updated_at = pg_catalog.now()",
								4, argtypes, values, nulls, false, 0);
	spi_check(ret, SPI_OK_INSERT, "writing model state");
	CatalogLeave(&session);
}

/*
 * CatalogGetExtract
 *		The staged extraction of a model, if any: its staging table, the
 *		watermark and key of its last row (NULL before the first batch).
 */
bool
CatalogGetExtract(const char *model, Oid *stage, char **mark, char **last_key, int64 *rows,
				  int *version)
{
	MemoryContext callercxt = CurrentMemoryContext;
	CatalogSession session;
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(model)};
	bool		found;
	int			ret;

	CatalogEnter(&session);
	ret = SPI_execute_with_args("SELECT stage::text, mark, last_key, rows::text, version::text "
								"FROM medallion.extract_state "
								"WHERE model = $1", 1, argtypes, values, NULL, false, 0);
	spi_check(ret, SPI_OK_SELECT, "reading extraction state");
	found = SPI_processed == 1;
	if (found)
	{
		MemoryContext spicxt = MemoryContextSwitchTo(callercxt);
		HeapTuple	tuple = SPI_tuptable->vals[0];
		TupleDesc	desc = SPI_tuptable->tupdesc;

		*stage = (Oid) strtoul(spi_text(tuple, desc, 1), NULL, 10);
		*mark = spi_text(tuple, desc, 2);
		*last_key = spi_text(tuple, desc, 3);
		*rows = strtoll(spi_text(tuple, desc, 4), NULL, 10);
		*version = atoi(spi_text(tuple, desc, 5));
		MemoryContextSwitchTo(spicxt);
	}
	CatalogLeave(&session);
	return found;
}

/*
 * CatalogSetExtract
 *		Record a committed batch (added rows) of a staged extraction, or its
 *		start (added 0), in the current transaction.
 */
void
CatalogSetExtract(const char *model, Oid stage, const char *mark, const char *last_key, int64 added,
				  int version)
{
	CatalogSession session;
	Oid			argtypes[6] = {TEXTOID, OIDOID, TEXTOID, TEXTOID, INT8OID, INT4OID};
	Datum		values[6];
	char		nulls[6] = {' ', ' ', ' ', ' ', ' ', ' '};
	int			ret;

	set_text_arg(values, nulls, 0, model);
	values[1] = ObjectIdGetDatum(stage);
	set_text_arg(values, nulls, 2, mark);
	set_text_arg(values, nulls, 3, last_key);
	values[4] = Int64GetDatum(added);
	values[5] = Int32GetDatum(version);
	CatalogEnter(&session);
	ret = SPI_execute_with_args("INSERT INTO medallion.extract_state AS e (model, stage, mark, last_key, rows, version) "
								"VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (model) DO UPDATE SET "
								"stage = EXCLUDED.stage, mark = EXCLUDED.mark, last_key = EXCLUDED.last_key, "
								"rows = e.rows + EXCLUDED.rows, batches = e.batches + 1, "
								"version = EXCLUDED.version, updated_at = pg_catalog.clock_timestamp()",
								6, argtypes, values, nulls, false, 0);
	spi_check(ret, SPI_OK_INSERT, "writing extraction state");
	CatalogLeave(&session);
}

/* Forget a model's staged extraction (it was applied, or starts over). */
void
CatalogClearExtract(const char *model)
{
	CatalogSession session;
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(model)};
	int			ret;

	CatalogEnter(&session);
	ret = SPI_execute_with_args("DELETE FROM medallion.extract_state WHERE model = $1",
								1, argtypes, values, NULL, false, 0);
	spi_check(ret, SPI_OK_DELETE, "clearing extraction state");
	CatalogLeave(&session);
}

/*
 * CatalogOldestTransactionStart
 *		The start of the oldest transaction in progress in another session
 *		of this database, as timestamptz text, or NULL.  Read as the
 *		extension owner, who sees every session's xact_start.
 */
char *
CatalogOldestTransactionStart(void)
{
	MemoryContext callercxt = CurrentMemoryContext;
	CatalogSession session;
	char	   *result = NULL;
	int			ret;

	CatalogEnter(&session);
	ret = SPI_execute("SELECT min(xact_start)::text FROM pg_catalog.pg_stat_activity "
					  "WHERE xact_start IS NOT NULL AND pid <> pg_catalog.pg_backend_pid() "
					  "AND datid = (SELECT oid FROM pg_catalog.pg_database "
					  "             WHERE datname = pg_catalog.current_database()) "
					  "AND backend_type = 'client backend'", false, 0);
	spi_check(ret, SPI_OK_SELECT, "reading transactions in progress");
	if (SPI_processed == 1)
	{
		char	   *value = spi_text(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);

		if (value != NULL)
			result = MemoryContextStrdup(callercxt, value);
	}
	CatalogLeave(&session);
	return result;
}

/*
 * CatalogInvalidateDownstream
 *		Forget the analysis of the models that read model, so that they are
 *		analyzed again on next use (an ephemeral model they inline changed).
 */
void
CatalogInvalidateDownstream(const char *model)
{
	CatalogSession session;
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(model)};
	int			ret;

	CatalogEnter(&session);
	ret = SPI_execute_with_args("DELETE FROM medallion.analysis WHERE model IN "
								"(SELECT model FROM medallion.model_dependencies "
								" WHERE dep_name = $1 AND kind = 'model')",
								1, argtypes, values, NULL, false, 0);
	spi_check(ret, SPI_OK_DELETE, "invalidating analyses");
	CatalogLeave(&session);
}

/*
 * CatalogListTests
 *		Returns the tests of a model (List of TestDef *), by name.
 */
List *
CatalogListTests(const char *model)
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

/*
 * CatalogNextRunId
 *		A new run number.
 */
int64
CatalogNextRunId(void)
{
	CatalogSession session;
	int64		id;
	bool		isnull;

	CatalogEnter(&session);
	if (SPI_execute("SELECT pg_catalog.nextval('medallion.runs_run_id_seq')", false, 1) != SPI_OK_SELECT ||
		SPI_processed != 1)
		elog(ERROR, "could not get a run number");
	id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	CatalogLeave(&session);
	return id;
}
