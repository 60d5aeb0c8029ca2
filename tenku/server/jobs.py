"""The job store: tenku's own table of video jobs (plus characters and the webhook outbox).

The queue (queue.py) only moves job ids; everything a client can see lives here, so a restart, a second worker
process or another queue backend never changes what `GET /v1/videos/{id}` answers. `JobStore` is the interface the
server and workers use; `SqliteJobStore` is the embedded default (one file in the data dir, WAL mode, safe across
threads and processes). A Postgres store implements the same methods with the same compare-and-set updates.

Job states: queued -> in_progress -> completed | failed, and queued | in_progress -> cancelled. Every transition
made by a worker is a compare-and-set on (status, worker), so a worker presumed dead that wakes up again cannot
overwrite a job that was handed to another worker.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

ACTIVE = ("queued", "in_progress")
TERMINAL = ("completed", "failed", "cancelled")


@dataclass(kw_only=True)
class Job:
    id: str
    owner: str  # sha256 of the API key that created it ("local" when the server runs without keys)
    kind: str  # create | remix | edit | extension | loop | connection | storyboard
    status: str = "queued"
    progress: int = 0  # 0..100
    model: str  # the name the client asked for (a Sora alias or a local model name)
    seconds: str  # as the API reports it: a string, the stitched total for extensions
    size: str  # "WIDTHxHEIGHT" of the delivered file
    prompt: str | None = None
    params: dict[str, Any] = field(default_factory=dict)  # generation parameters and input files (relative paths)
    error: dict[str, Any] | None = None  # {"code", "message"} when failed or cancelled
    remixed_from: str | None = None
    files: dict[str, str] = field(default_factory=dict)  # variant -> path relative to the data dir
    attempts: int = 0  # times a worker has started it
    worker: str | None = None  # "host:pid:token" of the worker running it
    heartbeat_at: float | None = None
    created_at: int = 0
    started_at: int | None = None
    completed_at: int | None = None
    expires_at: int | None = None


@dataclass(kw_only=True)
class Character:
    id: str
    owner: str
    name: str
    created_at: int
    video: str  # path relative to the data dir


@dataclass(kw_only=True)
class Delivery:
    """One webhook event for one URL (the outbox row a sender thread delivers and retries)."""

    id: str  # the event id, "evt_..." (also the `webhook-id` header)
    url: str
    body: str  # the exact JSON that is signed and sent
    attempts: int = 0
    next_at: float = 0.0
    status: str = "pending"  # pending | delivered | abandoned
    last_error: str | None = None


class JobStore(Protocol):
    """What the server and the workers need from a store. All methods are blocking: call them off the event loop."""

    def add(self, job: Job) -> None: ...
    def get(self, id: str, owner: str | None = None) -> Job | None: ...
    def page(self, owner: str, after: str | None, limit: int, order: str) -> tuple[list[Job], bool]: ...
    def delete(self, id: str) -> bool: ...
    def count_active(self) -> int: ...
    def queued_ids(self) -> list[str]: ...
    def in_progress(self) -> list[Job]: ...
    def claim(self, id: str, worker: str) -> Job | None: ...
    def set_progress(self, id: str, worker: str, progress: int) -> str | None: ...
    def complete(self, id: str, worker: str, files: dict[str, str], expires_at: int | None) -> bool: ...
    def fail(self, id: str, worker: str | None, error: dict[str, Any]) -> bool: ...
    def release(self, id: str, worker: str) -> bool: ...
    def reclaim(self, id: str, worker: str, error: dict[str, Any] | None) -> bool: ...
    def cancel(self, id: str) -> bool: ...
    def expired(self, now: int) -> list[Job]: ...
    def clear_files(self, id: str) -> None: ...
    def add_character(self, character: Character) -> None: ...
    def get_character(self, id: str, owner: str) -> Character | None: ...
    def characters(self, owner: str) -> list[Character]: ...
    def add_deliveries(self, deliveries: list[Delivery]) -> None: ...
    def claim_delivery(self, now: float, lease_s: float) -> Delivery | None: ...
    def finish_delivery(self, id: str, url: str, status: str, next_at: float, error: str | None) -> None: ...
    def deliveries(self) -> list[Delivery]: ...


_SCHEMA = """
create table if not exists jobs (
  seq integer primary key autoincrement,  -- creation order: the list cursor
  id text not null unique,
  owner text not null,
  kind text not null,
  status text not null,
  progress integer not null default 0,
  model text not null,
  seconds text not null,
  size text not null,
  prompt text,
  params text not null,
  error text,
  remixed_from text,
  files text not null default '{}',
  attempts integer not null default 0,
  worker text,
  heartbeat_at real,
  created_at integer not null,
  started_at integer,
  completed_at integer,
  expires_at integer
);
create index if not exists jobs_owner_seq on jobs (owner, seq);
create index if not exists jobs_status on jobs (status);
create table if not exists characters (
  id text primary key,
  owner text not null,
  name text not null,
  created_at integer not null,
  video text not null
);
create table if not exists deliveries (
  id text not null,
  url text not null,
  body text not null,
  attempts integer not null default 0,
  next_at real not null,
  status text not null,
  last_error text,
  primary key (id, url)
);
create index if not exists deliveries_due on deliveries (status, next_at);
"""

_JSON_FIELDS = ("params", "error", "files")


class SqliteJobStore:
    """`JobStore` on one SQLite file. One connection per thread; WAL lets readers run beside the writing worker."""

    def __init__(self, path: str | Path, timeout_s: float = 30.0):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._timeout_s = timeout_s
        self._local = threading.local()
        conn = self._conn()
        conn.executescript(_SCHEMA)

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=self._timeout_s, isolation_level=None, check_same_thread=False)
            conn.row_factory = sqlite3.Row
            conn.execute("pragma journal_mode=wal")
            conn.execute("pragma synchronous=normal")
            self._local.conn = conn
        return conn

    def _exec(self, sql: str, args: tuple = ()) -> sqlite3.Cursor:
        return self._conn().execute(sql, args)

    @staticmethod
    def _job(row: sqlite3.Row | None) -> Job | None:
        if row is None:
            return None
        d = dict(row)
        d.pop("seq")
        for k in _JSON_FIELDS:
            d[k] = json.loads(d[k]) if d[k] is not None else None
        d["files"] = d["files"] or {}
        return Job(**d)

    # -- jobs: the API side ----------------------------------------------------------------------------------

    def add(self, job: Job) -> None:
        d = {k: getattr(job, k) for k in Job.__dataclass_fields__}
        for k in _JSON_FIELDS:
            d[k] = json.dumps(d[k]) if d[k] is not None else None
        cols = ", ".join(d)
        self._exec(f"insert into jobs ({cols}) values ({', '.join('?' * len(d))})", tuple(d.values()))

    def get(self, id: str, owner: str | None = None) -> Job | None:
        if owner is None:
            row = self._exec("select * from jobs where id = ?", (id,)).fetchone()
        else:
            row = self._exec("select * from jobs where id = ? and owner = ?", (id, owner)).fetchone()
        return self._job(row)

    def page(self, owner: str, after: str | None, limit: int, order: str) -> tuple[list[Job], bool]:
        """Up to `limit` of `owner`'s jobs after the cursor job `after`; raises LookupError for an unknown cursor."""
        desc = order == "desc"
        where, args = "owner = ?", [owner]
        if after is not None:
            row = self._exec("select seq from jobs where id = ? and owner = ?", (after, owner)).fetchone()
            if row is None:
                raise LookupError(after)
            where += " and seq < ?" if desc else " and seq > ?"
            args.append(row["seq"])
        rows = self._exec(
            f"select * from jobs where {where} order by seq {'desc' if desc else 'asc'} limit ?", (*args, limit + 1)
        ).fetchall()
        return [self._job(r) for r in rows[:limit]], len(rows) > limit

    def delete(self, id: str) -> bool:
        return self._exec("delete from jobs where id = ?", (id,)).rowcount == 1

    def count_active(self) -> int:
        return self._exec("select count(*) from jobs where status in ('queued', 'in_progress')").fetchone()[0]

    def cancel(self, id: str) -> bool:
        err = json.dumps({"code": "cancelled", "message": "The video was cancelled before it completed."})
        cur = self._exec(
            "update jobs set status = 'cancelled', error = ?, completed_at = ? "
            "where id = ? and status in ('queued', 'in_progress')",
            (err, int(time.time()), id),
        )
        return cur.rowcount == 1

    # -- jobs: the worker side -------------------------------------------------------------------------------

    def queued_ids(self) -> list[str]:
        return [r[0] for r in self._exec("select id from jobs where status = 'queued' order by seq")]

    def in_progress(self) -> list[Job]:
        return [self._job(r) for r in self._exec("select * from jobs where status = 'in_progress' order by seq")]

    def claim(self, id: str, worker: str) -> Job | None:
        """queued -> in_progress for `worker`; None if the job is gone, cancelled or already taken."""
        now = time.time()
        cur = self._exec(
            "update jobs set status = 'in_progress', worker = ?, attempts = attempts + 1, progress = 0, "
            "heartbeat_at = ?, started_at = ? where id = ? and status = 'queued'",
            (worker, now, int(now), id),
        )
        return self.get(id) if cur.rowcount == 1 else None

    def set_progress(self, id: str, worker: str, progress: int) -> str | None:
        """Record progress (and a heartbeat); return the job's status, None if it is no longer this worker's."""
        self._exec(
            "update jobs set progress = max(progress, ?), heartbeat_at = ? "
            "where id = ? and worker = ? and status = 'in_progress'",
            (int(progress), time.time(), id, worker),
        )
        row = self._exec("select status, worker from jobs where id = ?", (id,)).fetchone()
        if row is None or row["worker"] != worker:
            return None
        return row["status"]

    def complete(self, id: str, worker: str, files: dict[str, str], expires_at: int | None) -> bool:
        cur = self._exec(
            "update jobs set status = 'completed', progress = 100, files = ?, completed_at = ?, expires_at = ? "
            "where id = ? and worker = ? and status = 'in_progress'",
            (json.dumps(files), int(time.time()), expires_at, id, worker),
        )
        return cur.rowcount == 1

    def fail(self, id: str, worker: str | None, error: dict[str, Any]) -> bool:
        """Mark failed: an in_progress job of `worker`, or (worker None) a queued job that cannot run at all."""
        if worker is None:
            cond, args = "status = 'queued'", ()
        else:
            cond, args = "status = 'in_progress' and worker = ?", (worker,)
        cur = self._exec(
            f"update jobs set status = 'failed', error = ?, completed_at = ? where id = ? and {cond}",
            (json.dumps(error), int(time.time()), id, *args),
        )
        return cur.rowcount == 1

    def release(self, id: str, worker: str) -> bool:
        """in_progress -> queued after a clean shutdown; the interrupted attempt does not count."""
        cur = self._exec(
            "update jobs set status = 'queued', progress = 0, worker = null, attempts = max(attempts - 1, 0) "
            "where id = ? and worker = ? and status = 'in_progress'",
            (id, worker),
        )
        return cur.rowcount == 1

    def reclaim(self, id: str, worker: str, error: dict[str, Any] | None) -> bool:
        """Take a job away from a dead `worker`: back to queued (error None) or failed with `error`."""
        if error is None:
            cur = self._exec(
                "update jobs set status = 'queued', progress = 0, worker = null "
                "where id = ? and worker = ? and status = 'in_progress'",
                (id, worker),
            )
        else:
            cur = self._exec(
                "update jobs set status = 'failed', error = ?, completed_at = ? "
                "where id = ? and worker = ? and status = 'in_progress'",
                (json.dumps(error), int(time.time()), id, worker),
            )
        return cur.rowcount == 1

    def expired(self, now: int) -> list[Job]:
        rows = self._exec(
            "select * from jobs where expires_at is not null and expires_at <= ? and files != '{}'", (now,)
        )
        return [self._job(r) for r in rows]

    def clear_files(self, id: str) -> None:
        self._exec("update jobs set files = '{}' where id = ?", (id,))

    # -- characters ------------------------------------------------------------------------------------------

    def add_character(self, character: Character) -> None:
        c = character
        self._exec(
            "insert into characters (id, owner, name, created_at, video) values (?, ?, ?, ?, ?)",
            (c.id, c.owner, c.name, c.created_at, c.video),
        )

    def get_character(self, id: str, owner: str) -> Character | None:
        row = self._exec("select * from characters where id = ? and owner = ?", (id, owner)).fetchone()
        return Character(**dict(row)) if row else None

    def characters(self, owner: str) -> list[Character]:
        rows = self._exec("select * from characters where owner = ? order by created_at, id", (owner,))
        return [Character(**dict(r)) for r in rows]

    # -- webhook outbox --------------------------------------------------------------------------------------

    def add_deliveries(self, deliveries: list[Delivery]) -> None:
        conn = self._conn()
        with _transaction(conn):
            for d in deliveries:
                conn.execute(
                    "insert or ignore into deliveries (id, url, body, attempts, next_at, status) values (?, ?, ?, 0, ?, ?)",
                    (d.id, d.url, d.body, d.next_at, d.status),
                )

    def claim_delivery(self, now: float, lease_s: float) -> Delivery | None:
        """The next due delivery, pushed `lease_s` into the future so that no other sender takes it meanwhile."""
        conn = self._conn()
        with _transaction(conn):
            row = conn.execute(
                "select * from deliveries where status = 'pending' and next_at <= ? order by next_at limit 1", (now,)
            ).fetchone()
            if row is None:
                return None
            conn.execute(
                "update deliveries set next_at = ?, attempts = attempts + 1 where id = ? and url = ?",
                (now + lease_s, row["id"], row["url"]),
            )
        d = Delivery(**dict(row))
        d.attempts += 1
        return d

    def finish_delivery(self, id: str, url: str, status: str, next_at: float, error: str | None) -> None:
        self._exec(
            "update deliveries set status = ?, next_at = ?, last_error = ? where id = ? and url = ?",
            (status, next_at, error, id, url),
        )

    def deliveries(self) -> list[Delivery]:
        return [Delivery(**dict(r)) for r in self._exec("select * from deliveries order by rowid")]


class _transaction:
    """`begin immediate` ... `commit` on an autocommit connection (rollback on error)."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn

    def __enter__(self) -> sqlite3.Connection:
        self.conn.execute("begin immediate")
        return self.conn

    def __exit__(self, exc_type, exc, tb) -> None:
        self.conn.execute("rollback" if exc_type else "commit")
