/*-------------------------------------------------------------------------
 *
 * model.h
 *	  Defining, dropping and re-analyzing models.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MEDALLION_MODEL_H
#define MEDALLION_MODEL_H

#include "catalog.h"

/* Identity and settings while a model's SQL runs (model.c, "owner scope"). */
typedef struct ModelScope
{
	Oid			save_userid;
	int			save_sec;
	int			nestlevel;
	int			timeout_ms;
} ModelScope;

extern void ModelScopeEnter(ModelScope *scope, Oid role, int timeout_ms);
extern void ModelScopeStartTimeout(ModelScope *scope, int timeout_ms);
extern void ModelScopeIsoDates(void);
extern void ModelScopeStopTimeout(void);
extern bool ModelScopeTimedOut(void);
extern void ModelScopeLeave(ModelScope *scope);
extern int	ModelTimeoutMs(ModelDef *model);
extern int	ModelAnalyzeStale(List *models);
extern int	ModelCompareNames(const ListCell *a, const ListCell *b);
extern Oid	ModelOwnerId(ModelDef *model);
extern void ModelBecomeOwner(ModelDef *model, Oid *save_userid, int *save_sec);

#endif							/* MEDALLION_MODEL_H */
