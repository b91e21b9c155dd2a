/*-------------------------------------------------------------------------
 *
 * extract.h
 *	  Extraction from sources: foreign tables read, pushdown, batches.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MEDALLION_EXTRACT_H
#define MEDALLION_EXTRACT_H

#include "analyze.h"
#include "catalog.h"

extern List *ExtractForeignSchemas(Query *query);
extern char *ExtractStart(ModelDef *model, AnalyzedModel *analyzed, bool full_refresh);
extern Oid	ExtractCreateStage(ModelDef *model);
extern void ExtractDropStage(Oid stage);
extern int64 ExtractBatch(ModelDef *model, AnalyzedModel *analyzed, const char *sql, Oid stage,
						  char **mark, char **last_key, int batch_size);
extern int64 ExtractUnmarked(ModelDef *model, AnalyzedModel *analyzed, const char *sql, Oid stage);

extern void ExtractInWorker(const char *name, int run_version, int batch_size, const char *start,
							bool restart, pid_t leader_pid, Oid *stage, int64 *rows);

#endif							/* MEDALLION_EXTRACT_H */
