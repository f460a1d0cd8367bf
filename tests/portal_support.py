"""Shared by the portal tests: one release built once for every portal test (and every xdist
worker: a lock file beside pytest's base temp dir), accounts made with `hzcarbon users`, and
real `hzcarbon serve` processes on free ports."""

import fcntl
import json
import os
import re
import shutil
import socket
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.conftest import BIN, REPO, run_cli

PASSWORD = "correct-horse-battery"
USERS = {"clerk102": "district:330102", "clerk106": "district:330106", "stat": "statistician", "admin": "admin"}
ENTERPRISES = 60
SHANGCHENG, XIHU = "330102", "330106"
UPLOAD_MAX_MB = 1


def workbook_of(release: Path, district: str) -> str:
    """File name of a district's workbook in a release (`<code>_<区名>_<release>.xlsx`)."""
    (name,) = [p.name for p in (release / "districts" / district).glob("*.xlsx")]
    return name


def build_release(shared_root: Path) -> Path:
    """The warehouse of one ~60-enterprise release with its accounts; built by the first caller."""
    warehouse = shared_root / "portal_warehouse"
    with open(shared_root / "portal_warehouse.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (warehouse / ".portal_ready").exists():
            landing = shared_root / "portal_generated"
            done = run_cli("generate", "--out", str(landing), "--enterprises", str(ENTERPRISES), "--seed", "3", "--messy")
            assert done.returncode == 0, done.stderr
            done = run_cli("run", "--landing", str(landing), "--warehouse", str(warehouse), "--as-of", "2026-11")
            assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
            for name, role in USERS.items():
                done = run_cli("users", "add", name, "--role", role, "--warehouse", str(warehouse),
                               env={"HZCARBON_USER_PASSWORD": PASSWORD})
                assert done.returncode == 0, done.stderr
            (warehouse / ".portal_ready").touch()
    return warehouse


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def portal_server(warehouse: Path, landing: Path | None, *extra: str):
    """`hzcarbon serve` in a subprocess; yields its base URL and stops it after."""
    port = free_port()
    args = [str(BIN / "hzcarbon"), "serve", "--warehouse", str(warehouse), "--port", str(port), *extra]
    if landing is not None:
        args += ["--landing", str(landing)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("HZCARBON_")}
    proc = subprocess.Popen(args, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    root = next((a.split("=", 1)[1] for a in extra if a.startswith("--root-path=")), "")
    base = f"http://127.0.0.1:{port}{root}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(base + "/", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, proc.stdout.read().decode(errors="replace")
            assert time.monotonic() < deadline, "portal did not start in 60 s"
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def login(base: str, username: str, password: str = PASSWORD) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=60)
    token = csrf_of(client.get("/login").text)
    response = client.post("/login", data={"csrf": token, "username": username, "password": password, "next": "/"})
    assert response.status_code == 303, response.text[-500:]
    return client


def audit_entries(warehouse: Path) -> list[dict]:
    path = warehouse / "portal" / "audit.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []


def tree(*roots: Path) -> dict[str, int]:
    """Every file under these directories with its size (what a request may have written)."""
    return {str(p): p.stat().st_size for root in roots if root.exists() for p in root.rglob("*") if p.is_file()}


def messy_energy_csv(warehouse: Path) -> tuple[bytes, dict[int, str]]:
    """An energy export of 上城区 with two good rows and three bad ones, and the expected reason
    per row number (the CSV header is row 1). The enterprise is a real one of the release."""
    import polars as pl

    release = warehouse / "latest"
    firm = (pl.read_parquet(release / "districts" / SHANGCHENG / "enterprise_year.parquet")
            .sort("uscc").row(0, named=True))
    header = "信用代码,单位名称,区县,国民经济行业代码,报告期,能源名称,能源代码,单位,工业生产消费量,填报时间"
    good = f"{firm['uscc']},{firm['enterprise_name']},{SHANGCHENG},{firm['industry_code']}"
    rows = [
        f"{good},2024-03,电力,33,万千瓦时,10.5,2024-04-10 09:00:00",  # row 2
        f"{good},2024-04,电力,33,万千瓦时,11.0,2024-05-10 09:00:00",  # row 3
        f"91330100QA00000010,杭州坏代码有限公司,{SHANGCHENG},{firm['industry_code']},2024-03,电力,33,万千瓦时,1,2024-04-10 09:00:00",
        f"{good},2024-05,电力,33,万千瓦时,-5,2024-06-10 09:00:00",  # row 5
        f"{good},2024-06,氢气,99,吨,3,2024-07-10 09:00:00",  # row 6
    ]
    expected = {4: "invalid_uscc", 5: "negative_value", 6: "unknown_energy_type"}
    return ("\n".join([header, *rows]) + "\n").encode("utf-8"), expected


@pytest.fixture(scope="session")
def built(tmp_path_factory) -> Path:
    """The one release of the portal tests (shared by xdist workers through their common parent)."""
    base = tmp_path_factory.getbasetemp()
    return build_release(base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base)


@pytest.fixture(scope="session")
def generated(built) -> Path:
    """The generated landing the release was built from."""
    return built.parent / "portal_generated"


@pytest.fixture(scope="session")
def warehouse(built, tmp_path_factory) -> Path:
    """This worker's copy of the published part of the warehouse (releases, latest, accounts),
    so that its audit log and scratch files are its own."""
    own = tmp_path_factory.mktemp("portal_wh")
    for name in ("releases", "portal"):
        shutil.copytree(built / name, own / name, symlinks=True)
    for name in ("latest", "LATEST"):
        path = built / name
        if path.is_symlink():
            (own / name).symlink_to(os.readlink(path))
        elif path.exists():
            shutil.copy2(path, own / name)
    return own


@pytest.fixture(scope="session")
def landing(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("portal_landing")


@pytest.fixture(scope="session")
def base(warehouse, landing):
    with portal_server(warehouse, landing, "--upload-max-mb", str(UPLOAD_MAX_MB)) as url:
        yield url
