/*-------------------------------------------------------------------------
 *
 * tests.h
 *	  Data-quality tests: defined and bound (tests_define.c), run fused
 *	  against candidates, results and stored failures (tests_run.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef MEDALLION_TESTS_H
#define MEDALLION_TESTS_H

#include "catalog.h"

/* The column of a model's fused test binding holding the whole row. */
#define TESTS_ROW_COLUMN "medallion.row"

/* A failing test's message shows this many of its rows, each cut to this many bytes */
#define TESTS_SAMPLE_ROWS 5
#define TESTS_SAMPLE_WIDTH 200


/* The outcome of one test. */
typedef struct TestResult
{
	TestDef    *test;
	const char *status;			/* pass, warn, fail, error */
	bool		has_failures;
	int64		failures;
	char	   *observed;
	double		ms;
	char	   *message;
	List	   *failing_rows;	/* of char *: JSON, for store_failures */
} TestResult;

/* The outcome of a model's tests. */
typedef struct TestsOutcome
{
	List	   *results;		/* of TestResult * */
	int			passed;
	int			warned;
	int			failed;
	int			queries;
	TestResult *blocker;		/* first blocking test that failed, or NULL */
} TestsOutcome;

extern int	tests_store_failures_limit;

/* tests_run.c */
extern void TestsInit(void);
extern bool TestsParseCondition(const char *text, char *op, int64 *value);
extern char *TestsColumn(const char *column);
extern char *TestsExpressionColumn(TestDef *test);
extern Oid	TestsReferencedRelation(TestDef *test);
extern TestsOutcome *TestsRun(ModelDef *model, Oid relid, List *redirect_from,
							  List *redirect_to, MemoryContext resultcxt);
extern TestsOutcome *TestsRunSome(ModelDef *model, Oid relid, List *redirect_from,
								  List *redirect_to, List *only, List *leave_out,
								  Oid written, MemoryContext resultcxt);
extern TestsOutcome *TestsFreshnessAgain(ModelDef *model, Oid relid, MemoryContext resultcxt);
extern void TestsStoreFailures(ModelDef *model, TestsOutcome *outcome, int64 run_id);

/* tests_define.c */
extern ModelDef *TestsOwnedModel(const char *name, const char *action);
extern void TestsBind(ModelDef *model);
extern void TestsUnbind(ModelDef *model, List *tests);
extern List *TestsReadRelations(ModelDef *model, TestDef *test);

/* tests_source.c */
extern void TestsSourceCheck(SourceTestDef *test, const char **status, char **message);

/* tests_unit.c */
extern TestsOutcome *TestsUnitRun(ModelDef *model, MemoryContext resultcxt);

#endif							/* MEDALLION_TESTS_H */
