"""medallion-dbt's test mapping, with no database: each dbt test the tool
supports (dbt's own, dbt_utils', dbt_expectations', a {% test %} of the
project) and the medallion_add_test arguments it becomes; what is refused.

    /usr/bin/python3 -m unittest discover -s test/python -p test_dbt_mapping.py
"""
import unittest

import dbt_unit
from medallion_dbt.errors import Skip
from medallion_dbt.mapping import map_test, parse_test, test_ident, test_name

REL = 'gold.orders'


class Mapping(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = dbt_unit.write_project()
        cls.imp = dbt_unit.importer(cls.dir)
        cls.orders = cls.imp.p.models['orders']
        cls.orders.layer = 'gold'

    @classmethod
    def tearDownClass(cls):
        dbt_unit.remove_project(cls.dir)

    def mapped(self, entry, column=None):
        """medallion_add_test's arguments for a schema.yml test entry of
        orders (of its column, when given)."""
        name, args, conf = parse_test(entry)
        return map_test(self.imp, self.orders, column, name, args, conf)

    def sql(self, entry, column=None):
        p = self.mapped(entry, column)
        self.assertEqual(p['kind'], 'sql')
        return p['sql']

    def refused(self, entry, column=None):
        with self.assertRaises(Skip) as caught:
            self.mapped(entry, column)
        return str(caught.exception)

    def test_not_null(self):
        want = {'model': 'orders', 'kind': 'not_null', 'column_name': 'id'}
        self.assertEqual(self.mapped('not_null', 'id'), want)
        self.assertEqual(self.mapped('dbt_expectations.expect_column_values_to_not_be_null', 'id'), want)
        self.assertEqual(self.sql({'not_null': {'config': {'where': "status = 'x'"}}}, 'id'),
                         f"SELECT * FROM {REL} WHERE (status = 'x') AND NOT (id IS NOT NULL)")
        self.assertIn('needs a column', self.refused('not_null'))

    def test_unique(self):
        want = {'model': 'orders', 'kind': 'unique', 'columns': ['id']}
        self.assertEqual(self.mapped('unique', 'id'), want)
        self.assertEqual(self.mapped('dbt_expectations.expect_column_values_to_be_unique', 'id'), want)
        pair = {'model': 'orders', 'kind': 'unique', 'columns': ['customer_id', 'status']}
        self.assertEqual(self.mapped({'dbt_utils.unique_combination_of_columns':
                                      {'combination_of_columns': ['customer_id', 'status']}}), pair)
        self.assertEqual(self.mapped({'dbt_expectations.expect_compound_columns_to_be_unique':
                                      {'column_list': ['customer_id', 'status']}}), pair)
        self.assertEqual(self.sql({'unique': {'where': 'amount > 0'}}, 'id'),
                         f'SELECT id FROM {REL} WHERE (amount > 0) GROUP BY id HAVING count(*) > 1')

    def test_accepted_values(self):
        want = {'model': 'orders', 'kind': 'accepted_values', 'column_name': 'status', 'accepted': ['a', 'b', '1']}
        self.assertEqual(self.mapped({'accepted_values': {'values': ['a', 'b', 1]}}, 'status'), want)
        self.assertEqual(self.mapped({'dbt_expectations.expect_column_values_to_be_in_set':
                                      {'value_set': ['a', 'b', 1]}}, 'status'), want)
        # dbt 1.10 writes the arguments under arguments:
        self.assertEqual(self.mapped({'accepted_values': {'arguments': {'values': ['a', 'b', 1]}}}, 'status'), want)
        self.assertEqual(self.sql({'accepted_values': {'values': ['a', "b'c"], 'config': {'where': 'id > 1'}}},
                                  'status'),
                         f"SELECT * FROM {REL} WHERE (id > 1) AND NOT (status::text IN ('a', 'b''c') OR status IS NULL)")
        self.assertIn('without values', self.refused('accepted_values', 'status'))

    def test_relationships(self):
        self.assertEqual(self.mapped({'relationships': {'to': "ref('customers')", 'field': 'id'}}, 'customer_id'),
                         {'model': 'orders', 'kind': 'relationships', 'column_name': 'customer_id',
                          'to_model': 'customers', 'to_column': 'id'})
        self.assertEqual(self.mapped({'relationships': {'to': "{{ source('shop', 'customers') }}", 'field': 'id'}},
                                     'customer_id'),
                         {'model': 'orders', 'kind': 'relationships', 'column_name': 'customer_id',
                          'to_relation': 'raw.customers', 'to_column': 'id'})
        self.assertEqual(self.sql({'dbt_utils.relationships_where': {
            'to': "ref('customers')", 'field': 'id', 'from_condition': 'amount > 0', 'to_condition': 'id > 0'}},
            'customer_id'),
            f'SELECT f.* FROM {REL} f WHERE (amount > 0) AND f.customer_id IS NOT NULL '
            f'AND NOT EXISTS (SELECT FROM gold.customers t WHERE (id > 0) AND t.id = f.customer_id)')
        self.assertIn('needs to and field', self.refused({'relationships': {'to': "ref('customers')"}}, 'customer_id'))
        self.assertIn('names no model', self.refused({'relationships': {'to': "ref('nowhere')", 'field': 'id'}},
                                                     'customer_id'))

    def test_expression_is_true(self):
        want = {'model': 'orders', 'kind': 'expression', 'expression': 'amount >= 0'}
        self.assertEqual(self.mapped({'dbt_utils.expression_is_true': {'expression': 'amount >= 0'}}), want)
        self.assertEqual(self.mapped({'dbt_utils.expression_is_true': {'expression': '>= 0'}}, 'amount'), want)
        self.assertEqual(self.sql({'dbt_utils.expression_is_true': {'expression': 'amount >= 0', 'where': 'id > 1'}}),
                         f'SELECT * FROM {REL} WHERE (id > 1) AND NOT (amount >= 0)')

    def test_ranges(self):
        def expression(entry):
            p = self.mapped(entry, 'amount')
            self.assertEqual(p['kind'], 'expression')
            return p['expression']
        self.assertEqual(expression({'dbt_utils.accepted_range': {'min_value': 0, 'max_value': 10}}),
                         '(amount IS NULL OR (amount >= 0 AND amount <= 10))')
        self.assertEqual(expression({'dbt_utils.accepted_range': {'min_value': 0, 'inclusive': False}}),
                         '(amount IS NULL OR (amount > 0))')
        self.assertEqual(expression({'dbt_expectations.expect_column_values_to_be_between':
                                     {'max_value': 10, 'strictly': True}}),
                         '(amount IS NULL OR (amount < 10))')
        # a value written as Jinja is rendered (the project's vars)
        self.assertEqual(expression({'dbt_utils.accepted_range': {'min_value': "{{ var('low') }}"}}),
                         '(amount IS NULL OR (amount >= 5))')
        self.assertIn('without min_value or max_value', self.refused('dbt_utils.accepted_range', 'amount'))
        self.assertEqual(self.mapped({'dbt_expectations.expect_table_row_count_to_be_between':
                                      {'min_value': 1, 'max_value': 100}}),
                         {'model': 'orders', 'kind': 'row_count', 'min_rows': 1, 'max_rows': 100})

    def test_recency(self):
        self.assertEqual(self.mapped({'dbt_utils.recency': {'datepart': 'day', 'field': 'created_at', 'interval': 2}}),
                         {'model': 'orders', 'kind': 'freshness', 'column_name': 'created_at', 'max_age': '2 days'})
        self.assertEqual(self.mapped({'dbt_utils.recency': {'datepart': 'hour', 'field': 'created_at'}})['max_age'],
                         '1 hours')

    def test_sql_tests(self):
        self.assertEqual(self.sql({'dbt_utils.not_null_proportion': {'at_least': 0.95}}, 'amount'),
                         f'SELECT p FROM (SELECT count(amount)::numeric / nullif(count(*), 0) AS p FROM {REL}) s '
                         f'WHERE p < 0.95')
        self.assertEqual(self.sql({'dbt_utils.equal_rowcount': {'compare_model': "ref('customers')"}}),
                         f'SELECT 1 FROM (SELECT count(*) AS n FROM {REL}) a, (SELECT count(*) AS n FROM gold.customers) b '
                         f'WHERE a.n <> b.n')
        self.assertEqual(self.sql({'dbt_expectations.expect_column_values_to_be_of_type': {'column_type': 'INTEGER'}},
                                  'id'),
                         "SELECT a.attname FROM pg_catalog.pg_attribute a WHERE a.attrelid = 'gold.orders'::regclass "
                         "AND a.attname = 'id' AND pg_catalog.format_type(a.atttypid, a.atttypmod) !~* '^integer'")

    def test_generic_test_of_the_project(self):
        self.assertEqual(self.sql('positive', 'amount'), f'select * from {REL} where amount <= 0')
        # a column with quote: true is passed quoted
        self.orders.quoted.add('Mixed')
        self.assertEqual(self.sql('positive', 'Mixed'), f'select * from {REL} where "Mixed" <= 0')
        # with a where, the test reads the rows it selects
        self.assertEqual(self.sql({'positive': {'config': {'where': 'id > 1'}}}, 'amount'),
                         f'select * from (SELECT * FROM {REL} WHERE id > 1) dbt_subquery where amount <= 0')

    def test_config(self):
        p = self.mapped({'name': 'orders_id_checked', 'not_null': {'config': {
            'severity': 'WARN', 'warn_if': '>10', 'error_if': '>100', 'store_failures': True}}}, 'id')
        self.assertEqual(p, {'model': 'orders', 'severity': 'warn', 'warn_if': '>10', 'error_if': '>100',
                             'store_failures': True, 'name': 'orders_id_checked', 'kind': 'not_null',
                             'column_name': 'id'})
        self.assertEqual(parse_test({'unique': {'severity': 'warn'}, 'enabled': False}),
                         ('unique', {}, {'severity': 'warn', 'enabled': False}))

    def test_refused(self):
        self.assertIn('has no medallion mapping', self.refused('dbt_utils.at_least_one', 'id'))
        self.assertIn('argument row_condition is not supported',
                      self.refused({'dbt_expectations.expect_column_values_to_not_be_null':
                                    {'row_condition': 'id > 1'}}, 'id'))
        self.assertIn('not a mapping', self.refused({'unique': ['id']}, 'id'))
        self.assertIn('without a test', self.refused({'severity': 'warn'}, 'id'))

    def test_names(self):
        self.assertEqual(test_name({'dbt_utils.recency': {}}), 'dbt_utils.recency')
        self.assertEqual(test_ident('orders.Id: Not Null'), 'orders_id_not_null')
        self.assertEqual(test_ident('7up'), 't_7up')
        long = test_ident('x' * 60)
        self.assertEqual(len(long), 48)
        self.assertTrue(long.startswith('x' * 39 + '_'))


class AddTestCalls(unittest.TestCase):
    """The project's schema.yml, imported in a dry run with no database:
    each test entry and the medallion_add_test call it prints."""

    def test_calls(self):
        directory = dbt_unit.write_project()
        try:
            imp = dbt_unit.importer(directory)
            _, out = dbt_unit.printed(imp.import_all)
        finally:
            dbt_unit.remove_project(directory)
        mark = "description => 'dbt project unit'"
        for call in (
                f"SELECT medallion_add_test(model => 'orders', kind => 'unique', columns => ARRAY['id']::text[], "
                f"{mark}, name => 'orders_id_unique');",
                f"SELECT medallion_add_test(model => 'orders', kind => 'not_null', column_name => 'id', "
                f"{mark}, name => 'orders_id_not_null');",
                f"SELECT medallion_add_test(model => 'orders', kind => 'not_null', column_name => 'Mixed', "
                f"{mark}, name => 'orders_mixed_not_null');",
                f"SELECT medallion_add_test(model => 'orders', kind => 'sql', sql => "
                f"'select * from gold.orders where amount <= 0', {mark}, name => 'orders_amount_positive');"):
            self.assertIn(call + '\n', out)
        tests = [r for r in imp.report if r[0] == 'test']
        self.assertEqual(tests, [('test', 'orders.id: unique', 'would import', ''),
                                 ('test', 'orders.id: not_null', 'would import', ''),
                                 ('test', 'orders.Mixed: not_null', 'would import', ''),
                                 ('test', 'orders.amount: positive', 'would import', '')])


SOURCE_FILES = {
    'dbt_project.yml': 'name: src\n',
    'models/staging/sources.yml': '''
        version: 2
        sources:
          - name: shop
            schema: raw
            tables:
              - name: orders
                tests:
                  - dbt_utils.recency: {datepart: day, field: at, interval: 1}
                columns:
                  - name: ID
                    tests:
                      - not_null
                      - unique: {config: {severity: warn, warn_if: '> 2'}}
                  - name: status
                    tests:
                      - accepted_values: {values: [a, b], where: "id > 0"}
                      - not_null: {config: {enabled: false}}
                  - name: customer_id
                    tests:
                      - relationships: {to: "source('shop', 'customers')", field: ID}
              - name: customers
                columns:
                  - name: id
                    tests: [not_null]
    ''',
    'models/staging/stg_orders.sql': "select * from {{ source('shop', 'orders') }}\n",
    'models/staging/stg_orders2.sql': "select id from {{ source('shop', 'orders') }}\n",
}


class SourceTests(unittest.TestCase):
    """Tests of a source's tables: checks of the source's relation itself
    (medallion_add_source_test), and sql tests reading the source, on each
    model that reads the table."""

    def test_source_tests(self):
        directory = dbt_unit.write_project(SOURCE_FILES)
        try:
            imp = dbt_unit.importer(directory)
            _, out = dbt_unit.printed(imp.import_all)
        finally:
            dbt_unit.remove_project(directory)
        tests = {r[1]: (r[2], r[3]) for r in imp.report if r[0] == 'test'}
        self.assertEqual(tests['shop.orders: dbt_utils.recency'][0], 'unsupported')
        self.assertNotIn('shop.customers.id: not_null', tests)    # no model reads the table: the source's check only
        checks = {r[1]: (r[2], r[3]) for r in imp.report if r[0] == 'source test'}
        self.assertEqual(checks, {
            'shop.orders.ID: not_null': ('would import', ''),
            'shop.orders.ID: unique': ('would import', 'warn_if not applied to the check of the source'),
            'shop.orders.status: accepted_values': ('unsupported', 'a where: the check of the source takes none '
                                                                   '(it is a test of the models that read the table)'),
            'shop.orders.customer_id: relationships': ('would import', ''),
            'shop.customers.id: not_null': ('would import', '')})
        self.assertIn("SELECT medallion_add_source_test(source => 'shop', relation => 'orders', kind => 'unique', "
                      "column_name => 'id', name => 'shop_orders_id_unique', severity => 'warn'", out)
        self.assertIn("kind => 'relationships', column_name => 'customer_id', name => "
                      "'shop_orders_customer_id_relationships', severity => 'error', description => 'dbt project src', "
                      "to_relation => 'raw.customers', to_column => 'id')", out)
        self.assertIn("SELECT medallion_add_source_test(source => 'shop', relation => 'customers', kind => 'not_null', "
                      "column_name => 'id', name => 'shop_customers_id_not_null'", out)
        self.assertEqual(tests['shop.orders.status: not_null'], ('disabled', 'enabled: false'))
        for model in ('stg_orders', 'stg_orders2'):
            self.assertEqual(tests[f'shop.orders.ID: not_null (on {model})'][0], 'would import')
            self.assertIn(f"SELECT medallion_add_test(model => '{model}', kind => 'sql', sql => 'SELECT * FROM "
                          f"raw.orders WHERE id IS NULL', name => 'shop_orders_id_not_null'", out)
        self.assertIn("sql => 'SELECT id FROM raw.orders WHERE id IS NOT NULL GROUP BY id HAVING count(*) > 1', "
                      "name => 'shop_orders_id_unique', severity => 'warn', warn_if => '> 2'", out)
        self.assertIn("sql => 'SELECT * FROM raw.orders WHERE status IS NOT NULL AND status::text NOT IN "
                      "(''a'', ''b'') AND (id > 0)'", out)
        self.assertIn("sql => 'SELECT f.* FROM raw.orders f WHERE f.customer_id IS NOT NULL AND NOT EXISTS "
                      "(SELECT FROM raw.customers t WHERE t.id = f.customer_id)'", out)


if __name__ == '__main__':
    unittest.main()
