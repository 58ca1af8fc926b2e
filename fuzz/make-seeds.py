#!/usr/bin/env python3
"""Writes a seed corpus for the fuzz targets from the example image.

Usage (from anywhere):  python3 fuzz/make-seeds.py [CORPUS_DIR]   (default: fuzz/corpus/seeds)

It runs `make-example-image` (a Docker 25+ `docker save` archive with three gzip layers, an OS,
a zip, a nested .tar.gz and a whiteout) and derives the other shapes the reader handles from it:

  docker25.tar            as written: manifest.json + OCI layout, gzip layers
  docker25.tar.gz / .zst  the whole archive compressed (the scanner reads these as a stream)
  oci-only.tar            manifest.json dropped: images come from index.json
  docker-only.tar         index.json and oci-layout dropped: images come from manifest.json
  plain-layers.tar        layers stored as uncompressed tars (manifests and digests rewritten)
  zstd-layers.tar         layers recompressed with zstd (needs the `zstd` command)
  classic.tar             classic `docker save`: <id>/layer.tar, <hex>.json, repositories, and
                          one layer reached through a symlink member
  big-archives.tar        docker-only, plus a fourth layer with a jar and a .tar.gz of ~8 KiB
                          each (above the fuzz targets' small --max-in-memory: the spool path)

Point both targets at the directory:
  RUSTC_BOOTSTRAP=1 cargo fuzz run image_archive fuzz/corpus/image_archive fuzz/corpus/seeds
"""

import gzip
import hashlib
import io
import json
import os
import random
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
MTIME = 1_700_000_000


def sha(data):
    return hashlib.sha256(data).hexdigest()


def read_members(path):
    members = {}
    with tarfile.open(path) as tar:
        for info in tar.getmembers():
            if info.isfile():
                members[info.name] = tar.extractfile(info).read()
    return members


def write_tar(path, files, symlinks=()):
    """files: {name: bytes}; symlinks: [(name, target)]; written in name order like docker save."""
    entries = [(name, data, None) for name, data in files.items()]
    entries += [(name, None, target) for name, target in symlinks]
    with tarfile.open(path, "w", format=tarfile.GNU_FORMAT) as tar:
        for name, data, target in sorted(entries, key=lambda e: e[0]):
            info = tarfile.TarInfo(name)
            info.mtime = MTIME
            if target is not None:
                info.type = tarfile.SYMTYPE
                info.linkname = target
                tar.addfile(info)
            else:
                info.size = len(data)
                info.mode = 0o644
                tar.addfile(info, io.BytesIO(data))


def zstd_compress(data):
    return subprocess.run(
        ["zstd", "-q", "-c", "-3"], input=data, stdout=subprocess.PIPE, check=True
    ).stdout


def recompress_layers(members, compress, media_type):
    """Rewrites a Docker 25+ archive with every layer blob recompressed."""
    files = dict(members)
    manifest = json.loads(files["manifest.json"])
    renamed = {}
    for entry in manifest:
        new_layers = []
        for name in entry["Layers"]:
            if name not in renamed:
                blob = compress(gzip.decompress(files[name]))
                new_name = f"blobs/sha256/{sha(blob)}"
                del files[name]
                files[new_name] = blob
                renamed[name] = (new_name, blob)
            new_layers.append(renamed[name][0])
        entry["Layers"] = new_layers
    files["manifest.json"] = json.dumps(manifest).encode()
    index = json.loads(files["index.json"])
    for descriptor in index["manifests"]:
        old = f"blobs/sha256/{descriptor['digest'].split(':', 1)[1]}"
        image_manifest = json.loads(files.pop(old))
        for layer in image_manifest["layers"]:
            new_name, blob = renamed[f"blobs/sha256/{layer['digest'].split(':', 1)[1]}"]
            layer["digest"] = "sha256:" + new_name.rsplit("/", 1)[1]
            layer["size"] = len(blob)
            layer["mediaType"] = media_type
        data = json.dumps(image_manifest).encode()
        files[f"blobs/sha256/{sha(data)}"] = data
        descriptor["digest"] = f"sha256:{sha(data)}"
        descriptor["size"] = len(data)
    files["index.json"] = json.dumps(index).encode()
    return files


def classic(members):
    """The classic layout, the last layer's layer.tar being a symlink to a sibling member."""
    manifest = json.loads(members["manifest.json"])
    files, symlinks, out = {}, [], []
    for entry in manifest:
        config = members[entry["Config"]]
        config_name = f"{sha(config)}.json"
        files[config_name] = config
        parent, layers = "", []
        for i, name in enumerate(entry["Layers"]):
            blob = members[name]
            layer_id = sha((parent + name).encode())
            if i == len(entry["Layers"]) - 1:
                files[f"{layer_id}/blob"] = blob
                symlinks.append((f"{layer_id}/layer.tar", "blob"))
            else:
                files[f"{layer_id}/layer.tar"] = blob
            files[f"{layer_id}/VERSION"] = b"1.0"
            files[f"{layer_id}/json"] = json.dumps({"id": layer_id}).encode()
            layers.append(f"{layer_id}/layer.tar")
            parent = layer_id
        out.append({"Config": config_name, "RepoTags": entry["RepoTags"], "Layers": layers})
    files["manifest.json"] = json.dumps(out).encode()
    files["repositories"] = b"{}"
    return files, symlinks


def tar_bytes(files):
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for name, data in files:
            info = tarfile.TarInfo(name)
            info.mtime = MTIME
            info.size = len(data)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def with_big_archives(members):
    """docker-only, with one more gzip layer holding a jar and a tarball larger than 4 KiB."""
    files = {k: v for k, v in members.items() if k not in ("index.json", "oci-layout")}
    noise = random.Random(7).randbytes(8 << 10)
    jar = io.BytesIO()
    with zipfile.ZipFile(jar, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\n")
        z.writestr("lib/blob.bin", noise)
        z.writestr("app/Main.class", b"\xca\xfe\xba\xbe")
    tarball = gzip.compress(tar_bytes([("payload/blob.bin", noise), ("payload/readme.txt", b"hi")]), mtime=0)
    layer_tar = tar_bytes([("opt/big/app.jar", jar.getvalue()), ("opt/big/bundle.tar.gz", tarball)])
    blob = gzip.compress(layer_tar, mtime=0)
    blob_name = f"blobs/sha256/{sha(blob)}"
    files[blob_name] = blob
    manifest = json.loads(files["manifest.json"])
    entry = manifest[0]
    config = json.loads(files.pop(entry["Config"]))
    config["rootfs"]["diff_ids"].append(f"sha256:{sha(layer_tar)}")
    config["history"].append({"created": "2024-01-01T00:00:00Z", "created_by": "/bin/sh -c make big"})
    config_bytes = json.dumps(config).encode()
    entry["Config"] = f"blobs/sha256/{sha(config_bytes)}"
    files[entry["Config"]] = config_bytes
    entry["Layers"].append(blob_name)
    files["manifest.json"] = json.dumps(manifest).encode()
    return files


def main():
    out = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "corpus", "seeds"))
    os.makedirs(out, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        example = os.path.join(tmp, "example.tar")
        subprocess.run(
            ["cargo", "run", "-q", "-p", "stowaway-imagebuilder", "--bin", "make-example-image", "--", example],
            cwd=ROOT,
            check=True,
        )
        shutil.copy(example, os.path.join(out, "docker25.tar"))
        raw = open(example, "rb").read()
    members = read_members(os.path.join(out, "docker25.tar"))

    with open(os.path.join(out, "docker25.tar.gz"), "wb") as f:
        f.write(gzip.compress(raw, mtime=0))
    have_zstd = shutil.which("zstd") is not None
    if have_zstd:
        with open(os.path.join(out, "docker25.tar.zst"), "wb") as f:
            f.write(zstd_compress(raw))

    write_tar(os.path.join(out, "oci-only.tar"), {k: v for k, v in members.items() if k != "manifest.json"})
    write_tar(
        os.path.join(out, "docker-only.tar"),
        {k: v for k, v in members.items() if k not in ("index.json", "oci-layout")},
    )
    write_tar(
        os.path.join(out, "plain-layers.tar"),
        recompress_layers(members, lambda tar: tar, "application/vnd.oci.image.layer.v1.tar"),
    )
    if have_zstd:
        write_tar(
            os.path.join(out, "zstd-layers.tar"),
            recompress_layers(members, zstd_compress, "application/vnd.oci.image.layer.v1.tar+zstd"),
        )
    files, symlinks = classic(members)
    write_tar(os.path.join(out, "classic.tar"), files, symlinks)
    write_tar(os.path.join(out, "big-archives.tar"), with_big_archives(members))

    for name in sorted(os.listdir(out)):
        print(f"{os.path.getsize(os.path.join(out, name)):>8}  {os.path.join(out, name)}")


if __name__ == "__main__":
    main()
