#!/usr/bin/env python3
"""Checks, for SECONDS, that every page of a thread agrees with its discussion's `replies` at
some instant, while benches/speed.sh posts into it:

    python3 benches/consistency.py URL THREAD SECONDS

Again and again: `replies` read before the page <= comments on the page <= `replies` read after
it (the thread must fit one page of `?limit=100`). Prints `checks=N inconsistent=N` and exits 1
when a page agreed with no instant.
"""

import json
import sys
import time
import urllib.request


def get(url):
    with urllib.request.urlopen(url, timeout=10) as answer:
        return json.load(answer)


def count(items):
    return sum(1 + count(c["children"]) for c in items)


def main():
    url, thread, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    checks = inconsistent = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        before = get(f"{url}/api/v1/discussions/{thread}")["replies"]
        page = get(f"{url}/api/v1/discussions/{thread}/comments?limit=100")
        after = get(f"{url}/api/v1/discussions/{thread}")["replies"]
        checks += 1
        if not before <= count(page["items"]) <= after or page["next_cursor"]:
            inconsistent += 1
        time.sleep(0.01)
    print(f"checks={checks} inconsistent={inconsistent}")
    raise SystemExit(1 if inconsistent or not checks else 0)


if __name__ == "__main__":
    main()
