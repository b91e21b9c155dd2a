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
#include "tests.h"

PG_FUNCTION_INFO_V1(medallion_plan);

/* medallion.changed_only (RunInit): runs skip the models that did not change */
bool		run_changed_only = true;

/* ----------------------------------------------------------------
 * Deferred tests
 *
 * A relationships or sql test reads other relations than its model's.  When
 * one of them is a model built from the tested one in this run (a test of
 * order_items referring to orders, which reads order_items), the test
 * cannot run with its model's step: the model it reads is not built yet,
 * and would fail every row.  It is deferred: the run evaluates it once
 * every model it waits for was taken, reading their candidates (run.c).
 * Its failure must undo what was built since its model's step, including
 * what incremental and snapshot models applied in place: the steps from
 * its model's to the last it waits for are built inside one savepoint, a
 * span.  A span holds only those models and the models built from them,
 * so that rolling it back undoes nothing else: the plan moves the steps in
 * between that are independent of them before the span (they never read
 * what the span builds, so the order stays a dependency order).  Spans
 * that would overlap are one span.
 * ---------------------------------------------------------------- */

/* Mark in marks the models of the plan (by_node) built from node. */
static void
mark_built_from(Graph *graph, RunStep **by_node, int node, bool *marks)
{
	ListCell   *lc;

	check_stack_depth();
	foreach(lc, graph->nodes[node].downstream)
	{
		int			down = lfirst_int(lc);

		if (by_node[down] != NULL && !marks[down])
		{
			marks[down] = true;
			mark_built_from(graph, by_node, down, marks);
		}
	}
}

/*
 * find_deferred
 *		Fill step->deferred with the tests of its model that read a model of
 *		the plan built from it.  published caches the published relation of
 *		each node (InvalidOid: not looked up yet).
 */
static void
find_deferred(Graph *graph, RunStep **by_node, RunStep *step, Oid *published)
{
	bool	   *built_from = palloc0(sizeof(bool) * (graph->nnodes + 1));
	bool		any = false;
	ListCell   *lc;

	mark_built_from(graph, by_node, step->node, built_from);
	for (int i = 0; i < graph->nnodes && !any; i++)
		any = built_from[i];
	if (!any)
		return;
	foreach(lc, CatalogListTests(step->model->name))
	{
		TestDef    *test = lfirst(lc);
		DeferredTest *deferred;
		StringInfoData after;
		List	   *waits = NIL;
		ListCell   *lr;

		foreach(lr, TestsReadRelations(step->model, test))
		{
			for (int i = 0; i < graph->nnodes; i++)
			{
				if (!built_from[i])
					continue;
				if (!OidIsValid(published[i]))
					published[i] = RelPublished(graph->nodes[i].model);
				if (published[i] == lfirst_oid(lr))
					waits = list_append_unique_int(waits, i);
			}
		}
		if (waits == NIL)
			continue;
		initStringInfo(&after);
		foreach(lr, waits)
			appendStringInfo(&after, "%s%s", foreach_current_index(lr) > 0 ? ", " : "",
							 graph->nodes[lfirst_int(lr)].model->name);
		deferred = palloc0(sizeof(DeferredTest));
		deferred->test = test;
		deferred->waits = waits;
		deferred->after = after.data;
		step->deferred = lappend(step->deferred, deferred);
		step->deferred_names = lappend(step->deferred_names, makeString(test->name));
	}
}

/* The last position in order (of n steps) of a model the deferred tests of step wait for. */
static int
last_wait(RunStep **order, int n, RunStep *step)
{
	int			last = 0;
	ListCell   *lc;
	ListCell   *lw;

	foreach(lc, step->deferred)
	{
		foreach(lw, ((DeferredTest *) lfirst(lc))->waits)
		{
			for (int i = 0; i < n; i++)
			{
				if (order[i]->node == lfirst_int(lw))
					last = Max(last, i);
			}
		}
	}
	return last;
}

/* Does a step read, or wait for, a model marked in members? */
static bool
follows_member(GraphNode *node, bool *members)
{
	ListCell   *lc;

	foreach(lc, node->upstream)
	{
		if (members[lfirst_int(lc)])
			return true;
	}
	foreach(lc, node->after)
	{
		if (members[lfirst_int(lc)])
			return true;
	}
	return false;
}

/*
 * RunPlanDeferred
 *		Find the deferred tests of the steps (of graph, in plan order), give
 *		each span its number and its steps consecutive places, and number
 *		the steps again.  Returns the steps in their new order.
 */
List *
RunPlanDeferred(Graph *graph, List *steps)
{
	int			n = list_length(steps);
	RunStep   **order = palloc(sizeof(RunStep *) * (n + 1));
	RunStep   **by_node = palloc0(sizeof(RunStep *) * (graph->nnodes + 1));
	Oid		   *published = palloc0(sizeof(Oid) * (graph->nnodes + 1));
	RunStep   **part = palloc(sizeof(RunStep *) * (n + 1));
	List	   *testing;
	List	   *result = NIL;
	int			spans = 0;
	int			i;
	ListCell   *lc;

	foreach(lc, steps)
	{
		order[foreach_current_index(lc)] = lfirst(lc);
		by_node[((RunStep *) lfirst(lc))->node] = lfirst(lc);
	}
	testing = CatalogModelsTestingOthers();
	for (i = 0; i < n; i++)
	{
		ListCell   *lt;

		foreach(lt, testing)
		{
			if (strcmp(lfirst(lt), order[i]->model->name) == 0)
				find_deferred(graph, by_node, order[i], published);
		}
	}

	i = 0;
	while (i < n)
	{
		bool	   *members;
		int			end;
		int			m = 0;

		if (order[i]->deferred == NIL)
		{
			i++;
			continue;
		}
		/* the span: its first step, what is built from it up to the last wait */
		members = palloc0(sizeof(bool) * (graph->nnodes + 1));
		members[order[i]->node] = true;
		end = last_wait(order, n, order[i]);
		for (int j = i + 1; j <= end; j++)
		{
			if (order[j]->deferred != NIL || follows_member(&graph->nodes[order[j]->node], members))
			{
				members[order[j]->node] = true;
				end = Max(end, last_wait(order, n, order[j]));
			}
		}
		/* independent steps first, then the span's */
		for (int j = i; j <= end; j++)
		{
			if (!members[order[j]->node])
				part[m++] = order[j];
		}
		for (int j = i; j <= end; j++)
		{
			if (members[order[j]->node])
			{
				part[m++] = order[j];
				order[j]->span = spans + 1;
			}
		}
		spans++;
		memcpy(&order[i], part, sizeof(RunStep *) * m);
		i += m;
	}
	for (i = 0; i < n; i++)
	{
		order[i]->stepno = i + 1;
		result = lappend(result, order[i]);
	}
	return result;
}

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
	run->steps = RunPlanDeferred(run->graph, run->steps);
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

/*
 * plan_maintain
 *		How a change-aware run brings a table model up to date: "incremental:
 *		..." or "full: why" (changes_maintain.c).
 */
static char *
plan_maintain(ModelDef *model)
{
	MaintainPlan plan;
	const char *why = ChangesMaintainPlan(model, BindLoad(model)->query, &plan);

	if (why == NULL)
		why = ChangesMaintainUncaptured(&plan, true);
	if (why != NULL)
		return psprintf("full: %s", why);
	if (plan.key_kind == MAINTAIN_KEY_UNION)
		return psprintf("incremental: the rows of the keys its tables' changes touch, in every UNION ALL branch (%s)",
						SqlNameList(plan.keys));
	if (plan.grouped)
	{
		const char *unit = plan.key_kind == MAINTAIN_KEY_ROW ? "distinct rows" :
			plan.key_kind == MAINTAIN_KEY_PARTITION ? "partitions" : "groups";
		const char *by = plan.key_kind == MAINTAIN_KEY_ROW ? "DISTINCT" :
			plan.key_kind == MAINTAIN_KEY_PARTITION ? "PARTITION BY" : "GROUP BY";

		const char *added = plan.combine == NIL ? "" : plan.subtract ?
			"; the changes of one table added to (or taken from) their groups" :
			"; new rows of one table added to their groups";

		if (OidIsValid(plan.driving))
			return psprintf("incremental: the %s of %s its changes touch (%s %s)%s", unit,
							SqlRelationName(plan.driving), by, SqlNameList(plan.keys), added);
		return psprintf("incremental: the %s its tables' changes touch, through the join (%s %s%s)%s",
						unit, by, plan.left_keys ? "columns of the left side of its LEFT JOINs: " : "",
						SqlNameList(plan.keys), added);
	}
	return psprintf("incremental: the rows of the keys of %s its tables' changes touch (%s)",
					SqlRelationName(plan.driving), SqlNameList(plan.keys));
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
 * plan_tests
 *		When each test of a step's model runs, as a List of char *: "<test>:
 *		with the model" (against what its step builds), "<test>: after
 *		orders" (deferred), "<test>: unit test" (medallion_test with unit
 *		=> true runs it, on given rows).
 */
static List *
plan_tests(RunStep *step)
{
	List	   *lines = NIL;
	ListCell   *lc;

	foreach(lc, CatalogListTests(step->model->name))
	{
		TestDef    *test = lfirst(lc);
		const char *when = "with the model";
		ListCell   *ld;

		foreach(ld, step->deferred)
		{
			DeferredTest *deferred = lfirst(ld);

			if (strcmp(deferred->test->name, test->name) == 0)
				when = psprintf("after %s", deferred->after);
		}
		lines = lappend(lines, psprintf("%s: %s", test->name, when));
	}
	foreach(lc, CatalogListUnitTests(step->model->name))
		lines = lappend(lines, psprintf("%s: unit test", ((UnitTestDef *) lfirst(lc))->name));
	return lines;
}

/*
 * medallion_plan(selector, threads, exclude) returns (step, wave, model,
 * layer, materialized, depends_on, worker, reason, build, why, tests):
 * what a run of the selector builds, in order, and when each model's
 * tests run.
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
	steps = RunPlanDeferred(graph, steps);
	RunPlanWorkers(graph, steps, threads > 1, true);
	builds = palloc0(sizeof(bool) * graph->nnodes);
	foreach(lc, steps)
	{
		RunStep    *step = lfirst(lc);
		GraphNode  *node = &graph->nodes[step->node];
		Datum		values[12];
		bool		nulls[12] = {false};
		bool		unchecked = false;
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
		else if ((unchecked = IsTransactionBlock() &&
				  !has_privs_of_role(GetUserId(), ModelOwnerId(node->model))))
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
		/* 0.3.0 says when each test runs */
		if (rsinfo->setDesc->natts > 10)
			values[10] = ListToTextArray(plan_tests(step));
		/* the maintained table models (0.3.0 on) */
		if (rsinfo->setDesc->natts > 11)
		{
			/* not for another owner's model inside a block: it reads its binding */
			nulls[11] = node->model->kind != MAT_TABLE || !CatalogHasDeltas() || unchecked;
			if (!nulls[11])
				values[11] = CStringGetTextDatum(plan_maintain(node->model));
		}
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	RunHoldOthersBriefly(steps, true);
	PG_RETURN_VOID();
}
