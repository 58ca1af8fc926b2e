#!/usr/bin/env python3
"""Load benchmark of the scan service (`stowaway serve`).

Starts `stowaway serve` on a free loopback port in a fresh data directory, lets --clients
threads submit --scans image archives in total over the REST API (each client keeps
--per-client scans in flight, retries a 503 after its Retry-After, capped), polls every scan's
status until it is done, and measures:

- scans/minute of the service (first submission to last scan seen done),
- end-to-end time per scan (first submission attempt to `done` seen by a poll),
- the latency of each status GET to the first byte of its response (request sent -> status
  line read),
- the 503s answered, the server's peak RSS (VmHWM, and VmRSS sampled every 100 ms) and its
  CPU time,

then, in the same run, scans the same archives back to back with `stowaway scan ARCHIVE
--format json -q` (the CLI baseline), and writes the figures as Markdown to --out.

It checks that every accepted scan ended `done` exactly once with the expected verdict (the
generated image with the EICAR test file blocked, the clean one allowed; with --image, the
verdict the CLI gives the same archive) and exits non-zero otherwise.

Python 3.11 standard library only. Linux only (/proc).
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import http.client
import io
import json
import os
import random
import re
import resource
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_STOWAWAY = "/var/tmp/stowaway-target/release/stowaway"
# bench/SERVE-RESULTS.md, wherever the script is run from.
DEFAULT_OUT = Path(os.path.relpath(Path(__file__).resolve().parent / "SERVE-RESULTS.md"))
EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
CLK_TCK = os.sysconf("SC_CLK_TCK")
RETRY_AFTER_CAP = 0.5


# --------------------------------------------------------------------------------------------
# The test images: classic `docker save` archives (manifest.json, <config>.json,
# <layer-id>/layer.tar), as crates/imagebuilder's docker_save_classic writes them.

WORDS = (
    "the of and to in is for on that with as by this from be are at or an it not which have "
    "package library module install config service server client request response buffer "
    "stream layer image archive digest manifest runtime python node java kernel network socket "
    "thread process memory cache index table query record value option default error warning "
    "debug release version license copyright author section chapter example usage return"
).split()


def _tar_bytes(files: list[tuple[str, bytes]]) -> bytes:
    """A layer tar of `files` (directories added), deterministic: fixed mtime, root owner."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.GNU_FORMAT) as tar:
        dirs: set[str] = set()
        for name, _ in files:
            parts = name.split("/")[:-1]
            for i in range(1, len(parts) + 1):
                dirs.add("/".join(parts[:i]))
        entries = [(d + "/", None) for d in dirs] + [(n, b) for n, b in files]
        for name, data in sorted(entries, key=lambda e: e[0]):
            info = tarfile.TarInfo(name)
            info.mtime = 1704067200
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
            if data is None:
                info.type = tarfile.DIRTYPE
                info.mode = 0o755
                tar.addfile(info)
            else:
                info.mode = 0o644
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def _text(rng: random.Random, size: int) -> bytes:
    lines, total = [], 0
    while total < size:
        line = " ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 14))) + "\n"
        lines.append(line)
        total += len(line)
    return "".join(lines).encode()[:size]


def _image_files(size_mb: float) -> tuple[list[tuple[str, bytes]], list[tuple[str, bytes]]]:
    """The files of two layers of about `size_mb` MiB together: an OS layer of text files and
    an application layer of binary data files (deterministic)."""
    rng = random.Random(20240101)
    budget = int(size_mb * 1024 * 1024)
    os_files: list[tuple[str, bytes]] = [
        (
            "etc/os-release",
            b'NAME="Benchmark Linux"\nID=benchlinux\nVERSION_ID=1.0\n'
            b'PRETTY_NAME="Benchmark Linux 1.0"\n',
        ),
        ("etc/hostname", b"bench\n"),
    ]
    text_budget = budget // 2
    n = 0
    while text_budget > 0:
        size = min(text_budget, rng.randint(4 << 10, 96 << 10))
        os_files.append((f"usr/share/doc/pkg{n // 8:03d}/file{n:04d}.txt", _text(rng, size)))
        text_budget -= size
        n += 1
    app_files: list[tuple[str, bytes]] = [
        ("app/README.md", _text(rng, 2000)),
        ("app/config.json", json.dumps({"name": "bench", "workers": 4}).encode()),
    ]
    bin_budget = budget - budget // 2
    n = 0
    while bin_budget > 0:
        size = min(bin_budget, 1 << 20)
        # Half random bytes, half a repeated pattern: compressible, not all entropy.
        half = size // 2
        data = rng.randbytes(half) + (bytes(range(256)) * (size // 256 + 1))[: size - half]
        app_files.append((f"app/data/blob{n:03d}.dat", data))
        bin_budget -= size
        n += 1
    return os_files, app_files


def write_images(clean: Path, eicar: Path, size_mb: float) -> None:
    """Two images of the same files; `eicar`'s application layer also holds the EICAR test
    file (/app/downloads/eicar.com)."""
    os_files, app_files = _image_files(size_mb)
    os_layer = _tar_bytes(os_files)
    write_image(clean, "bench/app:clean", [os_layer, _tar_bytes(app_files)])
    eicar_files = app_files + [("app/downloads/eicar.com", EICAR)]
    write_image(eicar, "bench/app:eicar", [os_layer, _tar_bytes(eicar_files)])


def write_image(path: Path, tag: str, layers: list[bytes]) -> None:
    """A classic `docker save` archive of the uncompressed layer tars `layers`."""
    diff_ids = ["sha256:" + hashlib.sha256(t).hexdigest() for t in layers]
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "created": "2024-01-01T00:00:00Z",
            "config": {
                "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
                "User": "1000:1000",
                "Cmd": ["/app/run"],
            },
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
            "history": [
                {"created": "2024-01-01T00:00:00Z", "created_by": "ADD rootfs.tar /"},
                {"created": "2024-01-01T00:00:00Z", "created_by": "COPY app /app"},
            ],
        }
    ).encode()
    config_name = hashlib.sha256(config).hexdigest() + ".json"
    members: list[tuple[str, bytes]] = [(config_name, config)]
    layer_names, parent = [], ""
    for layer, diff_id in zip(layers, diff_ids):
        layer_id = hashlib.sha256((parent + diff_id).encode()).hexdigest()
        members += [
            (f"{layer_id}/layer.tar", layer),
            (f"{layer_id}/VERSION", b"1.0"),
            (f"{layer_id}/json", json.dumps({"id": layer_id}).encode()),
        ]
        layer_names.append(f"{layer_id}/layer.tar")
        parent = layer_id
    manifest = [{"Config": config_name, "RepoTags": [tag], "Layers": layer_names}]
    members += [("manifest.json", json.dumps(manifest).encode()), ("repositories", b"{}")]
    with tarfile.open(path, "w", format=tarfile.GNU_FORMAT) as tar:
        for name, data in sorted(members):
            info = tarfile.TarInfo(name)
            info.mtime = 1704067200
            info.mode = 0o644
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


# --------------------------------------------------------------------------------------------
# /proc readings.


def proc_status_kib(pid: int, field_name: str) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field_name + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def proc_cpu_seconds(pid: int) -> float | None:
    """utime + stime of the process (all its threads), in seconds."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    # After the command: state(3) ... utime(14) stime(15); fields[0] is field 3.
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def system_cpu_seconds() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, from /proc/stat."""
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
    total = sum(values[:8])  # guest time is already in user/nice
    return (total - idle) / CLK_TCK, total / CLK_TCK


def machine() -> dict[str, str]:
    model = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = proc_meminfo_kib("MemTotal")
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:
        cpus = os.cpu_count() or 0
    kernel = os.uname()
    return {
        "nproc": str(cpus),
        "cpu": model,
        "ram": f"{mem / 1024 / 1024:.1f} GiB" if mem else "unknown",
        "kernel": f"{kernel.sysname} {kernel.release}",
    }


def proc_meminfo_kib(name: str) -> int | None:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith(name + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def busy_compilers() -> int:
    """How many rustc/cargo/cc processes run now (another build competing for the cores)."""
    count = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/comm") as f:
                comm = f.read().strip()
        except OSError:
            continue
        if comm in ("rustc", "cargo", "cc", "cc1", "ld", "clang", "gcc", "cc1plus", "ld.lld"):
            count += 1
    return count


class Sampler(threading.Thread):
    """Samples the server's VmRSS every 100 ms (max) and, every second, whether compilers run."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid = pid
        self.max_rss_kib = 0
        self.samples = 0
        self.compiler_samples = 0
        self.compiler_checks = 0
        self.stop_event = threading.Event()

    def run(self) -> None:
        next_check = 0.0
        while not self.stop_event.is_set():
            rss = proc_status_kib(self.pid, "VmRSS")
            if rss is not None:
                self.max_rss_kib = max(self.max_rss_kib, rss)
                self.samples += 1
            now = time.monotonic()
            if now >= next_check:
                self.compiler_checks += 1
                self.compiler_samples += busy_compilers() > 0
                next_check = now + 1.0
            self.stop_event.wait(0.1)

    def stop(self) -> None:
        self.stop_event.set()
        self.join()


# --------------------------------------------------------------------------------------------
# HTTP.


class TimedResponse(http.client.HTTPResponse):
    """Records when the status line was read (the first byte of the answer is in by then)."""

    status_line_at: float | None = None

    def _read_status(self):  # noqa: D401 (http.client's own hook)
        result = super()._read_status()
        if self.status_line_at is None:
            self.status_line_at = time.perf_counter()
        return result


class TimedConnection(http.client.HTTPConnection):
    response_class = TimedResponse


@dataclass
class Scan:
    index: int
    archive: str  # "clean", "eicar" or "image"
    first_attempt: float
    accepted: float = 0.0
    id: str = ""
    done_seen: float | None = None
    status: str = ""
    verdict: str | None = None
    server: dict = field(default_factory=dict)
    polls: int = 0
    next_poll: float = 0.0


@dataclass
class Shared:
    host: str
    port: int
    total: int
    archives: dict[str, bytes]
    kinds: list[str]
    per_client: int
    poll_interval: float
    deadline: float
    lock: threading.Lock = field(default_factory=threading.Lock)
    next_index: int = 0
    scans: list[Scan] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)
    final_latencies_ms: list[float] = field(default_factory=list)  # answers done/failed
    rejected_503: int = 0
    upload_errors: int = 0
    poll_errors: int = 0
    other_statuses: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def claim(self) -> int | None:
        with self.lock:
            if self.next_index >= self.total:
                return None
            self.next_index += 1
            return self.next_index - 1


def submit(shared: Shared, scan: Scan) -> tuple[str, float]:
    """One upload attempt: ("accepted", 0), ("retry", seconds) or ("error", seconds)."""
    body = shared.archives[scan.archive]
    conn = http.client.HTTPConnection(shared.host, shared.port, timeout=120)
    try:
        try:
            conn.request(
                "POST",
                f"/api/v1/scans?name=bench-{scan.index}&bench_archive={scan.archive}",
                body=body,
                headers={"Content-Type": "application/x-tar", "Content-Length": str(len(body))},
            )
        except (BrokenPipeError, ConnectionResetError):
            # The server may answer (503) and close before the whole body is sent: read it.
            pass
        response = conn.getresponse()
        payload = response.read()
        if response.status == 202:
            answer = json.loads(payload)
            scan.id = answer["id"]
            scan.accepted = time.perf_counter()
            return "accepted", 0.0
        if response.status == 503:
            with shared.lock:
                shared.rejected_503 += 1
            retry = response.getheader("Retry-After", "1")
            try:
                wait = float(retry)
            except ValueError:
                wait = 1.0
            return "retry", min(wait, RETRY_AFTER_CAP)
        with shared.lock:
            key = f"POST {response.status}"
            shared.other_statuses[key] = shared.other_statuses.get(key, 0) + 1
            shared.problems.append(f"submission answered {response.status}: {payload[:200]!r}")
        return "error", RETRY_AFTER_CAP
    except (OSError, http.client.HTTPException) as e:
        with shared.lock:
            shared.upload_errors += 1
            if shared.upload_errors <= 5:
                shared.problems.append(f"upload error (retried): {e!r}")
        return "retry", RETRY_AFTER_CAP
    finally:
        conn.close()


def poll(shared: Shared, conn_box: list, scan: Scan) -> None:
    """One status GET on the client's keep-alive connection, timed to the status line."""
    for attempt in range(2):
        if conn_box[0] is None:
            conn_box[0] = TimedConnection(shared.host, shared.port, timeout=60)
        conn = conn_box[0]
        try:
            sent = time.perf_counter()
            conn.request("GET", f"/api/v1/scans/{scan.id}")
            response = conn.getresponse()
            first_byte = response.status_line_at or time.perf_counter()
            payload = response.read()
            received = time.perf_counter()
        except (OSError, http.client.HTTPException) as e:
            conn.close()
            conn_box[0] = None
            if attempt == 0:
                continue  # a closed keep-alive connection: once more on a new one
            with shared.lock:
                shared.poll_errors += 1
                shared.problems.append(f"status GET failed: {e!r}")
            return
        scan.polls += 1
        with shared.lock:
            shared.latencies_ms.append((first_byte - sent) * 1000)
        if response.status != 200:
            with shared.lock:
                key = f"GET {response.status}"
                shared.other_statuses[key] = shared.other_statuses.get(key, 0) + 1
            return
        status = json.loads(payload)
        if status.get("id") != scan.id:
            with shared.lock:
                shared.problems.append(f"status of {scan.id} names {status.get('id')}")
        if status["status"] in ("done", "failed"):
            with shared.lock:
                shared.final_latencies_ms.append((first_byte - sent) * 1000)
            scan.done_seen = received
            scan.status = status["status"]
            scan.verdict = status.get("verdict")
            scan.server = {
                k: status.get(k) for k in ("created", "started", "finished", "attempts", "error")
            }
        return


def client(shared: Shared, number: int) -> None:
    conn_box: list = [None]
    outstanding: list[Scan] = []
    pending: Scan | None = None  # claimed, not yet accepted
    next_submit = 0.0
    exhausted = False
    while True:
        now = time.perf_counter()
        if now > shared.deadline:
            with shared.lock:
                shared.problems.append(f"client {number}: timed out with scans unfinished")
            break
        if pending is None and not exhausted and len(outstanding) < shared.per_client:
            index = shared.claim()
            if index is None:
                exhausted = True
            else:
                pending = Scan(index, shared.kinds[index % len(shared.kinds)], now)
                with shared.lock:
                    shared.scans.append(pending)
        if pending is not None and now >= next_submit:
            outcome, wait = submit(shared, pending)
            if outcome == "accepted":
                pending.next_poll = time.perf_counter() + shared.poll_interval
                outstanding.append(pending)
                pending = None
            elif outcome == "error":
                pending.status = "rejected"
                pending = None
            else:
                next_submit = time.perf_counter() + wait
            continue
        for scan in [s for s in outstanding if s.next_poll <= time.perf_counter()]:
            poll(shared, conn_box, scan)
            if scan.done_seen is not None:
                outstanding.remove(scan)
            else:
                scan.next_poll = time.perf_counter() + shared.poll_interval
        if exhausted and pending is None and not outstanding:
            break
        wakeups = [s.next_poll for s in outstanding]
        if pending is not None:
            wakeups.append(next_submit)
        if wakeups:
            time.sleep(max(0.0, min(wakeups) - time.perf_counter()))
    if conn_box[0] is not None:
        conn_box[0].close()


# --------------------------------------------------------------------------------------------
# The server.


def start_server(args, data_dir: Path, log_path: Path) -> tuple[subprocess.Popen, str, int, float]:
    command = [
        args.stowaway,
        "serve",
        "--data-dir",
        str(data_dir),
        "--listen",
        "127.0.0.1:0",  # a free port, printed on stderr
        "--no-api-keys",
        "--workers",
        str(args.workers),
        "--queue-limit",
        str(args.queue_limit),
    ]
    started = time.perf_counter()
    log = open(log_path, "wb")
    process = subprocess.Popen(
        command, stdout=log, stderr=subprocess.STDOUT, cwd=data_dir, start_new_session=True
    )
    log.close()
    host, port = None, None
    deadline = time.perf_counter() + args.startup_timeout
    while time.perf_counter() < deadline:
        if process.poll() is not None:
            raise SystemExit(
                f"stowaway serve exited with {process.returncode}:\n{log_path.read_text()}"
            )
        if port is None:
            found = re.search(r"serving on http://([0-9.]+):(\d+)", log_path.read_text())
            if found:
                host, port = found.group(1), int(found.group(2))
        if port is not None:
            try:
                conn = http.client.HTTPConnection(host, port, timeout=5)
                conn.request("GET", "/api/v1/engines")
                response = conn.getresponse()
                response.read()
                conn.close()
                if response.status == 200:
                    return process, host, port, time.perf_counter() - started
            except OSError:
                pass
        time.sleep(0.05)
    stop_server(process)
    raise SystemExit(f"stowaway serve did not answer within {args.startup_timeout} s")


def stop_server(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --------------------------------------------------------------------------------------------
# The CLI baseline.


def cli_baseline(args, archives: dict[str, Path], workdir: Path) -> dict:
    """`stowaway scan ARCHIVE --format json -q --no-cache`, --baseline-reps times per archive,
    interleaved, after one untimed run of each (the page cache).

    `--no-cache`: the service keeps no per-layer results, so neither may the CLI, or every run
    after the first would be a cache hit on the same archive; it costs the CLI compiling the
    YARA rules every run (a few tens of ms), as the server does once at start. Runs in `workdir`
    (no stowaway.yaml) with no vulnerability database, as the service is started.

    Then, for information, the same with the cache (warmed by one untimed run): what a rescan of
    an unchanged archive costs the CLI."""
    env = dict(os.environ)
    for name in ("STOWAWAY_DB_DIR", "STOWAWAY_SERVER", "STOWAWAY_API_KEY"):
        env.pop(name, None)
    env["STOWAWAY_CACHE_DIR"] = str(workdir / "cli-cache")

    def run(kind: str, cache: bool) -> tuple[float, str, float, float]:
        """(wall seconds, verdict, CPU seconds, peak RSS MiB) of one scan."""
        command = [args.stowaway, "scan", str(archives[kind]), "--format", "json", "-q"]
        if not cache:
            command.append("--no-cache")
        with open(workdir / "out.json", "wb") as out, open(workdir / "err.txt", "wb") as err:
            start = time.perf_counter()
            process = subprocess.Popen(command, cwd=workdir, env=env, stdout=out, stderr=err)
            # The peak RSS is the child's VmHWM, read every 5 ms until it exits: wait4's
            # ru_maxrss of a child forked from this process starts at this process's RSS.
            hwm_kib, exited = [0], threading.Event()

            def sample() -> None:
                while not exited.is_set():
                    hwm_kib[0] = max(hwm_kib[0], proc_status_kib(process.pid, "VmHWM") or 0)
                    exited.wait(0.005)

            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            _, status, usage = os.wait4(process.pid, 0)
            elapsed = time.perf_counter() - start
            exited.set()
            sampler.join()
        process.returncode = code = os.waitstatus_to_exitcode(status)
        if code not in (0, 1):
            raise SystemExit(
                f"{shlex.join(command)} exited with {code}:\n"
                + (workdir / "err.txt").read_text(errors="replace")
            )
        json.loads((workdir / "out.json").read_bytes())  # a JSON report, whatever the verdict
        verdict = "blocked" if code == 1 else "allowed"
        return elapsed, verdict, usage.ru_utime + usage.ru_stime, hwm_kib[0] / 1024

    def series(cache: bool) -> dict:
        for kind in archives:  # untimed: the page cache (and, with the cache, fills it)
            run(kind, cache)
        times: dict[str, list[float]] = {kind: [] for kind in archives}
        verdicts: dict[str, str] = {}
        cpu, rss = [], 0.0
        for _ in range(args.baseline_reps):
            for kind in archives:
                elapsed, verdict, used, peak = run(kind, cache)
                times[kind].append(elapsed)
                cpu.append(used)
                rss = max(rss, peak)
                if verdicts.setdefault(kind, verdict) != verdict:
                    raise SystemExit(f"the CLI gave {kind} both verdicts")
        medians = {kind: statistics.median(t) for kind, t in times.items()}
        per_scan = statistics.mean(medians.values())
        return {
            "medians": medians,
            "verdicts": verdicts,
            "per_scan": per_scan,
            "per_minute": 60 / per_scan,
            "cpu_per_scan": statistics.mean(cpu),
            "max_rss_mib": rss,
        }

    result = series(cache=False)
    result["cached"] = series(cache=True)
    return result


# --------------------------------------------------------------------------------------------
# Figures.


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile, nearest rank (p95 of 20 values is the 19th smallest)."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * p // 100))
    return ordered[int(rank) - 1]


def parse_time(text: str | None) -> float | None:
    if not text:
        return None
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--stowaway", default=DEFAULT_STOWAWAY, help="the stowaway binary")
    parser.add_argument("--scans", type=int, default=50, help="scans submitted in total")
    parser.add_argument("--clients", type=int, default=10, help="client threads")
    parser.add_argument(
        "--per-client", type=int, default=1, help="scans each client has in flight at once"
    )
    parser.add_argument("--workers", type=int, default=2, help="stowaway serve --workers")
    parser.add_argument("--queue-limit", type=int, default=8, help="stowaway serve --queue-limit")
    parser.add_argument("--poll", type=float, default=0.25, help="seconds between status GETs")
    parser.add_argument(
        "--out",
        default=str(DEFAULT_OUT),
        help="the Markdown results (overwritten)",
    )
    parser.add_argument(
        "--image",
        help="an image archive to submit for every scan (default: generate a clean and an "
        "EICAR image and alternate them)",
    )
    parser.add_argument(
        "--image-mb", type=float, default=64.0, help="MiB of files in each generated image"
    )
    parser.add_argument(
        "--baseline-reps", type=int, default=5, help="CLI scans per archive for the baseline"
    )
    parser.add_argument("--timeout", type=float, default=1800, help="seconds the load may take")
    parser.add_argument(
        "--startup-timeout", type=float, default=120, help="seconds the server may take to answer"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()
    if not os.access(args.stowaway, os.X_OK):
        parser.error(
            f"{args.stowaway} is not an executable; build it with CARGO_TARGET_DIR="
            "/var/tmp/stowaway-target cargo build --release -p stowaway-cli --locked"
        )
    if args.scans < 1 or args.clients < 1 or args.per_client < 1:
        parser.error("--scans, --clients and --per-client must be at least 1")

    load_start = os.getloadavg()[0]
    version = subprocess.run(
        [args.stowaway, "--version"], capture_output=True, text=True
    ).stdout.strip() or "unknown version"
    built = datetime.datetime.fromtimestamp(os.stat(args.stowaway).st_mtime, datetime.timezone.utc)
    binary = f"`{args.stowaway}`: {version}, built {built.strftime('%Y-%m-%d %H:%M UTC')}"
    compilers_start = busy_compilers()
    started_at = datetime.datetime.now(datetime.timezone.utc)
    command_line = shlex.join(["python3", *sys.argv])
    tmp = Path(tempfile.mkdtemp(prefix="stowaway-serve-load-"))
    problems: list[str] = []
    try:
        # The archives.
        if args.image:
            paths = {"image": Path(args.image).resolve()}
        else:
            paths = {"clean": tmp / "clean.tar", "eicar": tmp / "eicar.tar"}
            write_images(paths["clean"], paths["eicar"], args.image_mb)
        archives = {kind: path.read_bytes() for kind, path in paths.items()}
        kinds = list(paths)
        print(
            "archives: "
            + ", ".join(f"{k} {len(b) / 2**20:.2f} MiB" for k, b in archives.items()),
            file=sys.stderr,
        )

        # The service.
        data_dir = tmp / "data"
        data_dir.mkdir()
        process, host, port, startup = start_server(args, data_dir, tmp / "serve.log")
        print(f"stowaway serve on {host}:{port} (answered after {startup:.2f} s)", file=sys.stderr)
        try:
            pid = process.pid
            idle_rss = proc_status_kib(pid, "VmRSS") or 0
            cpu_before = proc_cpu_seconds(pid) or 0.0
            sampler = Sampler(pid)
            sampler.start()
            shared = Shared(
                host=host,
                port=port,
                total=args.scans,
                archives=archives,
                kinds=kinds,
                per_client=args.per_client,
                poll_interval=args.poll,
                deadline=time.perf_counter() + args.timeout,
            )
            system_before = system_cpu_seconds()
            self_before = resource.getrusage(resource.RUSAGE_SELF)
            load_begin = time.perf_counter()
            threads = [
                threading.Thread(target=client, args=(shared, n), daemon=True)
                for n in range(args.clients)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            load_wall = time.perf_counter() - load_begin
            system_after = system_cpu_seconds()
            self_after = resource.getrusage(resource.RUSAGE_SELF)
            cpu_after = proc_cpu_seconds(pid) or 0.0
            sampler.stop()
            hwm = proc_status_kib(pid, "VmHWM") or 0

            # Every accepted scan once more: still done, same verdict (it ended once).
            recheck = TimedConnection(host, port, timeout=60)
            for scan in shared.scans:
                if not scan.id:
                    continue
                recheck.request("GET", f"/api/v1/scans/{scan.id}")
                response = recheck.getresponse()
                status = json.loads(response.read())
                if (status.get("status"), status.get("verdict")) != (scan.status, scan.verdict):
                    problems.append(
                        f"scan {scan.id} changed from {scan.status}/{scan.verdict} to "
                        f"{status.get('status')}/{status.get('verdict')}"
                    )
                if status.get("attempts") != 1:
                    problems.append(f"scan {scan.id} was claimed {status.get('attempts')} times")
            recheck.close()
        finally:
            stop_server(process)
            log_tail = (tmp / "serve.log").read_text(errors="replace")[-2000:]

        # The CLI baseline, with the server stopped.
        print("CLI baseline ...", file=sys.stderr)
        cli_dir = tmp / "cli"
        cli_dir.mkdir()
        baseline = cli_baseline(args, paths, cli_dir)
        load_end = os.getloadavg()[0]
        compilers_end = busy_compilers()

        # Checks.
        problems += shared.problems
        ids = [s.id for s in shared.scans if s.id]
        if len(ids) != len(set(ids)):
            problems.append("duplicate scan ids")
        if len(ids) != args.scans:
            problems.append(f"{len(ids)} scans accepted, {args.scans} submitted")
        expected = dict(baseline["verdicts"])
        if baseline["cached"]["verdicts"] != expected:
            problems.append(
                f"the CLI's verdicts differ with its cache: {baseline['cached']['verdicts']} "
                f"vs {expected} without"
            )
        if not args.image:
            if expected != {"clean": "allowed", "eicar": "blocked"}:
                problems.append(f"the CLI's verdicts are {expected}, not clean allowed/eicar blocked")
            expected = {"clean": "allowed", "eicar": "blocked"}
        verdict_counts: dict[str, int] = {}
        for scan in shared.scans:
            if not scan.id:
                continue
            if scan.status != "done":
                problems.append(
                    f"scan {scan.id} ({scan.archive}) ended {scan.status or 'unfinished'}"
                    + (f": {scan.server.get('error')}" if scan.server.get("error") else "")
                )
            elif scan.verdict != expected[scan.archive]:
                problems.append(
                    f"scan {scan.id} ({scan.archive}) was {scan.verdict}, "
                    f"expected {expected[scan.archive]}"
                )
            key = f"{scan.archive} {scan.verdict}"
            verdict_counts[key] = verdict_counts.get(key, 0) + 1

        # Figures.
        done = [s for s in shared.scans if s.done_seen is not None]
        end_to_end = [s.done_seen - s.first_attempt for s in done]
        first = min(s.first_attempt for s in shared.scans)
        last = max((s.done_seen for s in done), default=first)
        span = last - first
        server_times = [
            (parse_time(s.server.get("created")), parse_time(s.server.get("started")),
             parse_time(s.server.get("finished")))
            for s in done
        ]
        server_times = [t for t in server_times if None not in t]
        queue_wait = [b - a for a, b, _ in server_times]
        scan_time = [c - b for _, b, c in server_times]
        server_span = (
            max(c for _, _, c in server_times) - min(a for a, _, _ in server_times)
            if server_times
            else 0.0
        )
        lat = shared.latencies_ms
        server_cpu = cpu_after - cpu_before
        system_busy = system_after[0] - system_before[0]
        system_total = system_after[1] - system_before[1]
        self_cpu = (self_after.ru_utime + self_after.ru_stime) - (
            self_before.ru_utime + self_before.ru_stime
        )
        other_cpu = max(0.0, system_busy - server_cpu - self_cpu)
        info = machine()
        figures = {
            "scans": len(done),
            "per_minute": 60 * len(done) / span if span > 0 else 0.0,
            "server_per_minute": 60 * len(server_times) / server_span if server_span > 0 else 0.0,
            "e2e_median": statistics.median(end_to_end) if end_to_end else float("nan"),
            "e2e_p95": percentile(end_to_end, 95) if end_to_end else float("nan"),
            "queue_median": statistics.median(queue_wait) if queue_wait else float("nan"),
            "scan_median": statistics.median(scan_time) if scan_time else float("nan"),
            "scan_p95": percentile(scan_time, 95) if scan_time else float("nan"),
            "lat_p50": percentile(lat, 50) if lat else float("nan"),
            "lat_p95": percentile(lat, 95) if lat else float("nan"),
            "lat_max": max(lat) if lat else float("nan"),
            "lat_n": len(lat),
            "final_p50": percentile(shared.final_latencies_ms, 50)
            if shared.final_latencies_ms else float("nan"),
            "final_p95": percentile(shared.final_latencies_ms, 95)
            if shared.final_latencies_ms else float("nan"),
        }
        table = render(
            args=args,
            info=info,
            started_at=started_at,
            command_line=command_line,
            binary=binary,
            archives=archives,
            figures=figures,
            shared=shared,
            startup=startup,
            idle_rss_mib=idle_rss / 1024,
            hwm_mib=hwm / 1024,
            sampled_mib=sampler.max_rss_kib / 1024,
            rss_samples=sampler.samples,
            server_cpu=server_cpu,
            total_cpu=cpu_after,
            other_cpu=other_cpu,
            self_cpu=self_cpu,
            system_total=system_total,
            load_wall=load_wall,
            baseline=baseline,
            loads=(load_start, load_end),
            compilers=(compilers_start, compilers_end, sampler.compiler_samples,
                       sampler.compiler_checks),
            verdict_counts=verdict_counts,
            problems=problems,
        )
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(table)
        print(table)
        if problems:
            print("serve log (tail):\n" + log_tail, file=sys.stderr)
            for problem in problems[:20]:
                print(f"FAILED: {problem}", file=sys.stderr)
            return 1
        return 0
    finally:
        if args.keep:
            print(f"kept {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def render(**r) -> str:
    args, f, b, info = r["args"], r["figures"], r["baseline"], r["info"]
    sizes = ", ".join(
        f"{kind} {len(data) / 2**20:.2f} MiB" for kind, data in r["archives"].items()
    )
    if args.image:
        image = f"`{args.image}` ({sizes}), every scan"
    else:
        image = (
            f"generated `docker save` archives of {args.image_mb:g} MiB of files in 2 "
            f"uncompressed layers: {sizes}; scans alternate between them (the `eicar` one "
            "holds the EICAR test file and must be blocked, the `clean` one allowed)"
        )
    c_start, c_end, c_busy, c_checks = r["compilers"]
    shared = r["shared"]
    baseline_medians = ", ".join(f"{k} {v:.2f} s" for k, v in b["medians"].items())
    cached = b["cached"]
    cached_medians = ", ".join(f"{k} {v:.2f} s" for k, v in cached["medians"].items())
    ratio = f["per_minute"] / b["per_minute"] if b["per_minute"] else float("nan")
    status = (
        "**all checks passed**: every accepted scan ended `done` once (unique ids, "
        f"{f['scans']} of {args.scans}), verdicts as expected ("
        + ", ".join(f"{k}: {v}" for k, v in sorted(r["verdict_counts"].items()))
        + ")"
        if not r["problems"]
        else "**CHECKS FAILED**:\n\n" + "\n".join(f"- {p}" for p in r["problems"][:20])
    )
    other_statuses = ", ".join(f"{k}: {v}" for k, v in sorted(shared.other_statuses.items()))
    lines = [
        "# `stowaway serve` under load",
        "",
        "Written by [`serve-load.py`](serve-load.py) (see [README](README.md#the-scan-service-under-load-serve-loadpy));",
        "one run, overwritten by the next.",
        "",
        "| | |",
        "|---|---|",
        f"| machine | {info['nproc']} CPUs ({info['cpu']}), {info['ram']} RAM, {info['kernel']} |",
        f"| date | {r['started_at'].strftime('%Y-%m-%d %H:%M UTC')} |",
        f"| command | `{r['command_line']}` |",
        f"| binary | {r['binary']} |",
        f"| server | `stowaway serve --workers {args.workers} --queue-limit {args.queue_limit} --no-api-keys`, SQLite, no vulnerability database; answered {r['startup']:.2f} s after it was started |",
        f"| clients | {args.clients} threads, {args.per_client} scan(s) in flight each, status polled every {args.poll:g} s on a keep-alive connection, uploads on a new one |",
        f"| image | {image} |",
        f"| load average (1 min) | {r['loads'][0]:.2f} at start, {r['loads'][1]:.2f} at end |",
        f"| other work on the machine | during the {r['load_wall']:.1f} s of load ({r['system_total']:.0f} CPU s available): the server used {r['server_cpu']:.1f} CPU s, the benchmark's clients {r['self_cpu']:.1f} (uploads over loopback, polls), other processes {r['other_cpu']:.1f}; compilers (rustc/cargo/cc/ld) running in {c_busy} of {c_checks} one-second samples, {c_start} at start, {c_end} at end |",
        f"| result | {status} |",
        "",
        "| figure | value |",
        "|---|---:|",
        f"| **scans/minute (service)** | **{f['per_minute']:.1f}** ({f['scans']} scans in {r['load_wall']:.1f} s, first submission to last `done` seen) |",
        f"| scans/minute, server timestamps (first `created` to last `finished`) | {f['server_per_minute']:.1f} |",
        f"| end-to-end per scan, median (first POST → `done` seen) | {f['e2e_median']:.2f} s |",
        f"| end-to-end per scan, p95 | {f['e2e_p95']:.2f} s |",
        f"| of which queued (server `created` → `started`), median | {f['queue_median']:.2f} s |",
        f"| scanning in a worker (`started` → `finished`), median / p95 | {f['scan_median']:.2f} s / {f['scan_p95']:.2f} s |",
        f"| status GET latency to first byte, p50 | {f['lat_p50']:.1f} ms |",
        f"| status GET latency to first byte, p95 | {f['lat_p95']:.1f} ms |",
        f"| status GET latency to first byte, max | {f['lat_max']:.1f} ms ({f['lat_n']} GETs) |",
        f"| of which the GETs answering `done` (the report in the answer), p50 / p95 | {f['final_p50']:.1f} ms / {f['final_p95']:.1f} ms |",
        f"| 503s answered (queue full; retried after min(Retry-After, {RETRY_AFTER_CAP:g} s)) | {shared.rejected_503} |",
        f"| upload connection errors (retried) | {shared.upload_errors} |"
        + (f"; other answers: {other_statuses}" if other_statuses else ""),
        f"| peak RSS of the server (VmHWM) | {r['hwm_mib']:.1f} MiB |",
        f"| max VmRSS sampled every 100 ms / idle after start | {r['sampled_mib']:.1f} MiB / {r['idle_rss_mib']:.1f} MiB |",
        f"| server CPU time during the load (user + system) | {r['server_cpu']:.1f} s ({r['server_cpu'] / max(f['scans'], 1):.2f} s a scan; {r['total_cpu']:.1f} s since start) |",
        f"| **CLI baseline: scans/minute back to back** | **{b['per_minute']:.1f}** (`stowaway scan ARCHIVE --format json -q --no-cache`, median of {args.baseline_reps} per archive: {baseline_medians}) |",
        f"| CLI CPU time a scan (mean) / peak RSS (VmHWM read every 5 ms) | {b['cpu_per_scan']:.2f} s / {b['max_rss_mib']:.1f} MiB |",
        f"| **service ÷ CLI back to back** | **{ratio:.2f}×** |",
        f"| for information: CLI rescanning the same archive with its cache warm (without `--no-cache`; the service keeps no layer cache) | {cached['per_minute']:.1f} scans/minute ({cached_medians}; {cached['cpu_per_scan']:.2f} CPU s a scan) |",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
