/*-------------------------------------------------------------------------
 *
 * catalog_tables.c
 *	  The readers and writers of medallion's catalog tables, one table at a
 *	  time: layers, models, sources, model dependencies and column
 *	  lineage, model and extraction state, runs (the tests' tables:
 *	  catalog_tests.c).  Each runs in a catalog session (catalog.c) and
 *	  copies what it read into the caller's memory context.
 *
 * A row medallion's functions never write (changed by hand) is refused
 * when it is read (CatalogInvalidRow), not when the code relying on it
 * trips.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "catalog.h"

static void check_model_row(ModelDef *model, HeapTuple tuple, TupleDesc desc);

/*
 * check_model_row
 *		What the code building a model relies on, as medallion_create_model
 *		stores it (MaterializeCheckSettings).
 */
static void
check_model_row(ModelDef *model, HeapTuple tuple, TupleDesc desc)
{
	char	   *what = psprintf("model \"%s\"", model->name);

	if (CatalogArrayHasNulls(tuple, desc, Anum_models_unique_key) ||
		CatalogArrayHasNulls(tuple, desc, Anum_models_indexes) ||
		CatalogArrayHasNulls(tuple, desc, Anum_models_tags) ||
		CatalogArrayHasNulls(tuple, desc, Anum_models_check_columns))
		CatalogInvalidRow("models", what, "Its unique_key, indexes, tags or check_columns hold a NULL.");
	if (model->kind == MAT_SNAPSHOT &&
		(model->unique_key == NIL || model->snapshot_strategy == NULL || model->hard_deletes == NULL ||
		 (strcmp(model->snapshot_strategy, "timestamp") == 0 && model->updated_at == NULL)))
		CatalogInvalidRow("models", what,
					"A snapshot model has a unique_key, a snapshot_strategy, hard_deletes, and updated_at with the timestamp strategy.");
	if (model->kind == MAT_INCREMENTAL &&
		(model->strategy == NULL || (strcmp(model->strategy, "append") != 0 && model->unique_key == NIL)))
		CatalogInvalidRow("models", what, "An incremental model has a strategy, and a unique_key unless it appends.");
}

/* A row of LAYER_COLUMNS as a LayerDef (a CatalogRowFn). */
static void *
layer_from_tuple(HeapTuple tuple, TupleDesc desc, void *arg)
{
	LayerDef   *layer = palloc0(sizeof(LayerDef));

	layer->name = CatalogText(tuple, desc, Anum_layers_name);
	layer->schema = CatalogText(tuple, desc, Anum_layers_schema);
	layer->ordinal = atoi(CatalogText(tuple, desc, Anum_layers_ordinal));
	layer->default_materialization = CatalogText(tuple, desc, Anum_layers_default_materialization);
	layer->reader_role = CatalogText(tuple, desc, Anum_layers_reader_role);
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
	return CatalogReadRows("SELECT " LAYER_COLUMNS " FROM medallion.layers ORDER BY ordinal",
						   0, NULL, NULL, "reading layers", layer_from_tuple, NULL);
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
	"m.check_columns, m.hard_deletes, %s " \
	"FROM medallion.models m JOIN medallion.layers l ON l.name = m.layer " \
	"LEFT JOIN medallion.analysis a ON a.model = m.name "

/*
 * later_model_columns
 *		The columns of medallion.models that later versions added (0.2.0's,
 *		0.3.0's), for MODEL_COLUMNS: each as it is, or NULL before ALTER
 *		EXTENSION UPDATE made it.  (Read through to_jsonb of the row, as
 *		they once were, they cost more than the rest of a small run.)
 */
static char *
later_model_columns(void)
{
	static const char *const columns[] = {"distribution", "distributed_by", "colocate_with",
	"deterministic", "contract", "maintain"};
	static const char *const casts[] = {"", "", "", "::pg_catalog.bool", "::pg_catalog.text", "::pg_catalog.text"};
	Oid			models = get_relname_relid("models", get_namespace_oid(MEDALLION_CATALOG_SCHEMA, false));
	StringInfoData list;

	initStringInfo(&list);
	for (int i = 0; i < lengthof(columns); i++)
		appendStringInfo(&list, "%s%s%s", i > 0 ? ", " : "",
						 get_attnum(models, columns[i]) != InvalidAttrNumber ?
						 psprintf("m.%s", columns[i]) : "NULL", casts[i]);
	return list.data;
}

/* A row of MODEL_COLUMNS as a ModelDef, checked (a CatalogRowFn). */
static void *
model_from_tuple(HeapTuple tuple, TupleDesc desc, void *arg)
{
	ModelDef   *model = palloc0(sizeof(ModelDef));
	bool		isnull;

	model->name = CatalogText(tuple, desc, Anum_models_name);
	model->layer = CatalogText(tuple, desc, Anum_models_layer);
	model->schema = CatalogText(tuple, desc, Anum_models_schema);
	model->layer_ordinal = atoi(CatalogText(tuple, desc, Anum_models_layer_ordinal));
	model->materialized = CatalogText(tuple, desc, Anum_models_materialized);
	model->mat = CatalogMaterialization(model->materialized);
	model->kind = model->mat->kind;
	model->sql = CatalogText(tuple, desc, Anum_models_sql);
	model->owner = CatalogText(tuple, desc, Anum_models_owner);
	model->search_path = CatalogText(tuple, desc, Anum_models_search_path);
	model->unique_key = CatalogTextList(tuple, desc, Anum_models_unique_key);
	model->indexes = CatalogTextList(tuple, desc, Anum_models_indexes);
	model->tags = CatalogTextList(tuple, desc, Anum_models_tags);
	model->description = CatalogText(tuple, desc, Anum_models_description);
	model->column_descriptions = CatalogText(tuple, desc, Anum_models_column_descriptions);
	model->on_schema_change = CatalogText(tuple, desc, Anum_models_on_schema_change);
	model->statement_timeout = CatalogText(tuple, desc, Anum_models_statement_timeout);
	model->enabled = CatalogBool(tuple, desc, Anum_models_enabled);
	model->version = DatumGetInt32(SPI_getbinval(tuple, desc, Anum_models_version, &isnull));
	model->sql_hash = CatalogText(tuple, desc, Anum_models_sql_hash);
	model->analyzed_version = DatumGetInt32(SPI_getbinval(tuple, desc, Anum_models_analyzed_version, &isnull));
	model->strategy = CatalogText(tuple, desc, Anum_models_strategy);
	model->watermark = CatalogText(tuple, desc, Anum_models_watermark);
	model->lookback = CatalogText(tuple, desc, Anum_models_lookback);
	model->full_refresh_threshold = CatalogText(tuple, desc, Anum_models_full_refresh_threshold);
	model->snapshot_strategy = CatalogText(tuple, desc, Anum_models_snapshot_strategy);
	model->updated_at = CatalogText(tuple, desc, Anum_models_updated_at);
	model->check_columns = CatalogTextList(tuple, desc, Anum_models_check_columns);
	model->hard_deletes = CatalogText(tuple, desc, Anum_models_hard_deletes);
	model->distribution = CatalogText(tuple, desc, Anum_models_distribution);
	model->distributed_by = CatalogText(tuple, desc, Anum_models_distributed_by);
	model->colocate_with = CatalogText(tuple, desc, Anum_models_colocate_with);
	model->deterministic = CatalogBool(tuple, desc, Anum_models_deterministic);
	model->contract = CatalogText(tuple, desc, Anum_models_contract);
	if (model->contract != NULL && strcmp(model->contract, "null") == 0)
		model->contract = NULL; /* a JSON null */
	{
		char	   *maintain = CatalogText(tuple, desc, Anum_models_maintain);

		model->maintain = maintain ? CatalogMaintainMode(maintain) : MAINTAIN_AUTO;
	}
	check_model_row(model, tuple, desc);
	return model;
}

/* Run a model query (with an optional name parameter) and collect rows. */
static List *
fetch_models(const char *where, const char *name)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1];

	if (name != NULL)
		values[0] = CStringGetTextDatum(name);
	return CatalogReadRows(psprintf("SELECT " MODEL_COLUMNS "%s ORDER BY l.ordinal, m.name",
									later_model_columns(), where),
						   name != NULL ? 1 : 0, argtypes, values, "reading models",
						   model_from_tuple, NULL);
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

/* A row of CatalogListSources as a SourceDef (a CatalogRowFn). */
static void *
source_from_tuple(HeapTuple tuple, TupleDesc desc, void *arg)
{
	SourceDef  *source = palloc0(sizeof(SourceDef));

	source->name = CatalogText(tuple, desc, Anum_sources_name);
	source->kind = CatalogText(tuple, desc, Anum_sources_kind);
	source->local_schema = CatalogText(tuple, desc, Anum_sources_local_schema);
	source->tables = CatalogTextList(tuple, desc, Anum_sources_tables);
	source->retries = atoi(CatalogText(tuple, desc, Anum_sources_retries));
	source->retry_delay = CatalogText(tuple, desc, Anum_sources_retry_delay);
	source->batch_size = atoi(CatalogText(tuple, desc, Anum_sources_batch_size));
	source->owner = CatalogText(tuple, desc, Anum_sources_owner);
	return source;
}

/*
 * CatalogListSources
 *		Returns every source (List of SourceDef *).
 */
List *
CatalogListSources(void)
{
	return CatalogReadRows("SELECT name, kind, local_schema::text, tables, "
						   "coalesce((options->>'retries')::int, 0)::text, "
						   "coalesce(options->>'retry_delay', '1s'), "
						   "coalesce((options->>'batch_size')::int, 0)::text, "
						   /* no owner column before 0.2.0's update: no owner */
						   "pg_catalog.to_jsonb(s) OPERATOR(pg_catalog.->>) 'owner' "
						   "FROM medallion.sources s ORDER BY name", 0, NULL, NULL,
						   "reading sources", source_from_tuple, NULL);
}

/*
 * CatalogSourceActsFor
 *		Whether a source's settings may steer what is read with a model
 *		owner's rights (its probe, extraction in batches, retries) or with
 *		its own (its freshness check): its owner has the privileges of the
 *		model owner (when model_owner is valid) and of the owner of its
 *		local schema.  False for a source without an owner.
 *
 *		Any admin registers sources, naming any schema: without this, one
 *		could point a probe of another's foreign tables at a column of
 *		theirs and read its maximum in the catalog.  The direction matters:
 *		has_privs_of_role(model_owner, source_owner) would accept a source
 *		of any group the model owner is in (medallion_admin itself, which
 *		every admin may SET ROLE to); has_privs_of_role(source_owner,
 *		model_owner) accepts only roles that could act as the model owner
 *		anyway.  Owning the schema, not CREATE on it, is asked: CREATE lets
 *		a role add objects beside others' tables, not decide what they are.
 */
bool
CatalogSourceActsFor(const char *source_owner, const char *local_schema, Oid model_owner)
{
	Oid			owner;
	Oid			nsp;
	HeapTuple	tup;
	Oid			nspowner;

	/* a catalog not yet updated from 0.1.0 has sources of no one */
	if (source_owner == NULL || local_schema == NULL)
		return false;
	owner = get_role_oid(source_owner, true);
	nsp = get_namespace_oid(local_schema, true);
	if (!OidIsValid(owner) || !OidIsValid(nsp))
		return false;
	if (OidIsValid(model_owner) && !has_privs_of_role(owner, model_owner))
		return false;
	tup = SearchSysCache1(NAMESPACEOID, ObjectIdGetDatum(nsp));
	if (!HeapTupleIsValid(tup))
		return false;
	nspowner = ((Form_pg_namespace) GETSTRUCT(tup))->nspowner;
	ReleaseSysCache(tup);
	return has_privs_of_role(owner, nspowner);
}

/*
 * CatalogListDependencies
 *		Returns the dependency rows of one model, or of all models when model
 *		is NULL (List of DependencyRow *, ordered by model then relation).
 */
/* A row of medallion.model_dependencies as a DependencyRow (a CatalogRowFn). */
static void *
dependency_from_tuple(HeapTuple tuple, TupleDesc desc, void *arg)
{
	DependencyRow *dep = palloc0(sizeof(DependencyRow));

	dep->model = CatalogText(tuple, desc, Anum_deps_model);
	dep->schema = CatalogText(tuple, desc, Anum_deps_schema);
	dep->name = CatalogText(tuple, desc, Anum_deps_name);
	dep->kind = CatalogText(tuple, desc, Anum_deps_kind);
	dep->via = CatalogText(tuple, desc, Anum_deps_via);
	return dep;
}

List *
CatalogListDependencies(const char *model)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1];
	const char *query =
		"SELECT model, dep_schema::text, dep_name::text, kind, via "
		"FROM medallion.model_dependencies %s "
		"ORDER BY model, dep_schema, dep_name, via";

	if (model != NULL)
		values[0] = CStringGetTextDatum(model);
	return CatalogReadRows(psprintf(query, model != NULL ? "WHERE model = $1" : ""),
						   model != NULL ? 1 : 0, argtypes, values,
						   "reading model dependencies", dependency_from_tuple, NULL);
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
	Oid			argtypes[30];
	Datum		values[30];
	char		nulls[30];
	bool		citus;
	bool		contract;
	int			ret;

	for (int i = 0; i < 30; i++)
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
	set_text_arg(values, nulls, 24, model->distribution);
	set_text_arg(values, nulls, 25, model->distributed_by);
	set_text_arg(values, nulls, 26, model->colocate_with);
	argtypes[27] = BOOLOID;
	values[27] = BoolGetDatum(model->deterministic);
	set_text_arg(values, nulls, 28, model->contract);
	set_text_arg(values, nulls, 29, CatalogMaintainName(model->maintain));

	CatalogEnter(&session);
	/* the 0.1.0 catalog, before ALTER EXTENSION UPDATE, has no Citus settings nor deterministic */
	citus = get_attnum(get_relname_relid("models", get_namespace_oid("medallion", false)),
					   "distribution") != InvalidAttrNumber;
	/* ... and the 0.2.0 catalog no contract */
	contract = get_attnum(get_relname_relid("models", get_namespace_oid("medallion", false)),
						  "contract") != InvalidAttrNumber;
	if (is_new)
		ret = SPI_execute_with_args(psprintf(
											 "INSERT INTO medallion.models (name, layer, materialized, sql, owner, "
											 "search_path, unique_key, indexes, tags, description, "
											 "column_descriptions, on_schema_change, statement_timeout, enabled, "
											 "version, sql_hash, strategy, watermark, lookback, "
											 "full_refresh_threshold, snapshot_strategy, updated_at_column, check_columns, "
											 "hard_deletes%s) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, "
											 "$11::jsonb, $12, $13::interval, $14, $15, $16, $17, $18, "
											 "$19::interval, $20::real, $21, $22, $23, $24%s)",
											 !citus ? "" : contract ? ", distribution, distributed_by, colocate_with, deterministic, contract, maintain" :
											 ", distribution, distributed_by, colocate_with, deterministic",
											 !citus ? "" : contract ? ", $25, $26, $27, $28, $29::jsonb, $30" : ", $25, $26, $27, $28"),
									!citus ? 24 : contract ? 30 : 28, argtypes, values, nulls, false, 0);
	else
		ret = SPI_execute_with_args(psprintf(
											 "UPDATE medallion.models SET layer = $2, materialized = $3, sql = $4, "
											 "owner = $5, search_path = $6, unique_key = $7, indexes = $8, "
											 "tags = $9, description = $10, column_descriptions = $11::jsonb, "
											 "on_schema_change = $12, statement_timeout = $13::interval, "
											 "enabled = $14, version = $15, sql_hash = $16, strategy = $17, "
											 "watermark = $18, lookback = $19::interval, "
											 "full_refresh_threshold = $20::real, snapshot_strategy = $21, "
											 "updated_at_column = $22, check_columns = $23, hard_deletes = $24, %s"
											 "updated_at = pg_catalog.now() WHERE name = $1",
											 !citus ? "" : contract ?
											 "distribution = $25, distributed_by = $26, colocate_with = $27, "
											 "deterministic = $28, contract = $29::jsonb, maintain = $30, " :
											 "distribution = $25, distributed_by = $26, colocate_with = $27, "
											 "deterministic = $28, "),
									!citus ? 24 : contract ? 30 : 28, argtypes, values, nulls, false, 0);
	CatalogCheckSpi(ret, is_new ? SPI_OK_INSERT : SPI_OK_UPDATE, "writing a model");
	if (SPI_processed != 1)
		elog(ERROR, "model \"%s\" was not written", model->name);
	CatalogLeave(&session);
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
	CatalogCheckSpi(ret, SPI_OK_DELETE, "deleting tests");
	if (SPI_processed > 0)
		ereport(NOTICE,
				(errmsg("dropped %llu relationships test%s referencing model \"%s\"",
						(unsigned long long) SPI_processed, SPI_processed == 1 ? "" : "s", name)));
	ret = SPI_execute_with_args("DELETE FROM medallion.models WHERE name = $1",
								1, argtypes, values, NULL, false, 0);
	CatalogCheckSpi(ret, SPI_OK_DELETE, "deleting a model");
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
	CatalogCheckSpi(ret, SPI_OK_DELETE, "replacing dependencies");
	ret = SPI_execute_with_args("DELETE FROM medallion.column_lineage WHERE model = $1",
								1, argtypes, values, NULL, false, 0);
	CatalogCheckSpi(ret, SPI_OK_DELETE, "replacing column lineage");

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
		CatalogCheckSpi(SPI_execute_plan(plan, values, NULL, false, 0), SPI_OK_INSERT,
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
		CatalogCheckSpi(SPI_execute_plan(plan, values, NULL, false, 0), SPI_OK_INSERT,
						"writing column lineage");
	}

	ver_values[0] = CStringGetTextDatum(model);
	ver_values[1] = Int32GetDatum(version);
	ret = SPI_execute_with_args("INSERT INTO medallion.analysis (model, version) "
								"VALUES ($1, $2) ON CONFLICT (model) DO UPDATE "
								"SET version = EXCLUDED.version, analyzed_at = pg_catalog.now()",
								2, ver_types, ver_values, NULL, false, 0);
	CatalogCheckSpi(ret, SPI_OK_INSERT, "recording the analysis");
	CatalogLeave(&session);
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
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(model)};
	List	   *rows;
	char	  **row;

	rows = CatalogReadRows("SELECT watermark, max_seen FROM medallion.model_state WHERE model = $1",
						   1, argtypes, values, "reading model state", CatalogRowTexts, NULL);
	if (list_length(rows) != 1)
		return false;
	row = linitial(rows);
	*watermark = row[0];
	*max_seen = row[1];
	return true;
}

/*
 * CatalogSetState
 *		Store an incremental model's high-water mark, in the current
 *		transaction (so it commits with the data it describes).
 */
void
CatalogSetState(const char *model, const char *watermark, const char *max_seen, int64 run_id)
{
	Oid			argtypes[4] = {TEXTOID, TEXTOID, TEXTOID, INT8OID};
	Datum		values[4];
	char		nulls[4] = {' ', ' ', ' ', ' '};

	set_text_arg(values, nulls, 0, model);
	set_text_arg(values, nulls, 1, watermark);
	set_text_arg(values, nulls, 2, max_seen);
	values[3] = Int64GetDatum(run_id);
	(void) CatalogExecute("INSERT INTO medallion.model_state (model, watermark, max_seen, run_id) "
						  "VALUES ($1, $2, $3, $4) ON CONFLICT (model) DO UPDATE SET "
						  "watermark = EXCLUDED.watermark, max_seen = EXCLUDED.max_seen, "
						  "run_id = EXCLUDED.run_id, updated_at = pg_catalog.now()",
						  4, argtypes, values, nulls, SPI_OK_INSERT, "writing model state");
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
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(model)};
	List	   *found;
	char	  **row;

	found = CatalogReadRows("SELECT stage::text, mark, last_key, rows::text, version::text "
							"FROM medallion.extract_state "
							"WHERE model = $1", 1, argtypes, values, "reading extraction state",
							CatalogRowTexts, NULL);
	if (list_length(found) != 1)
		return false;
	row = linitial(found);
	*stage = (Oid) strtoul(row[Anum_extract_stage - 1], NULL, 10);
	*mark = row[Anum_extract_mark - 1];
	*last_key = row[Anum_extract_last_key - 1];
	*rows = strtoll(row[Anum_extract_rows - 1], NULL, 10);
	*version = atoi(row[Anum_extract_version - 1]);
	return true;
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
	Oid			argtypes[6] = {TEXTOID, OIDOID, TEXTOID, TEXTOID, INT8OID, INT4OID};
	Datum		values[6];
	char		nulls[6] = {' ', ' ', ' ', ' ', ' ', ' '};

	set_text_arg(values, nulls, 0, model);
	values[1] = ObjectIdGetDatum(stage);
	set_text_arg(values, nulls, 2, mark);
	set_text_arg(values, nulls, 3, last_key);
	values[4] = Int64GetDatum(added);
	values[5] = Int32GetDatum(version);
	(void) CatalogExecute("INSERT INTO medallion.extract_state AS e (model, stage, mark, last_key, rows, version) "
						  "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (model) DO UPDATE SET "
						  "stage = EXCLUDED.stage, mark = EXCLUDED.mark, last_key = EXCLUDED.last_key, "
						  "rows = e.rows + EXCLUDED.rows, batches = e.batches + 1, "
						  "version = EXCLUDED.version, updated_at = pg_catalog.clock_timestamp()",
						  6, argtypes, values, nulls, SPI_OK_INSERT, "writing extraction state");
}

/* Forget a model's staged extraction (it was applied, or starts over). */
void
CatalogClearExtract(const char *model)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(model)};

	(void) CatalogExecute("DELETE FROM medallion.extract_state WHERE model = $1",
						  1, argtypes, values, NULL, SPI_OK_DELETE, "clearing extraction state");
}

/*
 * CatalogHasTable
 *		Has the catalog the table name?  Before ALTER EXTENSION UPDATE the
 *		library runs with an older catalog, without the tables of later
 *		versions (0.3.0's: written_lows for row capture, unit_tests,
 *		source_tests).
 */
bool
CatalogHasTable(const char *name)
{
	Oid			nsp = get_namespace_oid(MEDALLION_CATALOG_SCHEMA, true);

	return OidIsValid(nsp) && OidIsValid(get_relname_relid(name, nsp));
}

/* Has the catalog row capture (0.3.0 on)? */
bool
CatalogHasCapture(void)
{
	return CatalogHasTable("written_lows");
}

/* Has the catalog maintained table models (0.3.0 on): build_state.deltas? */
bool
CatalogHasDeltas(void)
{
	Oid			nsp = get_namespace_oid(MEDALLION_CATALOG_SCHEMA, true);
	Oid			relid = OidIsValid(nsp) ? get_relname_relid("build_state", nsp) : InvalidOid;

	return OidIsValid(relid) && get_attnum(relid, "deltas") != InvalidAttrNumber;
}

/*
 * CatalogGetCapture
 *		What an incremental model's last build stored for row capture: the
 *		snapshot it read with and the state of capture on its watermark's
 *		tables (build_incremental.c); each NULL when there is none.
 */
void
CatalogGetCapture(const char *model, char **snapshot, char **capture)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(model)};
	List	   *rows;

	*snapshot = *capture = NULL;
	if (!CatalogHasCapture())
		return;
	rows = CatalogReadRows("SELECT snapshot::text, capture FROM medallion.model_state WHERE model = $1",
						   1, argtypes, values, "reading model state", CatalogRowTexts, NULL);
	if (list_length(rows) == 1)
	{
		*snapshot = ((char **) linitial(rows))[0];
		*capture = ((char **) linitial(rows))[1];
	}
}

/*
 * CatalogSetCapture
 *		Store with an incremental model's state (CatalogSetState first) the
 *		snapshot its build read with and the state of capture, in the
 *		current transaction.  When the stored snapshot is no longer
 *		previous (trim_lows gave up on it meanwhile), the capture state is
 *		stored NULL: the next build reads all rows again.
 */
void
CatalogSetCapture(const char *model, const char *snapshot, const char *capture,
				  const char *previous)
{
	Oid			argtypes[4] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID};
	Datum		values[4];
	char		nulls[4] = {' ', ' ', ' ', ' '};

	if (!CatalogHasCapture())
		return;
	set_text_arg(values, nulls, 0, model);
	set_text_arg(values, nulls, 1, snapshot);
	set_text_arg(values, nulls, 2, capture);
	set_text_arg(values, nulls, 3, previous);
	(void) CatalogExecute("UPDATE medallion.model_state SET snapshot = $2::pg_catalog.pg_snapshot, "
						  "capture = CASE WHEN snapshot::pg_catalog.text IS NOT DISTINCT FROM $4 "
						  "THEN $3 END WHERE model = $1",
						  4, argtypes, values, nulls, SPI_OK_UPDATE, "writing model state");
}

/*
 * CatalogLastBuildMs
 *		How long each model of models (names) took at its last successful
 *		build, in milliseconds, or -1 where the ledger has none; in the
 *		order of models.  One index probe per model, however long the
 *		ledger.
 */
/* CatalogLastBuildMs: the next row's milliseconds into the array at arg. */
static void *
last_build_ms(HeapTuple tuple, TupleDesc desc, void *arg)
{
	double	  **next = (double **) arg;
	bool		isnull;
	Datum		ms = SPI_getbinval(tuple, desc, 1, &isnull);

	*(*next)++ = isnull ? -1 : DatumGetFloat8(ms);
	return NULL;
}

double *
CatalogLastBuildMs(List *models)
{
	double	   *result = palloc(sizeof(double) * (list_length(models) + 1));
	double	   *next = result;
	Oid			argtypes[1] = {TEXTARRAYOID};
	Datum		values[1] = {ListToTextArray(models)};

	(void) CatalogReadRows("SELECT (SELECT r.ms::float8 FROM medallion.run_models r "
						   "        WHERE r.model = m.name AND r.status = 'success' "
						   "        ORDER BY r.run_id DESC LIMIT 1) "
						   "FROM pg_catalog.unnest($1) WITH ORDINALITY AS m (name, n) ORDER BY m.n",
						   1, argtypes, values, "reading the last builds of models",
						   last_build_ms, &next);
	return result;
}

/*
 * CatalogEverBuilt
 *		Has model ever been built: a build recorded (medallion.build_state,
 *		every build since 0.3.0) or a successful step in the ledger?
 */
bool
CatalogEverBuilt(const char *model)
{
	CatalogSession session;
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(model)};
	bool		isnull;
	bool		built;
	bool		has_state;

	/* a 0.1.0 catalog, before ALTER EXTENSION UPDATE, has no build_state */
	has_state = OidIsValid(get_relname_relid("build_state", get_namespace_oid("medallion", false)));
	CatalogEnter(&session);
	if (CatalogQuery(has_state ?
					 "SELECT EXISTS (SELECT FROM medallion.build_state b WHERE b.model = $1) "
					 "OR EXISTS (SELECT FROM medallion.run_models r WHERE r.model = $1 AND r.status = 'success')" :
					 "SELECT EXISTS (SELECT FROM medallion.run_models r WHERE r.model = $1 AND r.status = 'success')",
					 1, argtypes, values, NULL, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "could not read the builds of model \"%s\"", model);
	built = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	CatalogLeave(&session);
	return built;
}

/*
 * CatalogInvalidateDownstream
 *		Forget the analysis of the models that read model, so that they are
 *		analyzed again on next use (an ephemeral model they inline changed).
 */
void
CatalogInvalidateDownstream(const char *model)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(model)};

	(void) CatalogExecute("DELETE FROM medallion.analysis WHERE model IN "
						  "(SELECT model FROM medallion.model_dependencies "
						  " WHERE dep_name = $1 AND kind = 'model')",
						  1, argtypes, values, NULL, SPI_OK_DELETE, "invalidating analyses");
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
	if (CatalogQuery("SELECT pg_catalog.nextval('medallion.runs_run_id_seq')", 0, NULL, NULL, NULL, 1) != SPI_OK_SELECT ||
		SPI_processed != 1)
		elog(ERROR, "could not get a run number");
	id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	CatalogLeave(&session);
	return id;
}

/* The first column of a row, as text (a CatalogRowFn). */
static void *
first_text_from_tuple(HeapTuple tuple, TupleDesc desc, void *arg)
{
	return CatalogText(tuple, desc, 1);
}

/*
 * CatalogModifiedModels
 *		Names of the models (a List of char *) whose definition changed
 *		since their last build: never built, or built from an earlier
 *		version (medallion.build_state); with new_only, only those never
 *		built.  An ephemeral model builds nothing of its own: it is
 *		modified when it was redefined after the last build of a model
 *		reading it (or one reading it was never built).  For the selector
 *		state:modified (and state:new).
 */
List *
CatalogModifiedModels(bool new_only)
{
	Oid			types[1] = {BOOLOID};
	Datum		values[1] = {BoolGetDatum(new_only)};

	return CatalogReadRows("SELECT m.name FROM medallion.models m "
						   "LEFT JOIN medallion.build_state b ON b.model OPERATOR(pg_catalog.=) m.name "
						   "WHERE CASE WHEN m.materialized OPERATOR(pg_catalog.<>) 'ephemeral' "
						   "THEN b.model IS NULL "
						   "OR (NOT $1 AND b.version OPERATOR(pg_catalog.<>) m.version) "
						   "ELSE NOT $1 AND EXISTS (SELECT FROM medallion.model_dependencies d "
						   "LEFT JOIN medallion.build_state rb ON rb.model OPERATOR(pg_catalog.=) d.model "
						   "WHERE d.dep_name OPERATOR(pg_catalog.=) m.name::pg_catalog.name "
						   "AND d.kind OPERATOR(pg_catalog.=) 'model' "
						   "AND (rb.model IS NULL OR rb.built_at OPERATOR(pg_catalog.<) m.updated_at)) END",
						   1, types, values, "reading the last builds",
						   first_text_from_tuple, NULL);
}

/*
 * CatalogFreshnessRules
 *		For each source, and each of its relations with its freshness column:
 *		(source, relation as SQL, column, warn_after, error_after, owner,
 *		local schema, relation OID), as char *[8] (NULLs where the source has
 *		no rule or no such relation).
 */
List *
CatalogFreshnessRules(void)
{
	return CatalogReadRows("SELECT s.name, pg_catalog.quote_ident(s.local_schema) || '.' || "
						   "pg_catalog.quote_ident(c.relname), s.freshness_column, "
						   "s.warn_after::text, s.error_after::text, s.owner::text, "
						   "s.local_schema::text, c.oid::text "
						   "FROM medallion.sources s "
						   "LEFT JOIN pg_catalog.pg_namespace n ON n.nspname = s.local_schema "
						   "LEFT JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid "
						   " AND c.relkind IN ('r', 'v', 'm', 'f', 'p') "
						   " AND (s.tables = '{}' OR c.relname::text = ANY (s.tables)) "
						   " AND EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a WHERE a.attrelid = c.oid "
						   "             AND a.attname::text = s.freshness_column AND NOT a.attisdropped) "
						   "ORDER BY 1, 2", 0, NULL, NULL, "reading sources",
						   CatalogRowTexts, NULL);
}