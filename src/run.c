/*-------------------------------------------------------------------------
 *
 * run.c
 *	  Runs, their entry points: medallion_run, medallion_test (the tests of
 *	  what is published) and medallion_rollback; the run loop, run locks
 *	  and publishing.  The plan a run follows and medallion_plan are in
 *	  run_plan.c, one step in run_step.c, build workers (threads => n) in
 *	  run_threads.c, a run as data and its progress lines in run_state.c,
 *	  the ledger in run_ledger.c.
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
#include "catalog/pg_statistic.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/latch.h"
#include "storage/lock.h"
#include "storage/proc.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/catcache.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timeout.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#include "catalog.h"
#include "changes.h"
#include "graph.h"
#include "medallion.h"
#include "publish.h"
#include "relation.h"
#include "run.h"
#include "run_workers.h"
#include "scope.h"
#include "sqltext.h"
#include "subxact.h"
#include "tests.h"

PG_FUNCTION_INFO_V1(medallion_run);
PG_FUNCTION_INFO_V1(medallion_rollback);
PG_FUNCTION_INFO_V1(medallion_test);
PG_FUNCTION_INFO_V1(medallion_stage_build);

/*
 * RunInit
 *		Define this module's configuration parameters: medallion.log_timing
 *		(run_log_timing, run_state.c) and medallion.changed_only
 *		(run_changed_only, run_plan.c).
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
	ErrorData  *edata;
	ListCell   *lc;
	bool		any = false;

	/* most models have no such test: no subtransaction, no scope for them */
	foreach(lc, step->tests->results)
		any |= ((TestResult *) lfirst(lc))->test->store_failures;
	if (!any)
		return;
	edata = SubxactRun(store_failures_work, &work, true);
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
		ListCell   *ls;

		if (strcmp(run->on_conflict, "skip") == 0)
		{
			if (CatalogLockModel(name, false))
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
			(void) CatalogLockModel(name, true);
	}
}

/* ----------------------------------------------------------------
 * The loop
 * ---------------------------------------------------------------- */

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
		RunStartWorkers(run);
		RunBuildStep(run, step);
	}
	step->taken = true;
	old = MemoryContextSwitchTo(run->context);
	step->report = RunStepReport(run, step);
	MemoryContextSwitchTo(old);
	/* a span's are kept once its deferred tests said whether it stays (run_span) */
	if (step->tests != NULL && step->span == 0)
		store_failures(run, step);
	/* what building this model allocated, its plans and bound query, goes */
	MemoryContextReset(run->stepcxt);
}

/*
 * step_ahead
 *		A step after the one at cell, in the same span (0: none), that the
 *		run builds itself and can build now (everything it reads or waits
 *		for is built), or NULL.  A step of another span is not taken ahead:
 *		it must be built inside its own span's savepoint.
 */
static RunStep *
step_ahead(Run *run, ListCell *cell, int span)
{
	ListCell   *lc;

	for_each_cell(lc, run->steps, lnext(run->steps, cell))
	{
		RunStep    *step = lfirst(lc);
		GraphNode  *node = &run->graph->nodes[step->node];
		bool		ready = true;
		ListCell   *lu;

		if (step->taken || step->status != STEP_PENDING || step->run_itself == NULL ||
			step->span != span)
			continue;
		foreach(lu, list_concat_copy(node->upstream, node->after))
		{
			RunStep    *upstep = RunStepOfNode(run, lfirst_int(lu));

			if (upstep != NULL && !upstep->taken)
				ready = false;
		}
		if (ready)
			return step;
	}
	return NULL;
}

/* ----------------------------------------------------------------
 * Deferred tests and their spans
 *
 * A test reading a model built from its own model waits for it
 * (RunPlanDeferred, run_plan.c): the steps from its model's to the last
 * model it waits for are a span, built inside one savepoint.  Once every
 * model a deferred test waits for was taken, the test runs against the
 * candidates (run_deferred_due).  When a blocking one fails, or one
 * cannot run because a model it waits for failed or was skipped, the
 * savepoint is rolled back at the end of the span (run_span): nothing the
 * span built or applied in place stays, and its models are held back
 * with a message saying which test held them; what reads them is skipped.
 * Otherwise the savepoint is kept and all of it publishes with the run.
 * ---------------------------------------------------------------- */

static void take_steps(Run *run, int span);

/*
 * emit_report
 *		Emit the progress lines of a step taken, and forget them.
 */
static void
emit_report(RunStep *step)
{
	ListCell   *lr;

	foreach(lr, step->report)
		ereport(NOTICE, (errmsg_internal("%s", (char *) lfirst(lr))));
	step->report = NIL;
}

/*
 * add_outcome
 *		Add the results of a deferred test to its step's outcome (allocated
 *		in the run's context, as the step's).
 */
static void
add_outcome(Run *run, RunStep *step, TestsOutcome *more)
{
	MemoryContext old = MemoryContextSwitchTo(run->context);

	if (step->tests == NULL)
		step->tests = palloc0(sizeof(TestsOutcome));
	step->tests->results = list_concat(step->tests->results, more->results);
	step->tests->passed += more->passed;
	step->tests->warned += more->warned;
	step->tests->failed += more->failed;
	step->tests->queries += more->queries;
	if (step->tests->blocker == NULL)
		step->tests->blocker = more->blocker;
	MemoryContextSwitchTo(old);
}

/*
 * run_deferred_test
 *		Run a deferred test of step's model as the model owner, against what
 *		the run built: the model's candidate (or its table, an incremental
 *		or snapshot model's rows applied in place), and the candidates of
 *		the models it waits for (the run's redirections).
 */
static void
run_deferred_test(Run *run, RunStep *step, DeferredTest *deferred)
{
	ModelScope	scope;
	TestsOutcome *outcome;

	ModelScopeEnter(&scope, ModelOwnerId(step->model), 0);
	outcome = TestsRunSome(step->model, RelPublished(step->model), run->redirect_from,
						   run->redirect_to, list_make1(makeString(deferred->test->name)), NIL,
						   InvalidOid, run->context);
	ModelScopeLeave(&scope);
	if (outcome->results != NIL)
		deferred->result = linitial(outcome->results);
	add_outcome(run, step, outcome);
}

/*
 * run_deferred_due
 *		Run the deferred tests of span whose models were all taken: unless
 *		their own model was not built (nothing to test), one of the models
 *		they wait for was not built (the test cannot run: its model is held
 *		back, run_span), or neither side was rebuilt (a change-aware run:
 *		they would say what they said).
 */
static void
run_deferred_due(Run *run, int span)
{
	ListCell   *lc;

	foreach(lc, run->steps)
	{
		RunStep    *step = lfirst(lc);
		ListCell   *ld;

		if (step->span != span || !step->taken)
			continue;
		foreach(ld, step->deferred)
		{
			DeferredTest *deferred = lfirst(ld);
			bool		changed = step->status == STEP_SUCCESS;
			bool		ready = true;
			ListCell   *lw;

			if (deferred->done)
				continue;
			foreach(lw, deferred->waits)
			{
				RunStep    *wait = RunStepOfNode(run, lfirst_int(lw));

				if (!wait->taken)
					ready = false;
				else if (!STEP_BUILT(wait->status) && deferred->missing == NULL)
					deferred->missing = wait;
				else if (wait->status == STEP_SUCCESS)
					changed = true;
			}
			if (!ready)
				continue;
			deferred->done = true;
			if (!STEP_BUILT(step->status) || deferred->missing != NULL)
				continue;
			if (!changed)
			{
				deferred->unchanged = true;
				continue;
			}
			run_deferred_test(run, step, deferred);
		}
	}
}

/*
 * holding_test
 *		The deferred test of a built step that holds its span back: a
 *		blocking one that failed, or one that could not run; or NULL.
 */
static DeferredTest *
holding_test(RunStep *step)
{
	ListCell   *ld;

	if (!STEP_BUILT(step->status))
		return NULL;
	foreach(ld, step->deferred)
	{
		DeferredTest *deferred = lfirst(ld);

		if (deferred->missing != NULL)
			return deferred;
		if (deferred->result != NULL && deferred->test->blocking &&
			(strcmp(deferred->result->status, "fail") == 0 ||
			 strcmp(deferred->result->status, "error") == 0))
			return deferred;
	}
	return NULL;
}

/* What span_work needs. */
typedef struct SpanWork
{
	Run		   *run;
	int			span;
	RunStep    *holder;			/* out: the step whose test holds the span back */
	DeferredTest *holding;		/* ... and that test */
} SpanWork;

/*
 * span_work
 *		Take the steps of a span; when a deferred test holds it back, raise
 *		ERRCODE_MEDALLION_HELD_BACK to roll its savepoint back.
 */
static void
span_work(void *arg)
{
	SpanWork   *work = (SpanWork *) arg;
	ListCell   *lc;

	take_steps(work->run, work->span);
	foreach(lc, work->run->steps)
	{
		RunStep    *step = lfirst(lc);

		if (step->span == work->span && (work->holding = holding_test(step)) != NULL)
		{
			work->holder = step;
			ereport(ERROR,
					(errcode(ERRCODE_MEDALLION_HELD_BACK),
					 errmsg("test %s of model \"%s\" holds back the models built since it",
							work->holding->test->name, step->model->name)));
		}
	}
}

/* Why a deferred test did not run: a model it waits for was not built. */
static char *
missing_reason(DeferredTest *deferred)
{
	return psprintf("its test %s reads model %s, which %s", deferred->test->name,
					deferred->missing->model->name,
					deferred->missing->status == STEP_FAILED ? "failed" :
					deferred->missing->status == STEP_CANCELLED ? "was cancelled" :
					"was skipped");
}

/*
 * hold_back
 *		After a span's savepoint was rolled back: nothing it built stays, so
 *		each of its models that built is held back, saying why: the model
 *		whose test failed fails, the models the test waited for and the
 *		others of the span (built from them) are skipped.
 */
static void
hold_back(Run *run, int span, RunStep *holder, DeferredTest *holding)
{
	const char *because;
	ListCell   *lc;

	if (holding->missing != NULL)
		because = missing_reason(holding);
	else
		because = psprintf("blocking test %s, run after %s, failed", holding->test->name,
						   holding->after);
	foreach(lc, run->steps)
	{
		RunStep    *step = lfirst(lc);
		DeferredTest *own;

		if (step->span != span)
			continue;
		if (step->by_worker && OidIsValid(step->worker_candidate))
			RunDropWorkerCandidate(step);
		step->candidate = NULL;
		if (!STEP_BUILT(step->status))
			continue;			/* its own failure stands */
		own = holding_test(step);
		step->up_to_date = false;
		if (own != NULL && own->missing == NULL)
		{
			TestResult *result = own->result;

			step->status = STEP_FAILED;
			step->sqlstate = pstrdup(unpack_sql_state(ERRCODE_CHECK_VIOLATION));
			step->message = result->message != NULL ?
				psprintf("blocking test %s, run after %s, failed: %s; held back with %s",
						 own->test->name, own->after, result->message, own->after) :
				psprintf("blocking test %s, run after %s, failed: %s failing row%s; held back with %s",
						 own->test->name, own->after, RunFormatCount(result->failures),
						 result->failures == 1 ? "" : "s", own->after);
		}
		else if (own != NULL)
		{
			step->status = STEP_SKIPPED;
			step->message = psprintf("held back: %s", missing_reason(own));
		}
		else
		{
			step->status = STEP_SKIPPED;
			step->message = psprintf("held back with model %s: %s", holder->model->name, because);
		}
	}
}

/*
 * run_span
 *		Take the steps of span inside a savepoint, and their deferred tests;
 *		keep it, or roll it back and hold its models back (hold_back).  Then
 *		their failing rows are kept and their progress lines emitted.  An
 *		error other than the span's own is raised again: the run stops.
 */
static void
run_span(Run *run, int span)
{
	/* lists grow in place: what the span added is cut off by length */
	int			saved_redirects = list_length(run->redirect_from);
	SpanWork	work = {run, span, NULL, NULL};
	ErrorData  *edata = SubxactRun(span_work, &work, false);
	ListCell   *lc;

	if (edata != NULL && edata->sqlerrcode != ERRCODE_MEDALLION_HELD_BACK)
		ReThrowError(edata);
	if (edata != NULL)
	{
		run->redirect_from = list_truncate(run->redirect_from, saved_redirects);
		run->redirect_to = list_truncate(run->redirect_to, saved_redirects);
		hold_back(run, span, work.holder, work.holding);
		FreeErrorData(edata);
	}
	foreach(lc, run->steps)
	{
		RunStep    *step = lfirst(lc);
		MemoryContext old;

		if (step->span != span)
			continue;
		old = MemoryContextSwitchTo(run->context);
		step->report = RunStepReport(run, step);
		MemoryContextSwitchTo(old);
		if (step->tests != NULL)
			store_failures(run, step);
		emit_report(step);
	}
}

/*
 * take_steps
 *		Take the steps of span (0: those of no span, and each span as it
 *		comes) in plan order; while a worker builds one, the run builds
 *		what it can itself.
 */
static void
take_steps(Run *run, int span)
{
	ListCell   *lc;

	foreach(lc, run->steps)
	{
		RunStep    *step = lfirst(lc);
		RunStep    *ahead;

		if (step->span != span)
		{
			if (span == 0 && !step->taken)
				run_span(run, step->span);
			continue;
		}
		/* while a worker builds this one, the run builds what it can itself */
		while (step->worker != NULL && !run->cancelled && !WorkerBuildDone(step->worker) &&
			   (ahead = step_ahead(run, lc, span)) != NULL)
		{
			take_step(run, ahead);
			if (span != 0)
				run_deferred_due(run, span);
		}
		if (!step->taken)
			take_step(run, step);
		if (span != 0)
			run_deferred_due(run, span);
		else
			emit_report(step);
	}
}

/* Lock, build and publish. */
static void
execute_run_work(void *arg)
{
	Run		   *run = (Run *) arg;

	lock_models(run);
	take_steps(run, 0);
	/* the workers are done: they exit while the run publishes */
	RunReleaseWorkers(run);
	if (run->cancelled)
		ereport(ERROR,
				(errcode(ERRCODE_QUERY_CANCELED),
				 errmsg("%s", run->cancel_message),
				 errdetail("The run was cancelled while building; it published nothing.")));
	if (run->stage)
		StageHold(run);
	else
	{
		publish_all(run);
		RunTrimDeltas(run);
	}
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

	RunStopWorkers(run);
	RunReleaseWorkers(run);
	WorkerAwaitRelease(run->released_workers);
	run->released_workers = NIL;

	if (failure != NULL)
	{
		foreach(lc, run->steps)
			((RunStep *) lfirst(lc))->published = false;
	}
	return failure;
}

/* ----------------------------------------------------------------
 * Entry points
 * ---------------------------------------------------------------- */

/*
 * The local transaction that medallion.note_outside_block() found outside
 * any transaction block: a subtransaction of it (a PL/pgSQL exception
 * block around medallion_run, as medallion_run_scheduled has) is not a
 * transaction block the caller keeps open.
 */
static Datum run_and_report(FunctionCallInfo fcinfo, Run *run);

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
 *		Error when what (medallion_run, medallion_test) is called inside a
 *		transaction block and steps hold models whose owner's privileges
 *		the caller does not have: what it locks of theirs (published
 *		tables, stored failing rows) stays locked until the transaction
 *		ends, and the caller would decide for how long another owner's
 *		readers and runs wait.  One's own models may be run and tested
 *		inside a transaction.
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
 *		what earlier runs' dropped relations left there goes, once the runs
 *		since the last reset took RUN_CACHE_RESET_STEPS steps; count the
 *		steps of run.
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
 * A reset frees those of the earlier runs, failed ones included; the
 * entries still needed are then read again, an index lookup each: every
 * query a run plans looks up the statistics of the catalog columns it
 * reads, so a reset at every run cost a one-model run about 0.5 ms
 * (bench/README.md, issue 27).  Resetting after a number of steps keeps
 * what runs leave bounded (RUN_CACHE_RESET_STEPS steps' worth, about 1 kB
 * each) at a small share of that cost.
 */
static void
forget_dropped_relations(Run *run)
{
	static int	steps_since_reset = 0;

	if (steps_since_reset >= RUN_CACHE_RESET_STEPS)
	{
		CatalogCacheFlushCatalog(TypeRelationId);
		CatalogCacheFlushCatalog(StatisticRelationId);
		steps_since_reset = 0;
	}
	steps_since_reset += list_length(run->steps);
}

/*
 * medallion_run(selector, full_refresh, strict, on_conflict, threads,
 * changed_only, exclude) builds the
 * selected models and publishes them; returns a row per model.
 */
Datum
medallion_run(PG_FUNCTION_ARGS)
{
	Run		   *run = palloc0(sizeof(Run));

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2) || PG_ARGISNULL(3) ||
		PG_ARGISNULL(4))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the arguments of medallion_run must not be NULL")));
	run->context = CurrentMemoryContext;
	run->stepcxt = AllocSetContextCreate(run->context, "medallion model",
										 ALLOCSET_DEFAULT_SIZES);
	run->selector = text_to_cstring(PG_GETARG_TEXT_PP(0));
	/* exclude came in 0.3.0 */
	run->exclude = PG_NARGS() > 6 && !PG_ARGISNULL(6) ?
		text_to_cstring(PG_GETARG_TEXT_PP(6)) : NULL;
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
	return run_and_report(fcinfo, run);
}

/*
 * run_and_report
 *		Plan, lock, build and publish (or, staging, hold) the run's models,
 *		record it in the ledger and return its row per model.
 */
static Datum
run_and_report(FunctionCallInfo fcinfo, Run *run)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ListCell   *lc;
	ErrorData  *failure;
	int			nfailed;

	CatalogRequireAdmin(run->stage ? "stage models" : "run models");
	InitMaterializedSRF(fcinfo, 0);

	if (!RunPlanSteps(run))
		PG_RETURN_VOID();
	refuse_others_in_block(run->steps, "medallion_run");
	if (run->threads > 0)
		RunPlanWorkers(run->graph, run->steps, true,
					   run->tracking && run->changed_only && !run->full_refresh && !run->stage);

	number_run(run);
	/* the ledger records the start once the run builds for long enough (LedgerStart) */
	/*
	 * Every run, forced ones too, records its builds' state (and a forced
	 * pipeline's models keep the logs growing): it holds a snapshot to its
	 * end, so that no trim deletes what its builds do not see before their
	 * states are committed (ChangesHoldHorizon); each run trims them (one
	 * count of at most 10,001 rows per log when there is little to trim;
	 * the delta logs of maintained models are trimmed once the run has
	 * built, trim_deltas).  Before ALTER EXTENSION UPDATE to 0.2.0 there
	 * are no logs.
	 */
	if (run->tracking)
	{
		ChangesHoldHorizon(run->stage);
		ChangesTrim();
	}

	forget_dropped_relations(run);

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
	/* a stage's savepoint is rolled back: its finish is written by a worker */
	LedgerFinish(run, failure != NULL || run->stage ||
				 (run->strict && nfailed + RunCountSteps(run, STEP_SKIPPED, false) > 0));

	if (failure != NULL)
		ReThrowError(failure);

	foreach(lc, run->steps)
	{
		RunStep    *step = lfirst(lc);
		Datum		values[10];
		bool		nulls[10] = {false};
		char	   *message;

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
		message = step->sqlstate ? RunVisibleText(step->model, step->message, step->sqlstate) :
			step->message;
		values[9] = message ? CStringGetTextDatum(message) : (Datum) 0;
		nulls[9] = message == NULL;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}

	ereport(NOTICE,
			(errmsg("run %lld: %d model%s%s: %d OK, %d ERROR, %d SKIP; %s %d%s",
					(long long) run->run_id, list_length(run->steps),
					list_length(run->steps) == 1 ? "" : "s",
					RunFormatMs((double) (GetCurrentTimestamp() - run->started_at) / 1000.0),
					RunCountSteps(run, STEP_SUCCESS, false), nfailed,
					RunCountSteps(run, STEP_SKIPPED, false),
					run->stage ? "staged" : "published",
					run->stage ? run->staged : RunCountSteps(run, STEP_PENDING, true),
					RunFormatMs(run->publish_ms))));

	RunHoldOthersBriefly(run->steps, false);
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
 * medallion_stage_build(selector, exclude) builds the selected models as
 * a change-aware run does, runs their tests and holds the table
 * candidates, without publishing (run_stage.c); returns a row per model,
 * as medallion_run.  It is called in a savepoint made before new
 * definitions were applied, which is then rolled back:
 * medallion_stage_keep keeps what it holds, with the definitions
 * pending.
 */
Datum
medallion_stage_build(PG_FUNCTION_ARGS)
{
	Run		   *run = palloc0(sizeof(Run));

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the selector of medallion_stage_build must not be NULL"),
				 errhint("Select every model with 'all'.")));
	if (!IsSubTransaction())
		ereport(ERROR,
				(errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
				 errmsg("medallion_stage_build must be called inside a savepoint"),
				 errdetail("A stage keeps the new definitions pending: they are rolled back to the savepoint made before they were applied, and the candidates it built are kept by medallion_stage_keep."),
				 errhint("BEGIN; SAVEPOINT s; define the models; SELECT * FROM medallion_stage_build(...); ROLLBACK TO SAVEPOINT s; SELECT medallion_stage_keep(); COMMIT;")));
	run->context = CurrentMemoryContext;
	run->stepcxt = AllocSetContextCreate(run->context, "medallion model",
										 ALLOCSET_DEFAULT_SIZES);
	run->selector = text_to_cstring(PG_GETARG_TEXT_PP(0));
	run->exclude = PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1));
	run->tracking = true;
	run->changed_only = true;
	run->on_conflict = "wait";
	run->had_writes = true;
	run->stage = true;
	run->stage_subxact = GetCurrentSubTransactionId();
	return run_and_report(fcinfo, run);
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
	ModelRequireOwner(model);
	published = RelPublished(model);
	if (OidIsValid(published))
		RelLockPatiently(list_make1_oid(published));
	ModelScopeEnter(&scope, ModelOwnerId(model), 0);
	rows = PublishRollback(model);
	ModelScopeLeave(&scope);
	ChangesForget(model);
	PG_RETURN_TEXT_P(cstring_to_text(psprintf("%s rolled back: %s rows",
											  quote_qualified_identifier(model->schema, model->name),
											  RunFormatCount(rows))));
}

/*
 * medallion_test(selector, exclude, unit) runs the tests of the selected
 * models against what is published, without building, or with unit their
 * unit tests (tests_unit.c); returns a row per test.  It is
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
	bool		unit;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the selector of medallion_test must not be NULL"),
				 errhint("Select every model with 'all'.")));
	run->context = CurrentMemoryContext;
	run->selector = text_to_cstring(PG_GETARG_TEXT_PP(0));
	/* exclude came in 0.3.0 */
	run->exclude = PG_NARGS() > 1 && !PG_ARGISNULL(1) ?
		text_to_cstring(PG_GETARG_TEXT_PP(1)) : NULL;
	/* unit came in 0.3.0 too */
	unit = PG_NARGS() > 2 && !PG_ARGISNULL(2) && PG_GETARG_BOOL(2);
	run->on_conflict = "wait";
	run->test_only = true;
	CatalogRequireAdmin("run tests");
	InitMaterializedSRF(fcinfo, 0);
	if (!RunPlanSteps(run))
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

		if (unit)
		{
			/* unit tests read given rows: built or not, published or not */
			step->tests = TestsUnitRun(step->model, run->context);
		}
		else if (!OidIsValid(relid))
			continue;
		else if (step->model->kind != MAT_VIEW && !CatalogEverBuilt(step->model->name))
		{
			/*
			 * A table that was never built is empty, and its tests would
			 * pass: they are reported "not built", and fail the call's
			 * status.
			 */
			foreach(lt, CatalogListTests(step->model->name))
			{
				TestDef    *test = lfirst(lt);
				Datum		values[7];
				bool		nulls[7] = {false, false, false, false, true, true, false};

				values[0] = CStringGetTextDatum(step->model->name);
				values[1] = CStringGetTextDatum(test->name);
				values[2] = CStringGetTextDatum(test->kind);
				values[3] = CStringGetTextDatum("not built");
				values[6] = CStringGetTextDatum(psprintf("model \"%s\" was never built: run it first (medallion_run)",
														  step->model->name));
				tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
				failed++;
			}
			step->status = STEP_SKIPPED;
			continue;
		}
		else
		{
			ModelScopeEnter(&scope, ModelOwnerId(step->model), 0);
			step->tests = TestsRun(step->model, relid, NIL, NIL, run->context);
			ModelScopeLeave(&scope);
			store_failures(run, step);
		}
		step->status = step->tests->failed > 0 ? STEP_FAILED : STEP_SUCCESS;
		failed += step->tests->failed;

		foreach(lt, step->tests->results)
		{
			TestResult *result = lfirst(lt);
			Datum		values[7];
			bool		nulls[7] = {false};
			char	   *observed;
			char	   *message;

			values[0] = CStringGetTextDatum(step->model->name);
			values[1] = CStringGetTextDatum(result->test->name);
			values[2] = CStringGetTextDatum(result->test->kind);
			values[3] = CStringGetTextDatum(result->status);
			values[4] = Int64GetDatum(result->failures);
			nulls[4] = !result->has_failures;
			observed = RunVisibleText(step->model, result->observed, NULL);
			message = RunVisibleText(step->model, result->message, NULL);
			values[5] = observed ? CStringGetTextDatum(observed) : (Datum) 0;
			nulls[5] = observed == NULL;
			values[6] = message ? CStringGetTextDatum(message) : (Datum) 0;
			nulls[6] = message == NULL;
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
	}
	run->status = failed > 0 ? "failed" : "success";
	LedgerFinish(run, false);
	RunHoldOthersBriefly(run->steps, true);
	PG_RETURN_VOID();
}
