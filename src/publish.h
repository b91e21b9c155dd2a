/*-------------------------------------------------------------------------
 *
 * publish.h
 *	  Publishing table candidates: locks, storage swap, history, rollback.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MEDALLION_PUBLISH_H
#define MEDALLION_PUBLISH_H

#include "utils/relcache.h"

#include "build.h"

extern void PublishInit(void);
extern void PublishTable(Candidate *cand);
extern void PublishForgetPrevious(ModelDef *model);
extern int64 PublishRollback(ModelDef *model);

#endif							/* MEDALLION_PUBLISH_H */
