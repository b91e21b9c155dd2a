/*-------------------------------------------------------------------------
 *
 * run_step.c
 *	  One step of a run: building one model in a subtransaction of its own,
 *	  as its owner (build_model: its binding, the change check, its
 *	  materialization's build, its tests, what its kind applies), retried
 *	  after a source's connection errors (retry_step), and a source's new
 *	  rows staged first in committed batches by an extraction worker
 *	  (run_extraction).
 *
 * A failing model is rolled back with its subtransaction, and what it
 * added to the run (its redirections, a worker's candidate) goes with it;
 * its error is recorded in its step.  What building a model allocates is
 * in the run's step context, reset after each step (take_step, run.c);
 * what publishing needs of its candidate is copied out first
 * (keep_candidate).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "storage/latch.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "analyze.h"
#include "bind.h"
#include "build.h"
#include "catalog.h"
#include "changes.h"
#include "extract.h"
#include "materialize.h"
#include "medallion.h"
#include "model.h"
#include "relation.h"
#include "run.h"
#include "run_workers.h"
#include "scope.h"
#include "subxact.h"
#include "tests.h"
/*
 * The sources whose foreign tables a step's model reads, and whose settings
 * may steer its reads (CatalogSourceActsFor: not another role's source over
 * its owner's schema).
 */

/* Did any test of outcome count a failing row (passing or not)? */
static bool
any_failing_row(TestsOutcome *outcome)
{
	ListCell   *lc;

	foreach(lc, outcome->results)
	{
		if (((TestResult *) lfirst(lc))->failures > 0)
			return true;
	}
	return false;
}
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
	if (run->had_writes || !RunReadsCommitted(run, step->node))
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
 * stage_later
 *		A staged deploy keeps table candidates; what incremental and snapshot
 *		models build goes into their published table, so one that needs
 *		building is built when the stage is promoted: the step says so.
 */
static void
stage_later(Run *run, RunStep *step)
{
	step->up_to_date = true;
	step->later = true;
	step->build_reason = MemoryContextStrdup(run->context, "built when the stage is promoted");
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

	/* a staged deploy extracts nothing: the promote does (stage_later) */
	if (run->stage && model->mat->extracts)
	{
		stage_later(run, step);
		return;
	}

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
		check = step->pre_check != NULL ? step->pre_check :
			run->changed_only && !run->full_refresh ? ChangesCheck(model, build.bound->query) :
			ChangesInputs(model);
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
				RunDropWorkerCandidate(step);
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

	if (run->stage && (model->kind == MAT_INCREMENTAL || model->kind == MAT_SNAPSHOT))
	{
		stage_later(run, step);
		if (gucnest > 0)
			AtEOXact_GUC(true, gucnest);
		return;
	}

	LedgerStart(run, step);
	if (!step->by_worker)
		RunGrantWorkerCandidates(run, model);
	if (check != NULL && !step->by_worker)
		BindCaptureStart();
	/* a table model may be maintained from its input's deltas (changes_maintain.c) */
	/*
	 * not in a staged deploy: a maintained build replaces rows in the
	 * published table itself, which a stage must leave as it is until
	 * promoted (it builds a candidate; the promote's run maintains what
	 * changed since)
	 */
	build.change_aware = check != NULL && run->changed_only && !run->full_refresh && !step->by_worker &&
		!run->stage;
	MaterializeBuild(&build);
	if (build.candidate != NULL && build.candidate->method != NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(run->context);

		step->build_reason = step->build_reason != NULL ?
			psprintf("%s; %s", build.candidate->method, step->build_reason) :
			pstrdup(build.candidate->method);
		MemoryContextSwitchTo(old);
	}
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
		else if (build.candidate != NULL && build.candidate->deltas != NULL)
		{
			/* no read to cut the delta with: not trusted next time */
			build.candidate->deltas = NULL;
		}
		if (build.candidate != NULL && build.candidate->deltas != NULL)
		{
			MemoryContext old = MemoryContextSwitchTo(run->context);

			check->deltas = pstrdup(ChangesMaintainRecordState(build.candidate));
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

	/*
	 * The tests audit what was built; a failing blocking test fails the
	 * model.  Those reading a model built from this one wait for it
	 * (deferred, run.c).
	 */
	if (OidIsValid(build.tested))
	{
		/* a build in place whose table passed them all: the rows it wrote */
		Oid			written = build.candidate != NULL && build.candidate->in_place ?
			build.candidate->written : InvalidOid;

		step->tests = TestsRunSome(model, build.tested, run->redirect_from, run->redirect_to,
								   NIL, step->deferred_names, written, run->context);
		ChangesMaintainDone(build.candidate);
		/*
		 * all passed, none with a failing row (one passing under a
		 * threshold counted the whole table): the next maintained build may
		 * test only what it writes
		 */
		if (check != NULL && check->deltas != NULL && step->tests->failed == 0 &&
			step->tests->warned == 0 && !any_failing_row(step->tests))
		{
			MemoryContext old = MemoryContextSwitchTo(run->context);

			check->deltas = ChangesMaintainRecordTested(model, check->deltas);
			MemoryContextSwitchTo(old);
		}
		if (step->tests->blocker != NULL)
		{
			TestResult *blocker = step->tests->blocker;

			if (strcmp(blocker->status, "error") == 0)
				ereport(ERROR,
						(errcode(ERRCODE_CHECK_VIOLATION),
						 errmsg("blocking test %s could not run: %s", blocker->test->name,
								blocker->message)));
			/*
			 * Its message quotes a few failing rows: the SQLSTATE's class
			 * (23) shows it only to roles acting for the owner.
			 */
			if (blocker->message != NULL)
				ereport(ERROR,
						(errcode(ERRCODE_CHECK_VIOLATION),
						 errmsg("blocking test %s failed: %s", blocker->test->name,
								blocker->message)));
			ereport(ERROR,
					(errcode(ERRCODE_CHECK_VIOLATION),
					 errmsg("blocking test %s failed: %s failing row%s", blocker->test->name,
							RunFormatCount(blocker->failures), blocker->failures == 1 ? "" : "s")));
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
		RunCollectWorker(work->run, work->step);
	/* a worker's model: the timeout counts its tests here */
	ModelScopeStartTimeout(&scope, work->timeout_ms);
	build_model(work->run, work->step);
	ModelScopeLeave(&scope);

	/*
	 * The build changed the columns of the model's table and dropped the
	 * bindings that read what changed: those models are bound again now,
	 * as the caller may, so that this run builds them with the new columns.
	 */
	if (work->step->candidate != NULL && work->step->candidate->unbound != NIL)
		ModelRebindReaders(work->step->candidate->unbound, work->step->model->name);
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
					edata->message, RunFormatCount((int64) ms), step->attempt + 1, retries + 1)));
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
	copy->unbound = NIL;		/* bound again already (build_step_work) */
	copy->published_indexes = list_copy(cand->published_indexes);
	copy->candidate_indexes = list_copy(cand->candidate_indexes);
	copy->lower_bound = cand->lower_bound ? pstrdup(cand->lower_bound) : NULL;
	copy->watermark = cand->watermark ? pstrdup(cand->watermark) : NULL;
	copy->max_seen = cand->max_seen ? pstrdup(cand->max_seen) : NULL;
	/* a span's progress lines are written after its steps (run_span, run.c) */
	copy->full_reason = cand->full_reason ? pstrdup(cand->full_reason) : NULL;
	MemoryContextSwitchTo(old);
	return copy;
}

/*
 * RunBuildStep
 *		Build one step in a subtransaction; a failure is recorded in the
 *		step, a cancel by the user marks the run cancelled.
 */
void
RunBuildStep(Run *run, RunStep *step)
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
		RunStep    *up = RunStepOfNode(run, lfirst_int(lc));

		if (up != NULL && !STEP_BUILT(up->status))
		{
			if (step->worker != NULL)
				RunStopWorker(run, step);	/* started on inputs that then failed */
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
		step->later = false;
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
		else if (step->up_to_date && !step->later)
			/* an incremental or snapshot model built, with nothing new */
			step->message = step->build_reason != NULL ?
				psprintf("no new rows (%s)", step->build_reason) : "no new rows";
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
			RunDropWorkerCandidate(step);
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
