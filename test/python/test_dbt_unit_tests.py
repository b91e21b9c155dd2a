"""medallion-dbt's unit tests (dbt's unit_tests:), with no database: each
becomes a medallion_add_unit_test call; inputs (ref, a seed, source, this)
are named as medallion names them, rows in dict and csv form become jsonb
rows with their names folded, the incremental override becomes the
incremental form, and what cannot be imported is skipped with the reason.

    /usr/bin/python3 -m unittest discover -s test/python -p test_dbt_unit_tests.py
"""
import json
import unittest

import dbt_unit
from medallion_dbt.errors import Skip
from medallion_dbt.mapping import csv_rows, unit_input, unit_test_params


FILES = {
    'dbt_project.yml': 'name: unit\nvars:\n  low: 5\n',
    'models/staging/stg_orders.sql': "select * from {{ source('shop', 'orders') }}\n",
    'models/staging/sources.yml': '''
        version: 2
        sources:
          - name: shop
            schema: raw
            tables: [{name: orders}, {name: customers}]
    ''',
    'models/marts/orders.sql': "select id, amount from {{ ref('stg_orders') }} where amount > {{ var('low') }}\n",
    'models/marts/customers.sql': "select 1 as id\n",
    'models/marts/customers.yml': 'version: 2\nmodels:\n  - name: customers\n    config: {enabled: false}\n',
}


class UnitTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = dbt_unit.write_project(FILES)
        cls.imp = dbt_unit.importer(cls.dir)
        dbt_unit.printed(cls.imp.import_all)

    @classmethod
    def tearDownClass(cls):
        dbt_unit.remove_project(cls.dir)

    def test_inputs(self):
        self.assertEqual(unit_input(self.imp, "ref('stg_orders')"), 'stg_orders')
        self.assertEqual(unit_input(self.imp, 'ref("unit", "stg_orders")'), 'stg_orders')
        self.assertEqual(unit_input(self.imp, "source('shop', 'orders')"), 'raw.orders')
        self.assertEqual(unit_input(self.imp, 'this'), 'this')
        for bad, why in (("ref('customers')", 'was not imported'), ("var('x')", 'is not ref'),
                         ("source('shop')", 'takes a source and a table'), ("source('nope', 't')", 'no source nope')):
            with self.assertRaises(Skip) as caught:
                unit_input(self.imp, bad)
            self.assertIn(why, str(caught.exception))

    def test_csv(self):
        self.assertEqual(csv_rows('id, name\n1,Ann\n2,\n3,null\n'),
                         [{'id': '1', 'name': 'Ann'}, {'id': '2', 'name': None}, {'id': '3', 'name': None}])

    def test_params(self):
        entry = {'name': 'Keeps_Paid', 'model': 'orders',
                 'given': [{'input': "ref('stg_orders')", 'rows': [{'ID': 1, 'status': 'paid'}, {'ID': 2}]},
                           {'input': "source('shop', 'customers')", 'format': 'csv', 'rows': 'id,Name\n7,Bo\n'}],
                 'expect': {'rows': [{'id': 1}]}}
        p = unit_test_params(self.imp, entry)
        self.assertEqual(p['model'], 'orders')
        self.assertEqual(p['name'], 'keeps_paid')
        self.assertFalse(p['incremental'])
        self.assertEqual(json.loads(p['given']), {'stg_orders': [{'id': 1, 'status': 'paid'}, {'id': 2}],
                                                  'raw.customers': [{'id': '7', 'name': 'Bo'}]})
        self.assertEqual(json.loads(p['expect']), [{'id': 1}])

    def test_incremental(self):
        entry = {'name': 'new_rows', 'model': 'orders', 'overrides': {'macros': {'is_incremental': True}},
                 'given': [{'input': "ref('stg_orders')", 'rows': [{'id': 1}]},
                           {'input': 'this', 'rows': [{'id': 0}]}],
                 'expect': {'rows': [{'id': 1}]}}
        p = unit_test_params(self.imp, entry)
        self.assertTrue(p['incremental'])
        self.assertEqual(json.loads(p['given'])['this'], [{'id': 0}])
        # without the override, this is not read (dbt reads it only in the incremental form)
        del entry['overrides']
        self.assertNotIn('this', json.loads(unit_test_params(self.imp, entry)['given']))

    def test_vars_that_change_nothing(self):
        # orders does not read var('low'): an override of it tests the SQL imported
        entry = {'name': 't', 'model': 'orders', 'given': [], 'expect': {'rows': []},
                 'overrides': {'vars': {'unused_here': 1}, 'env_vars': {'MEDALLION_UNUSED': 'x'}}}
        self.assertEqual(unit_test_params(self.imp, entry)['model'], 'orders')

    def test_refused(self):
        base = {'name': 't', 'model': 'orders', 'given': [], 'expect': {'rows': []}}
        for change, why in (({'overrides': {'vars': {'low': 7}}}, 'overrides of vars render the model'),
                            ({'overrides': {'macros': {'current_timestamp': 'now'}}}, 'overrides of current_timestamp'),
                            ({'model': 'customers'}, 'was not imported'),
                            ({'expect': {'format': 'sql', 'rows': 'select 1 as id'}}, 'answered by the database'),
                            ({'expect': {'fixture': 'f'}}, 'fixture files'),
                            ({'expect': {'format': 'parquet', 'rows': ''}}, 'format parquet')):
            with self.assertRaises(Skip) as caught:
                unit_test_params(self.imp, dict(base, **change))
            self.assertIn(why, str(caught.exception))


if __name__ == '__main__':
    unittest.main()
