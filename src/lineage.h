/*-------------------------------------------------------------------------
 *
 * lineage.h
 *	  Lineage out: medallion_lineage() rows and medallion_graph() text,
 *	  and the drawing of the selected graph they and the docs page share.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MEDALLION_LINEAGE_H
#define MEDALLION_LINEAGE_H

#include "fmgr.h"

#include "graph.h"

/* A node of the drawn graph. */
typedef struct DrawNode
{
	char	   *id;				/* schema.name */
	char	   *schema;
	char	   *name;
	const char *kind;			/* model, source, view, relation */
	ModelDef   *model;			/* for models */
} DrawNode;

typedef struct DrawEdge
{
	char	   *from;
	char	   *to;
	int			from_index;		/* 1-based positions in the sorted node list */
	int			to_index;
} DrawEdge;

typedef struct Drawing
{
	List	   *nodes;			/* of DrawNode * */
	List	   *edges;			/* of DrawEdge * */
} Drawing;

extern Drawing *LineageDrawing(Graph *graph, bool *selected);

extern Datum medallion_lineage(PG_FUNCTION_ARGS);
extern Datum medallion_graph(PG_FUNCTION_ARGS);

#endif							/* MEDALLION_LINEAGE_H */
