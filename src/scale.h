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

/* The tables a hash-distributed model's runs write besides its own. */
typedef enum ScaleCopyKind
{
	SCALE_CANDIDATE,			/* medallion_history."<model>$candidate" */
	SCALE_PREVIOUS				/* medallion_history.<model> */
} ScaleCopyKind;

extern bool ScaleCitusInstalled(void);
extern void ScaleCheckSettings(ModelDef *model);
extern void ScaleDistribute(ModelDef *model, AnalyzedModel *analyzed);
extern void ScaleClaim(Oid relid, const char *what);
extern bool ScaleIsCitusTable(Oid relid);
extern void ScaleSequential(void);
extern bool ScaleIsDistributed(Oid relid);
extern char *ScaleCopyName(ModelDef *model, ScaleCopyKind which);
extern Oid	ScaleCopy(ModelDef *model, ScaleCopyKind which);
extern void ScaleDropCopy(ModelDef *model, ScaleCopyKind which);
extern void ScaleDropCopies(ModelDef *model);
extern void ScaleDistributeLike(Oid relid, Oid published, bool not_null);
extern bool ScaleDropTable(Oid relid);
extern void ScaleFillDistributed(Oid candidate, Oid published, const char *model_name);
extern void ScalePublishDistributed(Oid published, Oid candidate, Oid previous, bool keep,
									const char *model_name);
extern void ScaleRollbackDistributed(Oid published, Oid previous, Oid candidate,
									 const char *model_name);
extern Oid	ScaleExchange(Oid published, Oid other, bool keep, const char *what);

#endif							/* MEDALLION_SCALE_H */
