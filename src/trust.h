/*-------------------------------------------------------------------------
 *
 * trust.h
 *	  No code another role can change runs as a model owner (trust.c), nor
 *	  as the extension owner when medallion writes a table's rows with its
 *	  rights (trust_relation.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef MEDALLION_TRUST_H
#define MEDALLION_TRUST_H

#include "nodes/parsenodes.h"

extern void TrustInit(void);
extern void TrustRequire(Oid role);
extern void TrustCheckQuery(Query *query);
extern char *TrustTypeUntrusted(Oid typid, Oid user);
extern void TrustCheckRelation(Oid relid, Oid runner, const char *action);

#endif							/* MEDALLION_TRUST_H */
