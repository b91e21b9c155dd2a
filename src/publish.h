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

extern bool build_keep_previous;
extern int	build_lock_timeout;
extern int	build_publish_timeout;

extern void PublishInit(void);
extern void PublishLockRelations(List *relids);
extern void PublishTable(Candidate *cand);
extern int64 PublishRollback(ModelDef *model);
extern bool PublishSameColumns(Relation a, Relation b);
extern bool PublishSameIndexes(List *a, List *b);

#endif							/* MEDALLION_PUBLISH_H */
