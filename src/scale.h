/*-------------------------------------------------------------------------
 *
 * scale.h
 *	  Scale-out on Citus: models published as distributed or reference
 *	  tables (scale.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef MEDALLION_SCALE_H
#define MEDALLION_SCALE_H

#include "analyze.h"
#include "catalog.h"

extern bool ScaleCitusInstalled(void);
extern void ScaleCheckSettings(ModelDef *model);
extern void ScaleDistribute(ModelDef *model, AnalyzedModel *analyzed);
extern bool ScaleIsCitusTable(Oid relid);
extern void ScaleSequential(void);
extern bool ScaleIsDistributed(Oid relid);
extern void ScaleNameTable(Oid relid, const char *what, Oid published);
extern void ScaleDistributeLike(Oid relid, Oid published, bool not_null);
extern bool ScaleDropTable(Oid relid);
extern bool ScaleMoveTable(Oid relid, const char *nsp, const char *name);
extern Oid	ScaleExchange(Oid published, Oid other, bool keep);

#endif							/* MEDALLION_SCALE_H */
