/*-------------------------------------------------------------------------
 *
 * impact.c
 *	  What a model's new definition would change, before anything changes:
 *	  the columns of its new query against those it publishes
 *	  (medallion.impact_columns), which medallion_impact, in SQL, joins
 *	  with pg_depend, the catalog's tests and column lineage to name every
 *	  model, test, view and grant affected.
 *
 * The new SQL is analyzed exactly as medallion_create_model would analyze
 * it: as the model's owner (a caller who acts for the owner), with the
 * search_path the definition would store.  Nothing is bound, created or
 * recorded.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/relation.h"
#include "access/tupdesc.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/rel.h"
#include "utils/tuplestore.h"

#include "analyze.h"
#include "bind.h"
#include "catalog.h"
#include "model.h"
#include "relation.h"
#include "scope.h"
#include "sqltext.h"

PG_FUNCTION_INFO_V1(medallion_impact_columns);

/* The columns a snapshot's history adds to its query's. */
static bool
snapshot_column(const char *name)
{
	return strcmp(name, "scd_id") == 0 || strcmp(name, "valid_from") == 0 ||
		strcmp(name, "valid_to") == 0 || strcmp(name, "is_current") == 0;
}

static void
put_column(ReturnSetInfo *rsinfo, const char *name, int position, char *was, char *will)
{
	Datum		values[4];
	bool		nulls[4] = {false, position == 0, was == NULL, will == NULL};

	values[0] = CStringGetTextDatum(name);
	values[1] = Int32GetDatum(position);
	values[2] = was ? CStringGetTextDatum(was) : (Datum) 0;
	values[3] = will ? CStringGetTextDatum(will) : (Datum) 0;
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

/*
 * medallion_impact_columns(model, sql)
 *		Each column of the model's published relation (its binding, for an
 *		ephemeral model) with its type now and its type under sql (NULL:
 *		removed), then the columns sql adds (type now NULL).  A model that
 *		does not exist yet has only added columns.
 */
Datum
medallion_impact_columns(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *name;
	char	   *sql;
	ModelDef   *model;
	ModelDef	scratch = {0};
	AnalyzedModel *analyzed;
	Oid			relid = InvalidOid;
	Oid			save_userid;
	int			save_sec;
	List	   *seen = NIL;
	ListCell   *lc;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the model name and its new SQL are required")));
	name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	sql = text_to_cstring(PG_GETARG_TEXT_PP(1));
	CatalogRequireAdmin("report the impact of a model's change");
	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);

	model = CatalogGetModel(name, true);
	if (model != NULL)
		ModelRequireOwner(model);
	else
	{
		/* a new model: analyzed as the caller, who would own it */
		scratch.name = name;
		scratch.owner = GetUserNameFromId(GetUserId(), false);
		model = &scratch;
	}

	ModelBecomeOwner(model, &save_userid, &save_sec);
	analyzed = AnalyzeModel(name, sql, ModelSearchPath(CatalogListLayers()),
							CatalogListModels(), CatalogListSources());
	SetUserIdAndSecContext(save_userid, save_sec);

	if (model != &scratch)
		relid = model->kind == MAT_EPHEMERAL ? RelBinding(model->name) : RelPublished(model);
	if (OidIsValid(relid))
	{
		Relation	rel = relation_open(relid, AccessShareLock);
		TupleDesc	desc = RelationGetDescr(rel);
		int			position = 0;

		for (int i = 0; i < desc->natts; i++)
		{
			Form_pg_attribute att = TupleDescAttr(desc, i);
			ModelColumn *col;

			if (att->attisdropped)
				continue;
			position++;
			if (model->kind == MAT_SNAPSHOT && snapshot_column(NameStr(att->attname)))
				continue;
			col = SqlFindColumn(analyzed->columns, NameStr(att->attname));
			put_column(rsinfo, NameStr(att->attname), position,
					   format_type_with_typemod(att->atttypid, att->atttypmod),
					   col ? format_type_with_typemod(col->type, col->typmod) : NULL);
			if (col != NULL)
				seen = lappend(seen, col);
		}
		relation_close(rel, AccessShareLock);
	}
	foreach(lc, analyzed->columns)
	{
		ModelColumn *col = lfirst(lc);

		if (!list_member_ptr(seen, col))
			put_column(rsinfo, col->name, 0, NULL,
					   format_type_with_typemod(col->type, col->typmod));
	}
	return (Datum) 0;
}
