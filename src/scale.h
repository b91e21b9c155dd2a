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
extern Oid	ScaleExchange(Oid published, Oid other, bool keep);

#endif							/* MEDALLION_SCALE_H */
