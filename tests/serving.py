"""Starting and stopping `loopscope serve` as a real process, for the tests."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path


def start_server(path: Path, *extra: str) -> tuple[subprocess.Popen, str]:
    """`loopscope serve PATH --port 0`, waiting for the line with its address."""
    process = subprocess.Popen([sys.executable, "-m", "loopscope", "serve", str(path), "--port", "0", *extra],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=dict(os.environ, PYTHONUNBUFFERED="1"))
    deadline = time.monotonic() + 60
    line = ""
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        found = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        if found:
            return process, f"http://127.0.0.1:{found.group(1)}"
        if process.poll() is not None:
            break
    process.kill()
    raise RuntimeError(f"the server did not start: {line!r} {process.stderr.read()}")


def stop_server(process: subprocess.Popen) -> int:
    process.send_signal(signal.SIGINT)
    try:
        return process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        raise
