"""A throwaway PostgreSQL server (Debian postgresql) on 127.0.0.1, for the app database tests.

`Postgres.start()` makes a cluster in a fresh directory with password (SCRAM) log-ins, runs `postgres`
in the foreground on a free port, and `create_database()` gives each test an empty database of its own.
PostgreSQL refuses to run as root: under root the server runs as the `postgres` user the package made.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.services import free_port

USER = "ringledger"
PASSWORD = "pg-Secret-1"


def binaries() -> Path | None:
    """The newest installed PostgreSQL's bin directory, or None when no server is installed."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
    return found[-1].parent if found else None


@dataclass
class Postgres:
    folder: Path
    port: int
    process: subprocess.Popen | None = None
    _databases: int = field(default=0)

    @classmethod
    def start(cls) -> Postgres:
        bin_dir = binaries()
        if bin_dir is None:
            raise RuntimeError("PostgreSQL is not installed: `make test` installs the Debian package postgresql")
        # not under pytest's own temporary folder: that one is private to root, and the server may not be
        folder = Path(tempfile.mkdtemp(prefix="ringledger-pg-"))
        as_user: list[str] = []
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(folder, owner.pw_uid, owner.pw_gid)
            as_user = ["setpriv", f"--reuid={owner.pw_uid}", f"--regid={owner.pw_gid}", "--clear-groups", "--"]
        data, sockets = folder / "data", folder / "sockets"
        password_file = folder / "password"
        password_file.write_text(PASSWORD + "\n")
        if as_user:
            os.chown(password_file, owner.pw_uid, owner.pw_gid)
        subprocess.run(
            [
                *as_user,
                str(bin_dir / "initdb"),
                "-D",
                str(data),
                "-U",
                USER,
                "--auth=scram-sha-256",
                f"--pwfile={password_file}",
                "--encoding=UTF8",
                "--locale=C",
            ],
            check=True,
            capture_output=True,
            cwd=folder,
        )
        subprocess.run([*as_user, "mkdir", str(sockets)], check=True)
        server = cls(folder, free_port())
        with (folder / "postgres.log").open("w") as log:
            server.process = subprocess.Popen(
                [
                    *as_user,
                    str(bin_dir / "postgres"),
                    "-D",
                    str(data),
                    "-h",
                    "127.0.0.1",
                    "-p",
                    str(server.port),
                    "-k",
                    str(sockets),
                    # a test cluster: nothing here must survive a crash
                    "-c",
                    "fsync=off",
                    "-c",
                    "synchronous_commit=off",
                    "-c",
                    "full_page_writes=off",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=folder,
            )
        server._wait()
        return server

    def _wait(self, timeout: float = 30.0) -> None:
        import psycopg

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"postgres exited with {self.process.returncode}:\n{self.log()}")
            try:
                psycopg.connect(self.dsn("postgres"), connect_timeout=2).close()
                return
            except psycopg.OperationalError:
                time.sleep(0.1)
        raise RuntimeError(f"postgres did not accept connections within {timeout} s:\n{self.log()}")

    def log(self) -> str:
        return (self.folder / "postgres.log").read_text(errors="replace")

    def dsn(self, database: str) -> str:
        return f"postgresql://{USER}:{PASSWORD}@127.0.0.1:{self.port}/{database}"

    def url(self, database: str) -> str:
        """The SQLAlchemy URL Ringledger's `[database] url` takes."""
        return f"postgresql+psycopg://{USER}:{PASSWORD}@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        """A new empty database; returns its name."""
        import psycopg

        self._databases += 1
        name = f"ringledger_{self._databases}"
        with psycopg.connect(self.dsn("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return name

    def drop_database(self, name: str) -> None:
        import psycopg

        with psycopg.connect(self.dsn("postgres"), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            # SIGINT: PostgreSQL's fast shutdown
            self.process.send_signal(2)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        shutil.rmtree(self.folder, ignore_errors=True)
