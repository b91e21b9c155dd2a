#!/bin/bash
# The SQL Server of the stack as a foreign server, a user mapping with the
# reader's password (from the environment, never from a file), and the
# AdventureWorks schemas as medallion sources: foreign tables named as on
# SQL Server, so examples/adventureworks/models.sql reads them unchanged.
set -euo pipefail
psql -v ON_ERROR_STOP=1 -U "$POSTGRES_USER" -d "$POSTGRES_DB" \
     -v reader_password="$MSSQL_READER_PASSWORD" <<'SQL'
CREATE SERVER sqlserver FOREIGN DATA WRAPPER tds_fdw
  OPTIONS (servername 'sqlserver', database 'AdventureWorks2014', tds_version '7.2',
           character_set 'UTF-8', msg_handler 'notice');
CREATE USER MAPPING FOR CURRENT_USER SERVER sqlserver
  OPTIONS (username 'medallion_reader', password :'reader_password');
SELECT medallion_create_source('aw_sales', 'Sales', kind => 'tds', server_name => 'sqlserver',
  remote_schema => 'Sales', tables => ARRAY['SalesOrderHeader', 'SalesOrderDetail', 'Customer'],
  options => '{"retries": 3, "retry_delay": "10s", "batch_size": 50000}',
  description => 'Orders and customers, from SQL Server');
SELECT medallion_create_source('aw_person', 'Person', kind => 'tds', server_name => 'sqlserver',
  remote_schema => 'Person', tables => ARRAY['Person'], options => '{"retries": 3, "retry_delay": "10s"}',
  description => 'People, from SQL Server');
SELECT medallion_create_source('aw_production', 'Production', kind => 'tds', server_name => 'sqlserver',
  remote_schema => 'Production', tables => ARRAY['Product', 'ProductSubcategory', 'ProductCategory'],
  options => '{"retries": 3, "retry_delay": "10s"}', description => 'The product catalog, from SQL Server');
SQL
