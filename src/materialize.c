/*-------------------------------------------------------------------------
 *
 * materialize.c
 *	  What each kind of materialization does: what settings apply, how a
 *	  run builds it, what happens once its tests pass.  What each kind is
 *	  (its name, whether it has a table, ...) is data of the catalog layer
 *	  (MaterializationKind, catalog.h), where a model's "materialized" is
 *	  parsed once; nothing compares materialization names.
 *
 * A run's step (run_step.c) calls MaterializeBuild with a BuildStep: the
 * model, its binding and the run's redirections.  The build fills in what
 * it made (a table candidate, a delta, a snapshot's changes), what the
 * model's tests read, and whether its candidate replaces the published
 * table for the rest of the run.  MaterializeApply runs after the tests
 * passed (an incremental delta goes into the published table then).
 * Publishing table candidates is the same for every kind (publish.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "utils/builtins.h"

#include "bind.h"
#include "build.h"
#include "catalog.h"
#include "changes.h"
#include "extract.h"
#include "materialize.h"
#include "publish.h"
#include "relation.h"

static void check_incremental(ModelDef *model, float4 threshold);
static void build_view(BuildStep *step);
static void build_table(BuildStep *step);
static void build_incremental(BuildStep *step);
static void apply_incremental(BuildStep *step);
static void build_snapshot(BuildStep *step);
static void build_ephemeral(BuildStep *step);

/* What each materialization does; what it is is its MaterializationKind (catalog.h). */
typedef struct MaterializeOps
{
	void		(*check_settings) (ModelDef *model, float4 threshold);
	void		(*build) (BuildStep *step);
	void		(*apply) (BuildStep *step);	/* after its tests passed, or NULL */
} MaterializeOps;

static const MaterializeOps materializations[MAT_KINDS] = {
	[MAT_VIEW] = {NULL, build_view, NULL},
	[MAT_TABLE] = {NULL, build_table, NULL},
	[MAT_INCREMENTAL] = {check_incremental, build_incremental, apply_incremental},
	[MAT_SNAPSHOT] = {NULL, build_snapshot, NULL},
	[MAT_EPHEMERAL] = {NULL, build_ephemeral, NULL},
};

/*
 * MaterializeBuild
 *		Build step->model the way its kind builds (see the file header).
 */
void
MaterializeBuild(BuildStep *step)
{
	materializations[step->model->kind].build(step);
}

/*
 * MaterializeApply
 *		What step->model's kind does once its tests passed (an incremental
 *		delta goes into the published table); false when the kind does
 *		nothing then.
 */
bool
MaterializeApply(BuildStep *step)
{
	const MaterializeOps *ops = &materializations[step->model->kind];

	if (ops->apply == NULL)
		return false;
	ops->apply(step);
	return true;
}

static void
setting_error(const char *setting, const char *applies_to)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("%s applies only to %s models", setting, applies_to)));
}

/*
 * MaterializeCheckSettings
 *		The settings of incremental and snapshot models: only where they
 *		apply, with valid values, and defaults filled in.  What names a
 *		column is checked against the query when the model is defined
 *		(model.c).
 */
void
MaterializeCheckSettings(ModelDef *model, float4 threshold)
{
	bool		incremental = model->kind == MAT_INCREMENTAL;

	if (!incremental)
	{
		if (model->strategy)
			setting_error("strategy", "incremental");
		if (model->watermark)
			setting_error("watermark", "incremental");
		if (model->lookback)
			setting_error("lookback", "incremental");
		if (model->full_refresh_threshold)
			setting_error("full_refresh_threshold", "incremental");
	}
	if (model->kind == MAT_SNAPSHOT)
	{
		if (model->unique_key == NIL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("a snapshot model needs a unique_key"),
					 errhint("Pass unique_key => ARRAY['id']: the key whose history is kept.")));
		if (model->snapshot_strategy == NULL)
			model->snapshot_strategy = pstrdup(model->updated_at ? "timestamp" : "check");
		if (strcmp(model->snapshot_strategy, "timestamp") != 0 &&
			strcmp(model->snapshot_strategy, "check") != 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unknown snapshot strategy \"%s\"", model->snapshot_strategy),
					 errhint("Strategies are timestamp (with updated_at) and check (with check_columns, or all columns).")));
		if (strcmp(model->snapshot_strategy, "timestamp") == 0 && model->updated_at == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the timestamp strategy needs updated_at"),
					 errhint("Name the column that tells when a row changed.")));
		if (strcmp(model->snapshot_strategy, "timestamp") == 0 && model->check_columns)
			setting_error("check_columns", "check-strategy snapshot");
		if (strcmp(model->snapshot_strategy, "check") == 0 && model->updated_at)
			setting_error("updated_at", "timestamp-strategy snapshot");
		if (model->hard_deletes == NULL)
			model->hard_deletes = pstrdup("ignore");
		if (strcmp(model->hard_deletes, "ignore") != 0 && strcmp(model->hard_deletes, "invalidate") != 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unknown hard_deletes \"%s\"", model->hard_deletes),
					 errhint("hard_deletes is ignore or invalidate.")));
		return;
	}
	if (model->snapshot_strategy)
		setting_error("snapshot_strategy", "snapshot");
	if (model->updated_at)
		setting_error("updated_at", "snapshot");
	if (model->check_columns)
		setting_error("check_columns", "snapshot");
	if (model->hard_deletes)
		setting_error("hard_deletes", "snapshot");
	if (materializations[model->kind].check_settings != NULL)
		materializations[model->kind].check_settings(model, threshold);
}

/* The settings of an incremental model: strategy, watermark, lookback, threshold. */
static void
check_incremental(ModelDef *model, float4 threshold)
{
	if (model->strategy == NULL)
		model->strategy = pstrdup(model->unique_key ? "merge" : "append");
	if (strcmp(model->strategy, "append") != 0 && strcmp(model->strategy, "merge") != 0 &&
		strcmp(model->strategy, "delete+insert") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown incremental strategy \"%s\"", model->strategy),
				 errhint("Strategies are append, merge and delete+insert.")));
	if (strcmp(model->strategy, "append") != 0 && model->unique_key == NIL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the %s strategy needs a unique_key", model->strategy),
				 errhint("Pass unique_key => ARRAY['id'] (one or several columns).")));
	if (model->lookback && model->watermark == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("lookback needs a watermark")));
	if (model->full_refresh_threshold && (threshold <= 0 || threshold > 1 || isnan(threshold)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("full_refresh_threshold must be greater than zero and at most 1"),
				 errhint("It is a share of the table's rows, e.g. 0.15.")));
	/*
	 * Appending with no watermark: nothing tells new rows from old ones, so
	 * every run would append all rows again.
	 */
	if (model->watermark == NULL && strcmp(model->strategy, "append") == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("incremental model \"%s\" appends and has no watermark", model->name),
				 errdetail("Each run would read every row of its query and append them all again: its table would fill with duplicates."),
				 errhint("Pass watermark => 'a column that grows' (a run appends the rows past it), or unique_key => ARRAY['id'] with strategy merge (a run merges on it); or materialize it as a table.")));
}

/* ----------------------------------------------------------------
 * Building
 * ---------------------------------------------------------------- */

/* A view, bound and published when defined: its tests read it. */
static void
build_view(BuildStep *step)
{
	step->tested = RelPublished(step->model);
	if (!OidIsValid(step->tested))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("the published view %s of model \"%s\" is missing",
						quote_qualified_identifier(step->model->schema, step->model->name),
						step->model->name),
				 errhint("Define the model again with medallion_create_model to recreate it.")));
}

/* A table: a new candidate (or the one a worker built), read downstream. */
static void
build_table(BuildStep *step)
{
	Candidate  *maintained = NULL;

	if (OidIsValid(step->worker_candidate))
		step->candidate = BuildAdoptCandidate(step->model, step->bound->columns,
											  step->worker_candidate, step->worker_rows);
	else
	{
		/* a maintained model: from its input's deltas, or whole, and why */
		maintained = ChangesMaintainCandidate(step->model, step->bound, step->redirect_from,
											  step->redirect_to, step->change_aware);
		if (maintained != NULL && maintained->in_place)
		{
			/*
			 * Its rows are replaced in the published table already: the
			 * tests read it there, downstream reads it as it is, and a
			 * failure rolls the step back.  The version kept before is
			 * not the one replaced.
			 */
			PublishForgetPrevious(step->model);
			step->candidate = maintained;
			step->rows = maintained->rows;
			step->has_rows = true;
			step->replaces = false;
			step->tested = maintained->published;
			return;
		}
		else
		{
			/* the capture state before the build's first read, and after */
			char	   *before = maintained == NULL ? NULL : maintained->deltas != NULL ? maintained->deltas :
				ChangesMaintainState(maintained, step->redirect_from, step->redirect_to);
			char	   *after;

			/*
			 * A maintained build that turned whole may have read under its
			 * pinned snapshot already (its keys, its estimate): the snapshot
			 * stored must be the one this build reads the rows with, or the
			 * next build's delta would hold rows committed in between that
			 * the rows hold already, which the algebraic path would add a
			 * second time.
			 */
			if (maintained != NULL)
				BindCaptureRestart();
			step->candidate = BuildTableCandidate(step->model, step->bound, step->sql,
												  step->redirect_from, step->redirect_to, true, true);
			if (maintained != NULL)
			{
				after = ChangesMaintainState(maintained, step->redirect_from, step->redirect_to);
				step->candidate->method = maintained->method;
				step->candidate->maintain_plan = maintained->maintain_plan;
				step->candidate->deltas = before && after && strcmp(before, after) == 0 ? before : NULL;
			}
		}
	}
	step->rows = step->candidate->rows;
	step->has_rows = true;
	step->replaces = true;
	step->tested = step->candidate->candidate;
}

/* An incremental model: its delta, or a whole new table (first build, ...). */
static void
build_incremental(BuildStep *step)
{
	step->candidate = BuildIncrementalCandidate(step->model, step->bound, step->sql,
												step->redirect_from, step->redirect_to,
												step->full_refresh, step->stage,
												step->reads_remote);
	step->rows = step->candidate->rows;
	step->has_rows = true;
	step->replaces = !step->candidate->delta;
	step->tested = step->candidate->candidate;
}

/*
 * apply_incremental
 *		The delta, audited, goes into the published table now: nobody sees
 *		it before the run commits, and downstream models of the run read the
 *		new state.  The high-water mark commits with it; the staged batches
 *		of an extraction go with the run's commit too.
 */
static void
apply_incremental(BuildStep *step)
{
	ModelDef   *model = step->model;
	Candidate  *cand = step->candidate;

	if (cand->delta)
	{
		if (cand->rows == 0)
		{
			BuildDropCandidate(cand);
			step->up_to_date = true;
		}
		else
		{
			step->rows = BuildApplyDelta(cand);
			/* rows read again, all as published: nothing changed */
			step->up_to_date = step->rows == 0;
		}
	}
	if (model->watermark && !step->up_to_date)
		CatalogSetState(model->name, cand->watermark, cand->max_seen, step->run_id);
	else if (!model->watermark)
		CatalogSetState(model->name, NULL, NULL, step->run_id);
	/* what it read with, so that the next build reads what this one did not see */
	if (cand->snapshot != NULL)
		CatalogSetCapture(model->name, cand->snapshot, cand->capture, cand->previous_snapshot);
	if (OidIsValid(step->stage))
	{
		ExtractDropStage(step->stage);
		CatalogClearExtract(model->name);
	}
}

/* A snapshot: this run's changes, applied; its tests read the whole history. */
static void
build_snapshot(BuildStep *step)
{
	step->rows = BuildSnapshot(step->model, step->bound, step->sql, step->redirect_from,
							   step->redirect_to);
	step->has_rows = true;
	step->up_to_date = step->rows == 0;
	step->tested = RelPublished(step->model);
}

/* An ephemeral model: nothing to build; what reads it reads its binding. */
static void
build_ephemeral(BuildStep *step)
{
	step->tested = InvalidOid;
}
