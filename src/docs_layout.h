/*-------------------------------------------------------------------------
 *
 * docs_layout.h
 *	  What medallion.so hands to medallion_docs.so to lay out a graph with
 *	  Graphviz, and the one function it calls there.
 *
 * medallion_docs.so links Graphviz; medallion.so does not, so that the
 * extension loads where Graphviz is not installed.  medallion.so looks the
 * function up when a page or an SVG is asked for (docs_graph.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef MEDALLION_DOCS_LAYOUT_H
#define MEDALLION_DOCS_LAYOUT_H

/*
 * Found through dynamic_library_path ($libdir unless a superuser says
 * otherwise), as "LOAD 'medallion_docs'" would.
 */
#define DOCS_MODULE				"medallion_docs"
#define DOCS_LAYOUT_FUNCTION	"DocsLayoutSvg"

/* A layout of the child process is given this long (seconds) to finish. */
#define DOCS_LAYOUT_TIME_LIMIT	120

/* A node; strings are shown as they are (the module escapes them). */
typedef struct DocsLayoutNode
{
	const char *id;				/* unique among the nodes */
	const char *label;
	int			cluster;		/* index into clusters, or -1 */
	const char *shape;			/* box, cylinder, ellipse */
	const char *fill;			/* #rrggbb */
	bool		dashed;
	const char *url;			/* "#anchor", or NULL */
	const char *tooltip;		/* or NULL */
	const char *css_class;		/* the SVG group's class, or NULL */
} DocsLayoutNode;

typedef struct DocsLayoutEdge
{
	int			from;			/* node indexes */
	int			to;
} DocsLayoutEdge;

typedef struct DocsLayoutCluster
{
	const char *label;
	const char *fill;			/* #rrggbb */
} DocsLayoutCluster;

typedef struct DocsLayout
{
	int			nnodes;
	DocsLayoutNode *nodes;
	int			nedges;
	DocsLayoutEdge *edges;
	int			nclusters;
	DocsLayoutCluster *clusters;
} DocsLayout;

/*
 * DocsLayoutSvg lays the graph out with dot and returns the SVG text,
 * palloc'd in the current memory context; a Graphviz error is raised as an
 * ERROR.
 */
typedef char *(*DocsLayoutSvgFunction) (const DocsLayout *layout);

#endif							/* MEDALLION_DOCS_LAYOUT_H */
