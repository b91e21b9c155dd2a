/*-------------------------------------------------------------------------
 *
 * trust.h
 *	  The code a table makes run when its rows are written, and whether
 *	  a role the extension owner does not trust wrote it (trust.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef MEDALLION_TRUST_H
#define MEDALLION_TRUST_H

extern void TrustCheckRelation(Oid relid, Oid runner, const char *action);

#endif							/* MEDALLION_TRUST_H */
