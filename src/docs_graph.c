/*-------------------------------------------------------------------------
 *
 * docs_graph.c
 *	  The selected graph as SVG: layers as clusters, sources in a cluster
 *	  of their own, each model colored by its last step and linked to its
 *	  section of the page.  The layout is Graphviz's, in medallion_docs.so,
 *	  loaded here when first needed so that medallion.so does not depend
 *	  on Graphviz.
 *
 * A model the caller may not read (see DOCS_MODEL_READABLE_SQL) is drawn,
 * so that the graph stays whole, but grey, without its status and without
 * a link.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "utils/builtins.h"

#include "catalog.h"
#include "docs.h"
#include "docs_layout.h"
#include "subxact.h"

const DocsStatusInfo DocsStatuses[DOCS_NSTATUS] = {
	[DOCS_SUCCESS] = {"success", "success", "#b9e4c2"},
	[DOCS_WARNED] = {"warned", "success, tests warned", "#fbe7a1"},
	[DOCS_FAILED] = {"failed", "failed", "#f5b7b1"},
	[DOCS_CANCELLED] = {"cancelled", "cancelled", "#f2c6a0"},
	[DOCS_SKIPPED] = {"skipped", "skipped", "#d9dce1"},
	[DOCS_UP_TO_DATE] = {"up_to_date", "up to date", "#c4dcf4"},
	[DOCS_NEVER_BUILT] = {"never_built", "never built", "#ffffff"},
};

#define DOCS_HIDDEN_FILL	"#eef0f3"
#define DOCS_SOURCE_FILL	"#e9e1f5"

/*
 * DocsStatusOf
 *		The page's status of a step (run_models.status), or of a model with
 *		no step (NULL).
 */
DocsStatus
DocsStatusOf(const char *step_status, bool warned)
{
	if (step_status == NULL)
		return DOCS_NEVER_BUILT;
	if (strcmp(step_status, "success") == 0)
		return warned ? DOCS_WARNED : DOCS_SUCCESS;
	if (strcmp(step_status, "failed") == 0)
		return DOCS_FAILED;
	if (strcmp(step_status, "cancelled") == 0)
		return DOCS_CANCELLED;
	if (strcmp(step_status, "up_to_date") == 0)
		return DOCS_UP_TO_DATE;
	return DOCS_SKIPPED;
}

static void
load_layout_function(void *arg)
{
	*(DocsLayoutSvgFunction *) arg = (DocsLayoutSvgFunction)
		load_external_function(DOCS_MODULE, DOCS_LAYOUT_FUNCTION, true, NULL);
}

/*
 * layout_function
 *		DocsLayoutSvg of medallion_docs.so; raises an error saying what to
 *		install when the module or Graphviz's library is missing.
 */
static DocsLayoutSvgFunction
layout_function(void)
{
	static DocsLayoutSvgFunction function = NULL;
	ErrorData  *error;

	if (function != NULL)
		return function;
	error = SubxactRun(load_layout_function, &function, true);
	if (error != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("medallion cannot draw graphs as SVG here"),
				 errdetail("Loading the module medallion_docs failed: %s.", error->message),
				 errhint("Install Graphviz's library (Debian: apt-get install libgvc6), "
						 "then build and install medallion with libgraphviz-dev installed, "
						 "which adds medallion_docs.so.")));
	return function;
}

/*
 * DocsModelStates
 *		For each model named, whether the caller may read it or has its
 *		owner's privileges, and its last step's status: a List of
 *		DocsModelState, palloc'd in the current context.
 */
/* A row of DocsModelStates as a DocsModelState (a CatalogRowFn). */
static void *
state_from_tuple(HeapTuple tuple, TupleDesc desc, void *arg)
{
	DocsModelState *state = palloc(sizeof(DocsModelState));

	state->name = CatalogText(tuple, desc, 1);
	state->readable = CatalogBool(tuple, desc, 2);
	state->owned = CatalogBool(tuple, desc, 3);
	state->status = DocsStatusOf(CatalogText(tuple, desc, 4), CatalogBool(tuple, desc, 5));
	return state;
}

List *
DocsModelStates(List *names)
{
	Oid			types[2] = {OIDOID, TEXTARRAYOID};
	Datum		values[2];

	values[0] = ObjectIdGetDatum(GetUserId());
	values[1] = ListToTextArray(names);
	return CatalogReadRows("SELECT m.name, " DOCS_MODEL_READABLE_SQL ", " DOCS_MODEL_OWNED_SQL ","
						   "       s.status, s.tests_warned > 0"
						   "  FROM medallion.models m"
						   "  JOIN medallion.layers l ON l.name = m.layer"
						   "  LEFT JOIN (SELECT DISTINCT ON (rm.model) rm.model, rm.status, rm.tests_warned"
						   "               FROM medallion.run_models rm"
						   "              WHERE rm.model = ANY ($2)"
						   "              ORDER BY rm.model, rm.run_id DESC) s ON s.model = m.name"
						   " WHERE m.name = ANY ($2)",
						   2, types, values, "reading model states", state_from_tuple, NULL);
}

/* The state of a model in a list of DocsModelStates, or NULL. */
DocsModelState *
DocsFindState(List *states, const char *name)
{
	ListCell   *lc;

	foreach(lc, states)
	{
		DocsModelState *state = lfirst(lc);

		if (strcmp(state->name, name) == 0)
			return state;
	}
	return NULL;
}

/* The names of the models a drawing shows (selected or read by them). */
List *
DocsDrawnModels(Drawing *drawing)
{
	List	   *names = NIL;
	ListCell   *lc;

	foreach(lc, drawing->nodes)
	{
		DrawNode   *node = lfirst(lc);

		if (node->model != NULL)
			names = lappend(names, node->name);
	}
	return names;
}

/* The source a relation belongs to (by its schema and tables), or NULL. */
static const char *
source_of(List *sources, const char *schema, const char *name)
{
	ListCell   *lc;

	foreach(lc, sources)
	{
		SourceDef  *source = lfirst(lc);
		ListCell   *lt;

		if (strcmp(source->local_schema, schema) != 0)
			continue;
		if (source->tables == NIL)
			return source->name;
		foreach(lt, source->tables)
		{
			if (strcmp((char *) lfirst(lt), name) == 0)
				return source->name;
		}
	}
	return NULL;
}

/*
 * DocsGraphSvg
 *		The drawing laid out as SVG, palloc'd.  standalone: an SVG file
 *		(with its XML declaration); otherwise the <svg> element alone, to
 *		be part of an HTML page.  states: DocsModelStates of the drawing's
 *		models, or NIL to read them.
 */
char *
DocsGraphSvg(Drawing *drawing, Graph *graph, bool standalone, List *states)
{
	DocsLayoutSvgFunction layout_svg = layout_function();
	List	   *sources = CatalogListSources();
	DocsLayout	layout = {0};
	int		   *layer_cluster = palloc(sizeof(int) * (list_length(graph->layers) + 1));
	int			source_cluster = -1;
	ListCell   *lc;
	char	   *svg;

	if (states == NIL)
		states = DocsModelStates(DocsDrawnModels(drawing));
	layout.nodes = palloc0(sizeof(DocsLayoutNode) * (list_length(drawing->nodes) + 1));
	layout.edges = palloc0(sizeof(DocsLayoutEdge) * (list_length(drawing->edges) + 1));
	layout.clusters = palloc0(sizeof(DocsLayoutCluster) * (list_length(graph->layers) + 2));

	/* a cluster for each layer with a node, in layer order */
	foreach(lc, graph->layers)
	{
		LayerDef   *layer = lfirst(lc);
		ListCell   *ln;

		layer_cluster[foreach_current_index(lc)] = -1;
		foreach(ln, drawing->nodes)
		{
			DrawNode   *node = lfirst(ln);

			if (node->model != NULL && strcmp(node->model->layer, layer->name) == 0)
			{
				layer_cluster[foreach_current_index(lc)] = layout.nclusters;
				layout.clusters[layout.nclusters].label = layer->name;
				layout.clusters[layout.nclusters].fill = "#f7f8fa";
				layout.nclusters++;
				break;
			}
		}
	}

	foreach(lc, drawing->nodes)
	{
		DrawNode   *node = lfirst(lc);
		DocsLayoutNode *out = &layout.nodes[layout.nnodes++];
		DocsModelState *state = node->model ? DocsFindState(states, node->name) : NULL;

		out->cluster = -1;
		out->shape = "box";
		out->fill = "#ffffff";
		if (node->model != NULL)
		{
			ListCell   *ll;

			foreach(ll, graph->layers)
			{
				if (strcmp(((LayerDef *) lfirst(ll))->name, node->model->layer) == 0)
					out->cluster = layer_cluster[foreach_current_index(ll)];
			}
			out->id = psprintf("graph_model_%s", node->name);
			if (state != NULL && state->readable)
			{
				const DocsStatusInfo *info = &DocsStatuses[state->status];

				out->label = psprintf("%s\n%s", node->name, node->model->materialized);
				out->fill = info->fill;
				out->dashed = state->status == DOCS_NEVER_BUILT;
				out->url = psprintf("#model-%s", node->name);
				out->tooltip = psprintf("%s: %s", node->id, info->label);
			}
			else
			{
				out->label = psprintf("%s\n(not readable)", node->name);
				out->fill = DOCS_HIDDEN_FILL;
				out->tooltip = psprintf("%s: you may not read this model", node->id);
			}
			continue;
		}
		out->id = psprintf("graph_relation_%d", foreach_current_index(lc) + 1);
		out->label = node->id;
		if (strcmp(node->kind, "source") == 0)
		{
			const char *source = source_of(sources, node->schema, node->name);

			if (source_cluster < 0)
			{
				source_cluster = layout.nclusters++;
				layout.clusters[source_cluster].label = "sources";
				layout.clusters[source_cluster].fill = "#fbf9fe";
			}
			out->cluster = source_cluster;
			out->shape = "cylinder";
			out->fill = DOCS_SOURCE_FILL;
			if (source != NULL)
			{
				out->url = psprintf("#source-%s", source);
				out->tooltip = psprintf("%s: a table of source %s", node->id, source);
			}
		}
		else if (strcmp(node->kind, "view") == 0)
			out->shape = "ellipse";
	}
	foreach(lc, drawing->edges)
	{
		DrawEdge   *edge = lfirst(lc);

		layout.edges[layout.nedges].from = edge->from_index - 1;
		layout.edges[layout.nedges].to = edge->to_index - 1;
		layout.nedges++;
	}

	svg = layout_svg(&layout);
	if (!standalone)
	{
		char	   *start = strstr(svg, "<svg");

		if (start != NULL)
			svg = start;
	}
	return svg;
}
