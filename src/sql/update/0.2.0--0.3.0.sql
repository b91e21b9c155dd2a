/*
 * medallion--0.2.0--0.3.0.sql: this file, then the privileges section of
 * the install script (src/sql/install/90_privileges.sql), made into one by
 * the Makefile.
 */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION medallion UPDATE TO '0.3.0'" to load this file. \quit
