/*-------------------------------------------------------------------------
 *
 * run.h
 *	  Runs: medallion_run, medallion_test, medallion_rollback (run.c); the
 *	  plan and medallion_plan (run_plan.c); one step (run_step.c); build
 *	  workers (run_threads.c); a run as data and its progress lines
 *	  (run_state.c); the ledger of runs (run_ledger.c); staged deploys
 *	  (run_stage.c); the trim of delta logs after a run (run_trim.c).
 *	  The files of the run call each other in one direction: run.c,
 *	  run_stage.c, run_plan.c, run_step.c, run_threads.c, run_trim.c,
 *	  run_ledger.c, run_state.c.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MEDALLION_RUN_H
#define MEDALLION_RUN_H

#include "access/transam.h"
#include "datatype/timestamp.h"

#include "build.h"
#include "graph.h"
#include "run_workers.h"
#include "tests.h"

typedef enum StepStatus
{
	STEP_PENDING,
	STEP_SUCCESS,
	STEP_UP_TO_DATE,			/* built: an incremental model with no new rows */
	STEP_FAILED,
	STEP_SKIPPED,
	STEP_CANCELLED
} StepStatus;

extern const char *const run_step_status_names[];	/* run_state.c */

#define STEP_BUILT(status) ((status) == STEP_SUCCESS || (status) == STEP_UP_TO_DATE)

/*
 * A test that reads a model built from its own model (a relationships test
 * of order_items referring to orders, which reads order_items): the run
 * evaluates it once the models it waits for are built, reading their
 * candidates, inside the savepoint its model's step opened (run.c).
 */
typedef struct DeferredTest
{
	TestDef    *test;
	List	   *waits;			/* int list: graph nodes of the models it waits for */
	char	   *after;			/* their names, "orders, payments" */
	bool		done;			/* every model it waits for was taken */
	bool		unchanged;		/* ... neither side was rebuilt: nothing to test */
	struct RunStep *missing;	/* ... one of them was not built: not run */
	TestResult *result;			/* its outcome, when it ran */
} DeferredTest;

/* One model of a run. */
typedef struct RunStep
{
	int			stepno;
	int			wave;
	int			node;			/* graph node index */
	ModelDef   *model;
	StepStatus	status;
	bool		published;
	bool		has_rows;
	int64		rows;
	TimestampTz started_at;
	TimestampTz finished_at;
	double		ms;
	char	   *sqlstate;
	char	   *message;
	Candidate  *candidate;		/* table models */
	TestsOutcome *tests;		/* NULL when the model has none, or was not built */
	bool		up_to_date;		/* incremental: no new rows; or unchanged inputs */
	bool		later;			/* a staged deploy's: built when the stage is promoted */
	int64		unchanged_since;	/* up to date: inputs unchanged since this run */
	char	   *build_reason;	/* change-aware: why it was built */
	struct ChangeCheck *pre_check;	/* change-aware: checked before a worker built it */
	WorkerBuild *worker;		/* threads: the worker building it, until collected */
	bool		by_worker;		/* threads: a worker built its candidate */
	bool		in_worker;		/* threads: a worker built it or failed to */
	Oid			worker_candidate;	/* ... committed in medallion_build */
	int64		worker_rows;
	char	   *worker_read_with;	/* the snapshot the worker read with, or NULL */
	bool		worker_failed;	/* the worker's error fails the step, even a cancel */
	bool		worker_timed_out;	/* ... it hit the model's statement_timeout */
	char	   *run_itself;		/* threads: why the run builds it, not a worker */
	bool		taken;			/* built (or skipped) */
	List	   *report;			/* its progress lines, until emitted in plan order */
	int			attempt;		/* tries, with retries of a source's connection errors */
	List	   *remote_schemas; /* schemas of the foreign tables it reads */
	Oid			stage;			/* batched extraction: its staging table */
	double		last_ms;		/* its last build's ms (-1: never built), once
								 * run->last_ms_read */
	List	   *deferred;		/* of DeferredTest *: its tests run after other steps */
	List	   *deferred_names; /* ... their names, as String nodes */
	int			span;			/* 0, or the savepoint it is built in with the
								 * models its own or an upstream step's deferred
								 * tests wait for (run_plan.c) */
} RunStep;

/* A run in progress. */
typedef struct Run
{
	MemoryContext context;		/* survives the rollback of any step */
	MemoryContext stepcxt;		/* what building one model allocates; reset after it */
	int64		run_id;
	FullTransactionId xact;		/* the caller's transaction, once started */
	bool		ledger_started; /* LedgerStart has recorded the start */
	bool		last_ms_read;	/* the steps' last_ms are read */
	char	   *selector;
	char	   *exclude;		/* a selector of models left out, or NULL */
	bool		full_refresh;
	bool		tracking;		/* the catalog has change tracking (0.2.0 and later) */
	bool		changed_only;	/* skip models whose definition and inputs did not change */
	bool		strict;
	char	   *on_conflict;
	TimestampTz started_at;
	Graph	   *graph;
	List	   *steps;			/* of RunStep * */
	List	   *sources;		/* of SourceDef * */
	List	   *redirect_from;	/* published relation OIDs ... */
	List	   *redirect_to;	/* ... and the candidates the run reads */
	int			threads;		/* models built at once in background workers */
	int			nworkers;		/* workers started and not yet collected */
	List	   *idle_workers;	/* WorkerBuild: workers waiting for a model */
	List	   *released_workers;	/* ... no longer needed, perhaps still exiting */
	char	   *snapshot;		/* exported for workers (repeatable read), or NULL */
	bool		had_writes;		/* the caller's transaction wrote before the run */
	bool		test_only;		/* medallion_test: no steps in the ledger */
	bool		stage;			/* medallion_stage_build: candidates held, not published */
	SubTransactionId stage_subxact; /* ... the caller's, holding the definitions */
	int			staged;			/* ... the table candidates it held */
	bool		cancelled;
	char	   *cancel_message;
	const char *status;
	char	   *message;
	double		publish_ms;
} Run;

/*
 * A run resets this backend's caches of pg_type and pg_statistic rows (what
 * dropped relations leave there: run.c's forget_dropped_relations) once the
 * runs since the last reset took this many steps.
 */
#define RUN_CACHE_RESET_STEPS 256

/* how long a transaction may go on after publishing other owners' models */
#define RUN_HOLD_OTHERS_MS 2000

/* 30 days, in minutes, and as medallion.ledger_retention gives it */
#define RUN_DEFAULT_LEDGER_RETENTION (30 * 24 * 60)
#define RUN_DEFAULT_LEDGER_RETENTION_TEXT "30 days"

/* run.c */
extern void RunInit(void);

/* run_plan.c */
extern bool run_changed_only;
extern bool RunPlanSteps(Run *run);
extern List *RunPlanDeferred(Graph *graph, List *steps);

/* run_step.c */
extern void RunBuildStep(Run *run, RunStep *step);

/* run_threads.c */
extern bool RunReadsCommitted(Run *run, int node);
extern void RunPlanWorkers(Graph *graph, List *steps, bool workers, bool maintains);
extern void RunGrantWorkerCandidates(Run *run, ModelDef *model);
extern void RunStartWorkers(Run *run);
extern void RunCollectWorker(Run *run, RunStep *step);
extern void RunStopWorker(Run *run, RunStep *step);
extern void RunStopWorkers(Run *run);
extern void RunDropWorkerCandidate(RunStep *step);
extern void RunReleaseWorkers(Run *run);

/* run_state.c */
extern bool run_log_timing;
extern int	RunCountSteps(Run *run, StepStatus status, bool published_only);
extern char *RunFormatCount(int64 n);
extern char *RunFormatMs(double ms);
extern List *RunStepReport(Run *run, RunStep *step);
extern void RunHoldOthersBriefly(List *steps, bool all);
extern char *RunVisibleText(ModelDef *model, const char *text, const char *sqlstate);
extern RunStep *RunStepOfNode(Run *run, int node);

/* run_stage.c */
extern void StageHold(Run *run);

/* run_trim.c */
extern void RunTrimDeltas(Run *run);

/* run_ledger.c */
extern void LedgerInit(void);
extern void LedgerStart(Run *run, RunStep *step);
extern void LedgerFinish(Run *run, bool raising);

#endif							/* MEDALLION_RUN_H */
