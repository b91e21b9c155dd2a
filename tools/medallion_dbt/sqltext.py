"""SQL text: quoting, and the values templates receive that stand for SQL
things (relations, columns, run_query's answers)."""
import re

# Words an identifier must be quoted as (PostgreSQL's reserved, column-name
# and type-function keywords; read from the database when connected).
KEYWORDS = {'all', 'analyse', 'analyze', 'and', 'any', 'array', 'as', 'asc', 'between', 'bigint', 'bit',
            'boolean', 'both', 'case', 'cast', 'char', 'character', 'check', 'coalesce', 'collate', 'column',
            'constraint', 'create', 'cross', 'current_date', 'current_role', 'current_time',
            'current_timestamp', 'current_user', 'dec', 'decimal', 'default', 'desc', 'distinct', 'do',
            'else', 'end', 'except', 'exists', 'extract', 'false', 'fetch', 'float', 'for', 'foreign',
            'from', 'full', 'grant', 'group', 'having', 'in', 'inner', 'int', 'integer', 'intersect',
            'interval', 'into', 'is', 'join', 'leading', 'left', 'like', 'limit', 'localtime', 'natural',
            'not', 'null', 'numeric', 'offset', 'on', 'only', 'or', 'order', 'outer', 'overlaps',
            'position', 'primary', 'real', 'references', 'returning', 'right', 'row', 'select',
            'session_user', 'similar', 'smallint', 'some', 'substring', 'symmetric', 'table', 'then',
            'time', 'timestamp', 'to', 'trailing', 'trim', 'true', 'union', 'unique', 'user', 'using',
            'values', 'varchar', 'variadic', 'verbose', 'when', 'where', 'window', 'with'}


def quote_ident(name):
    if re.match(r'^[a-z_][a-z0-9_]*$', name) and name not in KEYWORDS:
        return name
    return '"' + name.replace('"', '""') + '"'


NAME_TEXT_RE = re.compile(r'[A-Za-z_][A-Za-z0-9_$]*')


def fold_ident(name, quote=False):
    """A name the project writes in YAML or passes to a macro (a column of
    schema.yml, a test's column arguments, a relationships field, a
    source's loaded_at_field, unique_key, updated_at, check_cols, a
    watermark) as PostgreSQL reads it in the SQL dbt writes it into:
    unquoted, so folded to lower case (ModifiedDate is modifieddate), unless
    quote (quote: true) or it is written in double quotes ("ModifiedDate"),
    when it is the name as written.  What is not a name (an expression) is
    left as written.  The one place names are folded: every reader calls it."""
    if name is None:
        return None
    text = str(name).strip()
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"' and '"' not in text[1:-1].replace('""', ''):
        return text[1:-1].replace('""', '"')
    if quote:
        return text
    if NAME_TEXT_RE.fullmatch(text):
        return text.lower()
    return text


def fold_idents(value, quote=False):
    """fold_ident of one name or of each of a list (unique_key, check_cols,
    combination_of_columns)."""
    if isinstance(value, (list, tuple)):
        return [fold_ident(v, quote) for v in value]
    return fold_ident(value, quote)


def quote_literal(value):
    if value is None:
        return 'NULL'
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, list):
        return 'ARRAY[' + ', '.join(quote_literal(v) for v in value) + ']::text[]'
    return "'" + str(value).replace("'", "''") + "'"



def set_keywords(words):
    """The keywords the connected database reports, in place of the built-in
    list (quote_ident reads them)."""
    KEYWORDS.clear()
    KEYWORDS.update(words)



class Relation:
    """What ref(), source() and this render as: schema.name."""

    def __init__(self, schema, identifier, model=None):
        self.schema = schema
        self.identifier = identifier
        self.name = identifier
        self.model = model
        self.database = None

    def __str__(self):
        return quote_ident(self.schema) + '.' + quote_ident(self.identifier)

    def render(self):
        return str(self)

    def include(self, **kwargs):
        return self


class Filtered(Relation):
    """A relation seen through a test's where: a subquery."""

    def __init__(self, relation, where):
        super().__init__(relation.schema, relation.identifier, relation.model)
        self.where = where

    def __str__(self):
        return f'(SELECT * FROM {Relation.__str__(self)} WHERE {self.where}) dbt_subquery'


class Column:
    def __init__(self, name, data_type):
        self.name = name
        self.column = name
        self.data_type = data_type
        self.dtype = data_type
        self.quoted = quote_ident(name)


class QueryResult:
    """run_query()'s answer: rows, and columns with values(), as agate's."""

    class _Column:
        def __init__(self, name, values):
            self.name = name
            self._values = values

        def values(self):
            return self._values

    def __init__(self, names, rows):
        self.rows = [tuple(r) for r in rows]
        self.columns = [self._Column(n, [r[i] for r in self.rows]) for i, n in enumerate(names)]
        self.column_names = names

    def __iter__(self):
        return iter(self.rows)

    def __len__(self):
        return len(self.rows)


class UnknownResult(QueryResult):
    """run_query's answer while the project is parsed and what it reads
    does not exist yet: no rows, and any column is an empty one."""

    class _Columns(list):
        def __getitem__(self, index):
            return QueryResult._Column(str(index), [])

    def __init__(self):
        super().__init__([], [])
        self.columns = self._Columns()

