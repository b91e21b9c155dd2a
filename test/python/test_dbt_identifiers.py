"""medallion-dbt's names as dbt and PostgreSQL read them, with no
database: a name written in YAML or passed to a macro without quote: true
is folded to lower case (PostgreSQL folds it in the SQL dbt writes it
into), by the one function sqltext.fold_ident, everywhere: column
descriptions, tests and their column arguments, a relationships field, a
source's loaded_at_field, unique_key, a snapshot's updated_at and
check_cols, a watermark.

    /usr/bin/python3 -m unittest discover -s test/python -p test_dbt_identifiers.py
"""
import json
import unittest

import dbt_unit
from medallion_dbt import models
from medallion_dbt.mapping import map_test, parse_test
from medallion_dbt.sqltext import fold_ident, fold_idents

FILES = {
    'dbt_project.yml': 'name: idents\n',
    'models/staging/sources.yml': '''
        version: 2
        sources:
          - name: sales
            schema: Sales
            loaded_at_field: ModifiedDate
            freshness: {warn_after: {count: 1, period: day}}
            tables:
              - name: Store
    ''',
    'models/staging/stg_store.sql': '''
        {{ config(materialized='incremental', unique_key=['StoreID', '"RegionKey"'],
                  meta={'medallion': {'watermark': 'ModifiedDate'}}) }}
        select storeid, "RegionKey", modifieddate from {{ source('sales', 'Store') }}
    ''',
    'models/staging/schema.yml': '''
        version: 2
        models:
          - name: stg_store
            columns:
              - name: StoreID
                description: the store
                tests:
                  - not_null
                  - relationships: {to: "ref('stg_store')", field: StoreID}
              - name: RegionKey
                quote: true
                description: kept as written
                tests: [not_null]
            tests:
              - dbt_utils.unique_combination_of_columns:
                  combination_of_columns: [StoreID, ModifiedDate]
              - dbt_utils.recency: {field: ModifiedDate, datepart: day, interval: 2}
    ''',
    'snapshots/snap_store.sql': '''
        {% snapshot snap_store %}
        {{ config(unique_key='StoreID', strategy='check', check_cols=['Name', 'RegionKey']) }}
        select * from {{ ref('stg_store') }}
        {% endsnapshot %}
        {% snapshot snap_store_ts %}
        {{ config(unique_key='StoreID', strategy='timestamp', updated_at='ModifiedDate') }}
        select * from {{ ref('stg_store') }}
        {% endsnapshot %}
    ''',
}


class Fold(unittest.TestCase):
    def test_fold_ident(self):
        self.assertEqual(fold_ident('ModifiedDate'), 'modifieddate')
        self.assertEqual(fold_ident(' StoreID '), 'storeid')
        self.assertEqual(fold_ident('StoreID', quote=True), 'StoreID')
        self.assertEqual(fold_ident('"StoreID"'), 'StoreID')
        self.assertEqual(fold_ident('"a""B"'), 'a"B')
        self.assertEqual(fold_ident('my_col$1'), 'my_col$1')
        # not a name: an expression is left as written
        self.assertEqual(fold_ident("CAST(Loaded AS date)"), 'CAST(Loaded AS date)')
        self.assertEqual(fold_ident('"a" || "B"'), '"a" || "B"')
        self.assertIsNone(fold_ident(None))
        self.assertEqual(fold_idents(['A', '"B"']), ['a', 'B'])
        self.assertEqual(fold_idents('A'), 'a')


class Everywhere(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = dbt_unit.write_project(FILES)
        cls.imp = dbt_unit.importer(cls.dir)
        _, cls.out = dbt_unit.printed(cls.imp.import_all)

    @classmethod
    def tearDownClass(cls):
        dbt_unit.remove_project(cls.dir)

    def test_model_settings(self):
        p = models.settings(self.imp, self.imp.p.models['stg_store'])
        self.assertEqual(json.loads(p['column_descriptions']), {'storeid': 'the store', 'RegionKey': 'kept as written'})
        self.assertEqual(p['unique_key'], ['storeid', 'RegionKey'])
        self.assertEqual(p['watermark'], 'modifieddate')

    def test_snapshots(self):
        p = models.settings(self.imp, self.imp.p.snapshots['snap_store'])
        self.assertEqual((p['unique_key'], p['check_columns']), (['storeid'], ['name', 'regionkey']))
        p = models.settings(self.imp, self.imp.p.snapshots['snap_store_ts'])
        self.assertEqual(p['updated_at'], 'modifieddate')

    def test_source_freshness(self):
        self.assertIn("SELECT medallion_create_source('sales', 'Sales', tables => ARRAY['Store']::text[], "
                      "freshness_column => 'modifieddate'", self.out)

    def test_tests(self):
        node = self.imp.p.models['stg_store']
        node.layer = 'bronze'

        def mapped(entry, column=None):
            name, args, conf = parse_test(entry)
            return map_test(self.imp, node, column, name, args, conf)
        columns = sorted((c or '') for n, c, _, _ in self.imp.p.model_tests if n is node)
        self.assertEqual(columns, ['', '', 'RegionKey', 'storeid', 'storeid'])
        self.assertEqual(mapped({'relationships': {'to': "ref('stg_store')", 'field': 'StoreID'}}, 'storeid')
                         ['to_column'], 'storeid')
        self.assertEqual(mapped({'dbt_utils.unique_combination_of_columns':
                                 {'combination_of_columns': ['StoreID', 'ModifiedDate']}})['columns'],
                         ['storeid', 'modifieddate'])
        self.assertEqual(mapped({'dbt_utils.recency': {'field': 'ModifiedDate', 'datepart': 'day', 'interval': 2}})
                         ['column_name'], 'modifieddate')
        self.assertEqual(mapped({'not_null': {'column_name': 'StoreID'}})['column_name'], 'storeid')
        self.assertEqual(mapped({'not_null': {'column_name': '"StoreID"'}})['column_name'], 'StoreID')

    def test_watermark_block(self):
        raw = ('select * from x\n{% if is_incremental() %}\nwhere ModifiedDate > '
               '(select max(modifieddate) from {{ this }})\n{% endif %}\n')
        self.assertEqual(models.watermark_of(raw), ('modifieddate', None))
        raw = raw.replace('where ModifiedDate', 'where "ModifiedDate"')
        self.assertEqual(models.watermark_of(raw), (None, None))    # two columns: not the usual block


if __name__ == '__main__':
    unittest.main()
