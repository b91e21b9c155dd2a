/*-------------------------------------------------------------------------
 *
 * lineage.h
 *	  Lineage out: medallion_lineage() rows and medallion_graph() text.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MEDALLION_LINEAGE_H
#define MEDALLION_LINEAGE_H

#include "fmgr.h"

#include "graph.h"

extern Datum medallion_lineage(PG_FUNCTION_ARGS);
extern Datum medallion_graph(PG_FUNCTION_ARGS);

#endif							/* MEDALLION_LINEAGE_H */
