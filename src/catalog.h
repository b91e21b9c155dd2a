/*-------------------------------------------------------------------------
 *
 * catalog.h
 *	  Reading and writing medallion's catalog tables (schema "medallion").
 *
 *-------------------------------------------------------------------------
 */
#ifndef MEDALLION_CATALOG_H
#define MEDALLION_CATALOG_H

#include "access/htup.h"
#include "access/tupdesc.h"
#include "nodes/pg_list.h"

#include "medallion.h"

/*
 * Columns of the rows catalog_tables.c reads (the SELECT lists there), by name:
 * tuple-to-struct functions read them with these, never with bare numbers.
 */
#define Anum_layers_name	1
#define Anum_layers_schema	2
#define Anum_layers_ordinal	3
#define Anum_layers_default_materialization	4
#define Anum_layers_reader_role	5

#define Anum_models_name	1
#define Anum_models_layer	2
#define Anum_models_schema	3
#define Anum_models_layer_ordinal	4
#define Anum_models_materialized	5
#define Anum_models_sql	6
#define Anum_models_owner	7
#define Anum_models_search_path	8
#define Anum_models_unique_key	9
#define Anum_models_indexes	10
#define Anum_models_tags	11
#define Anum_models_description	12
#define Anum_models_column_descriptions	13
#define Anum_models_on_schema_change	14
#define Anum_models_statement_timeout	15
#define Anum_models_enabled	16
#define Anum_models_version	17
#define Anum_models_sql_hash	18
#define Anum_models_analyzed_version	19
#define Anum_models_strategy	20
#define Anum_models_watermark	21
#define Anum_models_lookback	22
#define Anum_models_full_refresh_threshold	23
#define Anum_models_snapshot_strategy	24
#define Anum_models_updated_at	25
#define Anum_models_check_columns	26
#define Anum_models_hard_deletes	27
#define Anum_models_distribution	28
#define Anum_models_distributed_by	29
#define Anum_models_colocate_with	30
#define Anum_models_deterministic	31
#define Anum_models_contract	32
#define Anum_models_maintain	33

#define Anum_sources_name	1
#define Anum_sources_kind	2
#define Anum_sources_local_schema	3
#define Anum_sources_tables	4
#define Anum_sources_retries	5
#define Anum_sources_retry_delay	6
#define Anum_sources_batch_size	7
#define Anum_sources_owner	8

#define Anum_deps_model	1
#define Anum_deps_schema	2
#define Anum_deps_name	3
#define Anum_deps_kind	4
#define Anum_deps_via	5

#define Anum_tests_model	1
#define Anum_tests_name	2
#define Anum_tests_kind	3
#define Anum_tests_columns	4
#define Anum_tests_accepted	5
#define Anum_tests_to_model	6
#define Anum_tests_to_relation	7
#define Anum_tests_to_column	8
#define Anum_tests_expression	9
#define Anum_tests_min_rows	10
#define Anum_tests_max_rows	11
#define Anum_tests_max_age	12
#define Anum_tests_sql	13
#define Anum_tests_severity	14
#define Anum_tests_warn_if	15
#define Anum_tests_error_if	16
#define Anum_tests_blocking	17
#define Anum_tests_store_failures	18

#define Anum_unit_tests_model	1
#define Anum_unit_tests_name	2
#define Anum_unit_tests_given	3
#define Anum_unit_tests_expect	4
#define Anum_unit_tests_incremental	5

#define Anum_source_tests_source	1
#define Anum_source_tests_name	2
#define Anum_source_tests_relation	3
#define Anum_source_tests_kind	4
#define Anum_source_tests_column	5
#define Anum_source_tests_accepted	6
#define Anum_source_tests_to_relation	7
#define Anum_source_tests_to_column	8
#define Anum_source_tests_severity	9
#define Anum_source_tests_owner	10
#define Anum_source_tests_local_schema	11

#define Anum_extract_stage	1
#define Anum_extract_mark	2
#define Anum_extract_last_key	3
#define Anum_extract_rows	4
#define Anum_extract_version	5


/* A row of medallion.layers. */
typedef struct LayerDef
{
	char	   *name;
	char	   *schema;
	int			ordinal;
	char	   *default_materialization;
	char	   *reader_role;	/* NULL when the layer grants nobody */
} LayerDef;

/* A row of medallion.tests. */
typedef struct TestDef
{
	char	   *model;
	char	   *name;
	char	   *kind;
	List	   *columns;		/* of char * */
	List	   *accepted;		/* of char * */
	char	   *to_model;
	char	   *to_relation;
	char	   *to_column;
	char	   *expression;
	char	   *min_rows;		/* bigint as text, or NULL */
	char	   *max_rows;
	char	   *max_age;		/* interval as text, or NULL */
	char	   *sql;
	char	   *severity;
	char	   *warn_if;
	char	   *error_if;
	bool		blocking;
	bool		store_failures;
} TestDef;

/* A row of medallion.source_tests, with its source's owner and schema. */
typedef struct SourceTestDef
{
	char	   *source;
	char	   *name;
	char	   *relation;
	char	   *kind;
	char	   *column_name;
	List	   *accepted;		/* of char * */
	char	   *to_relation;
	char	   *to_column;
	char	   *severity;
	char	   *owner;			/* the source's */
	char	   *local_schema;	/* the source's */
} SourceTestDef;

/* A row of medallion.unit_tests: given and expect as jsonb text. */
typedef struct UnitTestDef
{
	char	   *model;
	char	   *name;
	char	   *given;
	char	   *expect;
	bool		incremental;
} UnitTestDef;

/*
 * The kinds of materialization: a model's "materialized" is parsed once,
 * when the model is read or defined, into its MaterializationKind, what
 * the kind is.  What each kind does (checks, builds, applies) is
 * behaviour, in materialize.c.
 */
typedef enum Materialization
{
	MAT_VIEW,
	MAT_TABLE,
	MAT_INCREMENTAL,
	MAT_SNAPSHOT,
	MAT_EPHEMERAL
} Materialization;

#define MAT_KINDS (MAT_EPHEMERAL + 1)

typedef struct MaterializationKind
{
	Materialization kind;
	const char *name;
	bool		has_table;		/* published as a table (indexes, candidates) */
	bool		has_relation;	/* has a relation in its layer at all */
	bool		reads_through;	/* readers read its query (views, ephemerals) */
	bool		worker_ok;		/* a background worker may build it */
	bool		extracts;		/* may stage a batched extraction first */
} MaterializationKind;

/* How a table model is brought up to date (medallion.models.maintain). */
typedef enum MaintainMode
{
	MAINTAIN_AUTO,				/* from its inputs' deltas when it can, else whole */
	MAINTAIN_INCREMENTAL,		/* from its inputs' deltas, or the build fails */
	MAINTAIN_FULL				/* always whole; its inputs' rows are not captured */
} MaintainMode;

/* A row of medallion.models, joined with its layer and analysis state. */
typedef struct ModelDef
{
	char	   *name;
	char	   *layer;
	char	   *schema;			/* the layer's schema */
	int			layer_ordinal;
	char	   *materialized;	/* as stored; parsed into kind and mat */
	Materialization kind;
	const MaterializationKind *mat;
	char	   *sql;
	char	   *owner;
	char	   *search_path;
	List	   *unique_key;		/* of char * */
	List	   *indexes;		/* of char * */
	List	   *tags;			/* of char * */
	char	   *description;
	char	   *column_descriptions;	/* jsonb as text */
	char	   *on_schema_change;
	char	   *statement_timeout;	/* interval as text, or NULL */
	char	   *strategy;		/* incremental: append, merge, delete+insert */
	char	   *watermark;		/* incremental: column */
	char	   *lookback;		/* incremental: interval as text, or NULL */
	char	   *full_refresh_threshold; /* incremental: real as text, or NULL */
	char	   *snapshot_strategy;	/* snapshot: timestamp, check */
	char	   *updated_at;		/* snapshot (timestamp): column */
	List	   *check_columns;	/* snapshot (check): of char * */
	char	   *hard_deletes;	/* snapshot: ignore, invalidate */
	char	   *distribution;	/* Citus: hash, reference, or NULL (local) */
	char	   *distributed_by; /* Citus (hash): the distribution column */
	char	   *colocate_with;	/* Citus (hash): a model, or NULL (Citus's default) */
	bool		deterministic;	/* its owner says: no function it calls changes it */
	char	   *contract;		/* jsonb text: promised columns and constraints, or NULL */
	MaintainMode maintain;
	bool		enabled;
	int			version;
	char	   *sql_hash;
	int			analyzed_version;	/* -1 when never analyzed */
} ModelDef;

/* A row of medallion.sources (the part the analyzer needs). */
typedef struct SourceDef
{
	char	   *name;
	char	   *kind;
	char	   *local_schema;
	List	   *tables;			/* of char *; empty means the whole schema */
	int			retries;		/* options.retries: connection errors tried again */
	char	   *retry_delay;	/* options.retry_delay: the first wait (interval) */
	int			batch_size;		/* options.batch_size: rows per extraction batch, 0 for none */
	char	   *owner;			/* the role that registered it */
} SourceDef;

/* A row of medallion.model_dependencies. */
typedef struct DependencyRow
{
	char	   *model;
	char	   *schema;
	char	   *name;
	char	   *kind;			/* model, source, view, relation */
	char	   *via;			/* "" when read directly */
} DependencyRow;

/* A row of medallion.column_lineage. */
typedef struct LineageRow
{
	char	   *column;
	int			ordinal;
	char	   *src_schema;
	char	   *src_relation;
	char	   *src_column;
	const char *kind;			/* projection, filter, join, group */
} LineageRow;

/* Identity and GUC state saved while working on the catalog. */
typedef struct CatalogSession
{
	Oid			save_userid;
	int			save_sec_context;
	int			save_nestlevel;
} CatalogSession;

/* catalog.c */
/* An answer kept for one command (CatalogMemoValid, CatalogMemoSet). */
typedef struct CommandMemo
{
	LocalTransactionId lxid;
	CommandId	cid;
} CommandMemo;

extern bool CatalogMemoValid(CommandMemo *memo);
extern void CatalogMemoSet(CommandMemo *memo);
extern Oid	CatalogExtensionOwner(void);
extern Oid	CatalogFunctionOid(const char *name);
extern const MaterializationKind *CatalogMaterialization(const char *name);
extern MaintainMode CatalogMaintainMode(const char *name);
extern const char *CatalogMaintainName(MaintainMode mode);
extern void CatalogEnter(CatalogSession *session);
extern void CatalogLeave(CatalogSession *session);
extern void CatalogRequireAdmin(const char *action);
extern void CatalogCheckSpi(int ret, int expected, const char *what);
extern int	CatalogQuery(const char *sql, int nargs, Oid *types, Datum *values,
						 const char *nulls, long count);
extern uint64 CatalogExecute(const char *sql, int nargs, Oid *types, Datum *values,
							 const char *nulls, int expected, const char *what);
extern List *TextArrayToList(Datum array);
extern Datum ListToTextArray(List *strings);

/*
 * What makes one struct of a catalog row (CatalogScanRows, CatalogReadRows):
 * it runs in the memory context the rows go to, and returns what to add to
 * the List, or NULL for nothing.
 */
typedef void *(*CatalogRowFn) (HeapTuple tuple, TupleDesc desc, void *arg);

extern List *CatalogScanRows(MemoryContext cxt, const char *sql, int nargs, Oid *types,
							 Datum *values, const char *what, CatalogRowFn fn, void *arg);
extern List *CatalogReadRows(const char *sql, int nargs, Oid *types, Datum *values,
							 const char *what, CatalogRowFn fn, void *arg);
extern void *CatalogRowTexts(HeapTuple tuple, TupleDesc desc, void *arg);
extern bool CatalogArrayHasNulls(HeapTuple tuple, TupleDesc desc, int col);
extern void CatalogInvalidRow(const char *table, const char *what, const char *detail) pg_attribute_noreturn();
extern void *CatalogRowText(HeapTuple tuple, TupleDesc desc, void *arg);
extern void *CatalogRowOid(HeapTuple tuple, TupleDesc desc, void *arg);
extern char *CatalogText(HeapTuple tuple, TupleDesc desc, int col);
extern List *CatalogTextList(HeapTuple tuple, TupleDesc desc, int col);
extern bool CatalogBool(HeapTuple tuple, TupleDesc desc, int col);

/* how long a definition waits for another session's */
#define CATALOG_DEFINITIONS_WAIT_MS 30000

extern void CatalogLockDefinitions(void);
extern bool CatalogLockModel(const char *name, bool wait);
extern bool CatalogLockTrim(bool deltas, bool wait);

/* catalog_tables.c */
extern List *CatalogListLayers(void);
extern LayerDef *CatalogGetLayer(const char *name, bool missing_ok);
extern List *CatalogListModels(void);
extern ModelDef *CatalogGetModel(const char *name, bool missing_ok);
extern List *CatalogListSources(void);
extern bool CatalogSourceActsFor(const char *source_owner, const char *local_schema, Oid model_owner);
extern List *CatalogListDependencies(const char *model);

extern void CatalogUpsertModel(ModelDef *model, bool is_new);
extern List *CatalogTestEdges(void);
extern List *CatalogModelsTestingOthers(void);
extern List *CatalogModifiedModels(bool new_only);
extern void CatalogUpsertTest(TestDef *test, const char *description);
extern bool CatalogDeleteTest(const char *model, const char *name);
extern void CatalogTestNameTaken(const char *model, const char *name, bool unit);
extern List *CatalogFreshnessRules(void);
extern int64 CatalogNextRunId(void);
extern List *CatalogListTests(const char *model);
extern void CatalogCheckTestName(const char *name);
extern List *CatalogListUnitTests(const char *model);
extern List *CatalogListSourceTests(void);
extern void CatalogUpsertSourceTest(SourceTestDef *test, const char *description);
extern bool CatalogDeleteSourceTest(const char *source, const char *name);
extern void CatalogUpsertUnitTest(UnitTestDef *test, const char *description);
extern bool CatalogDeleteUnitTest(const char *model, const char *name);
extern List *CatalogReferencingTests(const char *model);
extern void CatalogDeleteModel(const char *name);
extern void CatalogReplaceDerived(const char *model, int version,
								  List *dependencies, List *lineage);

extern bool CatalogGetState(const char *model, char **watermark, char **max_seen);
extern bool CatalogGetExtract(const char *model, Oid *stage, char **mark, char **last_key,
							  int64 *rows, int *version);
extern void CatalogSetExtract(const char *model, Oid stage, const char *mark, const char *last_key,
							  int64 added, int version);
extern void CatalogClearExtract(const char *model);
extern void CatalogSetState(const char *model, const char *watermark, const char *max_seen,
							int64 run_id);
extern bool CatalogHasTable(const char *name);
extern bool CatalogHasCapture(void);
extern bool CatalogHasDeltas(void);
extern void CatalogGetCapture(const char *model, char **snapshot, char **capture);
extern void CatalogSetCapture(const char *model, const char *snapshot, const char *capture,
							  const char *previous);
extern double *CatalogLastBuildMs(List *models);
extern bool CatalogEverBuilt(const char *model);
extern void CatalogInvalidateDownstream(const char *model);

#endif							/* MEDALLION_CATALOG_H */
