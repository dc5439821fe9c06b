"""One UTC day of LiteLLM's "LiteLLM_SpendLogs" read from the proxy's PostgreSQL (psycopg 3).

- Only the columns the litellm reader uses are selected (tokenomics.sources.litellm.SPEND_LOG_FIELDS,
  intersected with the table's actual columns, since LiteLLM adds columns release by release).
  Request and response bodies (`messages`, `response`, `proxy_server_request`) are never selected.
- `"startTime"` is `timestamp(3) without time zone` holding UTC (Prisma's DateTime): the day is
  ["D 00:00", "D+1 00:00") compared as naive UTC, which uses the table's index on "startTime".
- Pages are bounded (`page_rows`) and keyed on ("startTime", request_id), so a page never repeats
  or skips a row, and all pages read one snapshot (a read-only REPEATABLE READ transaction): rows the
  proxy writes during the pull are in the next pull, not half in this one.
- PostgreSQL itself renders each row as JSON (`json_build_object`): `spend` keeps the shortest
  round-trip digits of the stored float, `metadata` and `request_tags` stay JSON, timestamps are ISO.
  The landing file is JSONL, one spend log per line, which the litellm reader reads as it is.
- The DSN (with its password) comes only from the environment variable the config names; it is
  never logged, and driver messages are scrubbed of it before they become errors.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from tokenomics.connectors.errors import ConnectorError, scrub
from tokenomics.sources.litellm import SPEND_LOG_FIELDS

if TYPE_CHECKING:
    from tokenomics.config import LitellmConnector

TABLE = "LiteLLM_SpendLogs"
NEVER_SELECTED = frozenset({"messages", "response", "proxy_server_request"})
REQUIRED = ("request_id", "call_type", "startTime")


class SpendLogDay:
    """`with SpendLogDay(dsn, day, settings) as pulled: write(pulled.chunks())`; then `pulled.rows`."""

    def __init__(
        self, dsn: str, day: date, settings: LitellmConnector, log: Callable[[str], None] = lambda _m: None
    ) -> None:
        self.dsn, self.day, self.settings, self.log = dsn, day, settings, log
        self.rows = 0
        self.pages = 0
        self._con: psycopg.Connection | None = None
        try:
            password = conninfo_to_dict(dsn).get("password")
        except psycopg.ProgrammingError:
            raise ConnectorError(
                f"litellm: ${settings.dsn_env} is not a PostgreSQL URL (expected postgresql://user:password@host:port/db)"
            ) from None
        self._password = None if password is None else str(password)

    def __enter__(self) -> SpendLogDay:
        try:
            self._con = psycopg.connect(
                self.dsn, connect_timeout=self.settings.connect_timeout_seconds, application_name="tokenomics-pull"
            )
        except psycopg.Error as exc:
            raise self._error("cannot connect to the database in", exc) from None
        self._con.read_only = True
        self._con.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        return self

    @property
    def _connection(self) -> psycopg.Connection:
        if self._con is None:
            raise RuntimeError("SpendLogDay reads only inside its `with` block")
        return self._con

    def __exit__(self, *exc) -> None:
        if self._con is not None:
            self._con.close()

    def columns(self) -> list[str]:
        found = {
            r[0]
            for r in self._connection.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
                "AND table_schema = ANY(current_schemas(false))",
                (TABLE,),
            ).fetchall()
        }
        if not found:
            raise ConnectorError(
                f'litellm: no table "{TABLE}" in the database in ${self.settings.dsn_env}: '
                "is it the LiteLLM proxy's database?"
            )
        if missing := [c for c in REQUIRED if c not in found]:
            raise ConnectorError(
                f'litellm: "{TABLE}" has no column {", ".join(missing)}: not a LiteLLM spend log table'
            )
        return [c for c in SPEND_LOG_FIELDS if c in found and c not in NEVER_SELECTED]

    def chunks(self) -> Iterator[bytes]:
        """The day's spend logs as JSONL bytes, one page at a time."""
        try:
            yield from self._pages()
        except psycopg.Error as exc:
            raise self._error("reading the spend logs failed in", exc) from None

    def _pages(self) -> Iterator[bytes]:
        start = datetime.combine(self.day, time(0))
        end = start + timedelta(days=1)
        with self._connection.transaction():
            columns = self.columns()
            row = sql.SQL("json_build_object({})::text").format(
                sql.SQL(", ").join(sql.SQL("{}, {}").format(sql.Literal(c), sql.Identifier(c)) for c in columns)
            )
            query = sql.SQL(
                "SELECT {row}, {start}, request_id FROM {table} "
                "WHERE {start} >= %(start)s AND {start} < %(end)s AND ({start}, request_id) > (%(after)s, %(after_id)s) "
                "ORDER BY {start}, request_id LIMIT %(limit)s"
            ).format(row=row, start=sql.Identifier("startTime"), table=sql.Identifier(TABLE))
            after, after_id = start - timedelta(microseconds=1), ""
            while True:
                rows = self._connection.execute(
                    query,
                    {
                        "start": start,
                        "end": end,
                        "after": after,
                        "after_id": after_id,
                        "limit": self.settings.page_rows,
                    },
                ).fetchall()
                if not rows:
                    return
                self.pages += 1
                self.rows += len(rows)
                yield "".join(r[0] + "\n" for r in rows).encode("utf-8")
                after, after_id = rows[-1][1], rows[-1][2]
                self.log(f"litellm {self.day}: page {self.pages}, {self.rows:,} spend logs so far")
                if len(rows) < self.settings.page_rows:
                    return

    def _error(self, what: str, exc: Exception) -> ConnectorError:
        detail = " ".join(scrub(str(exc), [self.dsn, self._password]).split())
        return ConnectorError(f"litellm: {what} ${self.settings.dsn_env}: {detail}")
