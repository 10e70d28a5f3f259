#!/usr/bin/env python3
"""A Jira-like shared home of N small files for nightly-incremental.sh, and its nightly 1 % change.

    Benchmarks/nightly-home.py reset N DIR     # DIR is the pristine home of N files
    Benchmarks/nightly-home.py change N DIR    # change 1 % of it, as one day of Jira use would

The home: N attachments, DIR/data/attachments/<PROJ>/<bucket>/<PROJ-n>/<id>, four to an issue,
ten projects (PROJ00..PROJ09) of N/40 issues each, in Jira's folders of 10 000 issues (10000,
20000, ...). File i has 2 048 to 8 192 bytes of pseudo-random content (random.Random(i): the same
bytes every time, incompressible, all distinct) and the mtime 2024-01-01T00:00:00Z.

The change (N/100 files, 2 000 of 200 000): N/200 files get new content of a new size (and
today's mtime), N/400 new attachments are added on new issues, and N/400 files are deleted; the
files are a fixed random sample (random.Random("nightly-change")). It prints what it did as JSON.

Reusable: DIR.state (beside DIR, outside the tree a sync would see) holds "N pristine" or
"N changed". `reset` on a pristine home of N files does nothing; on a changed one it undoes the
change (rewrites the changed and deleted files as they were, removes the added ones), so every
run starts from the same home; anything else (no state, another N) makes the home again.
"""

import json
import os
import random
import shutil
import sys
import time

MTIME_NS = 1704067200 * 10**9  # 2024-01-01T00:00:00Z
PROJECTS = 10
PER_ISSUE = 4


def path(i):
    issue, project = divmod(i // PER_ISSUE, PROJECTS)
    key = f"PROJ{project:02d}"
    number = issue + 1
    bucket = (number // 10000 + 1) * 10000
    return f"data/attachments/{key}/{bucket}/{key}-{number}/{10000 + i}"


def content(seed):
    rng = random.Random(seed)
    return rng.randbytes(2048 + rng.randrange(6145))


def write(root, i, data, mtime_ns=None):
    full = os.path.join(root, path(i))
    try:
        fd = os.open(full, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    except FileNotFoundError:
        os.makedirs(os.path.dirname(full), exist_ok=True)
        fd = os.open(full, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.write(fd, data)
        if mtime_ns is not None:
            os.utime(fd, ns=(mtime_ns, mtime_ns))
    finally:
        os.close(fd)
    return len(data)


def sample(n):
    """The files the change touches: modified, deleted (of 0..n-1) and added (n..)."""
    rng = random.Random("nightly-change")
    picked = rng.sample(range(n), n // 200 + n // 400)
    modified, deleted = sorted(picked[: n // 200]), sorted(picked[n // 200 :])
    added = list(range(n, n + n // 400))
    return modified, deleted, added


def state_of(root):
    try:
        with open(root + ".state") as f:
            return f.read().split()
    except FileNotFoundError:
        return None


def set_state(root, n, state):
    with open(root + ".state", "w") as f:
        f.write(f"{n} {state}\n")


def remove(root, i):
    full = os.path.join(root, path(i))
    try:
        os.remove(full)
    except FileNotFoundError:
        pass
    try:
        os.removedirs(os.path.dirname(full))  # the issue folder when it is now empty, and so on up
    except OSError:
        pass


def reset(n, root):
    state = state_of(root)
    if state == [str(n), "pristine"] and os.path.isdir(root):
        print(f"{root}: pristine home of {n} files, made before", file=sys.stderr)
        return
    if state == [str(n), "changed"] and os.path.isdir(root):
        modified, deleted, added = sample(n)
        for i in modified + deleted:
            write(root, i, content(i), MTIME_NS)
        for i in added:
            remove(root, i)
        set_state(root, n, "pristine")
        print(f"{root}: change undone ({len(modified) + len(deleted) + len(added)} files)", file=sys.stderr)
        return
    if os.path.lexists(root + ".state"):
        os.remove(root + ".state")
    if os.path.lexists(root):
        shutil.rmtree(root)
    started = time.time()
    total = 0
    for i in range(n):
        total += write(root, i, content(i), MTIME_NS)
    set_state(root, n, "pristine")
    print(f"{root}: {n} files, {total} bytes, made in {time.time() - started:.0f} s", file=sys.stderr)


def change(n, root):
    if state_of(root) != [str(n), "pristine"]:
        sys.exit(f"{root} is not a pristine home of {n} files; run reset first")
    modified, deleted, added = sample(n)
    set_state(root, n, "changed")  # before touching anything: an interrupted change is undone too
    result = {"modified": len(modified), "added": len(added), "deleted": len(deleted)}
    new_bytes = 0
    for i in modified:
        new_bytes += write(root, i, content(f"modified-{i}"))
    for i in added:
        new_bytes += write(root, i, content(i))
    deleted_bytes = 0
    for i in deleted:
        deleted_bytes += os.path.getsize(os.path.join(root, path(i)))
        remove(root, i)
    result["newContentBytes"] = new_bytes
    result["deletedBytes"] = deleted_bytes
    print(json.dumps(result))


def main():
    if len(sys.argv) != 4 or sys.argv[1] not in ("reset", "change"):
        sys.exit("usage: nightly-home.py reset|change N DIR")
    n, root = int(sys.argv[2]), os.path.abspath(sys.argv[3])
    if n < 400:
        sys.exit("N is at least 400 (1 % of it split 2:1:1)")
    (reset if sys.argv[1] == "reset" else change)(n, root)


if __name__ == "__main__":
    main()
