"""The data directory holds every tenant's data (the database, chunk text, uploaded files,
the ledger journal): only the server's own user may read it.

The directory is made 0700 (nothing below it can be reached by another user) and what lies at
its top 0600 or 0700, existing entries too (an older install left them 0644); the process's
umask becomes 077, so whatever it writes later (new uploads, journal segments, SQLite's side
files) is private from the start. Entries deeper down are left as they are: their parent
already shuts others out, and walking every uploaded file would slow each start.
"""

from __future__ import annotations

import os
from pathlib import Path

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


def secure_data_dir(path: Path) -> None:
    os.umask(0o077)
    path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
    path.chmod(PRIVATE_DIR)
    for entry in path.iterdir():
        if entry.is_symlink():
            continue
        entry.chmod(PRIVATE_DIR if entry.is_dir() else PRIVATE_FILE)
