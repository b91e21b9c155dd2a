/*-------------------------------------------------------------------------
 *
 * build.h
 *	  Materializations: the relations models are published as.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MEDALLION_BUILD_H
#define MEDALLION_BUILD_H

#include "analyze.h"
#include "catalog.h"

extern Oid	BuildPublishedRelid(ModelDef *model);
extern void BuildDefineRelation(ModelDef *model, AnalyzedModel *analyzed,
								LayerDef *layer, ModelDef *previous);
extern void BuildDropRelation(ModelDef *model);

#endif							/* MEDALLION_BUILD_H */
