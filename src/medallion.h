/*-------------------------------------------------------------------------
 *
 * medallion.h
 *	  Names and limits, named once: the schemas medallion keeps its objects
 *	  in, the search_path it runs its own SQL under, its advisory lock key,
 *	  and the defaults and bounds of its configuration parameters.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MEDALLION_H
#define MEDALLION_H

/* Schemas (made by the install script) */
#define MEDALLION_CATALOG_SCHEMA	"medallion"
#define MEDALLION_BIND_SCHEMA		"medallion_bind"	/* bound queries */
#define MEDALLION_BUILD_SCHEMA		"medallion_build"	/* workers' candidates */
#define MEDALLION_STAGE_SCHEMA		"medallion_stage"	/* staged deploys' candidates */
#define MEDALLION_HISTORY_SCHEMA	"medallion_history" /* previous versions */
#define MEDALLION_AUDIT_SCHEMA		"medallion_audit"	/* failing rows */
#define MEDALLION_DELTA_SCHEMA		"medallion_delta"	/* row-level delta logs */

/* The search_path medallion runs its own SQL under: nothing a user made. */
#define MEDALLION_SAFE_PATH			"pg_catalog, pg_temp"

/* First key of medallion's advisory locks: "mdln" */
#define MEDALLION_LOCK_KEY			0x6d646c6e
/*
 * The last field of medallion's advisory lock tags: SQL's advisory lock
 * functions use 1 and 2 only, so no role can take these from SQL.
 */
#define MEDALLION_LOCK_MODEL		3	/* (key, hash of the model's name): its run lock */
#define MEDALLION_LOCK_CATALOG		4	/* (key, 1): definitions; (key, 2): trimming the change log */
#define MEDALLION_LOCK_RUN			5	/* (key, run id): a run in progress */

/*
 * The types of medallion's own background workers that build nothing: a
 * trim of the logs does not wait for their snapshots (changes_logs.c).
 */
#define MEDALLION_LEDGER_WORKER		"medallion ledger writer"
#define MEDALLION_TRIM_WORKER		"medallion delta trimmer"

/*
 * Triggers medallion puts on tracked tables (src/changes.c): the change
 * log's statement and row triggers, and the row capture of an incremental
 * model's watermark column (insert and update statement triggers with
 * transition tables, and a row trigger for a subscription's apply worker).
 */
#define CHANGES_TRIGGER				"medallion_changes"	/* statement, ALWAYS */
#define CHANGES_ROW_TRIGGER			"medallion_changes_row" /* row, REPLICA */
#define ROWS_INSERT_TRIGGER			"medallion_rows_insert"	/* statement, ALWAYS */
#define ROWS_UPDATE_TRIGGER			"medallion_rows_update"	/* statement, ALWAYS */
#define ROWS_ROW_TRIGGER			"medallion_rows_row"	/* row, REPLICA */
/* row-level deltas (changes_deltas.c): statement triggers on origin, a row trigger on replica */
#define DELTAS_INSERT_TRIGGER		"medallion_deltas_insert"
#define DELTAS_UPDATE_TRIGGER		"medallion_deltas_update"
#define DELTAS_DELETE_TRIGGER		"medallion_deltas_delete"
#define DELTAS_ROW_TRIGGER			"medallion_deltas_row"

/* medallion.lock_timeout and medallion.publish_timeout (ms) */
#define PUBLISH_DEFAULT_LOCK_TIMEOUT_MS		100
#define PUBLISH_DEFAULT_PUBLISH_TIMEOUT_MS	60000

/* medallion.store_failures_limit */
#define TESTS_DEFAULT_STORE_FAILURES_LIMIT	100

/* medallion.max_workers, and what one worker's segment can carry */
#define WORKER_DEFAULT_MAX_WORKERS	4
#define WORKER_MAX_MAX_WORKERS		64
#define WORKER_DEFAULT_MIN_MS		25
#define WORKER_MAX_REDIRECTS		256
#define WORKER_MAX_READERS			64
/* the snapshot a build worker read with, as pg_snapshot text (longer: not sent) */
#define WORKER_SNAPSHOT_SIZE		8192
/* how long a build worker waits for a lock before handing the model back */
#define WORKER_LOCK_TIMEOUT_MS		5000
/* how often a waiting run or worker looks again without being woken */
#define WORKER_POLL_MS				100
#define WORKER_WATCH_MS				500	/* a build worker checks its run is there */

/* SQLSTATE of a model a background worker hands back to the run itself */
#define ERRCODE_MEDALLION_RUN_ITSELF MAKE_SQLSTATE('M','D','0','0','1')
/* inside a run: a deferred test holds back the models of its savepoint (run.c) */
#define ERRCODE_MEDALLION_HELD_BACK MAKE_SQLSTATE('M','D','0','0','2')

#endif							/* MEDALLION_H */
