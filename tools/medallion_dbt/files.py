"""The files medallion-dbt reads, and only those: a project's files are
read inside its directory, a package's inside its own.

What the project names (its folders in dbt_project.yml) is a relative path
with no '..'; what it holds (a file, a folder, a symbolic link to either)
is followed to where it really is (os.path.realpath) and refused when that
is outside: a project found on disk, or cloned, cannot make the import
read ~/.pgpass into a table.  A file is checked again once it is open
(the path the kernel opened, /proc/self/fd), so that a link swapped in
between is refused too; FIFOs and devices are never read.  A refusal is a
ProjectError: nothing is imported, exit 2."""
import os
import stat

from .errors import ProjectError

RULE = "medallion-dbt reads a project's files only inside its directory"


class Outside(ProjectError):
    """A path that leads outside where files may be read."""


def relative_setting(key, value):
    """A dbt_project.yml path setting (model-paths, ...) as a list of
    relative paths; an absolute path or a '..' part is refused."""
    if value is None:
        return None
    values = value if isinstance(value, list) else [value]
    for item in values:
        if not isinstance(item, str):
            raise ProjectError(f'dbt_project.yml: {key}: {item!r} is not a path')
        if os.path.isabs(item):
            raise Outside(f'dbt_project.yml: {key}: "{item}" is an absolute path ({RULE}: '
                          f'the folders it names are relative paths, without "..")')
        if '..' in item.replace(os.sep, '/').split('/'):
            raise Outside(f'dbt_project.yml: {key}: "{item}" climbs out with ".." ({RULE}: '
                          f'the folders it names are relative paths, without "..")')
    return [str(item) for item in values]


def _opened_path(fd):
    """The path the kernel opened for fd (Linux), or None where /proc does
    not say."""
    try:
        return os.readlink(f'/proc/self/fd/{fd}')
    except OSError:
        return None


class Area:
    """Directories (resolved) inside which files may be read.  Messages
    write paths relative to the directory shown, say what is outside
    (where: "the project") and the rule."""

    def __init__(self, roots, shown, where='the project', rule=RULE):
        self.roots = [os.path.realpath(r) for r in roots]
        self.shown = shown
        self.where = where
        self.rule = rule

    def holds(self, real):
        """Whether the resolved path real is one of the roots or under one."""
        return any(real == r or real.startswith(r.rstrip(os.sep) + os.sep) for r in self.roots)

    def name(self, path):
        """path as messages write it: relative to the project when under it."""
        rel = os.path.relpath(path, self.shown)
        return path if rel.split(os.sep)[0] == '..' else rel

    def resolve(self, path):
        """The real path of path, refused when it is outside."""
        real = os.path.realpath(path)
        if not self.holds(real):
            how = 'a symbolic link to' if os.path.islink(path) else 'leads through a symbolic link to'
            raise Outside(f'{self.name(path)}: {how} {real}, outside {self.where} ({self.rule})')
        return real

    def read(self, path):
        """The text (UTF-8) of the file at path, which must be a regular file
        inside, as it is when opened."""
        real = self.resolve(path)
        try:
            fd = os.open(real, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, 'O_CLOEXEC', 0))
        except OSError as e:
            raise ProjectError(f'{self.name(path)}: {e.strerror}')
        with os.fdopen(fd, encoding='utf-8') as f:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise ProjectError(f'{self.name(path)}: not a regular file')
            opened = _opened_path(fd)
            if opened is not None and not self.holds(opened):
                raise Outside(f'{self.name(path)}: opened {opened}, outside {self.where} ({self.rule}; '
                              f'it changed while it was read)')
            try:
                return f.read()
            except UnicodeDecodeError as e:
                raise ProjectError(f'{self.name(path)}: not UTF-8 text ({e.reason} at byte {e.start})')

    def files(self, base, ext):
        """The files under base whose names end in ext, in every folder but
        hidden ones, sorted by path (as sorted(glob(base/**/*ext)) lists
        them), as paths under base.  base, a folder or a file that resolves
        outside is refused; a folder linked into itself is walked once."""
        if not os.path.lexists(base):
            return []
        out = []

        def walk(folder, above):
            real = self.resolve(folder)
            if real in above:
                return              # a link to a folder it is in
            try:
                entries = sorted(os.scandir(folder), key=lambda e: e.name)
            except OSError:
                return              # not a folder, or not readable: as glob
            for entry in entries:
                if entry.name.startswith('.'):
                    continue
                if entry.is_dir():
                    walk(entry.path, above | {real})
                elif entry.name.endswith(ext):
                    self.resolve(entry.path)
                    out.append(entry.path)
        walk(base, frozenset())
        return sorted(out)
