"""Hot statements: built with SQLAlchemy Core, compiled once per dialect, run on the DBAPI cursor.

A submit runs the same handful of statements every time. Through ``Connection.execute``
each one costs more in SQLAlchemy's execution machinery (an execution context, result
metadata, events) than in SQLite itself; here the statement is compiled once per dialect,
keeping SQLAlchemy's own type conversions (the bind and result processors of the column
types, ``UtcDateTime`` included), and each execution is a plain ``cursor.execute``.

On PostgreSQL, :func:`batch` puts the statements sent inside it in psycopg's pipeline mode:
they travel together and the client waits once for all their results, instead of once per
statement. SQLite is in process and has nothing to batch.

Only the store's own fixed statements go through here; anything built per call (searches,
the outbox's claim) still uses ``Connection.execute``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import Executable, Insert, Select

from adapter.errors import UsageError

__all__ = ["BeneficiaryRows", "Prepared", "Rows", "StatementQueue", "batch"]

_Processor = Callable[[Any], Any] | None


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    names: tuple[str, ...]  # bind names, in the order a positional paramstyle needs them
    binds: tuple[tuple[str, _Processor], ...]
    positional: bool
    results: tuple[_Processor, ...]
    defaults: dict[str, Any]  # values the statement carries itself (a LIMIT)


class Prepared:
    """A fixed Core statement (an INSERT of given columns, a SELECT, a ``text()``) ready to run raw.

    ``columns`` names the columns an INSERT receives (the others keep their defaults); other
    statements take the bind parameters they were written with.
    """

    __slots__ = ("_columns", "_compiled", "statement")

    def __init__(self, statement: Executable, columns: Sequence[str] = ()) -> None:
        self.statement = statement.inline() if isinstance(statement, Insert) else statement
        self._columns = tuple(columns)
        self._compiled: dict[str, _Compiled] = {}

    def _for(self, dialect: Dialect) -> _Compiled:
        compiled = self._compiled.get(dialect.name)
        if compiled is None:
            compiled = self._compiled[dialect.name] = self._compile(dialect)
        return compiled

    def _compile(self, dialect: Dialect) -> _Compiled:
        compiled = self.statement.compile(dialect=dialect, column_keys=list(self._columns) or None)  # type: ignore[attr-defined]
        positional = compiled.positiontup is not None
        names = tuple(compiled.positiontup) if positional else tuple(compiled.binds)
        binds = tuple(
            (name, compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)) for name in names
        )
        results: tuple[_Processor, ...] = ()
        if isinstance(self.statement, Select):
            results = tuple(
                column.type.dialect_impl(dialect).result_processor(dialect, None)
                for column in self.statement.selected_columns
            )
        defaults = {name: compiled.binds[name].value for name in names if not compiled.binds[name].required}
        return _Compiled(compiled.string, names, binds, positional, results, defaults)

    def _params(self, compiled: _Compiled, values: Mapping[str, Any]) -> Any:
        if compiled.defaults:
            values = {**compiled.defaults, **values}
        if compiled.positional:
            return tuple(
                values[name] if process is None else process(values[name]) for name, process in compiled.binds
            )
        return {
            name: values[name] if process is None else process(values[name])
            for name, process in compiled.binds
        }

    def execute(self, connection: Connection, values: Mapping[str, Any]) -> Any:
        """Run once; returns the DBAPI cursor (``rowcount``, or rows through :meth:`rows`)."""
        compiled = self._for(connection.dialect)
        with translated(connection, compiled.sql):
            cursor = _dbapi(connection).cursor()
            cursor.execute(compiled.sql, self._params(compiled, values))
        return cursor

    def execute_many(
        self, connection: Connection, values: Sequence[Mapping[str, Any]], cursor: Any = None
    ) -> None:
        """Run once per mapping (an INSERT of several rows), on ``cursor`` if given (a batch's
        writes share one: nobody reads their results)."""
        if not values:
            return
        compiled = self._for(connection.dialect)
        with translated(connection, compiled.sql):
            if cursor is None:
                cursor = _dbapi(connection).cursor()
            if len(values) == 1:
                cursor.execute(compiled.sql, self._params(compiled, values[0]))
            else:
                cursor.executemany(compiled.sql, [self._params(compiled, row) for row in values])

    def rows(self, connection: Connection, cursor: Any) -> list[tuple[Any, ...]]:
        """The rows of a SELECT run by :meth:`execute`, through the column types' result processors."""
        with translated(connection, self._for(connection.dialect).sql):
            try:
                fetched = cursor.fetchall()
            finally:
                cursor.close()
        processors = self._for(connection.dialect).results
        if not any(processors):
            return [tuple(row) for row in fetched]
        return [
            tuple(
                value if process is None else process(value)
                for value, process in zip(row, processors, strict=True)
            )
            for row in fetched
        ]

    def all(self, connection: Connection, values: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Run a SELECT and return its rows."""
        return self.rows(connection, self.execute(connection, values))


def _dbapi(connection: Connection) -> Any:
    return connection.connection.dbapi_connection


@contextmanager
def translated(connection: Connection, sql: str) -> Iterator[None]:
    """Raise the driver's errors as SQLAlchemy's (``IntegrityError``…), as ``Connection.execute``
    would, and invalidate the connection when the error says it is gone."""
    dialect = connection.dialect
    try:
        yield
    except dialect.loaded_dbapi.Error as exc:
        gone = dialect.is_disconnect(exc, _dbapi(connection), None)
        if gone:
            connection.invalidate(exc)
        raise DBAPIError.instance(
            sql, None, exc, dialect.loaded_dbapi.Error, dialect=dialect, connection_invalidated=gone
        ) from exc


def _control(cursor: Any, sql: str) -> None:
    """A transaction statement, in the current batch; never a server-side prepared statement."""
    cursor.execute(sql, None, prepare=False)


@contextmanager
def batch(connection: Connection) -> Iterator[None]:
    """Send the statements run inside together (psycopg pipeline mode); SQLite runs them as they come.

    Results become available when the block ends (or when one is fetched inside it), and an
    error in any statement is raised at that point.
    """
    if connection.dialect.name != "postgresql":
        yield
        return
    with _dbapi(connection).pipeline():
        yield


class Rows:
    """The rows of a read queued on a :class:`StatementQueue`, there once the queue has been sent."""

    __slots__ = ("_rows",)

    def __init__(self) -> None:
        self._rows: list[tuple[Any, ...]] | None = None

    @property
    def ready(self) -> bool:
        """True once the read has been sent and its rows fetched."""
        return self._rows is not None

    def get(self) -> list[tuple[Any, ...]]:
        if self._rows is None:
            raise UsageError("these rows are read when the statement queue is sent")
        return self._rows


class StatementQueue:
    """The statements of one transaction that need not run at once, sent together at the next
    point that needs an answer.

    Writes whose result nobody reads (delivery records, ledger entries, audit, outbox) and
    reads whose rows are wanted later wait in order; :meth:`send` runs them all, then an
    optional last statement whose cursor it returns, and commits if asked, in one batch. On
    PostgreSQL that is one round trip instead of one per statement; the order of execution
    is the order of the calls either way, so every read sees the writes queued before it.

    With ``begin`` (PostgreSQL, the driver in autocommit mode: ``"BEGIN"`` or
    ``"BEGIN READ ONLY"``) the queue also opens the transaction itself, with its first batch,
    and ``send(commit=True)`` commits it with the last. The driver's own BEGIN and COMMIT each
    wait for the server's answer on their own, which made a two-batch transaction four round
    trips instead of two. With ``commit_each`` (reads, whose consistency is per statement on
    PostgreSQL anyway) every batch is a transaction of its own, BEGIN and COMMIT included: a
    read is one round trip, and the end of the store's transaction has nothing left to send.
    """

    __slots__ = ("_begin", "_commit_each", "_connection", "_items", "_owes_begin", "_pipelined")

    def __init__(
        self, connection: Connection, *, begin: str | None = None, commit_each: bool = False
    ) -> None:
        self._connection = connection
        self._items: list[tuple[Prepared, Any, Rows | None]] = []
        self._pipelined = connection.dialect.name == "postgresql"
        if begin is not None and not self._pipelined:
            raise UsageError("only a PostgreSQL statement queue sends its own BEGIN")
        if commit_each and begin is None:
            raise UsageError("commit_each needs a queue that sends its own BEGIN")
        self._begin = begin
        self._owes_begin = begin is not None
        self._commit_each = commit_each

    def write(self, prepared: Prepared, rows: Sequence[Mapping[str, Any]]) -> None:
        """Queue an INSERT of ``rows`` (nothing when there are none)."""
        if rows:
            self._items.append((prepared, rows, None))

    def read(self, prepared: Prepared, values: Mapping[str, Any]) -> Rows:
        """Queue a SELECT; its rows are in the returned :class:`Rows` once the queue is sent."""
        rows = Rows()
        self._items.append((prepared, values, rows))
        return rows

    def fetch(self, prepared: Prepared, values: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Run a SELECT now, after whatever is queued, and return its rows."""
        rows = self.read(prepared, values)
        self.send()
        return rows.get()

    def send(self, last: tuple[Prepared, Mapping[str, Any]] | None = None, *, commit: bool = False) -> Any:
        """Run the queue, then ``last`` (its cursor is returned), then COMMIT on PostgreSQL if asked.

        A queue given a ``begin`` statement that has not sent it yet sends it first, alone if
        nothing else is queued: the caller may be about to use the connection directly. On SQLite the
        caller's transaction commits as usual afterwards.
        """
        if not self._items and last is None:
            if self._owes_begin and commit:
                return None  # the transaction never began: there is nothing to commit
            if not self._owes_begin and not commit:
                return None  # nothing to send
        items, self._items = self._items, []
        connection, pipelined = self._connection, self._pipelined
        # A batch of statements in a commit_each queue ends its own transaction; an empty send
        # only opens one, for the caller's direct use of the connection.
        closes = self._commit_each and bool(items or last is not None)
        pending: list[tuple[Rows, Prepared, Any]] = []
        cursor = None
        writer = _dbapi(connection).cursor()  # for the statements whose results nobody reads
        with translated(connection, "(batch)"), batch(connection):
            if self._begin is not None and self._owes_begin:
                self._owes_begin = False
                _control(writer, self._begin)
            for prepared, values, sink in items:
                if sink is None:
                    prepared.execute_many(connection, values, writer)
                elif pipelined:  # fetching inside the batch would wait for the answer
                    pending.append((sink, prepared, prepared.execute(connection, values)))
                else:
                    sink._rows = prepared.all(connection, values)
            if last is not None:
                cursor = last[0].execute(connection, last[1])
            if (commit and pipelined) or closes:
                if self._begin is not None:
                    _control(writer, "COMMIT")
                    self._owes_begin = closes
                else:
                    _dbapi(connection).commit()
        for sink, prepared, result in pending:
            sink._rows = prepared.rows(connection, result)
        return cursor


class BeneficiaryRows:
    """One beneficiary's rows of a table read by NIR, optionally asked for ahead.

    :meth:`preload` queues the read so that it travels with the transaction's next statement;
    :meth:`get` then takes those rows (or reads now, for another NIR or without a preload), and
    :meth:`forget` drops a preload that the transaction's own writes made stale.
    """

    __slots__ = ("_ahead", "_queue", "_select")

    def __init__(self, queue: StatementQueue, select: Prepared) -> None:
        self._queue = queue
        self._select = select
        self._ahead: tuple[str, Rows] | None = None

    def preload(self, nir: str) -> None:
        self._ahead = (nir, self._queue.read(self._select, {"nir": nir}))

    def get(self, nir: str) -> list[tuple[Any, ...]]:
        ahead, self._ahead = self._ahead, None
        if ahead is None or ahead[0] != nir:
            return self._queue.fetch(self._select, {"nir": nir})
        rows = ahead[1]
        if not rows.ready:
            # Still queued: send it. Once fetched, the rows are good until this table is
            # written (which calls forget), so writes queued since to other tables wait on.
            self._queue.send()
        return rows.get()

    def forget(self) -> None:
        self._ahead = None
