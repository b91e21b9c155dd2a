"""T-SQL models and tests translated to PostgreSQL's SQL by sqlglot
(python3-sqlglot, imported only when a project is T-SQL)."""
from .errors import Skip


def translate_tsql(sql):
    try:
        import sqlglot
        out = sqlglot.transpile(sql, read='tsql', write='postgres')
    except Exception as e:      # sqlglot raises its own ParseError and others
        raise Skip(f'T-SQL could not be translated: {str(e).splitlines()[0]}')
    if len(out) != 1:
        raise Skip('T-SQL could not be translated: not one statement')
    return out[0]
