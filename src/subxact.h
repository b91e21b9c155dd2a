/*-------------------------------------------------------------------------
 *
 * subxact.h
 *	  Running a piece of work in an internal subtransaction and catching
 *	  its error.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MEDALLION_SUBXACT_H
#define MEDALLION_SUBXACT_H

#include "utils/elog.h"

typedef void (*SubxactWork) (void *arg);

extern ErrorData *SubxactRun(SubxactWork work, void *arg, bool reraise_cancel);
extern ErrorData *SubxactDiscard(SubxactWork work, void *arg);

#endif							/* MEDALLION_SUBXACT_H */
