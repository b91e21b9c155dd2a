/*-------------------------------------------------------------------------
 *
 * lineage.h
 *	  Lineage out: medallion_lineage() rows and medallion_graph() text.
 *
 * The module only exports SQL-callable functions (declared by
 * PG_FUNCTION_INFO_V1); this header exists so every module has one.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MEDALLION_LINEAGE_H
#define MEDALLION_LINEAGE_H

#include "fmgr.h"

extern Datum medallion_lineage(PG_FUNCTION_ARGS);
extern Datum medallion_graph(PG_FUNCTION_ARGS);

#endif							/* MEDALLION_LINEAGE_H */
