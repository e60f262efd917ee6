"""The cell store of a power study: finished (claim, seed) cells on disk, so a study resumes where it stopped.

A JSONL file. Its first line is a header with the settings every cell in it was computed under
(budget, device, sampler, registry); each further line is one finished cell, keyed by (claim id, master
seed). A cell is appended with one ``write`` and fsynced as soon as it arrives, so a run that is killed
loses at most the cells still being computed and leaves at most its last line torn. A torn or unreadable
line is skipped on reading (counted in ``torn``) and the next append starts a fresh line. A key already
stored is never appended again, and a run holds an exclusive lock (``flock``) on the file while it is
open, so two runs cannot write one store at once (where the file system has locks). Opening a store
written under other settings is an error: its cells would not be cells of this study.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Self

FORMAT = "ntk-claims power cells"
VERSION = 1


class CellStore:
    """An open cell store (a context manager: ``with CellStore(path, settings) as store``)."""

    def __init__(self, path: str | os.PathLike[str], settings: Mapping[str, Any]) -> None:
        self.path = Path(path)
        self.settings = dict(settings)
        self.cells: dict[tuple[str, int], dict[str, Any]] = {}
        self.torn = 0  # unreadable lines skipped (a run killed mid-write)
        self.duplicates = 0  # lines whose key was stored before (never written by this class; counted)
        if self.path.is_dir():
            raise ValueError(f"cell store {self.path} is a directory; give a file name such as power.cells.jsonl")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._stream = open(self.path, "a+b")  # noqa: SIM115 - held open (and locked) until close()
        try:
            try:
                fcntl.flock(self._stream.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise ValueError(f"cell store {self.path} is in use by another run (locked)") from None
            except OSError:  # a file system without locks (some NFS mounts): go on unlocked
                pass
            self._stream.seek(0)
            self._read(self._stream.read())
        except BaseException:
            self.close()
            raise

    def _read(self, content: bytes) -> None:
        header = None
        self._ends_line = content.endswith(b"\n") or not content
        for line in content.splitlines():
            try:
                entry = json.loads(line)
            except (json.JSONDecodeError, UnicodeDecodeError):
                self.torn += bool(line.strip())
                continue
            if header is None:
                if not (isinstance(entry, dict) and entry.get("format") == FORMAT):
                    raise ValueError(f"{self.path} is not a power cell store (its first line is no store header)")
                header = entry
                self._check_settings(entry.get("settings"))
                continue
            if isinstance(entry, dict) and entry.get("format") == FORMAT:
                self._check_settings(entry.get("settings"))  # a repeated header (files joined): same settings
                continue
            try:
                key = self.key(entry)
            except (KeyError, TypeError):
                self.torn += 1
                continue
            if key in self.cells:
                self.duplicates += 1
            else:
                self.cells[key] = entry
        if header is None:
            if b"\n" in content.rstrip(b"\n"):  # several lines and none a header: some other file
                raise ValueError(f"{self.path} is not a power cell store (no header line); give another --store")
            self._append({"format": FORMAT, "version": VERSION, "settings": self.settings})

    def _check_settings(self, stored: Any) -> None:
        if stored != self.settings:
            stored = stored if isinstance(stored, dict) else {}
            differ = [
                f"{k} {stored.get(k)!r} (this run: {self.settings.get(k)!r})"
                for k in sorted(set(stored) | set(self.settings))
                if stored.get(k) != self.settings.get(k)
            ]
            raise ValueError(
                f"cell store {self.path} was written under other settings: {', '.join(differ)}; "
                "give another --store or remove it"
            )

    @staticmethod
    def key(cell: Mapping[str, Any]) -> tuple[str, int]:
        claim_id, seed = cell["id"], cell["master_seed"]
        if not isinstance(claim_id, str) or not isinstance(seed, int):
            raise TypeError("a cell needs a string id and an integer master_seed")
        return (claim_id, seed)

    def get(self, claim_id: str, master_seed: int) -> dict[str, Any] | None:
        return self.cells.get((claim_id, master_seed))

    def __contains__(self, key: tuple[str, int]) -> bool:
        return key in self.cells

    def __len__(self) -> int:
        return len(self.cells)

    def _append(self, entry: Mapping[str, Any]) -> None:
        if self._stream.closed:
            raise ValueError(f"cell store {self.path} is closed")
        # after a torn last line (a run killed mid-write) the new line must not be glued onto it
        data = (b"" if self._ends_line else b"\n") + (json.dumps(entry, sort_keys=True) + "\n").encode()
        self._stream.write(data)  # one write of the whole line (the file is opened for appending)
        self._stream.flush()
        os.fsync(self._stream.fileno())
        self._ends_line = True

    def add(self, cell: Mapping[str, Any]) -> bool:
        """Append ``cell`` unless its key is stored already; True if it was written."""
        key = self.key(cell)
        if key in self.cells:
            return False
        self._append(cell)
        self.cells[key] = dict(cell)
        return True

    def close(self) -> None:
        """Release the lock and the file (idempotent)."""
        if not self._stream.closed:
            self._stream.close()  # closing the descriptor releases the flock

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def store_path(output: str | os.PathLike[str]) -> Path:
    """The default cell store beside the power table ``output``: ``power.json`` -> ``power.cells.jsonl``."""
    output = Path(output)
    return output.with_name(output.stem + ".cells.jsonl")
