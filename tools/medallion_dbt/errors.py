"""medallion-dbt's exceptions: what stops the import, what skips one
object, and what a template's return() carries."""


class ProjectError(Exception):
    """A problem with the project itself: nothing is imported."""


class TransactionEnded(ProjectError):
    """The project's own SQL (run_query) ended the transaction the import
    runs in: what ran before may be committed, dry run or not."""


class Skip(Exception):
    """One object cannot be imported; the reason is reported."""


class Disabled(Exception):
    """enabled: false: not imported, and not a failure."""


class Refused(Exception):
    """A template reached for what the sandbox keeps from it (Python's
    internals).  Not a Jinja error, so that no handler of rendering errors
    turns it into a skip: the whole import stops, with the file and line."""


class MacroReturn(Exception):
    """dbt's return(): the value a macro gives back."""

    def __init__(self, value):
        super().__init__()
        self.value = value


