"""The user's data is theirs: export everything held about them, and erase it for good.

Export format (stable, documented in docs/export-format.md): `coachbot-export.json` holds
`{"format": "coachbot-export/2", "exported_at": ..., "tables": {table: [row, ...]}}` with one key
per table and one object per row, every column included; `coachbot-export-csv.zip` holds the
same tables as one CSV file each (`<table>.csv`, a header row of column names, also for a table
with no rows).
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from dataclasses import dataclass

from coachbot.clock import Clock
from coachbot.content import Content
from coachbot.services.actions import DeleteData
from coachbot.services.replies import Button, Outcome, Reply, rows
from coachbot.services.who import Who
from coachbot.storage import repositories as repo
from coachbot.storage.db import Database

EXPORT_FORMAT = "coachbot-export/2"  # 2: clinical spec v2 columns, check_answers


@dataclass(frozen=True)
class Document:
    """A file to send: its name and bytes."""

    name: str
    data: bytes


def to_json(tables: dict[str, list[dict[str, object]]], exported_at: str) -> bytes:
    body = {"format": EXPORT_FORMAT, "exported_at": exported_at, "tables": tables}
    return json.dumps(body, indent=2, ensure_ascii=False).encode()


def to_csv_zip(
    tables: dict[str, list[dict[str, object]]], columns: dict[str, list[str]] | None = None
) -> bytes:
    """One CSV per table; `columns` names each table's columns (for the header of an empty one)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for table, table_rows in tables.items():
            text = io.StringIO()
            columns_of = (columns or {}).get(table)
            header = columns_of or (list(table_rows[0]) if table_rows else [])
            writer = csv.DictWriter(text, fieldnames=header)
            writer.writeheader()
            writer.writerows(table_rows)
            archive.writestr(f"{table}.csv", text.getvalue())
    return buffer.getvalue()


class DataRightsService:
    """/export and /delete."""

    def __init__(self, db: Database, content: Content, clock: Clock) -> None:
        self._db = db
        self._m = content.messages
        self._clock = clock

    async def export(self, who: Who) -> tuple[Outcome, tuple[Document, ...]]:
        """Everything held about the user, as a JSON document and a zip of CSV files."""
        async with self._db.transaction() as session:
            user = await repo.get_user(session, who.telegram_user_id)
            if user is None:
                return Outcome((Reply(self._m.render("nothing_stored")),)), ()
            tables = await repo.everything_about(session, user.id)
        stamp = self._clock().isoformat()
        documents = (
            Document("coachbot-export.json", to_json(tables, stamp)),
            Document("coachbot-export-csv.zip", to_csv_zip(tables, repo.user_table_columns())),
        )
        return Outcome((Reply(self._m.render("export_intro")),)), documents

    def ask_delete(self) -> Outcome:
        """/delete: ask for an explicit confirmation first."""
        buttons = rows([Button(self._m.render("button_delete_yes"), DeleteData(True)),
                        Button(self._m.render("button_delete_no"), DeleteData(False))], 1)  # fmt: skip
        return Outcome((Reply(self._m.render("delete_confirm"), buttons),))

    async def delete(self, who: Who, action: DeleteData) -> Outcome:
        """Erase every row about the user in one transaction, then say so."""
        if not action.confirm:
            return Outcome((Reply(self._m.render("delete_cancelled")),))
        async with self._db.transaction() as session:
            user = await repo.get_user(session, who.telegram_user_id)
            if user is not None:
                await repo.delete_user(session, user.id)
        return Outcome((Reply(self._m.render("deleted")),))
