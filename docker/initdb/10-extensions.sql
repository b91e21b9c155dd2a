-- The warehouse database: medallion, pg_cron for schedules, tds_fdw for
-- SQL Server.  Run once by the postgres image's entrypoint.
CREATE EXTENSION medallion;
CREATE EXTENSION pg_cron;
CREATE EXTENSION tds_fdw;
