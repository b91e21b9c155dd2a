/*-------------------------------------------------------------------------
 *
 * lineage.c
 *	  Lineage out: medallion_lineage() as rows, medallion_graph() as
 *	  Mermaid, DOT, JSON or SVG text (SVG laid out by docs_graph.c).
 *
 * Both read the graph of graph.c (models and model_dependencies).  Output
 * is deterministic: models by layer and name, other relations by name.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/tuplestore.h"

#include "catalog.h"
#include "docs.h"
#include "graph.h"
#include "lineage.h"
#include "model.h"
#include "relation.h"
#include "sqltext.h"

PG_FUNCTION_INFO_V1(medallion_lineage);
PG_FUNCTION_INFO_V1(medallion_graph);

/* A breadth-first search entry of medallion_lineage. */
typedef struct LineageVisit
{
	int			node;
	int			depth;
	List	   *path;			/* of char *, qualified names */
} LineageVisit;

static char *
node_id(GraphNode *node)
{
	return psprintf("%s.%s", node->model->schema, node->model->name);
}

static void
put_lineage_row(ReturnSetInfo *rsinfo, int depth, const char *direction,
				const char *schema, const char *name, const char *kind,
				const char *via, List *path)
{
	Datum		values[8];
	bool		nulls[8] = {false};

	values[0] = Int32GetDatum(depth);
	values[1] = CStringGetTextDatum(direction);
	values[2] = DirectFunctionCall1(namein, CStringGetDatum(schema));
	values[3] = DirectFunctionCall1(namein, CStringGetDatum(name));
	values[4] = CStringGetTextDatum(kind);
	values[5] = CStringGetTextDatum(via);
	values[6] = ListToTextArray(path);
	nulls[7] = true;			/* relation_column: relations only */
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

/* ----------------------------------------------------------------
 * Column lineage: medallion_lineage(model, column_name => c)
 * ---------------------------------------------------------------- */

/* A row of medallion.column_lineage, its model's schema resolved. */
typedef struct ColumnEdge
{
	char	   *schema;			/* the model's layer schema */
	char	   *model;
	char	   *column;
	char	   *src_schema;
	char	   *src_relation;
	char	   *src_column;
	char	   *kind;
} ColumnEdge;

static void *
column_edge_from_tuple(HeapTuple tuple, TupleDesc desc, void *arg)
{
	ColumnEdge *edge = palloc(sizeof(ColumnEdge));

	edge->schema = CatalogText(tuple, desc, 1);
	edge->model = CatalogText(tuple, desc, 2);
	edge->column = CatalogText(tuple, desc, 3);
	edge->src_schema = CatalogText(tuple, desc, 4);
	edge->src_relation = CatalogText(tuple, desc, 5);
	edge->src_column = CatalogText(tuple, desc, 6);
	edge->kind = CatalogText(tuple, desc, 7);
	return edge;
}

/* A column in a column-lineage walk. */
typedef struct ColumnVisit
{
	char	   *schema;
	char	   *relation;
	char	   *column;
	int			depth;
	List	   *path;			/* of char *, schema.relation.column */
} ColumnVisit;

/*
 * walk_column_lineage
 *		Breadth-first from a model's column through medallion.column_lineage:
 *		upstream, the columns it is computed from or filtered, joined or
 *		grouped by (through models, to sources and other relations);
 *		downstream, the model columns computed from it.  Each column is
 *		reported once per kind, at its shortest distance, up to max_depth
 *		(0: no limit).
 */
static void
walk_column_lineage(ReturnSetInfo *rsinfo, List *edges, ModelDef *model,
					const char *column, bool upstream, int max_depth)
{
	const char *direction = upstream ? "upstream" : "downstream";
	ColumnVisit *first = palloc0(sizeof(ColumnVisit));
	List	   *queue;
	List	   *seen = NIL;		/* "schema.relation.column|kind" reported */

	first->schema = model->schema;
	first->relation = model->name;
	first->column = pstrdup(column);
	first->path = list_make1(psprintf("%s.%s.%s", model->schema, model->name, column));
	queue = list_make1(first);
	while (queue != NIL)
	{
		ColumnVisit *visit = linitial(queue);
		ListCell   *lc;

		queue = list_delete_first(queue);
		CHECK_FOR_INTERRUPTS();
		if (max_depth > 0 && visit->depth >= max_depth)
			continue;
		foreach(lc, edges)
		{
			ColumnEdge *edge = lfirst(lc);
			const char *schema,
					   *relation,
					   *col;
			char	   *id;
			char	   *key;
			ListCell   *ls;
			bool		done = false;
			ColumnVisit *next;
			Datum		values[8];
			bool		nulls[8] = {false};

			if (upstream ?
				(strcmp(edge->schema, visit->schema) != 0 || strcmp(edge->model, visit->relation) != 0 ||
				 strcmp(edge->column, visit->column) != 0) :
				(strcmp(edge->src_schema, visit->schema) != 0 || strcmp(edge->src_relation, visit->relation) != 0 ||
				 strcmp(edge->src_column, visit->column) != 0))
				continue;
			schema = upstream ? edge->src_schema : edge->schema;
			relation = upstream ? edge->src_relation : edge->model;
			col = upstream ? edge->src_column : edge->column;
			id = psprintf("%s.%s.%s", schema, relation, col);
			key = psprintf("%s|%s", id, edge->kind);
			foreach(ls, seen)
				done |= strcmp((char *) lfirst(ls), key) == 0;
			if (done)
				continue;
			seen = lappend(seen, key);

			next = palloc0(sizeof(ColumnVisit));
			next->schema = pstrdup(schema);
			next->relation = pstrdup(relation);
			next->column = pstrdup(col);
			next->depth = visit->depth + 1;
			next->path = lappend(list_copy(visit->path), id);

			values[0] = Int32GetDatum(next->depth);
			values[1] = CStringGetTextDatum(direction);
			values[2] = DirectFunctionCall1(namein, CStringGetDatum(schema));
			values[3] = DirectFunctionCall1(namein, CStringGetDatum(relation));
			values[4] = CStringGetTextDatum(edge->kind);
			values[5] = CStringGetTextDatum("");
			values[6] = ListToTextArray(next->path);
			values[7] = DirectFunctionCall1(namein, CStringGetDatum(col));
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);

			/* only what a value is computed from is followed further */
			if (strcmp(edge->kind, "projection") == 0)
				queue = lappend(queue, next);
		}
	}
}

/* Does the model's published relation, or its column lineage, have column? */
static bool
model_has_column(ModelDef *model, const char *column)
{
	Oid			types[2] = {TEXTOID, TEXTOID};
	Datum		values[2];
	Oid			relid = RelPublished(model);

	if (OidIsValid(relid) && get_attnum(relid, column) != InvalidAttrNumber)
		return true;
	values[0] = CStringGetTextDatum(model->name);
	values[1] = CStringGetTextDatum(column);
	return CatalogReadRows("SELECT 1 FROM medallion.column_lineage "
						   "WHERE model OPERATOR(pg_catalog.=) $1 "
						   "AND column_name OPERATOR(pg_catalog.=) $2::name LIMIT 1",
						   2, types, values, "reading column lineage",
						   CatalogRowTexts, NULL) != NIL;
}

/*
 * walk_lineage
 *		Breadth-first from start, upstream (every relation read, through
 *		models) or downstream (models reading), up to max_depth (0: no
 *		limit).  Each relation is reported once, at its shortest distance.
 */
static void
walk_lineage(ReturnSetInfo *rsinfo, Graph *graph, int start, bool upstream,
			 int max_depth)
{
	bool	   *seen = palloc0(sizeof(bool) * (graph->nnodes + 1));
	List	   *queue = NIL;
	List	   *reported = NIL; /* "schema.name|via" of non-model rows */
	LineageVisit *first = palloc(sizeof(LineageVisit));
	const char *direction = upstream ? "upstream" : "downstream";

	first->node = start;
	first->depth = 0;
	first->path = list_make1(node_id(&graph->nodes[start]));
	queue = list_make1(first);
	seen[start] = true;

	while (queue != NIL)
	{
		LineageVisit *visit = linitial(queue);
		GraphNode  *node = &graph->nodes[visit->node];
		ListCell   *lc;

		queue = list_delete_first(queue);
		if (max_depth > 0 && visit->depth >= max_depth)
			continue;

		if (upstream)
		{
			foreach(lc, graph->dependencies)
			{
				DependencyRow *dep = lfirst(lc);
				char	   *id = psprintf("%s.%s", dep->schema, dep->name);
				List	   *path;
				int			up;

				if (strcmp(dep->model, node->model->name) != 0)
					continue;
				path = lappend(list_copy(visit->path), id);
				if (strcmp(dep->kind, "model") == 0)
				{
					up = GraphFind(graph, dep->name);
					if (up < 0 || seen[up])
						continue;
					seen[up] = true;
					put_lineage_row(rsinfo, visit->depth + 1, direction, dep->schema,
									dep->name, dep->kind, dep->via, path);
					{
						LineageVisit *next = palloc(sizeof(LineageVisit));

						next->node = up;
						next->depth = visit->depth + 1;
						next->path = path;
						queue = lappend(queue, next);
					}
				}
				else
				{
					char	   *key = psprintf("%s|%s", id, dep->via);
					ListCell   *lr;
					bool		done = false;

					foreach(lr, reported)
						done |= strcmp((char *) lfirst(lr), key) == 0;
					if (done)
						continue;
					reported = lappend(reported, key);
					put_lineage_row(rsinfo, visit->depth + 1, direction, dep->schema,
									dep->name, dep->kind, dep->via, path);
				}
			}
		}
		else
		{
			foreach(lc, node->downstream)
			{
				int			down = lfirst_int(lc);
				LineageVisit *next;

				if (seen[down])
					continue;
				seen[down] = true;
				next = palloc(sizeof(LineageVisit));
				next->node = down;
				next->depth = visit->depth + 1;
				next->path = lappend(list_copy(visit->path), node_id(&graph->nodes[down]));
				put_lineage_row(rsinfo, next->depth, direction,
								graph->nodes[down].model->schema,
								graph->nodes[down].model->name, "model", "", next->path);
				queue = lappend(queue, next);
			}
		}
	}
}

/*
 * medallion_lineage(model, direction, depth, column_name) returns the
 * relations upstream and/or downstream of a model, or with column_name
 * (or a column of the model where direction goes) the columns upstream
 * and/or downstream of that column.
 */
Datum
medallion_lineage(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *name;
	char	   *direction;
	/* column_name came in 0.3.0 */
	char	   *column = PG_NARGS() > 3 && !PG_ARGISNULL(3) ?
		text_to_cstring(PG_GETARG_TEXT_PP(3)) : NULL;
	int			depth = 0;
	Graph	   *graph;
	int			start;
	ModelDef   *model;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("model must not be NULL")));
	name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	direction = PG_ARGISNULL(1) ? "upstream" : text_to_cstring(PG_GETARG_TEXT_PP(1));
	if (!PG_ARGISNULL(2))
	{
		depth = PG_GETARG_INT32(2);
		if (depth < 1)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("lineage depth must be at least 1"),
					 errhint("Pass NULL for no limit.")));
	}

	CatalogRequireAdmin("read lineage");
	model = CatalogGetModel(name, false);
	if (strcmp(direction, "upstream") != 0 && strcmp(direction, "downstream") != 0 &&
		strcmp(direction, "both") != 0)
	{
		/*
		 * medallion_lineage('m', 'revenue'): a column where a direction
		 * goes is the column's lineage, upstream.
		 */
		if (column == NULL && model_has_column(model, direction))
		{
			column = direction;
			direction = "upstream";
		}
		else
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unknown lineage direction \"%s\"", direction),
					 column == NULL ?
					 errdetail("Model \"%s\" has no column \"%s\" either.", name, direction) : 0,
					 errhint("direction is upstream, downstream or both; a column's lineage is medallion_lineage('%s', column_name => 'the_column').",
							 name)));
	}
	if (column != NULL && !model_has_column(model, column))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("model \"%s\" has no column \"%s\"", name, column),
				 errhint("Its columns are listed in medallion.column_lineage and in its published relation.")));
	InitMaterializedSRF(fcinfo, 0);
	if (column != NULL)
	{
		List	   *edges;

		edges = CatalogReadRows("SELECT l.schema_name, c.model, c.column_name, c.src_schema, "
								"c.src_relation, c.src_column, c.kind "
								"FROM medallion.column_lineage c "
								"JOIN medallion.models m ON m.name OPERATOR(pg_catalog.=) c.model "
								"JOIN medallion.layers l ON l.name OPERATOR(pg_catalog.=) m.layer "
								"ORDER BY c.model, c.column_ordinal, c.src_schema, c.src_relation, "
								"c.src_column, c.kind",
								0, NULL, NULL, "reading column lineage",
								column_edge_from_tuple, NULL);
		if (strcmp(direction, "downstream") != 0)
			walk_column_lineage(rsinfo, edges, model, column, true, depth);
		if (strcmp(direction, "upstream") != 0)
			walk_column_lineage(rsinfo, edges, model, column, false, depth);
		PG_RETURN_VOID();
	}
	graph = GraphLoad(ModelListFresh(), false);
	start = GraphFind(graph, name);
	if (strcmp(direction, "downstream") != 0)
		walk_lineage(rsinfo, graph, start, true, depth);
	if (strcmp(direction, "upstream") != 0)
		walk_lineage(rsinfo, graph, start, false, depth);
	PG_RETURN_VOID();
}

/* ----------------------------------------------------------------
 * medallion_graph
 * ---------------------------------------------------------------- */

/*
 * Mermaid labels are read as HTML and as Mermaid's own syntax: what could
 * be markup or close the label (quotes, angle brackets, ampersands, '#'
 * that starts Mermaid's entity codes, backticks of its markdown strings) is
 * written as an entity code, and line breaks as spaces.
 */
static void
append_mermaid_label(StringInfo buf, const char *text)
{
	for (const char *p = text; *p; p++)
	{
		switch (*p)
		{
			case '"':
				appendStringInfoString(buf, "#quot;");
				break;
			case '<':
				appendStringInfoString(buf, "#lt;");
				break;
			case '>':
				appendStringInfoString(buf, "#gt;");
				break;
			case '&':
				appendStringInfoString(buf, "#amp;");
				break;
			case '#':
				appendStringInfoString(buf, "#35;");
				break;
			case '`':
				appendStringInfoString(buf, "#96;");
				break;
			case '\n':
			case '\r':
				appendStringInfoChar(buf, ' ');
				break;
			default:
				appendStringInfoChar(buf, *p);
		}
	}
}

/*
 * layer_nodes
 *		The positions (from 1, in drawing order) of the drawing's models of
 *		layer: the members of the layer's group in Mermaid and DOT.
 */
static List *
layer_nodes(Drawing *drawing, LayerDef *layer)
{
	List	   *members = NIL;
	ListCell   *lc;

	foreach(lc, drawing->nodes)
	{
		DrawNode   *node = lfirst(lc);

		if (node->model != NULL && strcmp(node->model->layer, layer->name) == 0)
			members = lappend_int(members, foreach_current_index(lc) + 1);
	}
	return members;
}

static char *
render_mermaid(Drawing *drawing, Graph *graph)
{
	StringInfoData buf;
	ListCell   *lc;
	ListCell   *ll;

	initStringInfo(&buf);
	appendStringInfoString(&buf, "flowchart LR\n");
	foreach(ll, graph->layers)
	{
		LayerDef   *layer = lfirst(ll);
		List	   *members = layer_nodes(drawing, layer);

		if (members == NIL)
			continue;
		appendStringInfo(&buf, "    subgraph %s\n", layer->name);
		foreach(lc, members)
		{
			int			n = lfirst_int(lc);
			DrawNode   *node = list_nth(drawing->nodes, n - 1);

			appendStringInfo(&buf, "        n%d[\"", n);
			append_mermaid_label(&buf, node->name);
			appendStringInfo(&buf, "<br/>%s\"]\n", node->model->materialized);
		}
		appendStringInfoString(&buf, "    end\n");
	}
	foreach(lc, drawing->nodes)
	{
		DrawNode   *node = lfirst(lc);
		const char *open = "[\"",
				   *close = "\"]";

		if (node->model != NULL)
			continue;
		if (strcmp(node->kind, "source") == 0)
			open = "[(\"", close = "\")]";
		else if (strcmp(node->kind, "view") == 0)
			open = "([\"", close = "\"])";
		appendStringInfo(&buf, "    n%d%s", foreach_current_index(lc) + 1, open);
		append_mermaid_label(&buf, node->id);
		appendStringInfo(&buf, "%s\n", close);
	}
	foreach(lc, drawing->edges)
	{
		DrawEdge   *edge = lfirst(lc);

		appendStringInfo(&buf, "    n%d --> n%d\n", edge->from_index, edge->to_index);
	}
	return buf.data;
}

/* A DOT string literal. */
static void
append_dot_string(StringInfo buf, const char *text)
{
	appendStringInfoChar(buf, '"');
	for (const char *p = text; *p; p++)
	{
		if (*p == '\n' || *p == '\r')
		{
			appendStringInfoChar(buf, ' ');
			continue;
		}
		if (*p == '"' || *p == '\\')
			appendStringInfoChar(buf, '\\');
		appendStringInfoChar(buf, *p);
	}
	appendStringInfoChar(buf, '"');
}

static char *
render_dot(Drawing *drawing, Graph *graph)
{
	StringInfoData buf;
	ListCell   *lc;
	ListCell   *ll;

	initStringInfo(&buf);
	appendStringInfoString(&buf, "digraph medallion {\n    rankdir=LR;\n    node [shape=box];\n");
	foreach(ll, graph->layers)
	{
		LayerDef   *layer = lfirst(ll);
		List	   *members = layer_nodes(drawing, layer);

		if (members == NIL)
			continue;
		appendStringInfoString(&buf, "    subgraph ");
		append_dot_string(&buf, psprintf("cluster_%s", layer->name));
		appendStringInfoString(&buf, " {\n        label=");
		append_dot_string(&buf, layer->name);
		appendStringInfoString(&buf, ";\n");
		foreach(lc, members)
		{
			DrawNode   *node = list_nth(drawing->nodes, lfirst_int(lc) - 1);

			appendStringInfoString(&buf, "        ");
			append_dot_string(&buf, node->id);
			appendStringInfoString(&buf, " [label=");
			append_dot_string(&buf, psprintf("%s (%s)", node->name, node->model->materialized));
			appendStringInfoString(&buf, "];\n");
		}
		appendStringInfoString(&buf, "    }\n");
	}
	foreach(lc, drawing->nodes)
	{
		DrawNode   *node = lfirst(lc);

		if (node->model != NULL)
			continue;
		appendStringInfoString(&buf, "    ");
		append_dot_string(&buf, node->id);
		appendStringInfo(&buf, " [shape=%s];\n",
						 strcmp(node->kind, "source") == 0 ? "cylinder" :
						 strcmp(node->kind, "view") == 0 ? "ellipse" : "box");
	}
	foreach(lc, drawing->edges)
	{
		DrawEdge   *edge = lfirst(lc);

		appendStringInfoString(&buf, "    ");
		append_dot_string(&buf, edge->from);
		appendStringInfoString(&buf, " -> ");
		append_dot_string(&buf, edge->to);
		appendStringInfoString(&buf, ";\n");
	}
	appendStringInfoString(&buf, "}\n");
	return buf.data;
}

static char *
render_json(Drawing *drawing)
{
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	appendStringInfoString(&buf, "{\"nodes\": [");
	foreach(lc, drawing->nodes)
	{
		DrawNode   *node = lfirst(lc);

		appendStringInfoString(&buf, foreach_current_index(lc) > 0 ? ", {" : "{");
		SqlJsonField(&buf, "id", node->id, false);
		SqlJsonField(&buf, "schema", node->schema, false);
		SqlJsonField(&buf, "name", node->name, false);
		SqlJsonField(&buf, "kind", node->kind, false);
		SqlJsonField(&buf, "layer", node->model ? node->model->layer : NULL, false);
		SqlJsonField(&buf, "materialized", node->model ? node->model->materialized : NULL, false);
		appendStringInfoChar(&buf, '}');
	}
	appendStringInfoString(&buf, "], \"edges\": [");
	foreach(lc, drawing->edges)
	{
		DrawEdge   *edge = lfirst(lc);

		appendStringInfoString(&buf, foreach_current_index(lc) > 0 ? ", {" : "{");
		SqlJsonField(&buf, "from", edge->from, false);
		SqlJsonField(&buf, "to", edge->to, false);
		appendStringInfoChar(&buf, '}');
	}
	appendStringInfoString(&buf, "]}");
	return buf.data;
}

/*
 * medallion_graph(selector, format) returns the graph of the selected
 * models as mermaid, dot or json text.
 */
Datum
medallion_graph(PG_FUNCTION_ARGS)
{
	char	   *selector;
	char	   *format;
	/* exclude came in 0.3.0 */
	char	   *exclude = PG_NARGS() > 2 && !PG_ARGISNULL(2) ?
		text_to_cstring(PG_GETARG_TEXT_PP(2)) : NULL;
	Graph	   *graph;
	Drawing    *drawing;
	char	   *result;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the selector and format of medallion_graph must not be NULL"),
				 errhint("Select every model with 'all'; format is mermaid, dot, json or svg.")));
	selector = text_to_cstring(PG_GETARG_TEXT_PP(0));
	format = text_to_cstring(PG_GETARG_TEXT_PP(1));
	if (strcmp(format, "mermaid") != 0 && strcmp(format, "dot") != 0 &&
		strcmp(format, "json") != 0 && strcmp(format, "svg") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown graph format \"%s\"", format),
				 errhint("format is mermaid, dot, json or svg.")));
	CatalogRequireAdmin("read lineage");
	graph = GraphLoad(ModelListFresh(), false);
	drawing = GraphDrawing(graph, GraphSelect(graph, selector, exclude));
	if (strcmp(format, "mermaid") == 0)
		result = render_mermaid(drawing, graph);
	else if (strcmp(format, "dot") == 0)
		result = render_dot(drawing, graph);
	else if (strcmp(format, "svg") == 0)
		result = DocsGraphSvg(drawing, graph, true, NIL);
	else
		result = render_json(drawing);
	PG_RETURN_TEXT_P(cstring_to_text(result));
}
