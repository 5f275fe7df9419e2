"""The web page under load: a 1-megapixel photo through the /colorize endpoint (what a click in the
Photo tab runs), and 20 requests at once.

    .venv/bin/python benchmarks/web_page.py [--runs 5] [--concurrent 20] [--concurrency 2]

Starts `chromatize serve` in a subprocess on a free port, calls it with gradio_client, and reads the
server's peak RSS (VmHWM) from /proc. Times are wall clock seen by the client, upload and download
of the files included.
"""
from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(port: int, concurrency: int) -> subprocess.Popen:
    proc = subprocess.Popen([str(ROOT / ".venv" / "bin" / "chromatize"), "serve", "--port", str(port),
                             "--concurrency", str(concurrency)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, env={**os.environ, "GRADIO_ANALYTICS_ENABLED": "False"})
    for line in proc.stdout:
        if "the page is at" in line:
            return proc
    raise SystemExit("the server did not start")


def peak_rss_mb(pid: int) -> float:
    return int(re.search(r"VmHWM:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text()).group(1)) / 1024


def main() -> None:
    from gradio_client import Client, handle_file

    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--concurrent", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=2, help="the server's --concurrency")
    args = parser.parse_args()
    photo = Path(tempfile.mkdtemp()) / "photo-1mp.jpg"
    Image.open(ROOT / "examples" / "meadow.jpg").convert("L").resize((1155, 866)).save(photo, quality=92)
    port = free_port()
    proc = start(port, args.concurrency)
    try:
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        call = lambda: client.predict(handle_file(str(photo)), "", None, True, "default", 256, 1.0,
                                      api_name="/colorize")
        call()                                                                  # warm-up
        times = []
        for _ in range(args.runs):
            start_s = time.perf_counter()
            call()
            times.append(time.perf_counter() - start_s)
        print(f"1-MP photo (1155x866) through /colorize: median {statistics.median(times):.3f} s "
              f"over {args.runs} runs (min {min(times):.3f}, max {max(times):.3f})")
        start_s = time.perf_counter()
        with ThreadPoolExecutor(args.concurrent) as pool:
            results = list(pool.map(lambda _: call(), range(args.concurrent)))
        wall = time.perf_counter() - start_s
        ok = sum(Path(r).exists() for r in results)
        print(f"{args.concurrent} requests at once (server --concurrency {args.concurrency}): {ok} succeeded, "
              f"{wall:.2f} s in all ({wall / args.concurrent:.3f} s per request); server peak RSS "
              f"{peak_rss_mb(proc.pid):.0f} MB")
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)


if __name__ == "__main__":
    sys.exit(main())
