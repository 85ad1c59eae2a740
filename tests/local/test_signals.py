"""Ctrl-C reaches `longjobs dev` whichever of its threads the kernel gives the signal to."""

from __future__ import annotations

import subprocess
import sys

from tests.local.conftest import ROOT

WAITER = """
import signal, threading, time
from local.dev import wait_until_set

stop = threading.Event()
signal.signal(signal.SIGINT, lambda *_: stop.set())
other = threading.Thread(target=time.sleep, args=(60,), daemon=True)
other.start()
# SIGINT delivered to the other thread, as the kernel may do with a process's signal.
threading.Timer(0.3, signal.pthread_kill, (other.ident, signal.SIGINT)).start()
wait_until_set(stop)
print("stopped")
"""


def test_a_sigint_delivered_to_another_thread_stops_the_wait():
    done = subprocess.run(
        [sys.executable, "-c", WAITER], cwd=ROOT, capture_output=True, text=True, timeout=10
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "stopped\n", "")
