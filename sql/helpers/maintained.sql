\set ECHO none
-- Settings and helpers of the regression tests of maintained table models
-- (sql/maintain*.sql), included by each with \i, not echoed: mhelp.diff
-- compares a model's published table with its query, mhelp.mask takes out
-- of a step's message what varies from run to run, mhelp.wait_trimmer waits
-- for the trimmer of the delta logs.
SET medallion.log_timing = off;
SET client_min_messages = warning;
-- the builds take milliseconds, whose durations vary from machine to
-- machine: the change-ratio guards decide, not the estimate (a test of the
-- choice by cost sets the ledger's durations and this setting itself)
SET medallion.maintain_weighed_ms = '1h';
CREATE SCHEMA IF NOT EXISTS mhelp;
-- rows of the model's published table not in its query's, and the other
-- way round (its query read with the layer schemas on the search path)
CREATE OR REPLACE FUNCTION mhelp.diff(model text) RETURNS bigint LANGUAGE plpgsql
SET search_path = public, bronze, silver, gold, medallion_bind AS $$
DECLARE
	q text;
	s text;
	n bigint;
BEGIN
	SELECT m.sql, l.schema_name INTO q, s FROM medallion.models m JOIN medallion.layers l ON l.name = m.layer
	 WHERE m.name = model;
	EXECUTE format('SELECT count(*) FROM ((SELECT * FROM %I.%I EXCEPT ALL (%s)) '
				   'UNION ALL ((%s) EXCEPT ALL SELECT * FROM %I.%I)) d', s, model, q, q, s, model) INTO n;
	RETURN n;
END
$$;
-- run numbers, row counts of estimates and durations masked
CREATE OR REPLACE FUNCTION mhelp.mask(message text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
	SELECT regexp_replace(regexp_replace(regexp_replace(regexp_replace(regexp_replace(message,
	         'run \d+', 'run N', 'g'), 'of its \d+', 'of its N', 'g'),
	         '^(incremental: [0-9,]+) of [0-9,.M]+ rows', '\1 of T rows'),
	         'est\. [0-9.]+ (ms|s|min)', 'est. E', 'g'), 'full [0-9.]+ (ms|s)\M', 'full F', 'g')
$$;
-- the delta logs are trimmed after a run's commit, by a worker of its own
-- that each run building their readers starts: wait until it has been seen
-- and is gone (or 1 s without one), reading nothing it would wait for
CREATE OR REPLACE FUNCTION mhelp.wait_trimmer() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	seen boolean := false;
BEGIN
	FOR i IN 1..600 LOOP
		PERFORM pg_stat_clear_snapshot();
		IF EXISTS (SELECT FROM pg_stat_activity WHERE backend_type = 'medallion delta trimmer') THEN
			seen := true;
		ELSIF seen OR i > 20 THEN
			EXIT;
		END IF;
		PERFORM pg_sleep(0.05);
	END LOOP;
END
$$;
GRANT USAGE ON SCHEMA mhelp TO PUBLIC;
\set ECHO all
