/*-------------------------------------------------------------------------
 *
 * bind.h
 *	  Bindings: a model's query (and its tests' code) bound once, at
 *	  definition, as views in schema medallion_bind; running what is bound.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MEDALLION_BIND_H
#define MEDALLION_BIND_H

#include "nodes/parsenodes.h"
#include "tcop/dest.h"
#include "utils/snapshot.h"

#include "analyze.h"
#include "catalog.h"
#include "medallion.h"


/* Rows collected by a BindRowsReceiver: each row's values as text. */
typedef struct BindRows
{
	int			ncolumns;
	List	   *rows;			/* of char **, ncolumns each (NULL for SQL NULL) */
} BindRows;

extern char *BindName(const char *model, const char *test);
extern char *BindRelationSql(const char *name);
extern Oid	BindCreateView(Oid nsp, const char *name, Query *query, Oid owner);
extern List *BindModel(ModelDef *model, Query *query);
extern void BindDrop(const char *name);
extern void BindDropRelation(Oid relid);
extern AnalyzedModel *BindLoad(ModelDef *model);
extern List *BindDropDependents(Oid relid, List *attnums);
extern Oid	BindRuleRelation(Oid ruleoid);
extern List *BindDependentViews(Oid relid, List *attnums);
extern List *BindReadRelations(Oid view);
extern bool BindReadsAsBefore(const char *name, char **extra);
extern void BindCheckDefinition(Query *query);
extern void BindCaptureRestart(void);
extern void BindCaptureStart(void);
extern char *BindCaptureTake(void);
extern char *BindPinSnapshot(void);
extern void BindPushPinned(void);
extern Snapshot BindPushPinnedRead(void);
extern int64 BindCount(const char *sql);
extern void BindUnpinSnapshot(void);
extern uint64 BindExecute(const char *sql, int nparams, Oid *types, Datum *values,
						  const char *nulls, List *redirect_from, List *redirect_to,
						  DestReceiver *dest);
extern uint64 BindExecuteBound(Query *query, const char *sql, List *redirect_from,
							   List *redirect_to, DestReceiver *dest);
extern DestReceiver *BindRowsReceiver(BindRows *rows, uint64 limit, MemoryContext cxt);

#endif							/* MEDALLION_BIND_H */
