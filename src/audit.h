/*-------------------------------------------------------------------------
 *
 * audit.h
 *	  Data-quality tests: definition, fused execution, results.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MEDALLION_AUDIT_H
#define MEDALLION_AUDIT_H

#include "catalog.h"

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
typedef struct AuditOutcome
{
	List	   *results;		/* of TestResult * */
	int			passed;
	int			warned;
	int			failed;
	int			queries;
	TestResult *blocker;		/* first blocking test that failed, or NULL */
} AuditOutcome;

extern int	audit_store_failures_limit;

extern void AuditInit(void);
extern List *AuditListTests(const char *model);
extern AuditOutcome *AuditRunTests(ModelDef *model, Oid relid, List *redirect_from,
								   List *redirect_to, MemoryContext resultcxt);
extern void AuditBindTests(ModelDef *model);
extern void AuditUnbindTests(ModelDef *model, List *tests);
extern void AuditStoreFailures(ModelDef *model, AuditOutcome *outcome, int64 run_id);

#endif							/* MEDALLION_AUDIT_H */
