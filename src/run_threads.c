/*-------------------------------------------------------------------------
 *
 * run_threads.c
 *	  A run's build workers (threads => n): which steps a worker may build
 *	  and why the run builds each other one itself, starting workers,
 *	  collecting what they built, stopping them and letting them go.  The
 *	  workers themselves are in run_workers.c.
 *
 * The run hands table models to background workers as soon as everything
 * they read is committed: published relations (views the run leaves as
 * they are, too), or candidates that workers of this run built and that
 * passed their tests.  Candidates the run builds itself are not committed,
 * so a model reading one is built by the run too; so are models too small
 * to pay for a worker (RunPlanWorkers).  The run takes the steps in plan
 * order: for a worker's step it waits for the worker, adopts the
 * candidate, tests it and publishes it with the rest, exactly as a
 * candidate of its own; while it waits, it builds later steps of its own
 * whose inputs are ready (step_ahead, run.c).  Progress is reported in
 * plan order.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "analyze.h"
#include "bind.h"
#include "build.h"
#include "catalog.h"
#include "changes.h"
#include "extract.h"
#include "graph.h"
#include "materialize.h"
#include "medallion.h"
#include "relation.h"
#include "run.h"
#include "run_workers.h"
#include "scale.h"
#include "scope.h"
#include "sqltext.h"
#include "subxact.h"

/*
 * Does everything node reads come committed?  Published relations do, and
 * candidates that workers of this run built; view and ephemeral models,
 * read through, when what they read does.
 */
bool
RunReadsCommitted(Run *run, int node)
{
	ListCell   *lc;

	foreach(lc, run->graph->nodes[node].upstream)
	{
		int			up = lfirst_int(lc);
		RunStep    *upstep = RunStepOfNode(run, up);
		if (run->graph->nodes[up].model->mat->reads_through)
		{
			if ((upstep != NULL && !STEP_BUILT(upstep->status)) || !RunReadsCommitted(run, up))
				return false;
		}
		else if (upstep != NULL && !(STEP_BUILT(upstep->status) && upstep->by_worker))
			return false;
		/* another owner's committed candidate: the run reads it (worker_readers) */
		else if (upstep != NULL &&
				 !has_privs_of_role(ModelOwnerId(run->graph->nodes[node].model),
									ModelOwnerId(upstep->model)))
			return false;
	}
	return true;
}

/*
 * materialization_in_run
 *		Why a model of this materialization is never built by a worker, or
 *		NULL when it may be.
 */
static const char *
materialization_in_run(ModelDef *model)
{
	switch (model->kind)
	{
		case MAT_VIEW:
			return "a view is replaced in the run's transaction";
		case MAT_EPHEMERAL:
			return "an ephemeral model has nothing to build";
		case MAT_INCREMENTAL:
			return "an incremental model changes its table in the run's transaction";
		case MAT_SNAPSHOT:
			return "a snapshot model changes its table in the run's transaction";
		case MAT_TABLE:
			break;
	}
	return NULL;
}

/*
 * maintained
 *		Is model a table model maintained from its inputs' deltas (its
 *		query in the class, its tables captured)?  Whether a build is
 *		maintained or rebuilt whole is only known when it starts.
 */
static bool
maintained(ModelDef *model)
{
	MaintainPlan plan;

	if (model->kind != MAT_TABLE || !OidIsValid(RelBinding(model->name)))
		return false;
	return ChangesMaintainPlan(model, BindLoad(model)->query, &plan) == NULL &&
		ChangesMaintainUncaptured(&plan, true) == NULL;
}

/* Is the step of graph node up one that first_read looks for? */
typedef bool (*ReadTest) (RunStep *upstep, int up, void *arg);

/*
 * first_read
 *		The first step of the run that node reads (through view and
 *		ephemeral models) for which test holds, or NULL.  by_node maps graph
 *		nodes to the run's steps.
 */
static RunStep *
first_read(Graph *graph, RunStep **by_node, int node, ReadTest test, void *arg)
{
	ListCell   *lc;

	foreach(lc, graph->nodes[node].upstream)
	{
		int			up = lfirst_int(lc);
		RunStep    *upstep = by_node[up];

		if (graph->nodes[up].model->mat->reads_through)
		{
			RunStep    *through = first_read(graph, by_node, up, test, arg);

			if (through != NULL)
				return through;
		}
		else if (upstep != NULL && test(upstep, up, arg))
			return upstep;
	}
	return NULL;
}

/*
 * A model of an owner the reader's owner (*arg) does not act for: a
 * worker's candidate is readable by its owner's roles only
 * (worker_readers), so the run builds such a reader itself.
 */
static bool
of_other_owner(RunStep *upstep, int up, void *arg)
{
	return !has_privs_of_role(*(Oid *) arg, ModelOwnerId(upstep->model));
}

/* A model this run builds itself. */
static bool
built_by_run(RunStep *upstep, int up, void *arg)
{
	return upstep->run_itself != NULL;
}

/*
 * A table model the run rebuilds whole (not maintained in it: arg, by
 * node).  A maintained model reading one is rebuilt whole when that one
 * is (its new storage is not logged), so a worker may as well build it.
 */
static bool
rebuilt_whole(RunStep *upstep, int up, void *arg)
{
	return upstep->model->kind == MAT_TABLE && !((bool *) arg)[up];
}

/* Mark node's upstream steps (through views) as needed by a worker. */
static void
mark_needed(Graph *graph, RunStep **by_node, bool *needed, int node)
{
	ListCell   *lc;

	foreach(lc, graph->nodes[node].upstream)
	{
		int			up = lfirst_int(lc);

		if (graph->nodes[up].model->mat->reads_through)
			mark_needed(graph, by_node, needed, up);
		else if (by_node[up] != NULL && !needed[up])
		{
			needed[up] = true;
			mark_needed(graph, by_node, needed, up);
		}
	}
}

/*
 * RunPlanWorkers
 *		Decide which steps of a run with workers may be built by a worker, and say why each other one is built by the run itself
 *		(step->run_itself).  A worker can only read what is committed, so
 *		a model that reads a table the run builds itself is built by the
 *		run too.  A worker costs a few milliseconds per model (its own
 *		transaction, moving the candidate, adopting it), and starting one
 *		tens of milliseconds: a model whose last build took less than
 *		medallion.worker_min_ms is built by the run, unless a larger model
 *		given to a worker reads it.  In a change-aware run (maintains), a
 *		maintained table model is built by the run: its rows are replaced
 *		in the published table, in the run's transaction (changes_apply.c);
 *		unless it reads a table model the run rebuilds whole, which makes
 *		it whole too (rebuilt_whole).
 */
void
RunPlanWorkers(Graph *graph, List *steps, bool workers, bool maintains)
{
	RunStep   **by_node = palloc0(sizeof(RunStep *) * graph->nnodes);
	bool	   *needed = palloc0(sizeof(bool) * graph->nnodes);
	bool	   *maintains_node = palloc0(sizeof(bool) * graph->nnodes);
	List	   *names = NIL;
	double	   *last_ms;
	ListCell   *lc;

	foreach(lc, steps)
		by_node[((RunStep *) lfirst(lc))->node] = lfirst(lc);

	/* what the model is, and what it reads */
	foreach(lc, steps)
	{
		RunStep    *step = lfirst(lc);
		const char *why = materialization_in_run(step->model);
		Oid			owner = ModelOwnerId(step->model);
		RunStep    *upstep;

		if (!workers)
			step->run_itself = pstrdup("threads => 1");
		else if (why != NULL)
			step->run_itself = pstrdup(why);
		else if (maintains && maintained(step->model) &&
				 first_read(graph, by_node, step->node, rebuilt_whole, maintains_node) == NULL)
		{
			maintains_node[step->node] = true;
			step->run_itself = pstrdup("a maintained model's rows are replaced in its table in the run's transaction");
		}
		else if (ScaleIsDistributed(RelPublished(step->model)))
			step->run_itself = pstrdup("a distributed model's candidate is created on the workers in the run's transaction");
		else if (!OidIsValid(RelPublished(step->model)))
			step->run_itself = pstrdup("its first build creates its table in the run's transaction");
		else if ((upstep = first_read(graph, by_node, step->node, built_by_run, NULL)) != NULL)
			step->run_itself = psprintf("it reads %s, which the run builds itself",
										upstep->model->name);
		else if ((upstep = first_read(graph, by_node, step->node, of_other_owner, &owner)) != NULL)
			step->run_itself = psprintf("it reads %s of role \"%s\", whose worker candidate only that owner's roles may read",
										upstep->model->name, upstep->model->owner);
	}
	if (!workers)
		return;

	/* large enough for a worker (or never built), or read by one that is */
	foreach(lc, steps)
		names = lappend(names, ((RunStep *) lfirst(lc))->model->name);
	last_ms = CatalogLastBuildMs(names);
	foreach(lc, steps)
	{
		RunStep    *step = lfirst(lc);
		double		ms = last_ms[foreach_current_index(lc)];

		if (step->run_itself == NULL && (ms < 0 || ms >= worker_min_ms))
			needed[step->node] = true;
	}
	for (int i = list_length(steps) - 1; i >= 0; i--)
	{
		RunStep    *step = list_nth(steps, i);

		if (step->run_itself == NULL && needed[step->node])
			mark_needed(graph, by_node, needed, step->node);
	}
	foreach(lc, steps)
	{
		RunStep    *step = lfirst(lc);
		RunStep    *upstep;

		if (step->run_itself != NULL)
			continue;
		if (!needed[step->node])
			step->run_itself = psprintf("its last build took %.0f ms, less than medallion.worker_min_ms (%d ms)",
										last_ms[foreach_current_index(lc)], worker_min_ms);
		else if ((upstep = first_read(graph, by_node, step->node, built_by_run, NULL)) != NULL)
			step->run_itself = psprintf("it reads %s, which the run builds itself",
										upstep->model->name);
	}
}

/*
 * worker_readers
 *		The roles that may read a worker's candidate of model once it is
 *		committed: the owners of the run's models that act for its owner and
 *		may read its published table.  Another owner's model reading it is
 *		built by the run itself (RunReadsCommitted), which grants it the
 *		candidate in the run's own transaction (RunGrantWorkerCandidates):
 *		a committed grant let that owner read rows its tests had not passed
 *		yet, and would never publish.
 */
static List *
worker_readers(Run *run, ModelDef *model)
{
	Oid			published = RelPublished(model);
	Oid			model_owner = ModelOwnerId(model);
	List	   *readers = NIL;
	ListCell   *lc;

	foreach(lc, run->steps)
	{
		Oid			owner = ModelOwnerId(((RunStep *) lfirst(lc))->model);

		if (has_privs_of_role(owner, model_owner) &&
			pg_class_aclcheck(published, owner, ACL_SELECT) == ACLCHECK_OK)
			readers = list_append_unique_oid(readers, owner);
	}
	return readers;
}

/*
 * RunGrantWorkerCandidates
 *		Before the run builds model itself: SELECT on each committed worker
 *		candidate it reads to its owner, when that owner may read the
 *		candidate's published table, in the run's transaction (no other
 *		session sees the grant; the candidate is published or dropped with
 *		it).
 */
void
RunGrantWorkerCandidates(Run *run, ModelDef *model)
{
	Oid			owner = ModelOwnerId(model);
	ListCell   *lc;

	foreach(lc, run->steps)
	{
		RunStep    *up = lfirst(lc);
		Oid			published;

		if (!up->by_worker || !OidIsValid(up->worker_candidate) || up->model == model)
			continue;
		published = RelPublished(up->model);
		if (!OidIsValid(published) ||
			pg_class_aclcheck(up->worker_candidate, owner, ACL_SELECT) == ACLCHECK_OK ||
			pg_class_aclcheck(published, owner, ACL_SELECT) != ACLCHECK_OK)
			continue;
		{
			CatalogSession session;

			CatalogEnter(&session);
			if (SPI_execute(psprintf("GRANT SELECT ON %s TO %s", SqlRelationName(up->worker_candidate),
									 quote_identifier(GetUserNameFromId(owner, false))),
							false, 0) != SPI_OK_UTILITY)
				elog(ERROR, "could not grant the candidate of model \"%s\"", up->model->name);
			CatalogLeave(&session);
			CommandCounterIncrement();
		}
	}
}

/* SubxactWork: the change check of a step, before a worker builds it. */
typedef struct PreCheck
{
	Run		   *run;
	RunStep    *step;
} PreCheck;

static void
pre_check_work(void *arg)
{
	PreCheck   *pre = (PreCheck *) arg;
	MemoryContext old = MemoryContextSwitchTo(pre->run->context);

	pre->step->pre_check = pre->run->changed_only && !pre->run->full_refresh ?
		ChangesCheck(pre->step->model, BindLoad(pre->step->model)->query) :
		ChangesInputs(pre->step->model);
	MemoryContextSwitchTo(old);
}

/*
 * RunStartWorkers
 *		Start a worker for each pending table model that can be built
 *		outside the run's transaction, up to the run's threads.  When no
 *		worker slot is free the run builds the model itself.
 */
void
RunStartWorkers(Run *run)
{
	ListCell   *lc;
	MemoryContext old;

	foreach(lc, run->steps)
	{
		RunStep    *step = lfirst(lc);

		if (run->nworkers >= run->threads || run->cancelled)
			return;
		if (step->status != STEP_PENDING || step->worker != NULL || step->by_worker ||
			step->worker_failed || step->run_itself != NULL || !step->model->mat->worker_ok ||
			!OidIsValid(RelPublished(step->model)) ||
			!RunReadsCommitted(run, step->node))
			continue;

		/*
		 * Change-aware: checked here, before the worker reads anything, so
		 * that the snapshot stored with its build is one its reads saw at
		 * least; a model that is up to date is not given to a worker at
		 * all (build_model, run_step.c, takes the check).
		 */
		if (run->tracking)
		{
			if (step->pre_check == NULL)
			{
				PreCheck	pre = {run, step};
				ErrorData  *edata = SubxactRun(pre_check_work, &pre, true);

				if (edata != NULL)
				{
					/*
					 * A probe that failed (a refused connection, a renamed
					 * remote column): the run builds the model itself, in
					 * its own step, where the same error fails that model
					 * only.
					 */
					old = MemoryContextSwitchTo(run->context);
					step->run_itself = psprintf("its change check failed: %s", edata->message);
					MemoryContextSwitchTo(old);
					FreeErrorData(edata);
					continue;
				}
			}
			if (run->changed_only && !run->full_refresh && step->pre_check->reason == NULL)
				continue;
		}
		LedgerStart(run, NULL);
		old = MemoryContextSwitchTo(run->context);
		step->worker = WorkerStartBuild(&run->idle_workers, run->run_id, step->model->name,
										step->model->version, ModelTimeoutMs(step->model),
										run->snapshot, run->redirect_from, run->redirect_to,
										worker_readers(run, step->model));
		MemoryContextSwitchTo(old);
		if (step->worker == NULL)
			return;
		step->started_at = GetCurrentTimestamp();
		step->in_worker = true;
		run->nworkers++;
	}
}

/*
 * RunCollectWorker
 *		Wait for the worker building step (a cancel interrupts the wait) and
 *		take its outcome: the candidate to adopt, or its error, raised here
 *		with the worker's SQLSTATE.  A model the worker hands back (its
 *		columns change) is built by the run.
 */
void
RunCollectWorker(Run *run, RunStep *step)
{
	Oid			candidate;
	int64		rows;
	char	   *read_with;
	int			sqlerrcode;
	char	   *message;
	bool		timed_out;

	WorkerWaitBuild(step->worker);
	if (WorkerBuildResult(step->worker, true, &candidate, &rows, &read_with, &sqlerrcode, &message,
						  &timed_out))
	{
		/* the worker waits for the run's next model */
		MemoryContext old = MemoryContextSwitchTo(run->context);

		run->idle_workers = lappend(run->idle_workers, step->worker);
		MemoryContextSwitchTo(old);
		step->by_worker = true;
		step->worker_candidate = candidate;
		step->worker_rows = rows;
		step->worker_read_with = read_with ? pstrdup(read_with) : NULL;
	}
	step->worker = NULL;
	run->nworkers--;
	if (step->by_worker)
		return;
	if (sqlerrcode == ERRCODE_MEDALLION_RUN_ITSELF)
	{
		step->in_worker = false;
		return;
	}
	step->worker_failed = true;
	if (timed_out)
		step->worker_timed_out = true;
	if (ERRCODE_TO_CATEGORY(sqlerrcode) == ERRCODE_CONNECTION_EXCEPTION ||
		ERRCODE_TO_CATEGORY(sqlerrcode) == ERRCODE_FDW_ERROR)
	{
		/* what retry_step needs to know: the sources this model reads */
		AnalyzedModel *bound = BindLoad(step->model);
		MemoryContext old = MemoryContextSwitchTo(run->context);

		step->remote_schemas = ExtractForeignSchemas(bound->query);
		MemoryContextSwitchTo(old);
	}
	ereport(ERROR,
			(errcode(sqlerrcode),
			 errmsg("%s", message),
			 errcontext("build worker of model \"%s\"", step->model->name)));
}

/* Stop the workers still building (the run was cancelled or failed). */
void
RunStopWorkers(Run *run)
{
	ListCell   *lc;

	foreach(lc, run->steps)
	{
		RunStep    *step = lfirst(lc);

		if (step->worker != NULL)
			RunStopWorker(run, step);
	}
}

/* Stop the worker building step; its candidate, if committed, goes later. */
void
RunStopWorker(Run *run, RunStep *step)
{
	WorkerStopBuild(step->worker);
	step->worker = NULL;
	run->nworkers--;
}

/*
 * RunDropWorkerCandidate
 *		Drop the committed candidate of a step that failed after a worker
 *		built it (its tests failed).  It goes when the run commits; if the
 *		run rolls back, the next run drops it.
 */
void
RunDropWorkerCandidate(RunStep *step)
{
	Candidate	cand = {0};

	cand.candidate = step->worker_candidate;
	BuildDropCandidate(&cand);
	step->worker_candidate = InvalidOid;
}

/* Let the run's idle workers go. */
void
RunReleaseWorkers(Run *run)
{
	MemoryContext old = MemoryContextSwitchTo(run->context);

	WorkerRelease(run->idle_workers);
	run->released_workers = list_concat(run->released_workers, run->idle_workers);
	run->idle_workers = NIL;
	MemoryContextSwitchTo(old);
}
