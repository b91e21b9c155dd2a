/*-------------------------------------------------------------------------
 *
 * run_state.c
 *	  A run as data: the names of step statuses, counts of steps, and the
 *	  progress lines of a run (its counts and durations, each step's
 *	  outcome and failing tests), and the deadline of a transaction that
 *	  holds other owners' relations after a run, test or plan.  What run.c
 *	  reports and run_ledger.c records both read these, so they sit below
 *	  both (the types, Run and RunStep, are in run.h).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/pg_list.h"
#include "storage/latch.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/timeout.h"

#include "catalog.h"
#include "run.h"
#include "scope.h"
#include "tests.h"

/* medallion.log_timing (RunInit): durations in the progress lines */
bool		run_log_timing = true;

const char *const run_step_status_names[] = {
	"pending", "success", "up_to_date", "failed", "skipped", "cancelled"
};

/* How many steps of run have status (or, with published_only, were published). */
int
RunCountSteps(Run *run, StepStatus status, bool published_only)
{
	ListCell   *lc;
	int			n = 0;

	foreach(lc, run->steps)
	{
		RunStep    *step = lfirst(lc);

		if (published_only ? step->published :
			(step->status == status ||
			 (status == STEP_SUCCESS && step->status == STEP_UP_TO_DATE)))
			n++;
	}
	return n;
}

/*
 * RunFormatCount
 *		n with thousands separators (19820 -> "19,820"), palloc'd in the
 *		caller's memory context.
 */
char *
RunFormatCount(int64 n)
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

/*
 * RunFormatMs
 *		" in N ms" for a progress line, or "" when medallion.log_timing is
 *		off; palloc'd in the caller's memory context.
 */
char *
RunFormatMs(double ms)
{
	return run_log_timing ? psprintf(" in %s ms", RunFormatCount((int64) (ms + 0.5))) : "";
}

/*
 * RunStepReport
 *		The progress lines of a step that was taken, in the caller's memory
 *		context: emitted in plan order, whatever order the steps were
 *		built in.
 */
List *
RunStepReport(Run *run, RunStep *step)
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
												(long long) step->unchanged_since, RunFormatMs(step->ms)));
			else
				lines = lappend(lines, psprintf("%s UP TO DATE %s %s: no new rows%s", prefix, what,
												step->model->materialized, RunFormatMs(step->ms)));
			break;
		case STEP_SUCCESS:
			if ((step->candidate != NULL && step->candidate->delta) ||
				step->model->kind == MAT_SNAPSHOT)
				lines = lappend(lines, psprintf("%s OK %s %s %s new or changed rows%s%s%s%s", prefix, what,
												step->model->materialized, RunFormatCount(step->rows),
												step->candidate && step->candidate->full_reason ? " (" : "",
												step->candidate && step->candidate->full_reason ?
												step->candidate->full_reason : "",
												step->candidate && step->candidate->full_reason ? ")" : "",
												RunFormatMs(step->ms)));
			else if (step->candidate != NULL && step->candidate->full_reason)
				lines = lappend(lines, psprintf("%s OK %s %s %s rows (%s)%s", prefix, what,
												step->model->materialized, RunFormatCount(step->rows),
												step->candidate->full_reason, RunFormatMs(step->ms)));
			else if (step->model->kind == MAT_EPHEMERAL)
				lines = lappend(lines, psprintf("%s OK %s ephemeral (read through its binding by what reads it)",
												prefix, step->model->name));
			else if (step->has_rows)
				lines = lappend(lines, psprintf("%s OK %s %s %s row%s%s", prefix, what,
												step->model->materialized, RunFormatCount(step->rows),
												step->rows == 1 ? "" : "s", RunFormatMs(step->ms)));
			else
				lines = lappend(lines, psprintf("%s OK %s %s%s", prefix, what, step->model->materialized,
												RunFormatMs(step->ms)));
			break;
		case STEP_FAILED:
		case STEP_CANCELLED:
			lines = lappend(lines, psprintf("%s %s %s %s%s: %s", prefix,
											step->status == STEP_FAILED ? "ERROR" : "CANCELLED", what,
											step->model->materialized, RunFormatMs(step->ms),
											step->sqlstate ? RunVisibleText(step->model, step->message, step->sqlstate) :
											step->message));
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
				lines = lappend(lines, psprintf("    ERROR test %s: %s", result->test->name,
												RunVisibleText(step->model, result->message, NULL)));
			else if (strcmp(result->status, "pass") != 0)
			{
				/*
				 * A few failing rows, to roles acting for the owner only;
				 * a failed step's own line shows its blocker's already.
				 */
				bool		rows = result->message != NULL &&
					!(step->status == STEP_FAILED && result == step->tests->blocker) &&
					has_privs_of_role(GetUserId(), ModelOwnerId(step->model));

				lines = lappend(lines, psprintf("    %s test %s%s: %s",
												strcmp(result->status, "warn") == 0 ? "WARN" : "FAIL",
												result->test->name,
												strcmp(result->status, "fail") == 0 && !result->test->blocking ?
												" (not blocking)" : "",
												rows ? result->message :
												psprintf("%s failure%s", RunFormatCount(result->failures),
														 result->failures == 1 ? "" : "s")));
			}
		}
	}
	return lines;
}

/* The step of a graph node in this run, or NULL. */
RunStep *
RunStepOfNode(Run *run, int node)
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
 * Other owners' relations held after a call
 * ---------------------------------------------------------------- */

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
 * RunHoldOthersBriefly
 *		Arm the hold timeout when steps hold a model of another owner that
 *		the call locked: published (a run; all steps when all), tested or
 *		planned.
 */
void
RunHoldOthersBriefly(List *steps, bool all)
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

/* ----------------------------------------------------------------
 * What the caller may read of another owner's step
 * ---------------------------------------------------------------- */

/*
 * The classes of SQLSTATE whose messages (and details) can quote values:
 * data exceptions, integrity violations, errors of SQL-, PL- and external
 * routines (RAISE, foreign data wrappers) and internal errors.  The same
 * list is in medallion.run_messages and medallion.status.
 */
static const char *const quoting_classes[] = {"22", "23", "2F", "38", "39", "44", "HV", "P0", "XX"};

static bool
may_quote_data(const char *sqlstate)
{
	if (sqlstate == NULL)
		return true;			/* a test's message or observed value */
	for (int i = 0; i < lengthof(quoting_classes); i++)
	{
		if (strncmp(sqlstate, quoting_classes[i], 2) == 0)
			return true;
	}
	return false;
}

/*
 * RunVisibleText
 *		text, an error message (with its SQLSTATE) or a test's message or
 *		observed value (sqlstate NULL) of model's step, as the caller may
 *		see it: as it is when the caller acts for the model's owner or it
 *		cannot quote data, else only its SQLSTATE, and where the owner's
 *		roles read it.  NULL stays NULL.
 */
char *
RunVisibleText(ModelDef *model, const char *text, const char *sqlstate)
{
	if (text == NULL || !may_quote_data(sqlstate) ||
		has_privs_of_role(GetUserId(), ModelOwnerId(model)))
		return (char *) text;
	return psprintf("%s (the message is shown to roles acting for %s, in medallion.run_messages)",
					sqlstate ? psprintf("failed with SQLSTATE %s", sqlstate) : "not shown",
					model->owner);
}
