"""Run a few callables at the same moment, each in its own thread with its own database connection."""

from __future__ import annotations

import threading
import time

from django.db import connection


def race(*targets, delays=(), timeout: float = 60) -> list:
    """Start every target at once (a barrier), target i `delays[i]` seconds later (a sweep of delays
    over many rounds hits every overlap of a short step with a longer one); return their results in
    order (an exception object where one raised)."""
    barrier = threading.Barrier(len(targets))
    results: list = [None] * len(targets)
    delays = list(delays) + [0] * (len(targets) - len(delays))

    def run(index, target):
        try:
            barrier.wait()
            if delays[index]:
                time.sleep(delays[index])
            results[index] = target()
        except Exception as exc:  # noqa: BLE001 - handed back to the test
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, t)) for i, t in enumerate(targets)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    return results


def raised(results) -> list[BaseException]:
    return [r for r in results if isinstance(r, BaseException)]
