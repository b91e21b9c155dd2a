/*-------------------------------------------------------------------------
 *
 * scope.h
 *	  The owner scope: identity and settings while a model's SQL runs.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MEDALLION_SCOPE_H
#define MEDALLION_SCOPE_H

#include "catalog.h"

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
extern Oid	ModelOwnerId(ModelDef *model);
extern void ModelRequireOwner(ModelDef *model);
extern void ModelBecomeOwner(ModelDef *model, Oid *save_userid, int *save_sec);
extern char *ScopeSearchPathText(List *schemas);
extern List *ScopeSearchPathSchemas(const char *search_path);
extern int	ScopeEnterSearchPath(const char *search_path);
extern void ScopeLeaveSearchPath(int nestlevel);
extern char *ScopeOwnerSetting(Oid owner, const char *name);
extern bool ScopeOwnerBool(Oid owner, const char *name, bool current);
extern int	ScopeOwnerInt(Oid owner, const char *name, int current);

#endif							/* MEDALLION_SCOPE_H */
