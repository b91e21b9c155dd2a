"""medallion-dbt's schemas as the project says them, with no database:
+schema and schema configs of models, snapshots and seeds through the
project's own generate_schema_name macro (rendered), mapped to layers or,
for seeds, to plain schemas; seeds (and their schemas) before the sources
that name them; statement() and load_result() as dbt runs them.

    /usr/bin/python3 -m unittest discover -s test/python -p test_dbt_schemas.py
"""
import unittest

import dbt_unit
from medallion_dbt.sqltext import QueryResult

FILES = {
    'dbt_project.yml': '''
        name: schemas
        models:
          schemas:
            reporting:
              +schema: Reporting
        seeds:
          schemas:
            +schema: lookups
            countries:
              +schema: silver
        snapshots:
          schemas:
            +schema: history
    ''',
    'macros/generate_schema_name.sql': '''
        {% macro generate_schema_name(custom_schema_name, node) -%}
            {%- if custom_schema_name is none -%}{{ target.schema }}
            {%- elif node.resource_type == 'seed' -%}ref_{{ custom_schema_name | trim }}
            {%- elif custom_schema_name == 'Reporting' -%}gold
            {%- elif custom_schema_name == 'history' -%}silver
            {%- else -%}{{ custom_schema_name | trim | lower }}{%- endif -%}
        {%- endmacro %}
    ''',
    'macros/spine.sql': '''
        {% macro periods(a, b) %}
            {% call statement('periods', fetch_result=True) %}select {{ b }} - {{ a }}{% endcall %}
            {%- set r = load_result('periods') -%}
            {{ return(r['data'] | map(attribute=0) | list | first) }}
        {% endmacro %}
    ''',
    'models/reporting/summary.sql': "select * from {{ ref('codes') }}\n",
    'models/upper.sql': "{{ config(schema='BRONZE') }}\nselect 1 as one\n",
    'models/spine.sql': "{{ config(schema='silver') }}\nselect generate_series(1, {{ periods(2, 5) }}) as n\n",
    'models/statement_only.sql': ("{{ config(schema='silver') }}\n{% call statement('x') %}select 1{% endcall %}"
                                  "select {{ load_result('x')['data'] | length }} as fetched, "
                                  "{{ load_result('nothing') is none }} as missing\n"),
    'seeds/codes.csv': 'code\nNL\n',
    'seeds/countries.csv': 'code\nNL\n',
    'snapshots/snap.sql': '''
        {% snapshot snap %}
        {{ config(unique_key='code', strategy='check', check_cols='all') }}
        select * from {{ ref('codes') }}
        {% endsnapshot %}
    ''',
}


class Schemas(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = dbt_unit.write_project(FILES)
        cls.imp = dbt_unit.importer(cls.dir)
        cls.queries = []

        def query(sql):
            # what the database would answer: b - a of the spine, one row
            cls.queries.append(' '.join(sql.split()))
            return QueryResult(['d'], [(3,)])
        cls.imp.db.query = query
        _, cls.out = dbt_unit.printed(cls.imp.import_all)

    @classmethod
    def tearDownClass(cls):
        dbt_unit.remove_project(cls.dir)

    def test_layers(self):
        layers = {n: m.layer for n, m in self.imp.p.models.items()}
        # 'Reporting' is gold by the macro; 'BRONZE' lower-cased by it
        self.assertEqual((layers['summary'], layers['upper']), ('gold', 'bronze'))
        self.assertEqual(self.imp.p.snapshots['snap'].layer, 'silver')
        self.assertFalse([r for r in self.imp.report if r[2] == 'skipped' and r[0] != 'seed'], self.imp.report)

    def test_seeds(self):
        self.assertEqual(self.imp.p.seeds['codes'].schema, 'ref_lookups')
        self.assertIn('CREATE TABLE ref_lookups.codes (code text);', self.out)
        self.assertIn("SELECT medallion_create_source('schemas_seeds_ref_lookups', 'ref_lookups'", self.out)
        self.assertIn('from ref_lookups.codes', self.imp.p.models['summary'].sql)
        # the seeds before the sources
        self.assertEqual([r[:2] for r in self.imp.report][:4], [('seed', 'codes'), ('source', 'schemas_seeds_ref_lookups'),
                                                            ('seed', 'countries'), ('source', 'schemas_seeds_ref_silver')])

    def test_seed_in_a_layer_schema(self):
        # the macro's ref_silver is no layer; without it silver is one: refused
        skipped = {r[1]: r[3] for r in self.imp.report if r[2] == 'skipped'}
        self.assertEqual(skipped, {})
        directory = dbt_unit.write_project({'dbt_project.yml': 'name: s\nseeds:\n  s:\n    +schema: silver\n',
                                            'seeds/c.csv': 'code\nNL\n'})
        try:
            imp = dbt_unit.importer(directory)
            dbt_unit.printed(imp.import_all)
        finally:
            dbt_unit.remove_project(directory)
        self.assertEqual(imp.report, [('seed', 'c', 'skipped', "its schema silver is a medallion layer's: seeds are "
                                       "loaded into plain schemas (+schema names another)")])
        for schema in ('pg_catalog', 'medallion', 'information_schema', 'pg_temp'):
            directory = dbt_unit.write_project({'dbt_project.yml': f'name: s\nseeds:\n  s:\n    +schema: {schema}\n',
                                                'seeds/c.csv': 'code\nNL\n'})
            try:
                imp = dbt_unit.importer(directory)
                dbt_unit.printed(imp.import_all)
            finally:
                dbt_unit.remove_project(directory)
            self.assertEqual(imp.report, [('seed', 'c', 'skipped', f"its schema {schema} is the system's or "
                                           "medallion's: seeds are loaded into plain schemas (+schema names another)")])

    def test_seed_without_a_schema(self):
        # the macro is not asked: --seed-schema, the importing user's choice
        directory = dbt_unit.write_project(dict(FILES, **{'dbt_project.yml': 'name: schemas\n'}))
        try:
            imp = dbt_unit.importer(directory, seed_schema='loaded')
            dbt_unit.printed(imp.import_all)
        finally:
            dbt_unit.remove_project(directory)
        self.assertEqual(imp.p.seeds['codes'].schema, 'loaded')

    def test_statement(self):
        self.assertIn('select generate_series(1, 3) as n', self.imp.p.models['spine'].sql)
        self.assertIn('select 5 - 2', self.queries)
        # without fetch_result nothing is kept; load_result of no statement is none
        self.assertIn('select 0 as fetched, True as missing', self.imp.p.models['statement_only'].sql)


if __name__ == '__main__':
    unittest.main()
