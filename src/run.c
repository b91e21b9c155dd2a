/*-------------------------------------------------------------------------
 *
 * run.c
 *	  Runs, their entry points: medallion_plan (what a run would do),
 *	  medallion_run, medallion_test (the tests of what is published) and
 *	  medallion_rollback.  The plan, run locks, building in order (with
 *	  workers, run_workers.c), progress, publishing; the ledger is in
 *	  run_ledger.c.
 *
 * A run has two phases, both in the caller's transaction:
 *
 * 1. Build.  In plan order, each selected model is built as its owner,
 *	  under SECURITY_RESTRICTED_OPERATION, search_path "pg_catalog, pg_temp"
 *	  and its statement_timeout, inside a subtransaction of its own, from
 *	  its binding (the query bound when it was defined, bind.c): a table
 *	  model into a candidate heap (build_candidate.c).  Reads of upstream
 *	  tables built earlier in the run are redirected to their candidates,
 *	  through views too, so the whole run reads one new state; view
 *	  models, bound and published when they are defined, only have their
 *	  tests run.  A failing model is rolled back, recorded with its
 *	  SQLSTATE, and its downstream skipped; independent models go on.
 *
 * 2. Publish.  Every table model that built is published in one burst: the
 *	  published tables are locked (with retries, so BI readers are never
 *	  given an error) and their storage swapped.  All of it becomes visible
 *	  when the caller commits, at once.
 *
 * Build and publish run inside one more subtransaction: a cancel, or an
 * error while publishing, rolls back everything the run did, then the
 * ledger is written and the error raised again.
 *
 * Locks: each selected model's run lock (a transaction advisory lock on
 * the model name) is taken up front in name order, so two runs never build
 * the same model at once and cannot deadlock on each other; with
 * on_conflict => 'skip' a model another run holds is skipped instead.
 *
 * The ledger (medallion.runs, medallion.run_models) is written through the
 * ledger worker (run_ledger.c), in transactions of its own: the start
 * before anything is built, the outcome at the end, whatever happened.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "common/hashfn.h"
#include "catalog/pg_statistic.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "storage/latch.h"
#include "storage/lmgr.h"
#include "storage/proc.h"
#include "storage/lock.h"
#include "tcop/tcopprot.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/catcache.h"
#include "utils/guc.h"
#include "utils/json.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/ruleutils.h"
#include "utils/snapmgr.h"
#include "utils/timeout.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"
#include "utils/wait_event.h"

#include "analyze.h"
#include "medallion.h"
#include "relation.h"
#include "scope.h"
#include "sqltext.h"
#include "tests.h"
#include "bind.h"
#include "build.h"
#include "changes.h"
#include "extract.h"
#include "publish.h"
#include "catalog.h"
#include "graph.h"
#include "materialize.h"
#include "model.h"
#include "run.h"
#include "scale.h"
#include "subxact.h"
#include "run_workers.h"

PG_FUNCTION_INFO_V1(medallion_run);
PG_FUNCTION_INFO_V1(medallion_rollback);
PG_FUNCTION_INFO_V1(medallion_test);
PG_FUNCTION_INFO_V1(medallion_plan);

static bool run_log_timing = true;
static bool run_changed_only = true;

/*
 * RunInit
 *		Define this module's configuration parameters.
 */
void
RunInit(void)
{
	DefineCustomBoolVariable("medallion.log_timing",
							 "Shows durations in the progress messages of runs.",
							 "Turn it off for output that does not vary between runs.",
							 &run_log_timing, true, PGC_USERSET, 0,
							 NULL, NULL, NULL);
	DefineCustomBoolVariable("medallion.changed_only",
							 "Runs skip the models whose definition and inputs did not change since their last build.",
							 "medallion_run(changed_only => ...) overrides it for one run; full_refresh builds everything.",
							 &run_changed_only, true, PGC_USERSET, 0,
							 NULL, NULL, NULL);
}

/* 19820 -> "19,820" */
static char *
format_count(int64 n)
{
	char		digits[32];
	StringInfoData buf;
	int			len;

	snprintf(digits, sizeof(digits), INT64_FORMAT, n < 0 ? -n : n);
	len = strlen(digits);
	initStringInfo(&buf);
	if (n < 0)
		appendStringInfoChar(&buf, '-');
	for (int i = 0; i < len; i++)
	{
		if (i > 0 && (len - i) % 3 == 0)
			appendStringInfoChar(&buf, ',');
		appendStringInfoChar(&buf, digits[i]);
	}
	return buf.data;
}

static char *
format_ms(double ms)
{
	return run_log_timing ? psprintf(" in %s ms", format_count((int64) (ms + 0.5))) : "";
}



/* ----------------------------------------------------------------
 * Building
 * ---------------------------------------------------------------- */

/*
 * step_report
 *		The progress lines of a step that was taken, in the caller's memory
 *		context: emitted in plan order, whatever order the steps were
 *		built in.
 */
static List *
step_report(Run *run, RunStep *step)
{
	List	   *lines = NIL;
	const char *what = quote_qualified_identifier(step->model->schema, step->model->name);
	const char *prefix = psprintf("[%d/%d]", step->stepno, list_length(run->steps));

	switch (step->status)
	{
		case STEP_UP_TO_DATE:
			if (step->unchanged_since > 0)
				lines = lappend(lines, psprintf("%s UP TO DATE %s %s: inputs unchanged since run %lld%s",
												prefix, what, step->model->materialized,
												(long long) step->unchanged_since, format_ms(step->ms)));
			else
				lines = lappend(lines, psprintf("%s UP TO DATE %s %s: no new rows%s", prefix, what,
												step->model->materialized, format_ms(step->ms)));
			break;
		case STEP_SUCCESS:
			if ((step->candidate != NULL && step->candidate->delta) ||
				step->model->kind == MAT_SNAPSHOT)
				lines = lappend(lines, psprintf("%s OK %s %s %s new or changed rows%s%s%s%s", prefix, what,
												step->model->materialized, format_count(step->rows),
												step->candidate && step->candidate->full_reason ? " (" : "",
												step->candidate && step->candidate->full_reason ?
												step->candidate->full_reason : "",
												step->candidate && step->candidate->full_reason ? ")" : "",
												format_ms(step->ms)));
			else if (step->candidate != NULL && step->candidate->full_reason)
				lines = lappend(lines, psprintf("%s OK %s %s %s rows (%s)%s", prefix, what,
												step->model->materialized, format_count(step->rows),
												step->candidate->full_reason, format_ms(step->ms)));
			else if (step->model->kind == MAT_EPHEMERAL)
				lines = lappend(lines, psprintf("%s OK %s ephemeral (read through its binding by what reads it)",
												prefix, step->model->name));
			else if (step->has_rows)
				lines = lappend(lines, psprintf("%s OK %s %s %s row%s%s", prefix, what,
												step->model->materialized, format_count(step->rows),
												step->rows == 1 ? "" : "s", format_ms(step->ms)));
			else
				lines = lappend(lines, psprintf("%s OK %s %s%s", prefix, what, step->model->materialized,
												format_ms(step->ms)));
			break;
		case STEP_FAILED:
		case STEP_CANCELLED:
			lines = lappend(lines, psprintf("%s %s %s %s%s: %s", prefix,
											step->status == STEP_FAILED ? "ERROR" : "CANCELLED", what,
											step->model->materialized, format_ms(step->ms), step->message));
			break;
		case STEP_SKIPPED:
			lines = lappend(lines, psprintf("%s SKIP %s %s: %s", prefix, what, step->model->materialized,
											step->message));
			break;
		case STEP_PENDING:
			break;
	}
	if (step->tests != NULL)
	{
		ListCell   *lc;

		foreach(lc, step->tests->results)
		{
			TestResult *result = lfirst(lc);

			if (strcmp(result->status, "error") == 0)
				lines = lappend(lines, psprintf("    ERROR test %s: %s", result->test->name, result->message));
			else if (strcmp(result->status, "pass") != 0)
				lines = lappend(lines, psprintf("    %s test %s: %s failure%s%s",
												strcmp(result->status, "warn") == 0 ? "WARN" : "FAIL",
												result->test->name, format_count(result->failures),
												result->failures == 1 ? "" : "s",
												strcmp(result->status, "fail") == 0 && !result->test->blocking ?
												" (not blocking)" : ""));
		}
	}
	return lines;
}

/* The step of a graph node in this run, or NULL. */
static RunStep *
step_of_node(Run *run, int node)
{
	ListCell   *lc;

	foreach(lc, run->steps)
	{
		RunStep    *step = lfirst(lc);

		if (step->node == node)
			return step;
	}
	return NULL;
}

/* ----------------------------------------------------------------
 * Build workers (threads => n)
 *
 * The run hands table models to background workers as soon as everything
 * they read is committed: published relations (views the run leaves as
 * they are, too), or candidates that workers of this run built and that
 * passed their tests.  Candidates the run builds itself are not committed,
 * so a model reading one is built by the run too; so are models too small
 * to pay for a worker (plan_workers).  The run takes the steps in plan
 * order: for a worker's step it waits for the worker, adopts the
 * candidate, tests it and publishes it with the rest, exactly as a
 * candidate of its own; while it waits, it builds later steps of its own
 * whose inputs are ready (step_ahead).  Progress is reported in plan order.
 * ---------------------------------------------------------------- */

/*
 * Does everything node reads come committed?  Published relations do, and
 * candidates that workers of this run built; view and ephemeral models,
 * read through, when what they read does.
 */
static bool
reads_committed(Run *run, int node)
{
	ListCell   *lc;

	foreach(lc, run->graph->nodes[node].upstream)
	{
		int			up = lfirst_int(lc);
		RunStep    *upstep = step_of_node(run, up);
		if (run->graph->nodes[up].model->mat->reads_through)
		{
			if ((upstep != NULL && !STEP_BUILT(upstep->status)) || !reads_committed(run, up))
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
 * reads_other_owner
 *		The step of a table model node reads (through view and ephemeral
 *		models) whose owner the node's owner does not act for, or NULL: a
 *		worker's candidate is readable by its owner's roles only
 *		(worker_readers), so the run builds such a reader itself.
 */
static RunStep *
reads_other_owner(Graph *graph, RunStep **by_node, int node, Oid owner)
{
	ListCell   *lc;

	foreach(lc, graph->nodes[node].upstream)
	{
		int			up = lfirst_int(lc);
		RunStep    *upstep = by_node[up];

		if (graph->nodes[up].model->mat->reads_through)
		{
			RunStep    *through = reads_other_owner(graph, by_node, up, owner);

			if (through != NULL)
				return through;
		}
		else if (upstep != NULL && !has_privs_of_role(owner, ModelOwnerId(upstep->model)))
			return upstep;
	}
	return NULL;
}

/*
 * built_by_run
 *		The first model that node reads (through views and ephemeral models)
 *		which this run builds itself, or NULL.  by_node maps graph nodes to
 *		the run's steps.
 */
static RunStep *
built_by_run(Graph *graph, RunStep **by_node, int node)
{
	ListCell   *lc;

	foreach(lc, graph->nodes[node].upstream)
	{
		int			up = lfirst_int(lc);
		RunStep    *upstep = by_node[up];

		if (graph->nodes[up].model->mat->reads_through)
		{
			RunStep    *through = built_by_run(graph, by_node, up);

			if (through != NULL)
				return through;
		}
		else if (upstep != NULL && upstep->run_itself != NULL)
			return upstep;
	}
	return NULL;
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
 * plan_workers
 *		Decide which steps of a run with workers may be built by a worker, and say why each other one is built by the run itself
 *		(step->run_itself).  A worker can only read what is committed, so
 *		a model that reads a table the run builds itself is built by the
 *		run too.  A worker costs a few milliseconds per model (its own
 *		transaction, moving the candidate, adopting it), and starting one
 *		tens of milliseconds: a model whose last build took less than
 *		medallion.worker_min_ms is built by the run, unless a larger model
 *		given to a worker reads it.
 */
static void
plan_workers(Graph *graph, List *steps, bool workers)
{
	RunStep   **by_node = palloc0(sizeof(RunStep *) * graph->nnodes);
	bool	   *needed = palloc0(sizeof(bool) * graph->nnodes);
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
		RunStep    *upstep;

		if (!workers)
			step->run_itself = pstrdup("threads => 1");
		else if (why != NULL)
			step->run_itself = pstrdup(why);
		else if (ScaleIsDistributed(RelPublished(step->model)))
			step->run_itself = pstrdup("a distributed model's candidate is created on the workers in the run's transaction");
		else if (!OidIsValid(RelPublished(step->model)))
			step->run_itself = pstrdup("its first build creates its table in the run's transaction");
		else if ((upstep = built_by_run(graph, by_node, step->node)) != NULL)
			step->run_itself = psprintf("it reads %s, which the run builds itself",
										upstep->model->name);
		else if ((upstep = reads_other_owner(graph, by_node, step->node,
											 ModelOwnerId(step->model))) != NULL)
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
		else if ((upstep = built_by_run(graph, by_node, step->node)) != NULL)
			step->run_itself = psprintf("it reads %s, which the run builds itself",
										upstep->model->name);
	}
}

/*
 * worker_readers
 *		The roles that may read a worker's candidate of model once it is
 *		committed: the owners of the run's models that act for its owner and
 *		may read its published table.  Another owner's model reading it is
 *		built by the run itself (reads_committed), which grants it the
 *		candidate in the run's own transaction (grant_worker_candidates):
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
 * grant_worker_candidates
 *		Before the run builds model itself: SELECT on each committed worker
 *		candidate it reads to its owner, when that owner may read the
 *		candidate's published table, in the run's transaction (no other
 *		session sees the grant; the candidate is published or dropped with
 *		it).
 */
static void
grant_worker_candidates(Run *run, ModelDef *model)
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

	pre->step->pre_check = ChangesCheck(pre->step->model, BindLoad(pre->step->model)->query);
	MemoryContextSwitchTo(old);
}

/*
 * start_workers
 *		Start a worker for each pending table model that can be built
 *		outside the run's transaction, up to the run's threads.  When no
 *		worker slot is free the run builds the model itself.
 */
static void
start_workers(Run *run)
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
			!reads_committed(run, step->node))
			continue;

		/*
		 * Change-aware: checked here, before the worker reads anything, so
		 * that the snapshot stored with its build is one its reads saw at
		 * least; a model that is up to date is not given to a worker at
		 * all (build_model takes the check).
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
 * collect_worker
 *		Wait for the worker building step (a cancel interrupts the wait) and
 *		take its outcome: the candidate to adopt, or its error, raised here
 *		with the worker's SQLSTATE.  A model the worker hands back (its
 *		columns change) is built by the run.
 */
static void
collect_worker(Run *run, RunStep *step)
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

static void stop_worker(Run *run, RunStep *step);

/* Stop the workers still building (the run was cancelled or failed). */
static void
stop_workers(Run *run)
{
	ListCell   *lc;

	foreach(lc, run->steps)
	{
		RunStep    *step = lfirst(lc);

		if (step->worker != NULL)
			stop_worker(run, step);
	}
}

/* Stop the worker building step; its candidate, if committed, goes later. */
static void
stop_worker(Run *run, RunStep *step)
{
	WorkerStopBuild(step->worker);
	step->worker = NULL;
	run->nworkers--;
}

/*
 * drop_worker_candidate
 *		Drop the committed candidate of a step that failed after a worker
 *		built it (its tests failed).  It goes when the run commits; if the
 *		run rolls back, the next run drops it.
 */
static void
drop_worker_candidate(RunStep *step)
{
	Candidate	cand = {0};

	cand.candidate = step->worker_candidate;
	BuildDropCandidate(&cand);
	step->worker_candidate = InvalidOid;
}

/*
 * The sources whose foreign tables a step's model reads, and whose settings
 * may steer its reads (CatalogSourceActsFor: not another role's source over
 * its owner's schema).
 */
static List *
sources_read(Run *run, RunStep *step)
{
	List	   *sources = NIL;
	Oid			model_owner = ModelOwnerId(step->model);
	ListCell   *ls;

	foreach(ls, run->sources)
	{
		SourceDef  *source = lfirst(ls);
		ListCell   *ld;

		if (!CatalogSourceActsFor(source->owner, source->local_schema, model_owner))
			continue;
		foreach(ld, step->remote_schemas)
		{
			if (strcmp(source->local_schema, lfirst(ld)) == 0)
			{
				sources = lappend(sources, source);
				break;
			}
		}
	}
	return sources;
}

/*
 * extraction_batch_size
 *		The batch size of an incremental model that reads a source with
 *		batch_size (through views too), when it can be extracted in
 *		batches: a watermark, one unique_key column, and READ COMMITTED
 *		(the run must see what the extraction worker commits).  0 if not.
 */
static int
extraction_batch_size(Run *run, RunStep *step)
{
	int			batch = 0;
	ListCell   *lc;

	foreach(lc, sources_read(run, step))
		batch = Max(batch, ((SourceDef *) lfirst(lc))->batch_size);
	if (batch == 0)
		return 0;
	if (run->had_writes || !reads_committed(run, step->node))
	{
		ereport(NOTICE,
				(errmsg("model %s is extracted in one go: it reads what the run has not committed",
						step->model->name)));
		return 0;
	}
	if (step->model->watermark == NULL || list_length(step->model->unique_key) != 1)
	{
		ereport(NOTICE,
				(errmsg("model %s is extracted in one go: batches need a watermark and a single-column unique_key",
						step->model->name)));
		return 0;
	}
	if (IsolationUsesXactSnapshot())
	{
		ereport(NOTICE,
				(errmsg("model %s is extracted in one go: batches need READ COMMITTED", step->model->name)));
		return 0;
	}
	return batch;
}

/* Drop what an extraction of model staged (in the run's transaction). */
static void
discard_stage(ModelDef *model)
{
	Oid			stage;
	char	   *mark;
	char	   *last_key;
	int64		rows;
	int			version;

	if (CatalogGetExtract(model->name, &stage, &mark, &last_key, &rows, &version))
	{
		ExtractDropStage(stage);
		CatalogClearExtract(model->name);
	}
}

/*
 * run_extraction
 *		Have a worker stage the model's new rows in committed batches and
 *		wait for it (a cancel stops it; what it committed stays staged).
 *		Returns the staging table, or InvalidOid to extract in one go
 *		(no worker slot free).  The worker's error is raised here.
 */
static Oid
run_extraction(Run *run, RunStep *step, AnalyzedModel *analyzed, int batch)
{
	char	   *start = ExtractStart(step->model, analyzed, run->full_refresh);
	WorkerBuild *worker = WorkerStartExtract(run->run_id, step->model->name, step->model->version,
											 batch, start, run->full_refresh);
	Oid			stage;
	int64		rows;
	int			sqlerrcode;
	char	   *read_with;
	char	   *message;
	bool		timed_out;

	if (worker == NULL)
	{
		ereport(NOTICE,
				(errmsg("model %s is extracted in one go: no background worker slot is free",
						step->model->name)));
		return InvalidOid;
	}
	PG_TRY();
	{
		WorkerWaitBuild(worker);
	}
	PG_CATCH();
	{
		WorkerStopBuild(worker);
		PG_RE_THROW();
	}
	PG_END_TRY();
	if (WorkerBuildResult(worker, false, &stage, &rows, &read_with, &sqlerrcode, &message, &timed_out))
		return stage;
	if (sqlerrcode == ERRCODE_MEDALLION_RUN_ITSELF)
		return InvalidOid;
	ereport(ERROR,
			(errcode(sqlerrcode),
			 errmsg("%s", message),
			 errcontext("extraction worker of model \"%s\"", step->model->name)));
	return InvalidOid;			/* not reached */
}

/*
 * build_model
 *		Build one model from its binding by its materialization's build, run
 *		its tests against what was built, and apply it; runs as the model
 *		owner inside the step's subtransaction.
 */
static void
build_model(Run *run, RunStep *step)
{
	ModelDef   *model = step->model;
	BuildStep	build = {0};
	int			gucnest = 0;
	ChangeCheck *check = NULL;

	build.model = model;
	build.bound = BindLoad(model);
	build.sql = psprintf("SELECT * FROM %s", BindRelationSql(model->name));
	build.redirect_from = run->redirect_from;
	build.redirect_to = run->redirect_to;
	build.full_refresh = run->full_refresh;
	build.run_id = run->run_id;
	if (step->by_worker)
	{
		build.worker_candidate = step->worker_candidate;
		build.worker_rows = step->worker_rows;
	}

	/*
	 * A model reading foreign tables runs with DateStyle ISO: wrappers send
	 * date and time constants to the remote side as text in that style.
	 */
	{
		MemoryContext old = MemoryContextSwitchTo(run->context);

		step->remote_schemas = ExtractForeignSchemas(build.bound->query);
		MemoryContextSwitchTo(old);
	}
	build.reads_remote = step->remote_schemas != NIL;
	if (build.reads_remote)
	{
		gucnest = NewGUCNestLevel();
		ModelScopeIsoDates();
	}

	/* new rows staged in batches by a worker first, when the source asks */
	if (model->mat->extracts)
	{
		int			batch = extraction_batch_size(run, step);

		LedgerStart(run, step);
		if (batch > 0 && BuildColumnsChanged(model, build.bound))
		{
			/* staged rows have the old columns: the model is rebuilt whole */
			discard_stage(model);
			batch = 0;
		}
		step->stage = batch > 0 ? run_extraction(run, step, build.bound, batch) : InvalidOid;
		build.stage = step->stage;
	}

	/*
	 * Change-aware: a model whose definition and inputs did not change since
	 * its last build is not built again (changes.c).  A view only when its
	 * definition changed; an ephemeral model has nothing to build.
	 */
	if (run->tracking && model->kind != MAT_EPHEMERAL)
		check = step->pre_check != NULL ? step->pre_check : ChangesCheck(model, build.bound->query);
	/* built whatever changed (full refresh, changed_only off): recorded all the same */
	if (check != NULL && run->changed_only && !run->full_refresh)
	{
		if (check->reason != NULL)
		{
			MemoryContext old = MemoryContextSwitchTo(run->context);

			step->build_reason = pstrdup(check->reason);
			MemoryContextSwitchTo(old);
		}
		else
		{
			if (step->by_worker)
				drop_worker_candidate(step);
			step->up_to_date = true;
			step->unchanged_since = check->since;

			/*
			 * Its other tests would say what they said of the same data; a
			 * freshness test measures the data's age, which grows: it is
			 * evaluated again from its last result (a failure is reported,
			 * and blocks nothing: nothing is published).  Its tests run
			 * when the ledger has no result to start from.
			 */
			if (model->kind != MAT_VIEW)
				step->tests = TestsFreshnessAgain(model, RelPublished(model), run->context);
			if (gucnest > 0)
				AtEOXact_GUC(true, gucnest);
			return;
		}
	}

	LedgerStart(run, step);
	if (!step->by_worker)
		grant_worker_candidates(run, model);
	if (check != NULL && !step->by_worker)
		BindCaptureStart();
	MaterializeBuild(&build);
	if (check != NULL)
	{
		/*
		 * The snapshot the build's first read ran under (here, or in the
		 * worker that built it): exactly what it saw.
		 */
		char	   *read_with = step->by_worker ? step->worker_read_with : BindCaptureTake();

		if (read_with != NULL)
		{
			MemoryContext old = MemoryContextSwitchTo(run->context);

			check->snapshot = pstrdup(read_with);
			MemoryContextSwitchTo(old);
		}
	}
	step->candidate = build.candidate;
	step->rows = build.rows;
	step->has_rows = build.has_rows;
	step->up_to_date = build.up_to_date;
	if (build.replaces)
	{
		/* a whole new table: downstream reads it until it is swapped in */
		MemoryContext old = MemoryContextSwitchTo(run->context);

		run->redirect_from = lappend_oid(run->redirect_from, build.candidate->published);
		run->redirect_to = lappend_oid(run->redirect_to, build.candidate->candidate);
		MemoryContextSwitchTo(old);
	}

	/* the tests audit what was built; a failing blocking test fails the model */
	if (OidIsValid(build.tested))
	{
		step->tests = TestsRun(model, build.tested, run->redirect_from, run->redirect_to,
							   run->context);
		if (step->tests->blocker != NULL)
		{
			TestResult *blocker = step->tests->blocker;

			if (strcmp(blocker->status, "error") == 0)
				ereport(ERROR,
						(errcode(ERRCODE_CHECK_VIOLATION),
						 errmsg("blocking test %s could not run: %s", blocker->test->name,
								blocker->message)));
			ereport(ERROR,
					(errcode(ERRCODE_CHECK_VIOLATION),
					 errmsg("blocking test %s failed: %s failing row%s", blocker->test->name,
							format_count(blocker->failures), blocker->failures == 1 ? "" : "s")));
		}
	}

	if (MaterializeApply(&build))
	{
		step->rows = build.rows;
		step->up_to_date = build.up_to_date;
	}
	if (check != NULL)
		ChangesRecord(model, run->run_id, check, !step->up_to_date);
	if (gucnest > 0)
		AtEOXact_GUC(true, gucnest);
}

/* What build_step_work needs. */
typedef struct StepWork
{
	Run		   *run;
	RunStep    *step;
	int			timeout_ms;
} StepWork;

/* Build one model as its owner, restricted, with a safe search_path and its timeout. */
static void
build_step_work(void *arg)
{
	StepWork   *work = (StepWork *) arg;
	ModelScope	scope;

	ModelScopeEnter(&scope, ModelOwnerId(work->step->model), 0);
	if (work->step->worker != NULL)
		collect_worker(work->run, work->step);
	/* a worker's model: the timeout counts its tests here */
	ModelScopeStartTimeout(&scope, work->timeout_ms);
	build_model(work->run, work->step);
	ModelScopeLeave(&scope);
}

/*
 * retry_step
 *		After a model's failure: is it a connection error (SQLSTATE class 08,
 *		or HV, what foreign data wrappers raise) of a model reading a source
 *		with retries left?  Then wait (retry_delay, doubled at each attempt;
 *		a cancel interrupts the wait) and return true.
 */
static bool
retry_step(Run *run, RunStep *step, ErrorData *edata)
{
	int			category = ERRCODE_TO_CATEGORY(edata->sqlerrcode);
	int			retries = 0;
	char	   *delay = NULL;
	ListCell   *lc;
	double		ms;
	TimestampTz until;

	if (category != ERRCODE_CONNECTION_EXCEPTION && category != ERRCODE_FDW_ERROR)
		return false;
	foreach(lc, sources_read(run, step))
	{
		SourceDef  *source = lfirst(lc);

		if (source->retries > retries)
		{
			retries = source->retries;
			delay = source->retry_delay;
		}
	}
	if (step->attempt > retries)
		return false;
	ms = DatumGetFloat8(DirectFunctionCall2(interval_part, CStringGetTextDatum("epoch"),
											DirectFunctionCall3(interval_in, CStringGetDatum(delay),
																ObjectIdGetDatum(InvalidOid),
																Int32GetDatum(-1)))) * 1000.0;
	ms *= (double) (1 << Min(step->attempt - 1, 16));
	ereport(NOTICE,
			(errmsg("model %s: %s; trying again in %s ms (attempt %d of %d)", step->model->name,
					edata->message, format_count((int64) ms), step->attempt + 1, retries + 1)));
	until = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), (int64) ms);
	for (;;)
	{
		long		left = TimestampDifferenceMilliseconds(GetCurrentTimestamp(), until);

		if (left <= 0)
			break;
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, left,
						 PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
	step->attempt++;
	return true;
}

/*
 * keep_candidate
 *		A copy in cxt of what publishing needs of a candidate built in the
 *		model's memory context, which is reset after each model (so that a
 *		run's memory does not grow with its models).
 */
static Candidate *
keep_candidate(Candidate *cand, MemoryContext cxt)
{
	MemoryContext old;
	Candidate  *copy;

	if (cand == NULL)
		return NULL;
	old = MemoryContextSwitchTo(cxt);
	copy = palloc(sizeof(Candidate));
	*copy = *cand;
	copy->columns = NIL;		/* the query's: not needed once built */
	copy->published_indexes = list_copy(cand->published_indexes);
	copy->candidate_indexes = list_copy(cand->candidate_indexes);
	copy->lower_bound = cand->lower_bound ? pstrdup(cand->lower_bound) : NULL;
	copy->watermark = cand->watermark ? pstrdup(cand->watermark) : NULL;
	copy->max_seen = cand->max_seen ? pstrdup(cand->max_seen) : NULL;
	MemoryContextSwitchTo(old);
	return copy;
}

/*
 * build_step
 *		Build one step in a subtransaction; a failure is recorded in the
 *		step, a cancel by the user marks the run cancelled.
 */
static void
build_step(Run *run, RunStep *step)
{
	StepWork	work = {run, step, ModelTimeoutMs(step->model)};
	/* lists grow in place: what a failed attempt added is cut off by length */
	int			saved_redirects = list_length(run->redirect_from);
	ErrorData  *edata;
	ListCell   *lc;
	bool		timed_out = false;

	/* downstream of a failure is skipped */
	foreach(lc, run->graph->nodes[step->node].upstream)
	{
		RunStep    *up = step_of_node(run, lfirst_int(lc));

		if (up != NULL && !STEP_BUILT(up->status))
		{
			if (step->worker != NULL)
				stop_worker(run, step);	/* started on inputs that then failed */
			step->status = STEP_SKIPPED;
			step->message = psprintf("upstream model %s %s", up->model->name,
									 up->status == STEP_FAILED ? "failed" :
									 up->status == STEP_CANCELLED ? "was cancelled" :
									 "was skipped");
			return;
		}
	}

	if (step->worker == NULL)
		step->started_at = GetCurrentTimestamp();
	step->attempt = 1;
	for (;;)
	{
		MemoryContext old = MemoryContextSwitchTo(run->stepcxt);

		step->worker_timed_out = false;
		edata = SubxactRun(build_step_work, &work, false);
		MemoryContextSwitchTo(old);
		ModelScopeStopTimeout();
		timed_out = ModelScopeTimedOut() || step->worker_timed_out;
		if (edata == NULL || timed_out || !retry_step(run, step, edata))
			break;
		/* the failed attempt left nothing behind: start over */
		run->redirect_from = list_truncate(run->redirect_from, saved_redirects);
		run->redirect_to = list_truncate(run->redirect_to, saved_redirects);
		step->candidate = NULL;
		step->up_to_date = false;
		step->unchanged_since = 0;
		step->build_reason = NULL;
		step->tests = NULL;
		step->worker_failed = false;
		step->stage = InvalidOid;
		FreeErrorData(edata);
	}

	if (edata == NULL)
	{
		step->status = step->up_to_date ? STEP_UP_TO_DATE : STEP_SUCCESS;
		if (step->unchanged_since > 0)
			step->message = psprintf("inputs unchanged since run %lld",
									 (long long) step->unchanged_since);
		else if (step->build_reason != NULL)
			step->message = step->build_reason;	/* why it built */
		step->candidate = keep_candidate(step->candidate, run->context);
	}
	else
	{
		/* what the failed model added to the redirections is gone */
		run->redirect_from = list_truncate(run->redirect_from, saved_redirects);
		run->redirect_to = list_truncate(run->redirect_to, saved_redirects);
		if (step->by_worker)
			drop_worker_candidate(step);
		step->candidate = NULL;
		step->up_to_date = false;
		step->sqlstate = pstrdup(unpack_sql_state(edata->sqlerrcode));
		if (edata->sqlerrcode == ERRCODE_QUERY_CANCELED && timed_out)
		{
			step->status = STEP_FAILED;
			step->message = psprintf("model exceeded its statement_timeout of %s",
									 step->model->statement_timeout);
		}
		else if (edata->sqlerrcode == ERRCODE_QUERY_CANCELED && !step->worker_failed)
		{
			step->status = STEP_CANCELLED;
			step->message = pstrdup(edata->message);
			run->cancelled = true;
			run->cancel_message = step->message;
		}
		else
		{
			step->status = STEP_FAILED;
			step->message = edata->detail ?
				psprintf("%s (%s)", edata->message, edata->detail) : pstrdup(edata->message);
		}
		FreeErrorData(edata);
	}
	step->finished_at = GetCurrentTimestamp();
	step->ms = (double) (step->finished_at - step->started_at) / 1000.0;
}

/* ----------------------------------------------------------------
 * Publishing
 * ---------------------------------------------------------------- */

/*
 * publish_all
 *		Publish every table model that built, in plan order, in one burst.
 */
static void
publish_all(Run *run)
{
	List	   *relids = NIL;
	ListCell   *lc;
	TimestampTz start = GetCurrentTimestamp();

	foreach(lc, run->steps)
	{
		RunStep    *step = lfirst(lc);

		if (STEP_BUILT(step->status) && step->candidate != NULL && !step->candidate->delta)
			relids = lappend_oid(relids, step->candidate->published);
	}
	if (relids != NIL)
		RelLockPatiently(relids);

	foreach(lc, run->steps)
	{
		RunStep    *step = lfirst(lc);
		ModelScope	scope;

		if (!STEP_BUILT(step->status))
			continue;
		if (step->candidate != NULL && !step->candidate->delta)
		{
			ModelScopeEnter(&scope, ModelOwnerId(step->model), 0);
			PublishTable(step->candidate);
			ModelScopeLeave(&scope);
		}
		step->published = true;
	}
	run->publish_ms = (double) (GetCurrentTimestamp() - start) / 1000.0;
}

/* What store_failures_work needs. */
typedef struct StoreWork
{
	Run		   *run;
	RunStep    *step;
} StoreWork;

static void
store_failures_work(void *arg)
{
	StoreWork  *work = (StoreWork *) arg;
	ModelScope	scope;

	ModelScopeEnter(&scope, ModelOwnerId(work->step->model), 0);
	TestsStoreFailures(work->step->model, work->step->tests, work->run->run_id);
	ModelScopeLeave(&scope);
}

/*
 * store_failures
 *		Keep the failing rows of a step's tests that have store_failures,
 *		whether or not the model built, as the model owner.  A failure to
 *		store them is a WARNING: it must not fail the run.
 */
static void
store_failures(Run *run, RunStep *step)
{
	StoreWork	work = {run, step};
	ErrorData  *edata = SubxactRun(store_failures_work, &work, true);

	if (edata != NULL)
		ereport(WARNING,
				(errmsg("could not store the failing rows of model \"%s\": %s",
						step->model->name, edata->message)));
}

/*
 * lock_models
 *		Take the run lock of every selected model, in name order.  With
 *		on_conflict = 'skip', a model another run holds is skipped.
 */
static void
lock_models(Run *run)
{
	List	   *names = NIL;
	ListCell   *lc;

	foreach(lc, run->steps)
		names = lappend(names, ((RunStep *) lfirst(lc))->model->name);
	list_sort(names, SqlCompareNames);
	foreach(lc, names)
	{
		char	   *name = lfirst(lc);
		LOCKTAG		tag;
		ListCell   *ls;

		SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, MEDALLION_LOCK_KEY,
							 (uint32) DatumGetInt32(hash_any((const unsigned char *) name,
															 strlen(name))), MEDALLION_LOCK_MODEL);
		if (strcmp(run->on_conflict, "skip") == 0)
		{
			if (LockAcquire(&tag, ExclusiveLock, false, true) != LOCKACQUIRE_NOT_AVAIL)
				continue;
			foreach(ls, run->steps)
			{
				RunStep    *step = lfirst(ls);

				if (strcmp(step->model->name, name) == 0)
				{
					step->status = STEP_SKIPPED;
					step->message = pstrdup("another run is building this model");
				}
			}
		}
		else
			(void) LockAcquire(&tag, ExclusiveLock, false, false);
	}
}

/* Let the run's idle workers go. */
static void
release_workers(Run *run)
{
	MemoryContext old = MemoryContextSwitchTo(run->context);

	WorkerRelease(run->idle_workers);
	run->released_workers = list_concat(run->released_workers, run->idle_workers);
	run->idle_workers = NIL;
	MemoryContextSwitchTo(old);
}

/*
 * take_step
 *		Build a step (or skip it: the run was cancelled) and keep its report.
 */
static void
take_step(Run *run, RunStep *step)
{
	MemoryContext old;

	if (run->cancelled)
	{
		step->status = STEP_SKIPPED;
		step->message = pstrdup("the run was cancelled");
	}
	else if (step->status == STEP_PENDING)
	{
		start_workers(run);
		build_step(run, step);
	}
	step->taken = true;
	old = MemoryContextSwitchTo(run->context);
	step->report = step_report(run, step);
	MemoryContextSwitchTo(old);
	if (step->tests != NULL)
		store_failures(run, step);
	/* what building this model allocated, its plans and bound query, goes */
	MemoryContextReset(run->stepcxt);
}

/*
 * step_ahead
 *		A step after the one at cell that the run builds itself and can build
 *		now (everything it reads or waits for is built), or NULL.
 */
static RunStep *
step_ahead(Run *run, ListCell *cell)
{
	ListCell   *lc;

	for_each_cell(lc, run->steps, lnext(run->steps, cell))
	{
		RunStep    *step = lfirst(lc);
		GraphNode  *node = &run->graph->nodes[step->node];
		bool		ready = true;
		ListCell   *lu;

		if (step->taken || step->status != STEP_PENDING || step->run_itself == NULL)
			continue;
		foreach(lu, list_concat_copy(node->upstream, node->after))
		{
			RunStep    *upstep = step_of_node(run, lfirst_int(lu));

			if (upstep != NULL && !upstep->taken)
				ready = false;
		}
		if (ready)
			return step;
	}
	return NULL;
}

/* Lock, build and publish. */
static void
execute_run_work(void *arg)
{
	Run		   *run = (Run *) arg;
	ListCell   *lc;

	lock_models(run);
	foreach(lc, run->steps)
	{
		RunStep    *step = lfirst(lc);
		RunStep    *ahead;
		ListCell   *lr;

		/* while a worker builds this one, the run builds what it can itself */
		while (step->worker != NULL && !run->cancelled && !WorkerBuildDone(step->worker) &&
			   (ahead = step_ahead(run, lc)) != NULL)
			take_step(run, ahead);
		if (!step->taken)
			take_step(run, step);
		foreach(lr, step->report)
			ereport(NOTICE, (errmsg_internal("%s", (char *) lfirst(lr))));
		step->report = NIL;
	}
	/* the workers are done: they exit while the run publishes */
	release_workers(run);
	if (run->cancelled)
		ereport(ERROR,
				(errcode(ERRCODE_QUERY_CANCELED),
				 errmsg("%s", run->cancel_message),
				 errdetail("The run was cancelled while building; it published nothing.")));
	publish_all(run);
}

/*
 * execute_run
 *		Lock, build and publish, inside a subtransaction: when a cancel or a
 *		publishing error interrupts it, everything it did is rolled back and
 *		the error is returned (NULL when the run completed).
 */
static ErrorData *
execute_run(Run *run)
{
	ErrorData  *failure = SubxactRun(execute_run_work, run, false);
	ListCell   *lc;

	stop_workers(run);
	release_workers(run);
	WorkerAwaitRelease(run->released_workers);
	run->released_workers = NIL;

	if (failure != NULL)
	{
		foreach(lc, run->steps)
			((RunStep *) lfirst(lc))->published = false;
	}
	return failure;
}

/*
 * plan_steps
 *		Fill run->steps from its selector; false (with a NOTICE) when it
 *		selects nothing.
 */
static bool
plan_steps(Run *run)
{
	bool	   *selected;
	List	   *plan;
	ListCell   *lc;

	run->graph = GraphLoad(ModelListFresh(), true);
	selected = GraphSelect(run->graph, run->selector);
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
 * The local transaction that medallion.note_outside_block() found outside
 * any transaction block: a subtransaction of it (a PL/pgSQL exception
 * block around medallion_run, as medallion_run_scheduled has) is not a
 * transaction block the caller keeps open.
 */
static LocalTransactionId outside_block_lxid = InvalidLocalTransactionId;

PG_FUNCTION_INFO_V1(medallion_note_outside_block);

/*
 * medallion_note_outside_block
 *		Whether the caller is outside a transaction block; when it is, its
 *		transaction may run other owners' models inside exception blocks
 *		(the session is still ended RUN_HOLD_OTHERS_MS after such a run).
 */
Datum
medallion_note_outside_block(PG_FUNCTION_ARGS)
{
	if (IsTransactionBlock())
		PG_RETURN_BOOL(false);
	outside_block_lxid = MyProc->lxid;
	PG_RETURN_BOOL(true);
}

/*
 * refuse_others_in_block
 *		Error when what (medallion_run, medallion_test, medallion_plan) is
 *		called inside a transaction block and steps hold models whose
 *		owner's privileges the caller does not have: what it locks of
 *		theirs (published tables, stored failing rows, bindings) stays
 *		locked until the transaction ends, and the caller would decide for
 *		how long another owner's readers and runs wait.  One's own models
 *		may be run, tested and planned inside a transaction.
 */
static void
refuse_others_in_block(List *steps, const char *what)
{
	ListCell   *lc;

	if (!IsTransactionBlock())
		return;
	if (IsSubTransaction() && outside_block_lxid == MyProc->lxid)
		return;					/* an exception block of a statement, not a block left open */
	foreach(lc, steps)
	{
		ModelDef   *model = ((RunStep *) lfirst(lc))->model;

		if (!has_privs_of_role(GetUserId(), ModelOwnerId(model)))
			ereport(ERROR,
					(errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
					 errmsg("%s cannot take model \"%s\" of role \"%s\" inside a transaction block",
							what, model->name, model->owner),
					 errdetail("It locks the model's relations until the transaction ends; only the model's owner may hold them that long."),
					 errhint("Call %s outside BEGIN ... COMMIT, or select only models of your own.", what)));
	}
}

/*
 * A run that published another owner's models holds their tables locked
 * until its transaction ends.  Outside a transaction block that is the end
 * of the statement (refuse_others_in_block), but one statement can go on
 * after the run: SELECT (SELECT count(*) FROM medallion_run(...)),
 * pg_sleep(...).  So the transaction gets RUN_HOLD_OTHERS_MS after the run
 * to end; then its session is ended (the publish rolls back with it).
 */
static TimeoutId hold_timeout = MAX_TIMEOUTS;
static bool hold_callback_registered = false;
static bool hold_armed = false;	/* this transaction's deadline is set */

static void
hold_timeout_handler(void)
{
	/*
	 * Not a cancel, which a caught exception or an open pipeline outlasts:
	 * the session ends, and its transaction with it.
	 */
	ProcDiePending = true;
	InterruptPending = true;
	SetLatch(MyLatch);
}

static void
hold_xact_callback(XactEvent event, void *arg)
{
	/* a prepared transaction would hold the tables with no session to end */
	if (event == XACT_EVENT_PRE_PREPARE && hold_armed)
		ereport(ERROR,
				(errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
				 errmsg("cannot prepare a transaction that published, tested or planned models of other owners"),
				 errdetail("Their relations stay locked until it ends."),
				 errhint("Commit it, or call medallion_run, medallion_test or medallion_plan on its own.")));
	if (hold_timeout != MAX_TIMEOUTS &&
		(event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT ||
		 event == XACT_EVENT_PREPARE || event == XACT_EVENT_PARALLEL_COMMIT ||
		 event == XACT_EVENT_PARALLEL_ABORT))
	{
		disable_timeout(hold_timeout, false);
		hold_armed = false;
	}
}

/*
 * Arm the hold timeout when steps hold a model of another owner that the
 * call locked: published (a run; all steps when all), tested or planned.
 */
static void
hold_others_briefly(List *steps, bool all)
{
	ListCell   *lc;
	bool		others = false;

	foreach(lc, steps)
	{
		RunStep    *step = lfirst(lc);

		if ((all || step->published) && !has_privs_of_role(GetUserId(), ModelOwnerId(step->model)))
			others = true;
	}
	if (!others)
		return;
	if (hold_timeout == MAX_TIMEOUTS)
		hold_timeout = RegisterTimeout(USER_TIMEOUT, hold_timeout_handler);
	if (!hold_callback_registered)
	{
		RegisterXactCallback(hold_xact_callback, NULL);
		hold_callback_registered = true;
	}
	/* once per transaction: another run in the same statement does not push it back */
	if (hold_armed)
		return;
	hold_armed = true;
	enable_timeout_after(hold_timeout, RUN_HOLD_OTHERS_MS);
	ereport(DEBUG1,
			(errmsg("this transaction published models of other owners: it must end within %d ms, or its session is ended",
					RUN_HOLD_OTHERS_MS),
			 errhint("Call medallion_run on its own, outside a function that goes on after it.")));
}

/*
 * number_run
 *		Give the run its number and start time, and take the advisory lock
 *		on (medallion, run number) held to the end of its transaction: while
 *		it is held, the next runs' starts leave this run's committed worker
 *		candidates alone (ledger_apply tries it with
 *		medallion.try_run_lock).
 */
static void
number_run(Run *run)
{
	LOCKTAG		tag;

	run->run_id = CatalogNextRunId();
	run->started_at = GetCurrentTimestamp();
	SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, MEDALLION_LOCK_KEY, (uint32) run->run_id, MEDALLION_LOCK_RUN);
	(void) LockAcquire(&tag, ExclusiveLock, false, false);
}

/*
 * forget_dropped_relations
 *		Drop this backend's caches of pg_type and pg_statistic rows, so that
 *		what earlier runs' dropped relations left there goes.
 *
 * PostgreSQL removes a catalog cache entry when a row with its key is
 * written or deleted; a negative entry (a lookup that found no row) whose
 * key never gets a row stays until its cache is reset.  Runs leave two
 * kinds, 100 - 150 bytes each, in CacheMemoryContext:
 *
 * - pg_type: creating a table with a TOAST table looks up a row type of
 *	 the TOAST table's name, which never gets one: about 1 kB per table
 *	 model per run.
 * - pg_statistic: building an index looks up the statistics of every
 *	 column of its table (a new TOAST table's index: its three columns),
 *	 the planner those of the columns a query reads.  A relation dropped
 *	 before it was analyzed leaves them all: an incremental model's delta,
 *	 a snapshot model's change table and its TOAST table, about 1 kB per
 *	 run for the 24 models of bench/soak_pipeline.sql.
 *
 * The same DDL written by hand leaves the same entries (bench/README.md).
 * Resetting both caches at each run's start frees those of the earlier
 * runs, failed ones included; the entries still needed are read again at
 * an index lookup each, a few hundred per run at most.
 */
static void
forget_dropped_relations(void)
{
	CatalogCacheFlushCatalog(TypeRelationId);
	CatalogCacheFlushCatalog(StatisticRelationId);
}

/*
 * medallion_run(selector, full_refresh, strict, on_conflict, threads) builds the
 * selected models and publishes them; returns a row per model.
 */
Datum
medallion_run(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Run		   *run = palloc0(sizeof(Run));
	ListCell   *lc;
	ErrorData  *failure;
	int			nfailed;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2) || PG_ARGISNULL(3) ||
		PG_ARGISNULL(4))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the arguments of medallion_run must not be NULL")));
	run->context = CurrentMemoryContext;
	run->stepcxt = AllocSetContextCreate(run->context, "medallion model",
										 ALLOCSET_DEFAULT_SIZES);
	run->selector = text_to_cstring(PG_GETARG_TEXT_PP(0));
	run->full_refresh = PG_GETARG_BOOL(1);
	/*
	 * changed_only NULL: medallion.changed_only.  Before ALTER EXTENSION
	 * UPDATE to 0.2.0 the function has no changed_only and the catalog no
	 * change tracking: every model builds.
	 */
	run->tracking = PG_NARGS() > 5;
	run->changed_only = !run->tracking ? false :
		PG_ARGISNULL(5) ? run_changed_only : PG_GETARG_BOOL(5);
	run->strict = PG_GETARG_BOOL(2);
	run->on_conflict = text_to_cstring(PG_GETARG_TEXT_PP(3));
	if (strcmp(run->on_conflict, "wait") != 0 && strcmp(run->on_conflict, "skip") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown on_conflict \"%s\"", run->on_conflict),
				 errhint("on_conflict is wait (for another run building the same model) or skip.")));
	if (PG_GETARG_INT32(4) < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("threads must be at least 1"),
				 errhint("threads => 1 builds one model at a time; more build independent table models in background workers.")));
	/* the run itself plus up to max_workers workers */
	run->threads = PG_GETARG_INT32(4) == 1 ? 0 : Min(PG_GETARG_INT32(4), worker_max_workers);
	run->had_writes = TransactionIdIsValid(GetTopTransactionIdIfAny());
	if (run->threads > 0 && run->had_writes)
	{
		ereport(NOTICE,
				(errmsg("the run builds one model at a time: this transaction has changes that background workers cannot see"),
				 errhint("Call medallion_run with threads in a transaction that has not written anything yet.")));
		run->threads = 0;
	}
	else if (run->threads > 0 && IsolationUsesXactSnapshot())
	{
		/* one snapshot for the whole transaction: the workers read it too */
		if (IsSubTransaction())
		{
			ereport(NOTICE,
					(errmsg("the run builds one model at a time: a repeatable read snapshot cannot be shared from a subtransaction")));
			run->threads = 0;
		}
		else
			run->snapshot = ExportSnapshot(GetTransactionSnapshot());
	}
	CatalogRequireAdmin("run models");
	InitMaterializedSRF(fcinfo, 0);

	if (!plan_steps(run))
		PG_RETURN_VOID();
	refuse_others_in_block(run->steps, "medallion_run");
	if (run->threads > 0)
		plan_workers(run->graph, run->steps, true);

	number_run(run);
	/* the ledger records the start once the run builds for long enough (LedgerStart) */
	if (run->changed_only)
		ChangesTrim();

	forget_dropped_relations();

	failure = execute_run(run);

	nfailed = RunCountSteps(run, STEP_FAILED, false) + RunCountSteps(run, STEP_CANCELLED, false);
	if (failure != NULL)
	{
		run->status = failure->sqlerrcode == ERRCODE_QUERY_CANCELED ? "cancelled" : "failed";
		run->message = psprintf("%s; nothing was published", failure->message);
	}
	else if (nfailed == 0 && RunCountSteps(run, STEP_SKIPPED, false) == 0)
		run->status = "success";
	else if (nfailed == 0 && RunCountSteps(run, STEP_SKIPPED, false) == list_length(run->steps))
		run->status = "skipped";	/* another run held every model (on_conflict => 'skip') */
	else if (RunCountSteps(run, STEP_PENDING, true) > 0)
		run->status = "partial";
	else
		run->status = "failed";
	LedgerFinish(run, failure != NULL ||
				 (run->strict && nfailed + RunCountSteps(run, STEP_SKIPPED, false) > 0));

	if (failure != NULL)
		ReThrowError(failure);

	foreach(lc, run->steps)
	{
		RunStep    *step = lfirst(lc);
		Datum		values[10];
		bool		nulls[10] = {false};

		values[0] = CStringGetTextDatum(step->model->name);
		values[1] = CStringGetTextDatum(step->model->layer);
		values[2] = CStringGetTextDatum(step->model->materialized);
		values[3] = CStringGetTextDatum(run_step_status_names[step->status]);
		values[4] = Int64GetDatum(step->rows);
		nulls[4] = !step->has_rows || !STEP_BUILT(step->status);
		values[5] = DirectFunctionCall1(float8_numeric, Float8GetDatum(step->ms));
		nulls[5] = step->started_at == 0;
		values[6] = Int32GetDatum(step->tests ? step->tests->passed : 0);
		values[7] = Int32GetDatum(step->tests ? step->tests->warned : 0);
		values[8] = Int32GetDatum(step->tests ? step->tests->failed : 0);
		values[9] = step->message ? CStringGetTextDatum(step->message) : (Datum) 0;
		nulls[9] = step->message == NULL;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}

	ereport(NOTICE,
			(errmsg("run %lld: %d model%s%s: %d OK, %d ERROR, %d SKIP; published %d%s",
					(long long) run->run_id, list_length(run->steps),
					list_length(run->steps) == 1 ? "" : "s",
					format_ms((double) (GetCurrentTimestamp() - run->started_at) / 1000.0),
					RunCountSteps(run, STEP_SUCCESS, false), nfailed,
					RunCountSteps(run, STEP_SKIPPED, false),
					RunCountSteps(run, STEP_PENDING, true),
					run_log_timing ? psprintf(" in %s ms", format_count((int64) (run->publish_ms + 0.5))) : "")));

	hold_others_briefly(run->steps, false);
	if (run->strict && nfailed + RunCountSteps(run, STEP_SKIPPED, false) > 0)
		ereport(ERROR,
				(errcode(ERRCODE_TRIGGERED_ACTION_EXCEPTION),
				 errmsg("run %lld did not build every model", (long long) run->run_id),
				 errdetail("%d failed, %d skipped; see medallion.run_models.",
						   nfailed, RunCountSteps(run, STEP_SKIPPED, false)),
				 errhint("Without strict => true the run publishes what built and returns normally.")));
	PG_RETURN_VOID();
}

/*
 * medallion_rollback(model) swaps a table model's previous content back.
 */
Datum
medallion_rollback(PG_FUNCTION_ARGS)
{
	char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	ModelDef   *model;
	ModelScope	scope;
	int64		rows;
	Oid			published;

	CatalogRequireAdmin("roll back models");
	model = CatalogGetModel(name, false);
	if (!has_privs_of_role(GetUserId(), ModelOwnerId(model)))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("must be owner of model \"%s\"", model->name)));
	published = RelPublished(model);
	if (OidIsValid(published))
		RelLockPatiently(list_make1_oid(published));
	ModelScopeEnter(&scope, ModelOwnerId(model), 0);
	rows = PublishRollback(model);
	ModelScopeLeave(&scope);
	ChangesForget(model);
	PG_RETURN_TEXT_P(cstring_to_text(psprintf("%s rolled back: %s rows",
											  quote_qualified_identifier(model->schema, model->name),
											  format_count(rows))));
}

/*
 * medallion_test(selector) runs the tests of the selected models against
 * what is published, without building; returns a row per test.  It is
 * recorded in the ledger as a run with options {"test_only": true} and its
 * test_results.
 */
Datum
medallion_test(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Run		   *run = palloc0(sizeof(Run));
	ListCell   *lc;
	int			failed = 0;

	run->context = CurrentMemoryContext;
	run->selector = text_to_cstring(PG_GETARG_TEXT_PP(0));
	run->on_conflict = "wait";
	run->test_only = true;
	CatalogRequireAdmin("run tests");
	InitMaterializedSRF(fcinfo, 0);
	if (!plan_steps(run))
		PG_RETURN_VOID();
	refuse_others_in_block(run->steps, "medallion_test");
	number_run(run);
	/* builds nothing: recorded once, at the end (ledger_finish) */

	foreach(lc, run->steps)
	{
		RunStep    *step = lfirst(lc);
		Oid			relid = RelPublished(step->model);
		ModelScope	scope;
		ListCell   *lt;

		if (!OidIsValid(relid))
			continue;
		ModelScopeEnter(&scope, ModelOwnerId(step->model), 0);
		step->tests = TestsRun(step->model, relid, NIL, NIL, run->context);
		ModelScopeLeave(&scope);
		store_failures(run, step);
		step->status = step->tests->failed > 0 ? STEP_FAILED : STEP_SUCCESS;
		failed += step->tests->failed;

		foreach(lt, step->tests->results)
		{
			TestResult *result = lfirst(lt);
			Datum		values[7];
			bool		nulls[7] = {false};

			values[0] = CStringGetTextDatum(step->model->name);
			values[1] = CStringGetTextDatum(result->test->name);
			values[2] = CStringGetTextDatum(result->test->kind);
			values[3] = CStringGetTextDatum(result->status);
			values[4] = Int64GetDatum(result->failures);
			nulls[4] = !result->has_failures;
			values[5] = result->observed ? CStringGetTextDatum(result->observed) : (Datum) 0;
			nulls[5] = result->observed == NULL;
			values[6] = result->message ? CStringGetTextDatum(result->message) : (Datum) 0;
			nulls[6] = result->message == NULL;
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
	}
	run->status = failed > 0 ? "failed" : "success";
	LedgerFinish(run, false);
	hold_others_briefly(run->steps, true);
	PG_RETURN_VOID();
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
	char	   *selector = text_to_cstring(PG_GETARG_TEXT_PP(0));
	/* the 0.1.0 definition, before ALTER EXTENSION UPDATE, has no threads */
	int			threads = PG_NARGS() > 1 ? PG_GETARG_INT32(1) : 1;
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Graph	   *graph;
	List	   *steps = NIL;
	ListCell   *lc;
	bool	   *builds;
	const char *why;

	if (threads < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("threads must be at least 1"),
				 errhint("The plan says which models a run with that many threads gives to background workers.")));
	CatalogRequireAdmin("plan runs");
	InitMaterializedSRF(fcinfo, 0);
	graph = GraphLoad(ModelListFresh(), true);
	foreach(lc, GraphPlan(graph, GraphSelect(graph, selector)))
	{
		PlanStep   *ps = lfirst(lc);
		RunStep    *step = palloc0(sizeof(RunStep));

		step->stepno = foreach_current_index(lc) + 1;
		step->wave = ps->wave;
		step->node = ps->node;
		step->model = graph->nodes[ps->node].model;
		steps = lappend(steps, step);
	}
	plan_workers(graph, steps, threads > 1);
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
			 * (refuse_others_in_block).
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
	hold_others_briefly(steps, true);
	PG_RETURN_VOID();
}
