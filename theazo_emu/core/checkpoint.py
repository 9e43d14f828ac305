"""Moving a file database's write-ahead log into the database, off the event loop.

SQLite checkpoints the WAL itself, inside whichever COMMIT takes the log past 1,000 pages:
that commit copies every page back and fsyncs the file, with the event loop (and every
request waiting on it) blocked. The store turns that off (`wal_autocheckpoint=0`) and this
thread checkpoints instead, on a connection of its own: PASSIVE, so it never waits for the
writer or makes the writer wait, and the fsync it does happens outside the loop (the sqlite3
module lets go of the GIL while a statement runs). Once a checkpoint has copied the whole
log, the next commit starts writing the log from its beginning again, so it stays small.

The store nudges the thread every `EVERY` commits; the thread also looks once a second,
for writes made outside a transaction, and checkpoints if the writer's connection has
changed anything since its last look. While frames are left over (written during its last
pass), it goes again soon. Under writes that never pause the log may never be copied whole
between two commits, and so never restart: past `LIMIT` frames the thread leaves the last
few frames to the writer (`wanted`), whose next commit copies them on its own connection
(one short checkpoint on the loop per `LIMIT` frames, where SQLite's own does one per 1,000
frames and copies them all), after which the log starts over and its file is cut back to
`LIMIT` frames (the store's `journal_size_limit`).
"""

from __future__ import annotations

import sqlite3
import threading
from typing import Callable

EVERY = 256  # commits between two nudges: at a few pages a commit, a log of a few MiB at most
IDLE_S = 1.0  # how often the thread looks without a nudge
AGAIN_S = 0.005  # the pause between two passes while frames are left over
LIMIT = 4096  # frames (16 MiB of 4 KiB pages) past which the writer finishes the checkpoint


class Checkpointer:
    """The thread that checkpoints one database file; `stop()` before closing the writer's connection."""

    def __init__(self, path: str, changes: Callable[[], int]) -> None:
        self._path, self._changes = path, changes
        self._wake, self._stopping = threading.Event(), False
        self.wanted = False  # the log is past LIMIT: the writer should copy what is left (Store.committed)
        self._thread = threading.Thread(target=self._run, name=f"checkpoint {path}", daemon=True)
        self._thread.start()

    def nudge(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        self._thread.join()

    def _run(self) -> None:
        conn = sqlite3.connect(self._path, check_same_thread=False, isolation_level=None)
        seen, left = -1, False
        try:
            while not self._stopping:
                self._wake.wait(AGAIN_S if left else IDLE_S)
                self._wake.clear()
                changes = self._changes()
                if (changes != seen or left) and not self._stopping and not self.wanted:
                    seen = changes
                    left = self._pass(conn)
        finally:
            conn.close()

    def _pass(self, conn: sqlite3.Connection) -> bool:
        """One checkpoint; True if frames are left in the log that it did not copy."""
        try:
            _, log, copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        except sqlite3.Error:  # gone, or not a WAL database: the next round tries again
            return True
        if log > LIMIT:  # copied or not, writes go on: only the writer can catch the log whole
            self.wanted = True
        return 0 <= copied < log
