"""medallion-dbt: import a dbt project into medallion, and keep it in sync.

The modules, each using only those listed before it:

    errors      the exceptions
    files       reading the project's files, only inside it (and a
                package's inside the package)
    sqltext     SQL quoting; relations, columns and query results as
                templates see them
    dialect     T-SQL to PostgreSQL (sqlglot), names resolved against a
                catalog it is given
    project     dbt_project.yml, folders and their configs, schema.yml,
                sources, docs blocks, singular tests
    sandbox     the Jinja sandbox templates render in, and modules.*
    render      dbt's Jinja context, macros; asks a Resolver for ref(),
                source(), run_query()
    db          the connection: one transaction, savepoints, dry runs
    models      models and snapshots: layers, settings, watermarks, order
    mapping     dbt tests as medallion tests
    sources     sources with their freshness
    seeds       CSV seeds loaded with COPY
    importer    the Importer (the Resolver): the phases, the report, prune
    cli         argparse, exit codes
"""
VERSION = '0.2.0'
