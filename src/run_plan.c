/*-------------------------------------------------------------------------
 *
 * run_plan.c
 *	  The plan a run follows: its steps from the selector, in plan order
 *	  (RunPlanSteps), and medallion_plan, which shows it without running:
 *	  each step's wave and inputs, whether a worker would build it, and
 *	  why a change-aware run would build it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/tuplestore.h"

#include "bind.h"
#include "catalog.h"
#include "changes.h"
#include "graph.h"
#include "model.h"
#include "relation.h"
#include "run.h"
#include "scope.h"
#include "sqltext.h"

PG_FUNCTION_INFO_V1(medallion_plan);

/* medallion.changed_only (RunInit): runs skip the models that did not change */
bool		run_changed_only = true;

/*
 * RunPlanSteps
 *		Fill run->steps from its selector; false (with a NOTICE) when it
 *		selects nothing.
 */
bool
RunPlanSteps(Run *run)
{
	bool	   *selected;
	List	   *plan;
	ListCell   *lc;

	run->graph = GraphLoad(ModelListFresh(), true);
	selected = GraphSelect(run->graph, run->selector, run->exclude);
	plan = GraphPlan(run->graph, selected);
	if (plan == NIL)
	{
		ereport(NOTICE,
				(errmsg("nothing to run: selector \"%s\" selects no enabled model", run->selector)));
		return false;
	}
	foreach(lc, plan)
	{
		PlanStep   *ps = lfirst(lc);
		RunStep    *step = palloc0(sizeof(RunStep));

		step->stepno = foreach_current_index(lc) + 1;
		step->wave = ps->wave;
		step->node = ps->node;
		step->model = run->graph->nodes[ps->node].model;
		run->steps = lappend(run->steps, step);
	}
	/*
	 * The run builds what its models were bound to when it planned: like a
	 * query reading a view, it holds their bindings, and a redefinition
	 * waits for it to end.
	 */
	foreach(lc, run->steps)
	{
		Oid			binding = RelBinding(((RunStep *) lfirst(lc))->model->name);

		if (OidIsValid(binding))
			LockRelationOid(binding, AccessShareLock);
	}
	run->sources = CatalogListSources();
	return true;
}

/*
 * plan_why
 *		Why a change-aware run of the plan would build the model of node
 *		(builds says which models before it in the plan would), or NULL
 *		when it would not.
 */
static const char *
plan_why(Graph *graph, GraphNode *node, bool *builds)
{
	ModelDef   *model = node->model;
	ChangeCheck *check;
	ListCell   *lc;

	if (model->kind == MAT_EPHEMERAL)
		return NULL;
	if (!run_changed_only)
		return "medallion.changed_only is off";
	check = ChangesCheck(model, BindLoad(model)->query);
	if (check->reason != NULL)
		return check->reason;
	if (model->kind == MAT_VIEW)
		return NULL;
	foreach(lc, node->upstream)
	{
		if (builds[lfirst_int(lc)])
			return psprintf("input model %s builds first, and may change",
							graph->nodes[lfirst_int(lc)].model->name);
	}
	return NULL;
}

/* Does what node reads change in the plan (builds), through views and ephemeral models? */
static bool
plan_changes(Graph *graph, GraphNode *node, bool *builds, const char *why)
{
	ListCell   *lc;

	if (why != NULL && node->model->kind != MAT_VIEW)
		return true;
	if (node->model->kind != MAT_VIEW && node->model->kind != MAT_EPHEMERAL)
		return false;
	foreach(lc, node->upstream)
	{
		if (builds[lfirst_int(lc)])
			return true;
	}
	return false;
}

/*
 * medallion_plan(selector) returns (step, wave, model, layer, materialized,
 * depends_on): what a run of the selector builds, in order.
 */
Datum
medallion_plan(PG_FUNCTION_ARGS)
{
	char	   *selector;
	/* the 0.1.0 definition, before ALTER EXTENSION UPDATE, has no threads */
	int			threads = PG_NARGS() > 1 && !PG_ARGISNULL(1) ? PG_GETARG_INT32(1) : 1;
	/* nor the one before 0.3.0 exclude */
	char	   *exclude = PG_NARGS() > 2 && !PG_ARGISNULL(2) ?
		text_to_cstring(PG_GETARG_TEXT_PP(2)) : NULL;
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Graph	   *graph;
	List	   *steps = NIL;
	ListCell   *lc;
	bool	   *builds;
	const char *why;

	if (PG_ARGISNULL(0) || (PG_NARGS() > 1 && PG_ARGISNULL(1)))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the selector and threads of medallion_plan must not be NULL"),
				 errhint("Select every model with 'all'.")));
	selector = text_to_cstring(PG_GETARG_TEXT_PP(0));
	if (threads < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("threads must be at least 1"),
				 errhint("The plan says which models a run with that many threads gives to background workers.")));
	CatalogRequireAdmin("plan runs");
	InitMaterializedSRF(fcinfo, 0);
	graph = GraphLoad(ModelListFresh(), true);
	foreach(lc, GraphPlan(graph, GraphSelect(graph, selector, exclude)))
	{
		PlanStep   *ps = lfirst(lc);
		RunStep    *step = palloc0(sizeof(RunStep));

		step->stepno = foreach_current_index(lc) + 1;
		step->wave = ps->wave;
		step->node = ps->node;
		step->model = graph->nodes[ps->node].model;
		steps = lappend(steps, step);
	}
	RunPlanWorkers(graph, steps, threads > 1);
	builds = palloc0(sizeof(bool) * graph->nnodes);
	foreach(lc, steps)
	{
		RunStep    *step = lfirst(lc);
		GraphNode  *node = &graph->nodes[step->node];
		Datum		values[10];
		bool		nulls[10] = {false};
		List	   *deps = NIL;
		ListCell   *lu;

		foreach(lu, node->upstream)
			deps = lappend(deps, graph->nodes[lfirst_int(lu)].model->name);
		list_sort(deps, SqlCompareNames);
		values[0] = Int32GetDatum(step->stepno);
		values[1] = Int32GetDatum(step->wave);
		values[2] = CStringGetTextDatum(node->model->name);
		values[3] = CStringGetTextDatum(node->model->layer);
		values[4] = CStringGetTextDatum(node->model->materialized);
		values[5] = ListToTextArray(deps);
		values[6] = BoolGetDatum(step->run_itself == NULL);
		if (step->run_itself != NULL)
			values[7] = CStringGetTextDatum(step->run_itself);
		else
			nulls[7] = true;
		/* before ALTER EXTENSION UPDATE to 0.2.0 there is no change tracking */
		if (rsinfo->setDesc->natts < 10)
			why = NULL;
		else if (IsTransactionBlock() && !has_privs_of_role(GetUserId(), ModelOwnerId(node->model)))
		{
			/*
			 * Checking reads the model's binding, locked to the end of the
			 * transaction: not for another owner's model inside a block
			 * (as medallion_run and medallion_test refuse it).
			 */
			why = "not checked: another owner's model, inside a transaction block";
		}
		else
			why = plan_why(graph, node, builds);
		builds[step->node] = plan_changes(graph, node, builds, why);
		values[8] = BoolGetDatum(why != NULL);
		values[9] = why ? CStringGetTextDatum(why) : (Datum) 0;
		nulls[9] = why == NULL;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	RunHoldOthersBriefly(steps, true);
	PG_RETURN_VOID();
}
