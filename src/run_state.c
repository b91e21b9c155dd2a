/*-------------------------------------------------------------------------
 *
 * run_state.c
 *	  A run as data: the names of step statuses and counts of steps.  What
 *	  run.c reports and run_ledger.c records both read these, so they sit
 *	  below both (the types, Run and RunStep, are in run.h).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "nodes/pg_list.h"

#include "run.h"

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
