#!/usr/bin/env python3
"""Makes the local twin of a synthetic-s3.py bucket: N files, the bucket keys-N's keys as paths.

    Benchmarks/synthetic-tree.py N DIR

DIR/data/attachments/PROJ0001/010000/PROJ0001-000001/0000010000 and so on, each file as large as
its key's Size and sparse (ftruncate: no data blocks, so 5 million files take inodes, not
gigabytes), with its mtime set to 2019-01-01T00:00:00Z, older than the bucket's LastModified
(2020-01-01): a sync from DIR to s3://keys-N/ (or back) compares every file and transfers none.

One makedirs per issue folder; files made with os.open/ftruncate/futimens/close relative to the
folder's descriptor. Reusable: DIR.done (beside DIR, outside the tree that a sync would see)
records N once the tree is complete, and a later call with the same N and DIR does nothing.
An interrupted or different tree is removed and made again.
"""

import importlib.util
import os
import shutil
import sys
import time

MTIME_NS = 1546300800 * 10**9  # 2019-01-01T00:00:00Z


def load_keys():
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "synthetic-s3.py")
    spec = importlib.util.spec_from_file_location("synthetic_s3", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.key, module.size


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__.strip().splitlines()[2].strip())
    n, root = int(sys.argv[1]), os.path.abspath(sys.argv[2])
    marker = root.rstrip("/") + ".done"
    try:
        with open(marker) as f:
            if f.read().strip() == str(n) and os.path.isdir(root):
                print(f"{root}: {n} files, made before", file=sys.stderr)
                return
    except FileNotFoundError:
        pass
    key, size = load_keys()
    if os.path.lexists(marker):
        os.remove(marker)
    if os.path.lexists(root):
        shutil.rmtree(root)
    os.makedirs(root)
    began = time.monotonic()
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
    times = (MTIME_NS, MTIME_NS)
    folder, dfd = None, -1
    step = max(1, n // 10)
    try:
        for i in range(n):
            k = key(i)
            parent, _, name = k.rpartition("/")
            if parent != folder:
                if dfd >= 0:
                    os.close(dfd)
                path = os.path.join(root, parent)
                os.makedirs(path, exist_ok=True)
                dfd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
                folder = parent
            fd = os.open(name, flags, 0o644, dir_fd=dfd)
            length = size(i)
            if length:
                os.ftruncate(fd, length)
            os.utime(fd, ns=times)
            os.close(fd)
            if n >= 100_000 and (i + 1) % step == 0:
                print(f"  {i + 1:,} of {n:,} files, {time.monotonic() - began:.0f} s", file=sys.stderr)
    finally:
        if dfd >= 0:
            os.close(dfd)
    with open(marker, "w") as f:
        f.write(f"{n}\n")
    print(f"{root}: {n:,} files in {time.monotonic() - began:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
