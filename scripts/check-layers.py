#!/usr/bin/env python3
"""Checks the module layering (Documentation/Architecture.md) against the code.

For every target in Package.swift: the modules its Swift files import must be exactly the
dependencies it lists (no missing one, none listed but unused, none listed twice), and no
import may break a layer rule below. Prints each target's imports with --report.
Exit status 1 on a violation, with what to change.
"""
import pathlib, re, sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
# Modules that may never be imported by the given targets (the layer rules of the architecture).
FORBIDDEN = {
    # The pure foundation: nothing of ours, and no network stack (that is RelayHTTP's).
    "RelayFoundation": {"RelayHTTP", "AWSSigning", "AWSCore", "S3Sync", "StackDeploy", "AtlassianAdmin", "DataRefresh",
                        "AppTesting", "Pipeline", "AtlassianSimulator", "ToolSupport", "AsyncHTTPClient", "NIOCore",
                        "NIOPosix", "NIOHTTP1", "Logging"},
    "RelayHTTP": {"AWSSigning", "AWSCore", "S3Sync", "StackDeploy", "AtlassianAdmin", "DataRefresh", "AppTesting",
                  "Pipeline", "AtlassianSimulator", "ToolSupport"},
    # Pure signing and credentials: no network code.
    "AWSSigning": {"RelayHTTP", "AWSCore", "S3Sync", "AsyncHTTPClient", "NIOPosix"},
    "AtlassianAdmin": {"AWSCore", "AWSSigning", "S3Sync"},
    "AppTesting": {"AWSCore", "AWSSigning", "S3Sync"},
    "AtlassianSimulator": {"AWSCore", "AWSSigning", "S3Sync"},
    "StackDeploy": {"AWSSigning"},
    "DataRefresh": {"AWSSigning"},
    "Pipeline": {"AWSSigning", "ArgumentParser"},
}
# Imports that come with the toolchain and are never listed.
TOOLCHAIN = {"Foundation", "FoundationNetworking", "FoundationEssentials", "Dispatch", "Synchronization", "Testing",
             "XCTest", "Glibc", "Musl", "Darwin", "os", "_Concurrency", "RegexBuilder", "FoundationXML"}

manifest = (ROOT / "Package.swift").read_text()
targets = {}
# One block per target: from `.target(` (or executableTarget/testTarget) to the next one.
starts = [m for m in re.finditer(r'\.(target|executableTarget|testTarget)\(\s*name:\s*"([^"]+)"', manifest)]
for index, match in enumerate(starts):
    kind, name = match.groups()
    end = starts[index + 1].start() if index + 1 < len(starts) else len(manifest)
    body = manifest[match.end():end]
    deps_match = re.search(r'dependencies:\s*\[(.*?)\]\s*,\s*(?:path|resources|swiftSettings|exclude|\))', body + ")", re.S)
    deps = []
    if deps_match:
        text = deps_match.group(1)
        deps += re.findall(r'\.product\(name:\s*"([^"]+)"', text)
        text = re.sub(r'\.product\([^)]*\)', "", text)
        deps += re.findall(r'"([^"]+)"', text)
    path = re.search(r'path:\s*"([^"]+)"', body)
    folder = path.group(1) if path else ("Tests/" if kind == "testTarget" else "Sources/") + name
    targets[name] = (kind, deps, ROOT / folder)

problems = []
report = "--report" in sys.argv
executables = {n for n, (k, _, _) in targets.items() if k == "executableTarget"}
for name, (kind, deps, folder) in sorted(targets.items()):
    if not folder.exists():
        continue
    imports = {}
    for file in folder.rglob("*.swift"):
        for line in file.read_text().splitlines():
            m = re.match(r'\s*(?:@testable\s+|@_exported\s+|public\s+|package\s+|internal\s+)?import\s+(?:struct\s+|enum\s+|class\s+|func\s+)?([A-Za-z_][A-Za-z0-9_]*)', line)
            if m:
                imports.setdefault(m.group(1), set()).add(file.name)
    used = set(imports) - TOOLCHAIN
    listed = [d for d in deps if d not in executables]  # test targets list tools to have them built
    for dup in sorted({d for d in listed if listed.count(d) > 1}):
        problems.append(f"{name}: lists {dup} twice in Package.swift")
    # Test targets may use what their dependencies bring (NIO types in a client's API, say).
    for missing in sorted(used - set(listed)) if kind != "testTarget" else []:
        problems.append(f"{name}: imports {missing} ({', '.join(sorted(imports[missing]))}) but Package.swift does not list it")
    for unused in sorted(set(listed) - used):
        problems.append(f"{name}: Package.swift lists {unused} but no file imports it; remove it")
    for bad in sorted(used & FORBIDDEN.get(name, set())):
        problems.append(f"{name}: must not import {bad} ({', '.join(sorted(imports[bad]))}): see the layer rules in Documentation/Architecture.md")
    if report:
        print(f"{name}: " + " ".join(sorted(used)))

for problem in problems:
    print("layers: " + problem, file=sys.stderr)
sys.exit(1 if problems else 0)
