/*-------------------------------------------------------------------------
 *
 * relation.h
 *	  The relations medallion makes: where they are, pg_class flags,
 *	  comparisons, patient locks (relation.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef MEDALLION_RELATION_H
#define MEDALLION_RELATION_H

#include "access/htup.h"
#include "nodes/pg_list.h"
#include "storage/block.h"
#include "utils/relcache.h"

#include "catalog.h"

extern void RelationInit(void);
extern Oid	RelPublished(ModelDef *model);
extern Oid	RelBindNamespace(bool create);
extern Oid	RelBinding(const char *name);
extern void RelNotExtensionMember(Oid relid);
extern void RelKeepFromAutovacuum(Oid relid);
extern bool RelSameColumns(Relation a, Relation b);
extern bool RelSameIndexes(List *a, List *b);
extern bool RelCanStandIn(Relation a, Relation b);
extern BlockNumber RelBlocks(Relation rel);
extern bool RelReadBy(Oid relid);
extern void RelRenewStorage(Oid relid);
extern void RelRebuildIndexes(Oid relid);
extern void RelLockPatiently(List *relids);
extern List *RelTree(Oid relid);
extern List *RelAncestors(Oid relid);
extern List *RelDescendants(Oid relid);
extern HeapTuple RelTriggerNamed(Relation triggers, Oid relid, const char *name);
extern bool RelCapturableType(Oid type);

#endif							/* MEDALLION_RELATION_H */
