"""Real servers on loopback for the tests: a throwaway PostgreSQL cluster and an S3 API server (moto).

Each is started as its own process on a free 127.0.0.1 port and stopped when the session ends.
Nothing is mocked in Python: Dagster's instance, psycopg and PyArrow's S3 client talk to them over TCP.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(check, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise TimeoutError(f"{what} did not come up within {timeout:.0f}s")


def stop_process(process: subprocess.Popen, *, group: bool = False, timeout: float = 30) -> None:
    """SIGTERM, then SIGKILL after `timeout`; `group` for a server started in its own session
    (`dagster dev` and `make ui` start children that must go too)."""
    signal_to = (lambda sig: os.killpg(process.pid, sig)) if group else process.send_signal
    try:
        signal_to(signal.SIGTERM)
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        signal_to(signal.SIGKILL)
        process.wait(timeout=timeout)
    except ProcessLookupError:
        pass


def wait_until_serving(url: str, processes: list[subprocess.Popen], log: Path, timeout: float = 180) -> None:
    """Until the Dagster webserver at `url` lists the code location's assets; a server that exits fails
    with its own log, not a later connection error."""
    import httpx

    deadline = time.monotonic() + timeout
    while True:
        assert all(p.poll() is None for p in processes), log.read_text()[-3000:]
        assert time.monotonic() < deadline, f"{url} did not serve the code location in {timeout:.0f}s"
        try:
            answer = httpx.post(f"{url}/graphql", json={"query": "{ assetNodes { id } }"}, timeout=30).json()
            if answer.get("data", {}).get("assetNodes"):
                return
        except (httpx.HTTPError, ValueError, AttributeError):
            pass
        time.sleep(1)


def postgres_bin() -> Path | None:
    """Debian's postgresql package keeps its binaries under /usr/lib/postgresql/<version>/bin."""
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if versions:
        return Path(versions[-1]).parent
    found = shutil.which("initdb")
    return Path(found).parent if found else None


@dataclass
class PostgresServer:
    host: str
    port: int
    user: str
    password: str
    database: str
    process: subprocess.Popen
    data_dir: Path

    @property
    def url(self) -> str:
        return f"postgresql://{self.user}:{self.password}@{self.host}:{self.port}/{self.database}"

    def url_of(self, database: str) -> str:
        return f"postgresql://{self.user}:{self.password}@{self.host}:{self.port}/{database}"

    def create_database_named(self, name: str) -> str:
        """A fresh, empty database on this server; returns its name."""
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as con:
            con.execute(f'CREATE DATABASE "{name}"')
        return name

    def create_database(self, name: str) -> str:
        """A fresh, empty database on this server; returns its URL."""
        return self.url_of(self.create_database_named(name))

    def dagster_env(self, database: str) -> dict[str, str]:
        """The variables deploy/dagster.yaml reads (the names of Dagster's Helm chart)."""
        return {
            "DAGSTER_PG_HOST": self.host,
            "DAGSTER_PG_PORT": str(self.port),
            "DAGSTER_PG_USERNAME": self.user,
            "DAGSTER_PG_PASSWORD": self.password,
            "DAGSTER_PG_DB": database,
        }

    def stop(self) -> None:
        stop_process(self.process)
        shutil.rmtree(self.data_dir, ignore_errors=True)


def start_postgres() -> PostgresServer:
    """initdb + postgres on a free loopback port; as root it runs as the `postgres` system user."""
    bin_dir = postgres_bin()
    if bin_dir is None:
        raise RuntimeError("PostgreSQL is not installed: `make test` installs Debian's postgresql package")
    run_as = "postgres" if os.geteuid() == 0 else None
    base = Path(tempfile.mkdtemp(prefix="tokenomics-pg-"))
    data, sockets = base / "data", base / "sockets"
    sockets.mkdir()
    password_file = base / "pw"
    password_file.write_text("tokenomics\n")
    if run_as:
        shutil.chown(base, run_as)
        shutil.chown(sockets, run_as)
        shutil.chown(password_file, run_as)
    subprocess.run(
        [
            str(bin_dir / "initdb"),
            "-D",
            str(data),
            "-U",
            "tokenomics",
            "--pwfile",
            str(password_file),
            "-A",
            "scram-sha-256",
            "-E",
            "UTF8",
            "--no-locale",
        ],
        check=True,
        capture_output=True,
        user=run_as,
    )
    port = free_port()
    process = subprocess.Popen(
        [
            str(bin_dir / "postgres"),
            "-D",
            str(data),
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            "-k",
            str(sockets),
            "-c",
            "fsync=off",
            "-c",
            "max_connections=200",
            "-c",
            "shared_buffers=64MB",
        ],
        stdout=subprocess.DEVNULL,
        stderr=open(base / "server.log", "wb"),
        user=run_as,
    )
    server = PostgresServer("127.0.0.1", port, "tokenomics", "tokenomics", "postgres", process, base)

    def ready() -> bool:
        if process.poll() is not None:
            raise RuntimeError(f"postgres exited: {(base / 'server.log').read_text()[-2000:]}")
        import psycopg

        try:
            psycopg.connect(server.url, connect_timeout=2).close()
            return True
        except psycopg.OperationalError:
            return False

    wait_for(ready, 60, "PostgreSQL")
    return server


@dataclass
class S3Server:
    endpoint: str
    process: subprocess.Popen

    def env(self) -> dict[str, str]:
        """The standard AWS variables a user sets for a non-AWS endpoint."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": "testing-key-id",
            "AWS_SECRET_ACCESS_KEY": "testing-secret",
            "AWS_REGION": "us-east-1",
        }

    def create_bucket(self, name: str) -> None:
        from pyarrow import fs as pafs

        env = self.env()
        filesystem = pafs.S3FileSystem(
            access_key=env["AWS_ACCESS_KEY_ID"],
            secret_key=env["AWS_SECRET_ACCESS_KEY"],
            region=env["AWS_REGION"],
            endpoint_override=self.endpoint.removeprefix("http://"),
            scheme="http",
            allow_bucket_creation=True,
        )
        filesystem.create_dir(name)

    def stop(self) -> None:
        stop_process(self.process)


def start_s3() -> S3Server:
    """moto's S3 API server in its own process (server mode), on a free loopback port."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        if process.poll() is not None:
            raise RuntimeError("moto server exited")
        try:
            urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1)
            return True
        except OSError:
            return False

    wait_for(ready, 60, "moto S3 server")
    return S3Server(endpoint, process)
