--
-- examples/adventureworks/sources.sql: the generated AdventureWorks tables
-- (generate.sql) as local sources.  With SQL Server, docker/initdb makes
-- the same schemas and tables foreign tables instead (kind => 'tds'), and
-- models.sql reads them the same way.
--
SET client_min_messages = warning;
SELECT medallion_create_source('aw_sales', 'Sales', kind => 'local',
  tables => ARRAY['SalesOrderHeader', 'SalesOrderDetail', 'Customer'],
  freshness_column => 'ModifiedDate', warn_after => '1 day', description => 'Orders and customers');
SELECT medallion_create_source('aw_person', 'Person', kind => 'local', tables => ARRAY['Person'],
  description => 'People: customers, store contacts, employees');
SELECT medallion_create_source('aw_production', 'Production', kind => 'local',
  tables => ARRAY['Product', 'ProductSubcategory', 'ProductCategory'], description => 'The product catalog');
RESET client_min_messages;
