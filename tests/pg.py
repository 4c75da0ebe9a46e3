"""A throwaway PostgreSQL server for tests: Debian's `postgresql` binaries, started per session.

Production keeps Dagster's runs, event logs and sensor state in PostgreSQL (RDS); this starts
the real server so tests exercise the same storage classes. PostgreSQL refuses to run as
root, so when the tests run as root (CI containers) `initdb` and `pg_ctl` run as the
`postgres` system user, with the data directory in a folder that user owns. The server
listens on 127.0.0.1 only, on a free port, with trust authentication and fsync off: it holds
nothing worth keeping and is deleted when the session ends. Like RDS it speaks TLS (a
self-signed certificate made with `openssl`), so a production config with `sslmode: require`
connects to it unchanged.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

SUPERUSER = "postgres"
BIN_GLOB = "/usr/lib/postgresql/*/bin"
START_TIMEOUT_S = 30


@dataclass(frozen=True)
class PostgresServer:
    """Where a running test server listens. Trust auth: any password is accepted."""

    host: str
    port: int
    user: str = SUPERUSER

    def create_database(self, name: str) -> str:
        """Create an empty database; its name, for a `postgres_db` config or a URL."""
        import psycopg2  # installed with dagster-postgres

        connection = psycopg2.connect(
            host=self.host, port=self.port, user=self.user, dbname="postgres"
        )
        try:
            connection.autocommit = True  # CREATE DATABASE cannot run in a transaction
            with connection.cursor() as cursor:
                cursor.execute(f'CREATE DATABASE "{name}"')
        finally:
            connection.close()
        return name

    def url(self, db_name: str, *, scheme: str = "postgresql") -> str:
        return f"{scheme}://{self.user}@{self.host}:{self.port}/{db_name}"


def find_bin_dir() -> Path | None:
    """The newest installed server's bin folder (it has `initdb` and `pg_ctl`), or None."""
    found = [Path(p) for p in glob.glob(BIN_GLOB) if (Path(p) / "initdb").exists()]
    return max(found, key=lambda p: int(p.parent.name)) if found else None


def missing_reason() -> str | None:
    """Why a server cannot be started here, or None if it can."""
    if find_bin_dir() is None:
        return (
            f"PostgreSQL server binaries not found ({BIN_GLOB}/initdb); "
            "install Debian's `postgresql` package (`make setup` does)"
        )
    if shutil.which("openssl") is None:
        return "`openssl` not found (it makes the test server's TLS certificate)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(SUPERUSER)
        except KeyError:
            return "running as root and there is no `postgres` system user to run the server as"
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_server_user(argv: Sequence[str]) -> list[str]:
    """Root cannot run PostgreSQL: drop to the `postgres` user; anyone else runs it directly."""
    return ["runuser", "-u", SUPERUSER, "--", *argv] if os.geteuid() == 0 else list(argv)


def _run(argv: Sequence[str]) -> None:
    done = subprocess.run(_as_server_user(argv), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(argv)} failed ({done.returncode}):\n{done.stdout}{done.stderr}"
        )


def _make_root() -> Path:
    """A private folder the server user owns (pytest's tmp folders are root-only, 0700)."""
    root = Path(tempfile.mkdtemp(prefix="shazam-pg-"))
    if os.geteuid() == 0:
        user = pwd.getpwnam(SUPERUSER)
        os.chown(root, user.pw_uid, user.pw_gid)
    return root


def _make_certificate(root: Path) -> str:
    """A throwaway self-signed certificate; the server options that turn TLS on with it."""
    cert, key = root / "server.crt", root / "server.key"
    _run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ]
    )
    _run(["chmod", "600", str(key)])  # the server refuses a key others can read
    return f"-c ssl=on -c ssl_cert_file={cert} -c ssl_key_file={key}"


@contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    """Start a fresh cluster (initdb + pg_ctl), yield where it listens, then stop and delete it."""
    bin_dir = find_bin_dir()
    if bin_dir is None:
        raise RuntimeError(missing_reason())
    root = _make_root()
    data, port = root / "data", _free_port()
    try:
        _run(
            [
                str(bin_dir / "initdb"),
                "-D",
                str(data),
                "-U",
                SUPERUSER,
                "--auth=trust",
                "--encoding=UTF8",
                "--no-sync",
            ]
        )
        options = (
            f"-h 127.0.0.1 -p {port} -k {root} -c fsync=off -c full_page_writes=off "
            + _make_certificate(root)
        )
        log = root / "server.log"
        try:
            _run(
                [
                    str(bin_dir / "pg_ctl"),
                    "-D",
                    str(data),
                    "-l",
                    str(log),
                    "-o",
                    options,
                    "-w",
                    "-t",
                    str(START_TIMEOUT_S),
                    "start",
                ]
            )
        except RuntimeError as error:
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"{error}\nserver log:\n{tail}") from None
        try:
            yield PostgresServer(host="127.0.0.1", port=port)
        finally:
            _run([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"])
    finally:
        shutil.rmtree(root, ignore_errors=True)
