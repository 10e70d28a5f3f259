#!/usr/bin/env python3
"""A read-only S3 stand-in whose buckets list millions of keys without storing any.

    Benchmarks/synthetic-s3.py [PORT]          (default 9391, on 127.0.0.1)
    Benchmarks/synthetic-s3.py --selftest      (checks order and paging, measures pages/s)

Every bucket named keys-<N> or keys-<N>-<anything> (keys-1000000, keys-1000000-copy) holds the
same N keys, generated on the fly from their index and never held in memory, shaped like a Jira
shared home:

    data/attachments/PROJ0001/010000/PROJ0001-000001/0000010000

project / bucket of 10,000 issues / issue / attachment id, 4 attachments an issue and 50,000
issues a project, every number zero-padded so that index order is byte order by construction.
Sizes are 0..4096 bytes, a function of the index; LastModified is 2020-01-01T00:00:00.000Z and
the ETag the same for every key. `synthetic-tree.py` makes the same keys as local files.

It answers, path-style (http://host/bucket/...) or virtual-hosted (bucket.host):
  GET  /bucket?list-type=2  ListObjectsV2: prefix, delimiter, start-after, continuation-token,
                            max-keys (at most 1000), encoding-type=url, fetch-owner (ignored)
  GET  /bucket              ListObjects (v1): prefix, delimiter, marker, max-keys
  GET  /bucket?location     GetBucketLocation (empty: us-east-1)
  GET  /bucket?uploads      ListMultipartUploads (always none)
  HEAD /bucket              HeadBucket, with x-amz-bucket-region: us-east-1
  HEAD /bucket/key          HeadObject (404 for a key the bucket does not have)
  GET  /bucket/key          GetObject: Size zero bytes
  GET  /                    ListBuckets (none: the keys-<N> buckets exist without being listed)
  GET  /__stats             requests by operation, pages served and the time spent building them
Anything else (every write) gets 501 NotImplemented; signatures are not checked.
Python's standard library only.
"""

import functools
import json
import os
import re
import signal
import sys
import threading
import time
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, quote, unquote

PER_ISSUE = 4
ISSUES_PER_PROJECT = 50_000
ISSUES_PER_DIR = 10_000
FIRST_ID = 10_000
MAX_KEYS = 1000
LAST_MODIFIED = "2020-01-01T00:00:00.000Z"
LAST_MODIFIED_HTTP = "Wed, 01 Jan 2020 00:00:00 GMT"
ETAG = "d41d8cd98f00b204e9800998ecf8427e"
BUCKET_RE = re.compile(r"^keys-(\d+)(?:-[a-z0-9.-]*)?$")
XMLNS = "http://s3.amazonaws.com/doc/2006-03-01/"


def key(i):
    """The i-th key (0-based) of every synthetic bucket; ascending in i, byte for byte."""
    issue, _ = divmod(i, PER_ISSUE)
    project, n = divmod(issue, ISSUES_PER_PROJECT)
    p = project + 1
    return (f"data/attachments/PROJ{p:04d}/{(n // ISSUES_PER_DIR + 1) * ISSUES_PER_DIR:06d}/"
            f"PROJ{p:04d}-{n + 1:06d}/{FIRST_ID + i:010d}")


def size(i):
    """The i-th key's size in bytes, 0..4096."""
    return (i * 2654435761 + 12345) % 4097


def first_where_false(lo, hi, predicate):
    """The first index in [lo, hi) where the monotone predicate (true, then false) is false, else hi."""
    while lo < hi:
        mid = (lo + hi) // 2
        if predicate(key(mid)):
            lo = mid + 1
        else:
            hi = mid
    return lo


def first_after(n, text, lo=0):
    """The first index whose key is greater than text."""
    return first_where_false(lo, n, lambda k: k <= text)


def first_at_or_after(n, text, lo=0):
    """The first index whose key is text or greater."""
    return first_where_false(lo, n, lambda k: k < text)


def end_of_prefix(n, prefix, lo=0):
    """The first index at or after lo whose key neither sorts before prefix nor starts with it."""
    if not prefix:
        return n
    return first_where_false(lo, n, lambda k: k < prefix or k.startswith(prefix))


def index_of(n, k):
    """The index of key k in a bucket of n keys, or None."""
    i = first_at_or_after(n, k)
    return i if i < n and key(i) == k else None


CONTENTS_HEAD = "<Contents><Key>"
CONTENTS_MID = f"</Key><LastModified>{LAST_MODIFIED}</LastModified><ETag>&quot;{ETAG}&quot;</ETag><Size>"
CONTENTS_END = "</Size><StorageClass>STANDARD</StorageClass></Contents>"


def http_date(_cache=[0, ""]):
    now = int(time.time())
    if _cache[0] != now:
        _cache[:] = [now, formatdate(now, usegmt=True)]
    return _cache[1]


def escape(text):
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.requests = {}
        self.pages = 0
        self.keys = 0
        self.build_seconds = 0.0

    def count(self, operation):
        with self.lock:
            self.requests[operation] = self.requests.get(operation, 0) + 1

    def page(self, keys, seconds):
        with self.lock:
            self.pages += 1
            self.keys += keys
            self.build_seconds += seconds

    def snapshot(self):
        with self.lock:
            return {
                "requests": dict(sorted(self.requests.items())),
                "pages": self.pages,
                "keys": self.keys,
                "build_seconds": round(self.build_seconds, 3),
                "pages_per_build_second": round(self.pages / self.build_seconds, 1) if self.build_seconds else None,
            }


STATS = Stats()


@functools.lru_cache(maxsize=16)
def contents(start, stop):
    """The <Contents> of keys start..<stop, as bytes.

    A few pages are kept: a sync lists its source and its destination side by side, and both
    bucket names ask for the same pages, so half the pages are built once for two requests.
    """
    # key() and size() inlined, the issue's folder built once for its PER_ISSUE keys: twice as
    # fast. Keys hold only [A-Za-z0-9/-], which neither XML nor URL encoding changes.
    parts = []
    append = parts.append
    issue = -1
    folder = ""
    for j in range(start, stop):
        q = j // PER_ISSUE
        if q != issue:
            issue = q
            project, number = divmod(q, ISSUES_PER_PROJECT)
            p = project + 1
            folder = (f"{CONTENTS_HEAD}data/attachments/PROJ{p:04d}/"
                      f"{(number // ISSUES_PER_DIR + 1) * ISSUES_PER_DIR:06d}/PROJ{p:04d}-{number + 1:06d}/")
        append(f"{folder}{FIRST_ID + j:010d}{CONTENTS_MID}{(j * 2654435761 + 12345) % 4097}{CONTENTS_END}")
    return "".join(parts).encode()


def list_page(n, prefix, delimiter, start, max_keys, url_encoding):
    """Contents and CommonPrefixes XML (bytes) from index start on: (xml, entries, next index or None)."""
    end = end_of_prefix(n, prefix, start)
    if not delimiter:
        stop = min(end, start + max_keys)
        return contents(start, stop), stop - start, (stop if stop < end else None)
    enc = (lambda s: quote(s, safe="/")) if url_encoding else escape
    parts = []
    entries = 0
    i = start
    while i < end and entries < max_keys:
        k = key(i)
        cut = k.find(delimiter, len(prefix))
        if cut >= 0:
            common = k[:cut + len(delimiter)]
            parts.append(f"<CommonPrefixes><Prefix>{enc(common)}</Prefix></CommonPrefixes>")
            i = end_of_prefix(n, common, i)
        else:
            parts.append(f"{CONTENTS_HEAD}{k}{CONTENTS_MID}{size(i)}{CONTENTS_END}")
            i += 1
        entries += 1
    return "".join(parts).encode(), entries, (i if i < end else None)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "synthetic-s3"
    sys_version = ""

    def log_message(self, format, *args):  # quiet: a million-key listing is a thousand lines
        pass

    # -- plumbing --------------------------------------------------------------------------
    def reply(self, status, body=b"", headers=(), content_type="application/xml"):
        if isinstance(body, str):
            body = body.encode()
        head = [f"HTTP/1.1 {status} {self.responses.get(status, ('',))[0]}",
                f"Date: {http_date()}",
                "Server: synthetic-s3",
                "x-amz-request-id: 0000000000000000",
                f"Content-Length: {len(body)}"]
        if body or content_type != "application/xml":
            head.append(f"Content-Type: {content_type}")
        head.extend(f"{name}: {value}" for name, value in headers)
        data = ("\r\n".join(head) + "\r\n\r\n").encode()
        # One write: headers and body in separate small sends would meet Nagle and delayed ACK.
        self.wfile.write(data if self.command == "HEAD" else data + body)

    def error(self, status, code, message, resource=""):
        self.reply(status, f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
                           f"<Message>{escape(message)}</Message><Resource>{escape(resource)}</Resource>"
                           "<RequestId>0000000000000000</RequestId></Error>")

    def drain(self):
        length = int(self.headers.get("Content-Length") or 0)
        while length > 0:
            chunk = self.rfile.read(min(length, 1 << 20))
            if not chunk:
                break
            length -= len(chunk)

    def target(self):
        """(bucket, key, query) of the request, path-style or virtual-hosted."""
        path, _, raw_query = self.path.partition("?")
        query = dict(parse_qsl(raw_query, keep_blank_values=True))
        path = unquote(path)
        host = (self.headers.get("Host") or "").rsplit(":", 1)[0]
        if host.startswith("keys-") and "." in host:
            return host.split(".", 1)[0], path.lstrip("/"), query
        bucket, _, k = path.lstrip("/").partition("/")
        return bucket, k, query

    # -- verbs -----------------------------------------------------------------------------
    def do_HEAD(self):
        self.do_GET()

    def do_PUT(self):
        self.refuse()

    do_POST = do_DELETE = do_PATCH = do_PUT

    def refuse(self):
        self.drain()
        bucket, k, query = self.target()
        STATS.count(f"{self.command} (refused) {'object' if k else 'bucket'}"
                    + "".join(f" ?{name}" for name in sorted(query)))
        self.error(501, "NotImplemented", "synthetic-s3 is read-only", self.path)

    def do_GET(self):
        self.drain()
        bucket, k, query = self.target()
        if self.command == "GET" and bucket == "__stats":
            return self.reply(200, json.dumps(STATS.snapshot()) + "\n", content_type="application/json")
        if not bucket:
            STATS.count("ListBuckets")
            return self.reply(200, f'<?xml version="1.0" encoding="UTF-8"?>\n<ListAllMyBucketsResult xmlns="{XMLNS}">'
                                   "<Owner><ID>synthetic</ID></Owner><Buckets></Buckets></ListAllMyBucketsResult>")
        match = BUCKET_RE.match(bucket)
        if not match:
            STATS.count(f"{self.command} unknown bucket")
            return self.error(404, "NoSuchBucket", "only keys-<N>[-anything] buckets exist", bucket)
        n = int(match.group(1))
        if k:
            return self.object(n, bucket, k, query)
        if self.command == "HEAD":
            STATS.count("HeadBucket")
            return self.reply(200, headers=[("x-amz-bucket-region", "us-east-1")])
        if "location" in query:
            STATS.count("GetBucketLocation")
            return self.reply(200, f'<?xml version="1.0" encoding="UTF-8"?>\n<LocationConstraint xmlns="{XMLNS}"/>')
        if "uploads" in query:
            STATS.count("ListMultipartUploads")
            return self.reply(200, f'<?xml version="1.0" encoding="UTF-8"?>\n<ListMultipartUploadsResult xmlns="{XMLNS}">'
                                   f"<Bucket>{bucket}</Bucket><KeyMarker></KeyMarker><UploadIdMarker></UploadIdMarker>"
                                   "<MaxUploads>1000</MaxUploads><IsTruncated>false</IsTruncated>"
                                   "</ListMultipartUploadsResult>")
        known = {"list-type", "prefix", "delimiter", "start-after", "continuation-token", "max-keys",
                 "encoding-type", "fetch-owner", "marker"}
        if set(query) - known:
            STATS.count("GET bucket (unsupported) " + " ".join(f"?{q}" for q in sorted(set(query) - known)))
            return self.error(501, "NotImplemented", "synthetic-s3 answers listings only", self.path)
        self.listing(n, bucket, query)

    def object(self, n, bucket, k, query):
        STATS.count("HeadObject" if self.command == "HEAD" else "GetObject")
        i = index_of(n, k)
        if i is None:
            if self.command == "HEAD":
                return self.reply(404)
            return self.error(404, "NoSuchKey", "The specified key does not exist.", f"/{bucket}/{k}")
        length = size(i)
        headers = [("Last-Modified", LAST_MODIFIED_HTTP), ("ETag", f'"{ETAG}"'), ("Accept-Ranges", "bytes")]
        if self.command == "HEAD":
            # Content-Length is the object's, as S3 sends it, with no body after it.
            data = "\r\n".join(
                [f"HTTP/1.1 200 OK", f"Date: {http_date()}", "Server: synthetic-s3",
                 f"Content-Length: {length}", "Content-Type: binary/octet-stream"]
                + [f"{name}: {value}" for name, value in headers]) + "\r\n\r\n"
            return self.wfile.write(data.encode())
        self.reply(200, bytes(length), headers=headers, content_type="binary/octet-stream")

    def listing(self, n, bucket, query):
        began = time.perf_counter()
        v2 = query.get("list-type") == "2"
        prefix = query.get("prefix", "")
        delimiter = query.get("delimiter", "")
        url_encoding = query.get("encoding-type") == "url"
        try:
            max_keys = max(0, min(MAX_KEYS, int(query.get("max-keys", MAX_KEYS))))
        except ValueError:
            return self.error(400, "InvalidArgument", "max-keys is not a number")
        token = query.get("continuation-token") if v2 else None
        start_after = query.get("start-after" if v2 else "marker", "")
        if token is not None:
            if not re.fullmatch(r"t\d+", token):
                return self.error(400, "InvalidArgument", "The continuation token provided is incorrect")
            start = int(token[1:])
        else:
            start = first_at_or_after(n, prefix)
            if start_after:
                start = max(start, first_after(n, start_after))
        start = min(start, n)
        body, entries, nxt = list_page(n, prefix, delimiter, start, max_keys, url_encoding)
        enc = (lambda s: quote(s, safe="/")) if url_encoding else escape
        truncated = "true" if nxt is not None and entries else "false"
        head = [f'<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="{XMLNS}">',
                f"<Name>{bucket}</Name><Prefix>{enc(prefix)}</Prefix>"]
        tail = []
        if v2:
            if token is not None:
                head.append(f"<ContinuationToken>{escape(token)}</ContinuationToken>")
            if start_after:
                head.append(f"<StartAfter>{enc(start_after)}</StartAfter>")
            head.append(f"<KeyCount>{entries}</KeyCount>")
            if truncated == "true":
                tail.append(f"<NextContinuationToken>t{nxt}</NextContinuationToken>")
        else:
            head.append(f"<Marker>{enc(start_after)}</Marker>")
            if truncated == "true":
                tail.append(f"<NextMarker>{enc(key(nxt - 1))}</NextMarker>")
        head.append(f"<MaxKeys>{max_keys}</MaxKeys>")
        if delimiter:
            head.append(f"<Delimiter>{enc(delimiter)}</Delimiter>")
        if url_encoding:
            head.append("<EncodingType>url</EncodingType>")
        head.append(f"<IsTruncated>{truncated}</IsTruncated>")
        page = "".join(head).encode() + body + ("".join(tail) + "</ListBucketResult>").encode()
        STATS.count("ListObjectsV2" if v2 else "ListObjects")
        STATS.page(entries, time.perf_counter() - began)
        self.reply(200, page)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256


def selftest():
    n = 10_003
    keys = [key(i) for i in range(n)]
    assert all(a.encode() < b.encode() for a, b in zip(keys, keys[1:])), "keys are not strictly ascending"
    big = 20_000_000
    assert key(big - 2) < key(big - 1), "keys are not ascending at 20 million"
    assert index_of(n, keys[777]) == 777 and index_of(n, keys[777] + "x") is None
    assert first_after(n, keys[5]) == 6 and first_after(n, "") == 0 and first_after(n, "z") == n
    # Paging through a listing gives every key once, in order.
    got, start = [], 0
    while start is not None:
        body, entries, start = list_page(n, "", "", start, 1000, True)
        body = body.decode()
        got.extend(re.findall(r"<Key>([^<]*)</Key>", body))
    assert got == keys, "paging lost or repeated keys"
    body = list_page(big, "", "", big - 1500, 1000, False)[0].decode()
    assert re.findall(r"<Key>([^<]*)</Key><.*?<Size>(\d+)</Size>", body) == [
        (key(i), str(size(i))) for i in range(big - 1500, big - 500)], "page entries differ from key() and size()"
    # A prefix listing with a delimiter groups the issues of one bucket folder.
    prefix = "data/attachments/PROJ0001/010000/"
    body, entries, nxt = list_page(n, prefix, "/", first_at_or_after(n, prefix), 1000, False)
    body = body.decode()
    assert entries == 1000 and nxt is not None and "<CommonPrefixes><Prefix>" + prefix + "PROJ0001-000001/" in body
    body, entries, nxt = list_page(n, "data/", "/", 0, 1000, False)
    body = body.decode()
    assert entries == 1 and nxt is None and "<Prefix>data/attachments/</Prefix>" in body
    # Pages per second of page building alone (the HTTP part is measured by scale.sh's runs).
    pages, began = 0, time.perf_counter()
    start = 0
    while time.perf_counter() - began < 2:
        _, _, start = list_page(big, "", "", start or 0, 1000, True)
        pages += 1
    elapsed = time.perf_counter() - began
    print(f"selftest passed; {pages / elapsed:.0f} pages/s ({pages * 1000 / elapsed:,.0f} keys/s) building "
          f"1000-key pages, one thread")
    # Over HTTP: this script as the server in a process of its own, one keep-alive client listing
    # keys-200000 from start to end (the client reads each page whole and takes its token).
    import http.client
    import socket
    import subprocess
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, __file__, str(port)], stderr=subprocess.PIPE)
    try:
        server.stderr.readline()  # "listening on ..."
        connection = http.client.HTTPConnection("127.0.0.1", port)
        token, pages, listed, began = None, 0, 0, time.perf_counter()
        while True:
            connection.request("GET", "/keys-200000?list-type=2&encoding-type=url"
                               + (f"&continuation-token={token}" if token else ""))
            body = connection.getresponse().read()
            pages += 1
            listed += body.count(b"<Contents>")
            found = re.search(rb"<NextContinuationToken>([^<]+)</NextContinuationToken>", body[-200:])
            if not found:
                break
            token = found.group(1).decode()
        elapsed = time.perf_counter() - began
        assert listed == 200_000, f"listed {listed} keys of 200000 over HTTP"
        print(f"over HTTP: {pages} pages in {elapsed:.2f} s, {pages / elapsed:.0f} pages/s, "
              f"{len(body) // 1000} KB a page")
    finally:
        server.terminate()
        server.wait()


def main():
    if sys.argv[1:] == ["--selftest"]:
        return selftest()
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 9391
    server = Server(("127.0.0.1", port), Handler)

    def stop(*_):
        print(json.dumps(STATS.snapshot()), file=sys.stderr, flush=True)
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"synthetic-s3 listening on http://127.0.0.1:{port}", file=sys.stderr, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
