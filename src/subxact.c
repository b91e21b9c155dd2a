/*-------------------------------------------------------------------------
 *
 * subxact.c
 *	  Running a piece of work in an internal subtransaction and catching
 *	  its error, the way PL/Python's plpy_spi.c does: a failing model, test
 *	  query or lock attempt is rolled back and recorded, and the caller goes
 *	  on.
 *
 * Memory: the work runs in the caller's memory context, so what it
 * allocates survives a rollback; the error is copied there too.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "utils/memutils.h"
#include "utils/resowner.h"

#include "subxact.h"

/*
 * run_in_subxact
 *		Run work(arg) in an internal subtransaction; keep its changes when
 *		keep and it succeeded, else roll it back.  Returns its error, or
 *		NULL.
 */
static ErrorData *
run_in_subxact(SubxactWork work, void *arg, bool keep, bool reraise_cancel)
{
	MemoryContext oldcontext = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	ErrorData  *volatile edata = NULL;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcontext);
	PG_TRY();
	{
		work(arg);
		if (keep)
			ReleaseCurrentSubTransaction();
		else
			RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcontext);
		CurrentResourceOwner = oldowner;
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(oldcontext);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcontext);
		CurrentResourceOwner = oldowner;
	}
	PG_END_TRY();
	if (edata != NULL && reraise_cancel && edata->sqlerrcode == ERRCODE_QUERY_CANCELED)
		ReThrowError(edata);
	return edata;
}

/*
 * SubxactRun
 *		Run work(arg) in an internal subtransaction.  Returns NULL when it
 *		succeeded (its changes are kept), or its error after rolling it back.
 *		A cancel (query_canceled) is raised again when reraise_cancel: the
 *		user asked for the whole statement to stop.
 */
ErrorData *
SubxactRun(SubxactWork work, void *arg, bool reraise_cancel)
{
	return run_in_subxact(work, arg, true, reraise_cancel);
}

/*
 * SubxactDiscard
 *		Run work(arg) in an internal subtransaction that is rolled back
 *		whatever happens: what it changed is gone, what it allocated (in the
 *		caller's memory context) stays.  Returns its error, or NULL; a
 *		cancel is raised again.
 */
ErrorData *
SubxactDiscard(SubxactWork work, void *arg)
{
	return run_in_subxact(work, arg, false, true);
}
