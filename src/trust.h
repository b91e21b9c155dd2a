/*-------------------------------------------------------------------------
 *
 * trust.h
 *	  No code another role can change runs as a model owner.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MEDALLION_TRUST_H
#define MEDALLION_TRUST_H

#include "nodes/parsenodes.h"

extern void TrustCheckQuery(Query *query);

#endif							/* MEDALLION_TRUST_H */
