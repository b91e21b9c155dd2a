/*-------------------------------------------------------------------------
 *
 * model.c
 *	  Defining, dropping and re-analyzing models: medallion_create_model,
 *	  medallion_drop_model, medallion_reanalyze.
 *
 * Definitions are serialized by one advisory lock (CatalogLockDefinitions)
 * so that the cycle check and version numbers hold under concurrency.  The
 * model SQL is parsed and analyzed as the model owner, with the search_path
 * stored with the model (pg_temp last), and bound (bind.c): this is the
 * only time its names are resolved, until its owner defines or re-binds it
 * again.  The catalog is written as the extension owner (catalog.c).
 * Everything happens in the caller's transaction: an error leaves nothing
 * behind.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "executor/spi.h"
#include "catalog/pg_type.h"
#include "catalog/namespace.h"
#include "common/md5.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/tuplestore.h"
#include "utils/timeout.h"
#include "utils/varlena.h"
#include "datatype/timestamp.h"
#include "storage/latch.h"

#include "analyze.h"
#include "relation.h"
#include "sqltext.h"
#include "tests.h"
#include "bind.h"
#include "build.h"
#include "catalog.h"
#include "graph.h"
#include "materialize.h"
#include "changes.h"
#include "model.h"
#include "scale.h"
#include "scope.h"
#include "subxact.h"

PG_FUNCTION_INFO_V1(medallion_create_model);
PG_FUNCTION_INFO_V1(medallion_drop_model);
PG_FUNCTION_INFO_V1(medallion_reanalyze);

static void rebind_unbound(List *names, const char *self, bool strict);

/* Names of models, layers, tags: lower-case identifiers that need no quoting. */
static void
check_name(const char *name, const char *what)
{
	bool		ok = name[0] != '\0' && !isdigit((unsigned char) name[0]);

	for (const char *p = name; *p && ok; p++)
		ok = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_';
	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_NAME),
				 errmsg("invalid %s name \"%s\"", what, name),
				 errdetail("A %s name is made of lower-case letters, digits and underscores, and does not start with a digit.", what)));
	if (strlen(name) >= NAMEDATALEN)
		ereport(ERROR,
				(errcode(ERRCODE_NAME_TOO_LONG),
				 errmsg("%s name \"%s\" is too long", what, name),
				 errdetail("A %s name has at most %d characters.", what, NAMEDATALEN - 1)));
}

/*
 * ModelSearchPath
 *		The caller's search_path followed by every layer's schema that is
 *		not on it yet, so models can name other models without a schema.
 */
char *
ModelSearchPath(List *layers)
{
	List	   *elems = ScopeSearchPathSchemas(GetConfigOption("search_path", false, false));
	StringInfoData result;
	ListCell   *lc;

	initStringInfo(&result);
	appendStringInfoString(&result, ScopeSearchPathText(elems));
	foreach(lc, layers)
	{
		LayerDef   *layer = lfirst(lc);
		ListCell   *le;
		bool		present = false;

		foreach(le, elems)
			present |= strcmp((char *) lfirst(le), layer->schema) == 0;
		if (!present)
			appendStringInfo(&result, "%s%s", result.len > 0 ? ", " : "",
							 quote_identifier(layer->schema));
	}
	return result.data;
}

static bool
has_column(AnalyzedModel *analyzed, const char *name)
{
	ListCell   *lc;

	foreach(lc, analyzed->columns)
	{
		if (strcmp(((ModelColumn *) lfirst(lc))->name, name) == 0)
			return true;
	}
	return false;
}

static void
check_column(ModelDef *model, AnalyzedModel *analyzed, const char *column,
			 const char *setting)
{
	if (!has_column(analyzed, column))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("%s of model \"%s\" names column \"%s\", which the model query does not have",
						setting, model->name, column),
				 errhint("Columns are named by the query's output names.")));
}

/* What check_description checks a model's column descriptions against. */
typedef struct DescriptionCheck
{
	ModelDef   *model;
	AnalyzedModel *analyzed;
} DescriptionCheck;

/*
 * check_description
 *		A row (key, JSON type) of column_descriptions: an error unless the
 *		model has the column and the description is a string.
 */
static void *
check_description(HeapTuple tuple, TupleDesc desc, void *arg)
{
	DescriptionCheck *check = (DescriptionCheck *) arg;
	char	   *key = CatalogText(tuple, desc, 1);
	char	   *type = CatalogText(tuple, desc, 2);

	check_column(check->model, check->analyzed, key, "column_descriptions");
	if (strcmp(type, "string") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the description of column \"%s\" must be a JSON string", key)));
	return NULL;
}

/*
 * check_settings
 *		Validate the settings that name columns against the analyzed query.
 */
static void
check_settings(ModelDef *model, AnalyzedModel *analyzed)
{
	ListCell   *lc;
	int			ret;
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1];
	DescriptionCheck check = {model, analyzed};

	foreach(lc, model->unique_key)
		check_column(model, analyzed, lfirst(lc), "unique_key");
	foreach(lc, model->check_columns)
		check_column(model, analyzed, lfirst(lc), "check_columns");
	if (model->updated_at)
		check_column(model, analyzed, model->updated_at, "updated_at");
	if (model->kind == MAT_SNAPSHOT)
	{
		const char *reserved[] = {"valid_from", "valid_to", "is_current", "scd_id"};

		for (int i = 0; i < lengthof(reserved); i++)
		{
			if (has_column(analyzed, reserved[i]))
				ereport(ERROR,
						(errcode(ERRCODE_DUPLICATE_COLUMN),
						 errmsg("snapshot model \"%s\" cannot have a column named \"%s\"",
								model->name, reserved[i]),
						 errdetail("The snapshot adds valid_from, valid_to, is_current and scd_id."),
						 errhint("Rename the column with AS.")));
		}
	}
	if (model->watermark)
	{
		ModelColumn *col = NULL;
		ListCell   *lcol;

		check_column(model, analyzed, model->watermark, "watermark");
		foreach(lcol, analyzed->columns)
		{
			if (strcmp(((ModelColumn *) lfirst(lcol))->name, model->watermark) == 0)
				col = lfirst(lcol);
		}
		if (col->type != DATEOID && col->type != TIMESTAMPOID && col->type != TIMESTAMPTZOID &&
			col->type != INT2OID && col->type != INT4OID && col->type != INT8OID &&
			col->type != NUMERICOID)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("watermark column \"%s\" of model \"%s\" is of type %s",
							model->watermark, model->name, format_type_be(col->type)),
					 errhint("A watermark is a date, timestamp, timestamptz or number column.")));
		if (model->lookback && col->type != DATEOID && col->type != TIMESTAMPOID &&
			col->type != TIMESTAMPTZOID)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("lookback needs a date or timestamp watermark")));
	}
	foreach(lc, model->indexes)
	{
		char	   *spec = pstrdup(lfirst(lc));
		List	   *columns;
		ListCell   *lcol;

		if (!SplitIdentifierString(spec, ',', &columns) || columns == NIL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid index \"%s\" for model \"%s\"", (char *) lfirst(lc), model->name),
					 errhint("An index is a comma-separated list of column names, e.g. 'order_date, customer_id'.")));
		foreach(lcol, columns)
			check_column(model, analyzed, lfirst(lcol), "an index");
	}
	foreach(lc, model->tags)
		check_name(lfirst(lc), "tag");

	/* column_descriptions: {"column": "text", ...} */
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	values[0] = CStringGetTextDatum(model->column_descriptions);
	ret = SPI_execute_with_args("SELECT pg_catalog.jsonb_typeof($1::pg_catalog.jsonb) = 'object'",
								1, argtypes, values, NULL, false, 0);
	if (ret != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "could not check column descriptions: %s", SPI_result_code_string(ret));
	if (strcmp(SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1), "t") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("column_descriptions must be a JSON object"),
				 errhint("Write it as '{\"column\": \"description\"}'.")));
	(void) CatalogScanRows(CurrentMemoryContext,
						   "SELECT key, pg_catalog.jsonb_typeof(value) "
						   "FROM pg_catalog.jsonb_each($1::pg_catalog.jsonb)",
						   1, argtypes, values, "checking column descriptions",
						   check_description, &check);
	SPI_finish();
}

/* md5 of everything that defines the model, to tell changes from repeats. */
static char *
definition_hash(ModelDef *model)
{
	StringInfoData buf;
	char	   *hex = palloc(33);
	const char *errstr = NULL;
	List	   *parts[3] = {model->unique_key, model->indexes, model->tags};
	ListCell   *lc;

	initStringInfo(&buf);
	appendStringInfo(&buf, "%s\x1f%s\x1f%s\x1f%s\x1f%s\x1f%s\x1f%s\x1f%s\x1f%s\x1f",
					 model->layer, model->materialized, model->sql, model->search_path,
					 model->description ? model->description : "\x1e",
					 model->column_descriptions, model->on_schema_change,
					 model->statement_timeout ? model->statement_timeout : "\x1e",
					 model->enabled ? "t" : "f");
	{
		const char *settings[] = {model->strategy, model->watermark, model->lookback,
			model->full_refresh_threshold, model->snapshot_strategy, model->updated_at,
			model->hard_deletes, model->distribution, model->distributed_by,
		model->colocate_with};

		for (int i = 0; i < lengthof(settings); i++)
			appendStringInfo(&buf, "%s\x1f", settings[i] ? settings[i] : "\x1e");
		/* only when set: the hashes of models defined before 0.2.0 stay */
		if (model->deterministic)
			appendStringInfoString(&buf, "deterministic\x1f");
		if (model->contract)
			appendStringInfo(&buf, "contract %s\x1f", model->contract);
		if (model->maintain != MAINTAIN_AUTO)
			appendStringInfo(&buf, "maintain %s\x1f", CatalogMaintainName(model->maintain));
		foreach(lc, model->check_columns)
			appendStringInfo(&buf, "%s\x1d", (char *) lfirst(lc));
	}
	for (int i = 0; i < 3; i++)
	{
		foreach(lc, parts[i])
			appendStringInfo(&buf, "%s\x1d", (char *) lfirst(lc));
		appendStringInfoChar(&buf, '\x1f');
	}
	if (!pg_md5_hash(buf.data, buf.len, hex, &errstr))
		elog(ERROR, "could not compute md5: %s", errstr);
	return hex;
}

/*
 * check_cycle
 *		Error if the new definition of model (reading upstream_models) would
 *		close a cycle; the message names it.
 */
static void
check_cycle(const char *model, List *upstream_models)
{
	Graph	   *graph = GraphLoad(ModelListFresh(), false);
	int			self = GraphFind(graph, model);
	ListCell   *lc;

	foreach(lc, upstream_models)
	{
		const char *up = lfirst(lc);
		List	   *path = NIL;
		StringInfoData cycle;
		ListCell   *lp;

		if (strcmp(up, model) == 0)
			path = list_make1_int(self);
		else if (self >= 0)
			path = GraphUpstreamPath(graph, GraphFind(graph, up), self);
		if (path == NIL)
			continue;

		initStringInfo(&cycle);
		appendStringInfoString(&cycle, model);
		foreach(lp, path)
			appendStringInfo(&cycle, " -> %s", graph->nodes[lfirst_int(lp)].model->name);
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_RECURSION),
				 errmsg("model \"%s\" would create a dependency cycle", model),
				 errdetail("Cycle: %s (each model reads the next).", cycle.data),
				 errhint("A model cannot read, directly or through other models, a model that reads it.")));
	}
}

/* Compare an interval argument with zero: <0, 0 or >0. */
static int
interval_sign(FunctionCallInfo fcinfo, int n)
{
	Datum		zero = DirectFunctionCall3(interval_in, CStringGetDatum("0"),
										   ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));

	return DatumGetInt32(DirectFunctionCall2(interval_cmp, PG_GETARG_DATUM(n), zero));
}

/* Text argument or NULL. */
static char *
text_arg(FunctionCallInfo fcinfo, int n)
{
	return PG_ARGISNULL(n) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(n));
}

static List *
array_arg(FunctionCallInfo fcinfo, int n)
{
	return PG_ARGISNULL(n) ? NIL : TextArrayToList(PG_GETARG_DATUM(n));
}

static void
require_arg(FunctionCallInfo fcinfo, int n, const char *what)
{
	if (PG_ARGISNULL(n))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be NULL", what)));
}

/*
 * medallion_create_model(name, sql, layer, materialized, tags, description,
 *		unique_key, indexes, column_descriptions, on_schema_change,
 *		statement_timeout, enabled, the incremental, snapshot and Citus
 *		settings, deterministic) returns 'created', 'updated' or
 *		'unchanged'.
 */
Datum
medallion_create_model(PG_FUNCTION_ARGS)
{
	ModelDef   *model = palloc0(sizeof(ModelDef));
	ModelDef   *previous;
	LayerDef   *layer;
	List	   *layers;
	AnalyzedModel *analyzed;
	char	   *layer_name = text_arg(fcinfo, 2);
	Oid			relid;
	Oid			save_userid;
	int			save_sec;
	bool		unchanged;
	List	   *unbound = NIL;

	require_arg(fcinfo, 0, "model name");
	require_arg(fcinfo, 1, "model SQL");
	CatalogRequireAdmin("define models");
	model->name = text_arg(fcinfo, 0);
	model->sql = text_arg(fcinfo, 1);
	check_name(model->name, "model");

	/*
	 * PostgreSQL names its transient relations pg_temp_<OID> in the schema
	 * of the relation they replace (make_new_heap): a model so named could
	 * take the name of another model's candidate first.
	 */
	if (strncmp(model->name, "pg_", 3) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_RESERVED_NAME),
				 errmsg("model name \"%s\" is reserved", model->name),
				 errdetail("Names starting with \"pg_\" are reserved for PostgreSQL's own relations, such as the transient tables a run builds."),
				 errhint("Choose a name that does not start with \"pg_\".")));

	CatalogLockDefinitions();
	previous = CatalogGetModel(model->name, true);
	if (previous != NULL)
		ModelRequireOwner(previous);

	/* layer and materialization */
	if (layer_name == NULL && previous == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("a new model needs a layer"),
				 errhint("Pass layer => 'bronze', 'silver', 'gold' or another layer of medallion.layers.")));
	layer = CatalogGetLayer(layer_name ? layer_name : previous->layer, false);
	if (previous != NULL && strcmp(previous->layer, layer->name) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot move model \"%s\" from layer \"%s\" to layer \"%s\"",
						model->name, previous->layer, layer->name),
				 errhint("Drop the model and create it again in the new layer.")));
	layers = CatalogListLayers();
	{
		ListCell   *lc;

		foreach(lc, layers)
		{
			if (strcmp(((LayerDef *) lfirst(lc))->name, model->name) == 0)
				ereport(ERROR,
						(errcode(ERRCODE_DUPLICATE_OBJECT),
						 errmsg("model name \"%s\" is the name of a layer", model->name),
						 errhint("Choose another name; selectors would not tell them apart.")));
		}
	}
	model->layer = layer->name;
	model->schema = layer->schema;
	model->materialized = text_arg(fcinfo, 3);
	if (model->materialized == NULL)
		model->materialized = previous ? previous->materialized : layer->default_materialization;
	model->mat = CatalogMaterialization(model->materialized);
	model->kind = model->mat->kind;

	/* the other settings */
	model->tags = array_arg(fcinfo, 4);
	list_sort(model->tags, SqlCompareNames);
	model->description = text_arg(fcinfo, 5);
	model->unique_key = array_arg(fcinfo, 6);
	model->indexes = array_arg(fcinfo, 7);
	model->column_descriptions = PG_ARGISNULL(8) ? pstrdup("{}") :
		DatumGetCString(DirectFunctionCall1(jsonb_out, PG_GETARG_DATUM(8)));
	model->on_schema_change = PG_ARGISNULL(9) ? pstrdup("fail") : text_arg(fcinfo, 9);
	if (strcmp(model->on_schema_change, "fail") != 0 &&
		strcmp(model->on_schema_change, "ignore") != 0 &&
		strcmp(model->on_schema_change, "append_new_columns") != 0 &&
		strcmp(model->on_schema_change, "sync_all_columns") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown on_schema_change \"%s\"", model->on_schema_change),
				 errhint("on_schema_change is fail, ignore, append_new_columns or sync_all_columns.")));
	if (!PG_ARGISNULL(10) && interval_sign(fcinfo, 10) <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("statement_timeout must be greater than zero"),
				 errhint("Leave it NULL for no limit, or give a duration such as '10 minutes'.")));
	if (!PG_ARGISNULL(14) && interval_sign(fcinfo, 14) < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("lookback must not be negative"),
				 errhint("lookback is how far before the high-water mark to read again, such as '1 hour'.")));
	model->statement_timeout = PG_ARGISNULL(10) ? NULL :
		DatumGetCString(DirectFunctionCall1(interval_out, PG_GETARG_DATUM(10)));
	model->enabled = PG_ARGISNULL(11) ? true : PG_GETARG_BOOL(11);
	model->strategy = text_arg(fcinfo, 12);
	model->watermark = text_arg(fcinfo, 13);
	model->lookback = PG_ARGISNULL(14) ? NULL :
		DatumGetCString(DirectFunctionCall1(interval_out, PG_GETARG_DATUM(14)));
	model->full_refresh_threshold = PG_ARGISNULL(15) ? NULL :
		DatumGetCString(DirectFunctionCall1(float4out, PG_GETARG_DATUM(15)));
	model->snapshot_strategy = text_arg(fcinfo, 16);
	model->updated_at = text_arg(fcinfo, 17);
	model->check_columns = array_arg(fcinfo, 18);
	model->hard_deletes = text_arg(fcinfo, 19);
	/* the 0.1.0 definition, before ALTER EXTENSION UPDATE, has no Citus settings */
	if (PG_NARGS() > 22)
	{
		model->distributed_by = text_arg(fcinfo, 20);
		model->colocate_with = text_arg(fcinfo, 21);
		model->distribution = text_arg(fcinfo, 22);
	}
	if (PG_NARGS() > 23)
		model->deterministic = !PG_ARGISNULL(23) && PG_GETARG_BOOL(23);
	if (PG_NARGS() > 24 && !PG_ARGISNULL(24))
		model->contract = DatumGetCString(DirectFunctionCall1(jsonb_out, PG_GETARG_DATUM(24)));
	model->maintain = PG_NARGS() > 25 && !PG_ARGISNULL(25) ?
		CatalogMaintainMode(text_to_cstring(PG_GETARG_TEXT_PP(25))) : MAINTAIN_AUTO;
	if (model->maintain == MAINTAIN_INCREMENTAL && model->kind != MAT_TABLE)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("maintain => 'incremental' is for table models"),
				 errdetail("Model \"%s\" is materialized as %s.", model->name, model->materialized),
				 errhint("Materialize it as a table, or leave maintain at auto.")));
	ScaleCheckSettings(model);
	MaterializeCheckSettings(model, PG_ARGISNULL(15) ? 0 : PG_GETARG_FLOAT4(15));
	model->owner = previous ? previous->owner : GetUserNameFromId(GetUserId(), false);
	model->search_path = ModelSearchPath(layers);

	/* analyze and check as the owner */
	ModelBecomeOwner(model, &save_userid, &save_sec);
	analyzed = AnalyzeModel(model->name, model->sql, model->search_path,
							CatalogListModels(), CatalogListSources());
	BindCheckDefinition(analyzed->query);
	check_settings(model, analyzed);
	ContractCheck(model, analyzed->columns);
	check_cycle(model->name, analyzed->upstream_models);

	relid = RelPublished(model);
	if (previous == NULL && OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_TABLE),
				 errmsg("relation \"%s.%s\" already exists", model->schema, model->name),
				 errdetail("It is not a medallion model."),
				 errhint("Choose another model name, or drop or rename the relation.")));

	model->sql_hash = definition_hash(model);
	unchanged = previous != NULL && strcmp(previous->sql_hash, model->sql_hash) == 0;
	model->version = previous == NULL ? 1 : previous->version + (unchanged ? 0 : 1);

	if (!unchanged || !OidIsValid(relid))
		unbound = BuildDefineRelation(model, analyzed, layer, previous);
	if (!unchanged && model->distribution != NULL)
		ChangesUncaptureModelTable(RelPublished(model));
	if (!unchanged)
		ScaleDistribute(model, analyzed);
	/* a hash-distributed model's candidate and previous version (scale.c) */
	BuildDistributedCopies(model, !unchanged);
	if (!unchanged || !OidIsValid(RelBinding(model->name)))
		unbound = list_concat(unbound, BindModel(model, analyzed->query));
	SetUserIdAndSecContext(save_userid, save_sec);

	if (!unchanged)
		CatalogUpsertModel(model, previous == NULL);
	CommandCounterIncrement();
	if (!unchanged)
		TestsBind(model);
	rebind_unbound(unbound, model->name, true);
	if (!unchanged && previous != NULL &&
		(model->kind == MAT_EPHEMERAL || previous->kind == MAT_EPHEMERAL))
		CatalogInvalidateDownstream(model->name);
	if (!unchanged || previous->analyzed_version != model->version)
		CatalogReplaceDerived(model->name, model->version, analyzed->dependencies,
							  analyzed->lineage);
	/* the tables it reads that its owner owns: their writes are logged (changes.c) */
	ChangesTrackInputs(model);
	/* a maintained table model: the deltas of the table it reads are captured */
	if (CatalogHasDeltas())
	{
		ChangesCaptureMaintained(model, analyzed->query);

		/*
		 * a view model, or a table model defined again: the maintained
		 * models reading it capture what they read now (a new table model
		 * has no readers yet)
		 */
		if (model->kind != MAT_TABLE || (previous != NULL && !unchanged))
			ChangesCaptureReaders(model);
	}
	if (previous != NULL && !unchanged)
	{
		ChangesUntrackUnread();
		if (CatalogHasDeltas())
			ChangesDropUnneededDeltas();
	}

	PG_RETURN_TEXT_P(cstring_to_text(previous == NULL ? "created" :
									 unchanged ? "unchanged" : "updated"));
}

/*
 * drop_referencing_tests
 *		The relationships tests of other models that reference model go with
 *		it (their bindings read its relation), when the caller acts for the
 *		owners of those models; a test of another owner's model makes the
 *		drop fail, naming it.  The catalog rows go with the model's
 *		(CatalogDeleteModel).
 */
static void
drop_referencing_tests(ModelDef *model)
{
	ListCell   *lc;

	foreach(lc, CatalogReferencingTests(model->name))
	{
		char	  **pair = lfirst(lc);
		ModelDef   *tested = CatalogGetModel(pair[0], false);

		if (!has_privs_of_role(GetUserId(), ModelOwnerId(tested)))
			ereport(ERROR,
					(errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
					 errmsg("cannot drop model \"%s\" because test %s of model \"%s\" references it",
							model->name, pair[1], pair[0]),
					 errdetail("Model \"%s\" belongs to role \"%s\".", pair[0], tested->owner),
					 errhint("Its owner drops the test first with medallion_drop_test('%s', '%s').",
							 pair[0], pair[1])));
		BindDrop(BindName(pair[0], pair[1]));
	}
}

/*
 * medallion_drop_model(name, cascade) drops a model and its relation; with
 * cascade also every model downstream of it.  Returns the dropped models,
 * downstream first.
 */
Datum
medallion_drop_model(PG_FUNCTION_ARGS)
{
	char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	bool		cascade = PG_GETARG_BOOL(1);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Graph	   *graph;
	bool	   *doomed;
	List	   *steps;
	int			node;
	StringInfoData dependants;
	int			ndependants = 0;

	CatalogRequireAdmin("drop models");
	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	CatalogLockDefinitions();
	(void) CatalogGetModel(name, false);
	graph = GraphLoad(ModelListFresh(), false);
	node = GraphFind(graph, name);

	doomed = palloc0(sizeof(bool) * (graph->nnodes + 1));
	initStringInfo(&dependants);
	{
		/* the model and everything downstream, in dependency order */
		List	   *stack = list_make1_int(node);

		while (stack != NIL)
		{
			int			n = linitial_int(stack);
			ListCell   *lc;

			stack = list_delete_first(stack);
			if (doomed[n])
				continue;
			doomed[n] = true;
			if (n != node)
			{
				appendStringInfo(&dependants, "%s%s", ndependants > 0 ? ", " : "",
								 graph->nodes[n].model->name);
				ndependants++;
			}
			foreach(lc, graph->nodes[n].downstream)
				stack = lappend_int(stack, lfirst_int(lc));
		}
	}
	if (ndependants > 0 && !cascade)
		ereport(ERROR,
				(errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
				 errmsg("cannot drop model \"%s\" because other models depend on it", name),
				 errdetail("Models downstream of it: %s.", dependants.data),
				 errhint("Use medallion_drop_model('%s', cascade => true) to drop them too.", name)));

	steps = GraphPlan(graph, doomed);
	for (int i = list_length(steps) - 1; i >= 0; i--)
	{
		ModelDef   *model = graph->nodes[((PlanStep *) list_nth(steps, i))->node].model;
		Oid			save_userid;
		int			save_sec;
		Datum		value = CStringGetTextDatum(model->name);
		bool		isnull = false;

		ModelRequireOwner(model);
		drop_referencing_tests(model);
		ModelBecomeOwner(model, &save_userid, &save_sec);
		TestsUnbind(model, NIL);
		BindDrop(model->name);
		BuildDropRelation(model);
		SetUserIdAndSecContext(save_userid, save_sec);
		CatalogDeleteModel(model->name);
		CommandCounterIncrement();
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, &value, &isnull);
	}
	/* the tables only they read are no longer tracked, nor their deltas captured */
	ChangesUntrackUnread();
	if (CatalogHasDeltas())
		ChangesDropUnneededDeltas();
	PG_RETURN_VOID();
}

/*
 * analyze_one
 *		Derive a model's dependencies and lineage again and store them.
 *		With rebind (its owner asked, or the caller acts for the owner), its
 *		SQL is parsed again as its owner, and the model, its published view
 *		and its tests are bound anew: names resolve as they do now, and
 *		SELECT * takes new upstream columns.  Without, they are derived from
 *		what is bound, and nothing is resolved again.
 */
static void
analyze_one(ModelDef *model, List *models, List *sources, bool rebind)
{
	AnalyzedModel *analyzed;
	Oid			save_userid;
	int			save_sec;
	List	   *unbound = NIL;

	ModelBecomeOwner(model, &save_userid, &save_sec);
	if (rebind)
	{
		analyzed = AnalyzeModel(model->name, model->sql, model->search_path, models, sources);
		BindCheckDefinition(analyzed->query);
		unbound = BuildDefineRelation(model, analyzed, CatalogGetLayer(model->layer, false), model);
		unbound = list_concat(unbound, BindModel(model, analyzed->query));
	}
	else if (!OidIsValid(RelBinding(model->name)))
	{
		/* nothing to derive from until its owner binds it */
		SetUserIdAndSecContext(save_userid, save_sec);
		ereport(WARNING,
				(errmsg("model \"%s\" is not bound", model->name),
				 errhint("Its owner, role \"%s\", binds it again with SELECT medallion_reanalyze('%s');",
						 model->owner, model->name)));
		return;
	}
	else
	{
		AnalyzedModel *bound = BindLoad(model);

		analyzed = AnalyzeDerive(model->name, bound->query, bound->binding, models, sources);
	}
	SetUserIdAndSecContext(save_userid, save_sec);
	if (rebind)
		TestsBind(model);
	CatalogReplaceDerived(model->name, model->version, analyzed->dependencies,
						  analyzed->lineage);
	if (rebind)
		rebind_unbound(unbound, model->name, true);
}

/*
 * model_of_binding
 *		The model a binding belongs to (its query's, or one of its tests'),
 *		or NULL.
 */
static ModelDef *
model_of_binding(const char *name)
{
	const char *dollar = strchr(name, '$');
	ListCell   *lc;

	if (dollar == NULL)
		return CatalogGetModel(name, true);
	if (strncmp(name, "h$", 2) != 0)
		return CatalogGetModel(pnstrdup(name, dollar - name), true);
	foreach(lc, CatalogListModels())
	{
		ModelDef   *model = lfirst(lc);
		ListCell   *lt;

		if (strcmp(BindName(model->name, ""), name) == 0)
			return model;
		foreach(lt, CatalogListTests(model->name))
		{
			if (strcmp(BindName(model->name, ((TestDef *) lfirst(lt))->name), name) == 0)
				return model;
		}
	}
	return NULL;
}

/*
 * rebind_work
 *		Bind a model again, as its owner, from its SQL, after a change
 *		dropped its binding; it must read what it read (BindReadsAsBefore):
 *		resolving its names again must not find an object made since, which
 *		would change what the model means.
 */
static void
rebind_work(void *arg)
{
	ModelDef   *model = (ModelDef *) arg;
	char	   *extra = NULL;

	analyze_one(model, CatalogListModels(), CatalogListSources(), true);
	if (!BindReadsAsBefore(model->name, &extra))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("bound again, it would read %s, which it did not read before", extra),
				 errdetail("A model bound again after a change upstream of it must mean what it meant: its names are resolved again, and found another object."),
				 errhint("Its owner defines it again with medallion_create_model, which binds it as it is now.")));
}

/*
 * rebind_unbound
 *		After bindings were dropped (names) because what they read had to
 *		change, bind their models again, in the same transaction: in
 *		dependency order (a model whose upstream is not bound again yet is
 *		tried again after the others), each as its owner, from its stored
 *		SQL, as medallion_reanalyze does.  self is the model that changed,
 *		bound already.
 *
 *		strict (a definition): a model that no longer binds (it reads a
 *		column that is gone) makes the whole change fail, naming it and
 *		PostgreSQL's reason; so does one whose owner the caller does not act
 *		for (binding it again resolves its names again, which only its owner
 *		may ask for).  Not strict (a run that changed a table's columns):
 *		those stay unbound, with a NOTICE or a WARNING that says why, and
 *		fail when the run reaches them.
 */
static void
rebind_unbound(List *names, const char *self, bool strict)
{
	List	   *pending = NIL;
	ListCell   *lc;

	foreach(lc, names)
	{
		ModelDef   *model = model_of_binding(lfirst(lc));
		ListCell   *lp;
		bool		seen;

		if (model == NULL)
			continue;
		seen = strcmp(model->name, self) == 0;
		foreach(lp, pending)
			seen |= strcmp(((ModelDef *) lfirst(lp))->name, model->name) == 0;
		if (seen)
			continue;
		if (has_privs_of_role(GetUserId(), ModelOwnerId(model)))
			pending = lappend(pending, model);
		else if (strict)
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("model \"%s\" of role \"%s\" reads what changes and would have to be bound again",
							model->name, model->owner),
					 errdetail("Changing model \"%s\" this way makes its view or columns again; a model that reads them is bound again from its SQL, as its owner, which only a role acting for that owner may ask for.",
							   self),
					 errhint("Keep the columns in place (new columns may go anywhere), or make the change as a role that is a member of \"%s\".",
							 model->owner)));
		else
			ereport(NOTICE,
					(errmsg("model \"%s\" must be bound again by its owner", model->name),
					 errdetail("The columns of model \"%s\" that it reads changed; its runs fail until then.",
							   self),
					 errhint("Role \"%s\" runs SELECT medallion_reanalyze('%s');",
							 model->owner, model->name)));
	}

	while (pending != NIL)
	{
		List	   *failed = NIL;
		List	   *errors = NIL;

		foreach(lc, pending)
		{
			ErrorData  *edata = SubxactRun(rebind_work, lfirst(lc), true);

			if (edata == NULL)
				continue;
			failed = lappend(failed, lfirst(lc));
			errors = lappend(errors, edata);
		}
		if (failed != NIL && list_length(failed) == list_length(pending))
		{
			ListCell   *le;

			forboth(lc, failed, le, errors)
			{
				ModelDef   *model = lfirst(lc);
				ErrorData  *edata = lfirst(le);

				ereport(strict ? ERROR : WARNING,
						(errcode(edata->sqlerrcode),
						 errmsg("model \"%s\", which reads model \"%s\", no longer binds: %s",
								model->name, self, edata->message),
						 strict ?
						 errdetail("A model that reads a changed model is bound again in the same transaction; nothing was changed.") :
						 errdetail("It stays unbound, and fails, until it is changed to match."),
						 errhint("Change model \"%s\" to match (medallion_create_model), or keep what it reads in model \"%s\".",
								 model->name, self)));
			}
			break;
		}
		pending = failed;
	}
}

/*
 * ModelRebindReaders
 *		A run changed the columns of model self's table, and dropped the
 *		bindings (names) that read what changed: bind those models again
 *		now, so that the run builds them with the new columns; the ones
 *		that no longer bind, or whose owners the caller does not act for,
 *		stay unbound and say so.
 */
void
ModelRebindReaders(List *names, const char *self)
{
	rebind_unbound(names, self, false);
}

/* What analyze_stale_work needs. */
typedef struct StaleWork
{
	ModelDef   *model;
	List	   *models;
	List	   *sources;
} StaleWork;

static void
analyze_stale_work(void *arg)
{
	StaleWork  *work = (StaleWork *) arg;

	analyze_one(work->model, work->models, work->sources, false);
}

/*
 * ModelAnalyzeStale
 *		Analyze the models whose derived rows do not match their version
 *		(after a restore they are missing).  A model that cannot be analyzed
 *		(its upstream was dropped by hand, its owner is gone) gets a WARNING
 *		and keeps its stale rows; the others are still analyzed.  Returns
 *		how many were analyzed.
 */
int
ModelAnalyzeStale(List *models)
{
	StaleWork	work = {NULL, models, NIL};
	ListCell   *lc;
	int			count = 0;

	foreach(lc, models)
	{
		ErrorData  *edata;

		work.model = lfirst(lc);
		if (work.model->analyzed_version == work.model->version)
			continue;
		if (work.sources == NIL)
			work.sources = CatalogListSources();
		edata = SubxactRun(analyze_stale_work, &work, true);
		if (edata == NULL)
		{
			count++;
			continue;
		}
		ereport(WARNING,
				(errcode(edata->sqlerrcode),
				 errmsg("model \"%s\" could not be analyzed: %s", work.model->name, edata->message),
				 errhint("Fix or redefine the model with medallion_create_model.")));
		FreeErrorData(edata);
	}
	return count;
}

/*
 * ModelListFresh
 *		All models (CatalogListModels), after re-analyzing those whose
 *		derived rows are stale (ModelAnalyzeStale): what GraphLoad takes.
 *		Allocated in the current memory context.
 */
List *
ModelListFresh(void)
{
	List	   *models = CatalogListModels();

	if (ModelAnalyzeStale(models) > 0)
		models = CatalogListModels();
	return models;
}

/*
 * medallion_reanalyze(selector) analyzes the selected models again and
 * returns how many there were.
 */
Datum
medallion_reanalyze(PG_FUNCTION_ARGS)
{
	char	   *selector = text_to_cstring(PG_GETARG_TEXT_PP(0));
	List	   *models;
	List	   *sources;
	Graph	   *graph;
	bool	   *selected;
	int			count = 0;

	CatalogRequireAdmin("analyze models");
	CatalogLockDefinitions();
	graph = GraphLoad(ModelListFresh(), false);
	selected = GraphSelect(graph, selector, NULL);
	models = CatalogListModels();
	sources = CatalogListSources();
	for (int i = 0; i < graph->nnodes; i++)
	{
		/* "all" includes disabled models too */
		if (selected[i] || strcmp(selector, "all") == 0)
		{
			ModelDef   *model = graph->nodes[i].model;

			/* the owner binds again; others only derive from what is bound */
			analyze_one(model, models, sources,
						has_privs_of_role(GetUserId(), ModelOwnerId(model)));
			count++;
		}
	}
	PG_RETURN_INT32(count);
}
