"""Portal benchmark: p95 page time of the target-progress report and of a district page, and the
time to upload and validate a 10,000-row energy export, over a release of N enterprises.

    .venv/bin/python bench/portal_bench.py --enterprises 5000 [--work DIR] [--requests 60]

Builds the release with `hzcarbon generate` + `hzcarbon run` in DIR (reused when DIR already
holds one), starts `hzcarbon serve` on a free port and measures with real HTTP requests from
this process. Writes bench/results/portal_<utc>_<N>.json.
"""

import argparse
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
DISTRICT = "330102"
PASSWORD = "bench-password-1"
UPLOAD_ROWS = 10_000


def hzcarbon(*args: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HZCARBON_")}
    subprocess.run([str(BIN / "hzcarbon"), *args], check=True, cwd=REPO, env=env, stdout=subprocess.DEVNULL)


def build(work: Path, enterprises: int, timings: dict) -> tuple[Path, Path]:
    landing, warehouse = work / "landing", work / "warehouse"
    if not (warehouse / "latest" / "manifest.json").exists():
        started = time.perf_counter()
        if not (landing / "energy_reports").is_dir():
            hzcarbon("generate", "--out", str(landing), "--enterprises", str(enterprises), "--seed", "1")
            timings["generate_s"] = round(time.perf_counter() - started, 1)
            print(f"landing generated in {timings['generate_s']:.0f} s", flush=True)
        started = time.perf_counter()
        hzcarbon("run", "--landing", str(landing), "--warehouse", str(warehouse), "--as-of", "2026-11",
                 "--auto-approve-by", "bench")  # the release the portal shows is an approved one
        timings["run_s"] = round(time.perf_counter() - started, 1)
        print(f"release built in {timings['run_s']:.0f} s", flush=True)
    from portal.accounts import AccountError, Accounts

    try:
        Accounts(warehouse).add("bench_clerk", f"district:{DISTRICT}", PASSWORD)
    except AccountError:
        pass  # made by an earlier run on the same directory
    return landing, warehouse


def upload_file(landing: Path, rows: int) -> bytes:
    """`rows` data rows of the district's CSV energy exports that share the largest one's first
    (header) line, under that line."""
    files = sorted((landing / "energy_reports").rglob(f"*_{DISTRICT}_*.csv"), key=lambda p: p.stat().st_size)  # energy_reports[/<district>]/
    header = files[-1].read_bytes().splitlines(keepends=True)[0]
    body: list[bytes] = []
    for path in reversed(files):
        lines = path.read_bytes().splitlines(keepends=True)
        if lines and lines[0] == header:
            body += [line if line.endswith(b"\n") else line + b"\n" for line in lines[1:]]
        if len(body) >= rows:
            break
    return header + b"".join(body[:rows])


def time_chart_svgs(warehouse: Path, out: Path) -> dict:
    """The publish step's SVG charts drawn again from the latest release (figures + V8 drawing),
    and whether they are byte-identical to the release's own."""
    from portal.chart_svg import write_report_svgs
    from portal.releases import Warehouse

    started = time.perf_counter()
    files = write_report_svgs(Warehouse(warehouse).release(), out)
    seconds = time.perf_counter() - started
    own = warehouse / "latest" / "charts"
    identical = all((own / f.name).is_file() and (own / f.name).read_bytes() == f.read_bytes() for f in files)
    return {"charts": len(files), "seconds": round(seconds, 2), "identical_to_release": identical}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def timed(client: httpx.Client, url: str, n: int) -> dict:
    times = []
    for _ in range(n):
        started = time.perf_counter()
        response = client.get(url)
        times.append(time.perf_counter() - started)
        response.raise_for_status()
    times_ms = sorted(t * 1000 for t in times)
    return {"requests": n, "p50_ms": round(statistics.median(times_ms), 1),
            "p95_ms": round(times_ms[max(int(0.95 * n) - 1, 0)], 1), "max_ms": round(times_ms[-1], 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--enterprises", type=int, default=5000)
    parser.add_argument("--work", type=Path, default=None)
    parser.add_argument("--requests", type=int, default=60)
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="portal_bench_"))
    timings: dict = {}
    landing, warehouse = build(work, args.enterprises, timings)
    charts_s = time_chart_svgs(warehouse, work / "charts_again")
    uploads = work / "uploads"
    uploads.mkdir(exist_ok=True)
    port = free_port()
    server = subprocess.Popen([str(BIN / "hzcarbon"), "serve", "--warehouse", str(warehouse), "--landing", str(uploads),
                               "--port", str(port)], cwd=REPO)
    base = f"http://127.0.0.1:{port}"
    try:
        started = time.perf_counter()
        while True:
            try:
                if httpx.get(base + "/", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        start_s = time.perf_counter() - started
        client = httpx.Client(base_url=base, timeout=120)
        cold = time.perf_counter()
        client.get("/report").raise_for_status()
        report_cold_ms = (time.perf_counter() - cold) * 1000
        results = {"report": timed(client, "/report", args.requests)}
        token = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text).group(1)
        client.post("/login", data={"csrf": token, "username": "bench_clerk", "password": PASSWORD})
        results["district_page"] = timed(client, f"/district/{DISTRICT}", args.requests)
        results["table_page"] = timed(client, "/tables/district_industry_year?sort=energy_tce&desc=true", args.requests)
        content = upload_file(landing, UPLOAD_ROWS)
        token = re.search(r'name="csrf" value="([^"]+)"', client.get(f"/district/{DISTRICT}").text).group(1)
        started = time.perf_counter()
        response = client.post(f"/district/{DISTRICT}/upload", data={"csrf": token, "source": "energy_reports"},
                               files={"file": ("bench.csv", content, "text/csv")})
        upload_s = time.perf_counter() - started
        response.raise_for_status()
        rows_read = int(re.search(r'id="rows-read">\s*(\d+)<', response.text).group(1))
    finally:
        server.terminate()
        server.wait(timeout=10)
    summary = {
        "when": datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ"), "enterprises": args.enterprises,
        "build": timings, "server_start_s": round(start_s, 2), "chart_svgs": charts_s, "report_cold_ms": round(report_cold_ms, 1), **results,
        "upload": {"rows_read": rows_read, "bytes": len(content), "seconds": round(upload_s, 2)},
    }
    out = REPO / "bench" / "results" / f"portal_{summary['when']}_{args.enterprises}.json"
    out.write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(summary, indent=1))
    print(f"written to {out}")


if __name__ == "__main__":
    main()
