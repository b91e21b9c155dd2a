"""medallion-dbt's model contracts, with no database: dbt's enforced
contract (config contract: {enforced: true}, the YAML columns' data_type
and constraints, the model's primary key) as medallion's contract, and the
shapes refused.

    /usr/bin/python3 -m unittest discover -s test/python -p test_dbt_contract.py
"""
import json
import unittest

import dbt_unit
from medallion_dbt import models
from medallion_dbt.errors import Skip

FILES = {
    'dbt_project.yml': 'name: ct\n',
    'models/staging/stg_people.sql': 'select 1 as id, \'a\' as email\n',
    'models/marts/people.sql': "{{ config(materialized='table', contract={'enforced': true}) }}\n"
                               "select * from {{ ref('stg_people') }}\n",
    'models/marts/untyped.sql': "{{ config(materialized='table', contract={'enforced': true}) }}\n"
                                "select * from {{ ref('stg_people') }}\n",
    'models/marts/loose.sql': "select * from {{ ref('stg_people') }}\n",
    'models/marts/schema.yml': '''
version: 2
models:
  - name: people
    constraints:
      - type: primary_key
        columns: [id, email]
    columns:
      - name: id
        data_type: integer
        constraints:
          - type: not_null
          - type: check
            expression: "id > 0"
      - name: email
        data_type: text
        constraints:
          - type: unique
  - name: untyped
    columns:
      - name: id
  - name: loose
    columns:
      - name: id
        data_type: integer
''',
}


class Contract(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = dbt_unit.write_project(FILES)
        cls.imp = dbt_unit.importer(cls.dir)
        dbt_unit.printed(cls.imp.import_all)

    @classmethod
    def tearDownClass(cls):
        dbt_unit.remove_project(cls.dir)

    def settings(self, name):
        node = models.prepare(self.imp, self.imp.p.models[name])
        return models.settings(self.imp, node)

    def test_enforced(self):
        self.assertEqual(json.loads(self.settings('people')['contract']),
                         {'columns': [{'name': 'id', 'data_type': 'integer', 'not_null': True, 'check': 'id > 0'},
                                      {'name': 'email', 'data_type': 'text', 'unique': True}],
                          'primary_key': ['id', 'email']})

    def test_not_enforced(self):
        self.assertNotIn('contract', self.settings('loose'))

    def test_column_without_type(self):
        with self.assertRaisesRegex(Skip, 'contract: column id has no data_type'):
            self.settings('untyped')


if __name__ == '__main__':
    unittest.main()
