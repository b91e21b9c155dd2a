/*-------------------------------------------------------------------------
 *
 * run_workers.h
 *	  Background workers: build workers of runs, and the plumbing the
 *	  ledger writer shares.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MEDALLION_RUN_WORKERS_H
#define MEDALLION_RUN_WORKERS_H

#include "nodes/pg_list.h"
#include "postmaster/bgworker.h"
#include "storage/dsm.h"

#include "medallion.h"

typedef struct WorkerBuild WorkerBuild;

extern int	worker_max_workers;
extern int	worker_min_ms;

extern void WorkerInit(void);

extern void *WorkerAttach(Datum arg, dsm_segment **seg, const char *name);
extern bool WorkerRegister(const char *function, const char *type, const char *name,
						   dsm_segment *seg, BackgroundWorkerHandle **handle);
extern WorkerBuild *WorkerStartBuild(List **idle, int64 run_id, const char *model,
									 int version, int timeout_ms, const char *snapshot,
									 List *from, List *to, List *readers);
extern WorkerBuild *WorkerStartExtract(int64 run_id, const char *model, int version,
									   int batch_size, const char *start, bool restart);
extern void WorkerWaitBuild(WorkerBuild *build);
extern bool WorkerBuildDone(WorkerBuild *build);
extern bool WorkerBuildResult(WorkerBuild *build, bool keep, Oid *candidate, int64 *rows,
							  char **read_with, int *sqlerrcode, char **message,
							  bool *timed_out);
extern void WorkerRelease(List *idle);
extern void WorkerAwaitRelease(List *released);
extern void WorkerStopBuild(WorkerBuild *build);

#endif							/* MEDALLION_RUN_WORKERS_H */
