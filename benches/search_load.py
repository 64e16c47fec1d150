#!/usr/bin/env python3
"""Two-word searches from N concurrent clients; prints requests/s and latency percentiles.

    python3 benches/search_load.py URL [--clients 8] [--seconds 20]

The queries pair words of the seeded corpus (`tribune seed` writes its comments from a small
vocabulary, in English and Russian), in the forms readers would type: other word forms than
the text's (stems must meet), some rare pairs and some common ones. Each client keeps one
HTTP/1.1 connection. Any answer but 200 is counted and reported.
"""

import argparse
import http.client
import random
import threading
import time
import urllib.parse

QUERIES = [
    "new tank", "naval defences", "tanks NATO", "meeting Ramstein", "armoured vehicle",
    "patrol Baltic", "Latvia warns", "Pentagon doubles", "Finland tanks", "Israel meeting",
    "новые танки", "патрулирование неба", "встреча Рамштайн", "выпуск бронетехники",
    "НАТО танков", "Армения обсуждает", "Финляндии готовится", "деэскалация границы",
    "Израиль встречи", "Скандинавия закупки",
]


def client(url, deadline, latencies, errors, seed):
    rng = random.Random(seed)
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    while time.monotonic() < deadline:
        q = urllib.parse.quote(rng.choice(QUERIES) + " ")
        started = time.monotonic()
        conn.request("GET", f"/api/v1/search?q={q}")
        answer = conn.getresponse()
        answer.read()
        latencies.append(time.monotonic() - started)
        if answer.status != 200:
            errors.append(answer.status)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20)
    args = parser.parse_args()
    latencies, errors = [], []
    deadline = time.monotonic() + args.seconds
    threads = [
        threading.Thread(target=client, args=(args.url, deadline, latencies, errors, i))
        for i in range(args.clients)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    latencies.sort()
    pick = lambda p: latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000
    print(
        f"searches={len(latencies)} per_second={len(latencies) / args.seconds:.1f} "
        f"p50_ms={pick(0.50):.1f} p90_ms={pick(0.90):.1f} p99_ms={pick(0.99):.1f} "
        f"max_ms={latencies[-1] * 1000:.1f} non_200={len(errors)}"
    )


if __name__ == "__main__":
    main()
