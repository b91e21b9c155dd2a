/*-------------------------------------------------------------------------
 *
 * worker.h
 *	  Background workers: the run ledger writer and model build workers.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MEDALLION_WORKER_H
#define MEDALLION_WORKER_H

#include "nodes/pg_list.h"

#define WORKER_MAX_REDIRECTS 256
#define WORKER_MAX_READERS 64

typedef struct WorkerBuild WorkerBuild;

extern int	worker_max_workers;

extern void WorkerInit(void);
extern void WorkerWriteLedger(const char *entry);
extern WorkerBuild *WorkerStartBuild(int64 run_id, const char *model, int version,
									 int timeout_ms, const char *snapshot, List *from, List *to,
									 List *readers);
extern WorkerBuild *WorkerStartExtract(int64 run_id, const char *model, int version,
									   int batch_size, const char *start, bool restart);
extern void WorkerWaitBuild(WorkerBuild *build);
extern bool WorkerBuildResult(WorkerBuild *build, Oid *candidate, int64 *rows,
							  int *sqlerrcode, char **message, bool *timed_out);
extern void WorkerStopBuild(WorkerBuild *build);

#endif							/* MEDALLION_WORKER_H */
