"""The rollout journal: an embedded SQLite database (WAL) of every rollout, step and step run.

It is what makes a rollout resumable and auditable: `resume` reads which steps finished, `rollouts`
lists what happened, and tests prove from it that no finished step ran twice. Only redacted text
goes in (output tails, errors); never file contents or key material.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from khatui.errors import InputError
from khatui.events import StepState
from khatui.localfs import PRIVATE_DIR, Folder
from khatui.userdirs import data_dir

SCHEMA = """
CREATE TABLE IF NOT EXISTS rollouts (
    id TEXT PRIMARY KEY,
    cluster TEXT NOT NULL,
    spec_path TEXT NOT NULL,
    spec_hash TEXT NOT NULL,
    spec_yaml TEXT NOT NULL,
    state TEXT NOT NULL,
    started REAL NOT NULL,
    updated REAL NOT NULL,
    pid INTEGER,
    log_path TEXT NOT NULL,
    failure TEXT
);
CREATE TABLE IF NOT EXISTS steps (
    rollout_id TEXT NOT NULL REFERENCES rollouts(id),
    step_id TEXT NOT NULL,
    phase TEXT NOT NULL,
    node TEXT NOT NULL,
    state TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '',
    exit_code INTEGER,
    output_tail TEXT NOT NULL DEFAULT '',
    updated REAL NOT NULL,
    PRIMARY KEY (rollout_id, step_id)
);
CREATE TABLE IF NOT EXISTS runs (
    rollout_id TEXT NOT NULL,
    step_id TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    pid INTEGER NOT NULL,
    started REAL NOT NULL,
    ended REAL,
    result TEXT
);
"""


class JournalError(InputError):
    """The journal cannot be opened or read (not a khatui journal, corrupt, unreadable); it is left as it is."""

    title = "Journal unusable"

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(
            f"{path}: cannot use the rollout journal: {reason}; khatui leaves it untouched: move it aside "
            "(a new journal is started) or point KHATUI_DATA_DIR at another folder"
        )


def _columns(db: sqlite3.Connection) -> dict[str, list[str]]:
    """Table -> column names of the (non-internal) tables in `db`."""
    names = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    return {
        name: [row[1] for row in db.execute(f"PRAGMA table_info({name!r})")]
        for name in names
        if not name.startswith("sqlite_")
    }


def _expected_columns() -> dict[str, list[str]]:
    db = sqlite3.connect(":memory:")
    try:
        db.executescript(SCHEMA)
        return _columns(db)
    finally:
        db.close()


EXPECTED_COLUMNS = _expected_columns()
"""The journal's tables and their columns, as SCHEMA creates them."""


def _check_schema(db: sqlite3.Connection, path: Path) -> None:
    """Refuse a database that is not a khatui journal (an empty one is fine: SCHEMA fills it)."""
    found = _columns(db)
    if not found:
        return
    ours = {name: columns for name, columns in found.items() if name in EXPECTED_COLUMNS}
    if "rollouts" not in ours:
        tables = ", ".join(sorted(found))
        raise JournalError(path, f"it is an SQLite database of something else (tables: {tables})")
    for name, columns in ours.items():
        if columns != EXPECTED_COLUMNS[name]:
            raise JournalError(path, f"its table {name} has columns {', '.join(columns)}, not a khatui journal's")


@dataclass(frozen=True)
class RolloutRecord:
    """One rollout as the journal knows it."""

    id: str
    cluster: str
    spec_path: str
    spec_hash: str
    spec_yaml: str
    state: str
    started: float
    updated: float
    pid: int | None
    log_path: str
    failure: str | None


@dataclass(frozen=True)
class StepRecord:
    """The last known state of one step of a rollout."""

    step_id: str
    phase: str
    node: str
    state: StepState
    detail: str
    exit_code: int | None
    output_tail: str


class Journal:
    """Thread-safe access to the journal database at `path`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        with self._guard():
            if path.parent.exists() and not path.parent.is_dir():
                raise JournalError(path, f"the data directory {path.parent} is a file, not a folder")
            if path.is_symlink():
                raise JournalError(path, "it is a symlink; khatui does not write through symlinks")
            if path.exists() and not path.is_file():
                raise JournalError(path, "it is not a regular file (a directory, a pipe or a device?)")
            with Folder.open(path.parent, create=True, mode=PRIVATE_DIR):
                pass  # creates the data dir 0700, with any missing parent
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30)
        try:
            with self._guard():
                _check_schema(self._db, path)  # before anything writes: a foreign database stays as it was
                os.chmod(path, 0o600)
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=NORMAL")
                self._db.executescript(SCHEMA)
        except BaseException:
            self._db.close()
            raise

    @contextmanager
    def _guard(self) -> Iterator[None]:
        """Turn a database or file error into one `JournalError` naming the journal."""
        try:
            yield
        except sqlite3.Error as exc:
            raise JournalError(self.path, str(exc)) from None
        except OSError as exc:
            raise JournalError(self.path, (exc.strerror or str(exc)).lower()) from None

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        with self._lock, self._guard():
            yield self._db

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock, self._guard():
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def new_rollout(self, cluster: str, spec_path: str, spec_hash: str, spec_yaml: str, log_dir: Path) -> RolloutRecord:
        """Start a rollout record; its id is short, sortable by time and unique."""
        rollout_id = time.strftime("%Y%m%d-%H%M%S") + "-" + uuid.uuid4().hex[:6]
        now = time.time()
        log_path = str(log_dir / f"{rollout_id}.log")
        with self._tx() as db:
            db.execute(
                "INSERT INTO rollouts VALUES (?,?,?,?,?,?,?,?,?,?,NULL)",
                (rollout_id, cluster, spec_path, spec_hash, spec_yaml, "running", now, now, os.getpid(), log_path),
            )
        record = self.rollout(rollout_id)
        assert record is not None
        return record

    def set_rollout_state(self, rollout_id: str, state: str, failure: str | None = None) -> None:
        """Record the rollout's state (running, done, incomplete, failed, aborted) and the process owning it."""
        with self._tx() as db:
            db.execute(
                "UPDATE rollouts SET state=?, failure=?, updated=?, pid=? WHERE id=?",
                (state, failure, time.time(), os.getpid(), rollout_id),
            )

    def hand_over(self, rollout_id: str, pid: int) -> None:
        """Record that process `pid` now owns the rollout, running again (a detached background run)."""
        with self._tx() as db:
            db.execute(
                "UPDATE rollouts SET state='running', failure=NULL, pid=?, updated=? WHERE id=?",
                (pid, time.time(), rollout_id),
            )

    def rollout(self, rollout_id: str) -> RolloutRecord | None:
        """The rollout with `rollout_id`, or None."""
        with self._read() as db:
            row = db.execute("SELECT * FROM rollouts WHERE id=?", (rollout_id,)).fetchone()
        return RolloutRecord(*row) if row else None

    def rollouts(self, limit: int = 50) -> list[RolloutRecord]:
        """Most recent rollouts first."""
        with self._read() as db:
            rows = db.execute("SELECT * FROM rollouts ORDER BY started DESC LIMIT ?", (limit,)).fetchall()
        return [RolloutRecord(*row) for row in rows]

    def set_step(
        self,
        rollout_id: str,
        step_id: str,
        phase: str,
        node: str,
        state: StepState,
        detail: str = "",
        exit_code: int | None = None,
        output_tail: str = "",
        ended_run: tuple[int, str] | None = None,
    ) -> None:
        """Record a step's latest state; with `ended_run` (run id, result), how that run ended, in the
        same transaction: a run recorded done always has its step recorded done (a killed engine
        cannot leave a finished step looking cut off, to be run again on resume)."""
        with self._tx() as db:
            if ended_run is not None:
                db.execute("UPDATE runs SET ended=?, result=? WHERE rowid=?", (time.time(), ended_run[1], ended_run[0]))
            db.execute(
                "INSERT INTO steps VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT(rollout_id, step_id) DO UPDATE SET "
                "state=excluded.state, detail=excluded.detail, exit_code=excluded.exit_code, "
                "output_tail=excluded.output_tail, updated=excluded.updated",
                (rollout_id, step_id, phase, node, str(state), detail, exit_code, output_tail, time.time()),
            )
            db.execute("UPDATE rollouts SET updated=? WHERE id=?", (time.time(), rollout_id))

    def steps(self, rollout_id: str) -> dict[str, StepRecord]:
        """Every recorded step of a rollout, by step id."""
        with self._read() as db:
            rows = db.execute(
                "SELECT step_id, phase, node, state, detail, exit_code, output_tail FROM steps WHERE rollout_id=?",
                (rollout_id,),
            ).fetchall()
        return {row[0]: StepRecord(row[0], row[1], row[2], StepState(row[3]), row[4], row[5], row[6]) for row in rows}

    def start_run(self, rollout_id: str, step_id: str, attempt: int) -> int:
        """Record that a step's actions start executing now; returns the run's row id."""
        with self._tx() as db:
            cursor = db.execute(
                "INSERT INTO runs VALUES (?,?,?,?,?,NULL,NULL)",
                (rollout_id, step_id, attempt, os.getpid(), time.time()),
            )
            return int(cursor.lastrowid or 0)

    def end_run(self, run_id: int, result: str) -> None:
        """Record how a step execution ended (done, failed, lost)."""
        with self._tx() as db:
            db.execute("UPDATE runs SET ended=?, result=? WHERE rowid=?", (time.time(), result, run_id))

    def run_timings(self, rollout_id: str) -> list[tuple[str, float, float | None, str | None]]:
        """(step id, started, ended, result) of every step execution, in order."""
        with self._read() as db:
            return db.execute(
                "SELECT step_id, started, ended, result FROM runs WHERE rollout_id=? ORDER BY rowid", (rollout_id,)
            ).fetchall()

    def runs(self, rollout_id: str) -> list[tuple[str, int, int, str | None]]:
        """(step id, attempt, pid, result) of every execution of every step, in order."""
        with self._read() as db:
            return db.execute(
                "SELECT step_id, attempt, pid, result FROM runs WHERE rollout_id=? ORDER BY rowid", (rollout_id,)
            ).fetchall()


def open_journal() -> Journal:
    """The journal of every rollout on this machine (`journal.db` in the data directory), created on
    first use."""
    return Journal(data_dir() / "journal.db")
