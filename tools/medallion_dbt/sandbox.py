"""The sandbox the project's templates render in: Jinja's
SandboxedEnvironment, refusing outright, and the modules templates get
(chosen names, never a module).  The whole boundary between the project's
code and this tool is here."""
import datetime
import itertools
import re
import types

import jinja2
import jinja2.sandbox

from .errors import Refused


class NoFiles(jinja2.BaseLoader):
    """The loader of the sandbox: {% include %}, {% import %} and
    {% extends %} find no template, so that no template reads a file (the
    project's files are read by the importer, only inside the project)."""

    def get_source(self, environment, template):
        raise jinja2.TemplateNotFound(template, f'"{template}": templates read no file '
                                                f'({{% include %}}, {{% import %}} and {{% extends %}} are not provided)')


class Sandbox(jinja2.sandbox.SandboxedEnvironment):
    """Jinja's sandbox (mutable, as dbt's: templates append to their own
    lists), refusing outright where Jinja would hand back an undefined that
    fails when used: a refusal is never mistaken for a missing variable and
    never passes silently through "is defined" or a default.  Beyond Jinja's
    rule (no attribute that starts with an underscore, no internals of
    functions, frames and generators, str.format only through the same
    rule), no attribute may be a module or a database object: nothing this
    tool gives templates holds one, and this keeps it so.  It loads no
    template from a file (NoFiles)."""

    def __init__(self, **kwargs):
        super().__init__(loader=NoFiles(), **kwargs)

    def is_safe_attribute(self, obj, attr, value):
        if isinstance(value, types.ModuleType) or _from_psycopg(value):
            return False
        return super().is_safe_attribute(obj, attr, value)

    def unsafe_undefined(self, obj, attribute):
        raise Refused(f'unsafe access to attribute {attribute} of {_kind_of(obj)} refused '
                      f'(templates render in a sandbox)')

    def call(__self, __context, __obj, *args, **kwargs):     # noqa: N805 (Jinja's own spelling)
        if not __self.is_safe_callable(__obj):
            raise Refused(f'unsafe call of {_kind_of(__obj)} refused (templates render in a sandbox)')
        return super().call(__context, __obj, *args, **kwargs)


def _kind_of(obj):
    """What obj is, for a message: "class Cycler", "function", "str"."""
    if isinstance(obj, type):
        return f'class {obj.__name__}'
    return type(obj).__name__


def _from_psycopg(value):
    """Whether value is an object (or a class) of the database driver."""
    cls = value if isinstance(value, type) else type(value)
    return (getattr(cls, '__module__', None) or '').split('.')[0] == 'psycopg'


class SafeModule:
    """dbt's modules.datetime, modules.re, modules.itertools: the names of a
    Python module that templates use, and never the module itself (a
    module's attributes lead to the modules it imports, sys and os among
    them)."""

    def __init__(self, module, names):
        for name in names:
            setattr(self, name, getattr(module, name))


SAFE_MODULES = {
    'datetime': SafeModule(datetime, ['date', 'datetime', 'time', 'timedelta', 'timezone', 'tzinfo',
                                      'MINYEAR', 'MAXYEAR']),
    're': SafeModule(re, ['compile', 'search', 'match', 'fullmatch', 'split', 'findall', 'finditer', 'sub',
                          'subn', 'escape', 'error', 'A', 'ASCII', 'I', 'IGNORECASE', 'M', 'MULTILINE',
                          'S', 'DOTALL', 'X', 'VERBOSE']),
    'itertools': SafeModule(itertools, ['accumulate', 'chain', 'combinations', 'combinations_with_replacement',
                                        'compress', 'dropwhile', 'filterfalse', 'groupby', 'islice',
                                        'permutations', 'product', 'starmap', 'takewhile', 'zip_longest']),
}

