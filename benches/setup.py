#!/usr/bin/env python3
"""What the benchmark scripts set up through the API before they measure.

    python3 benches/setup.py URL WORKDIR [--accounts N] [--thread-comments N] [--discussions N]

Registers N accounts (bench0..), starts a topic with the given number of comments (half roots,
half replies to them, by several accounts), and writes into WORKDIR `comment.lua` and
`post_at_rate.lua` (benches/comment.lua and benches/post_at_rate.lua preceded by the accounts'
tokens, the ids of the first discussions of the feed but the new thread, and the new thread's
id and roots). Prints one
line: `THREAD_ID TOKEN` (the thread, and a signed-in reader's access token for the runs that
read as one).
"""

import argparse
import json
import urllib.request


def call(url, method, path, body=None, token=None):
    req = urllib.request.Request(
        url + path,
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={
            "Content-Type": "application/json",
            **({"Authorization": "Bearer " + token} if token else {}),
        },
    )
    with urllib.request.urlopen(req) as answer:
        return json.load(answer)


def lua_table(values):
    return "{" + ", ".join(json.dumps(v) for v in values) + "}"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("workdir")
    parser.add_argument("--accounts", type=int, default=64)
    parser.add_argument("--thread-comments", type=int, default=16)
    parser.add_argument("--discussions", type=int, default=200)
    args = parser.parse_args()
    url = args.url

    tokens = [
        call(url, "POST", "/api/v1/auth/register", {
            "username": f"bench{n}",
            "email": f"bench{n}@example.com",
            "password": "bench-violet-harbour-42",
        })["access_token"]
        for n in range(args.accounts)
    ]
    thread = call(url, "POST", "/api/v1/discussions",
                  {"title": f"{args.thread_comments} comments", "body": "A thread."},
                  tokens[0])["id"]
    roots = (args.thread_comments + 1) // 2
    root_ids = []
    for n in range(roots):
        author = tokens[(n + 1) % len(tokens)]
        root = call(url, "POST", f"/api/v1/discussions/{thread}/comments",
                    {"body": f"Root comment {n}, with **Markdown** and a [link](https://example.com)."},
                    author)["id"]
        root_ids.append(root)
        if roots + n < args.thread_comments:
            call(url, "POST", f"/api/v1/discussions/{thread}/comments",
                 {"body": f"A reply to comment {n}.", "parent_id": root},
                 tokens[(n + 2) % len(tokens)])

    ids, cursor = [], None
    while len(ids) < args.discussions:
        page = call(url, "GET", "/api/v1/discussions?limit=100" + (f"&cursor={cursor}" if cursor else ""))
        ids += [d["id"] for d in page["items"] if d["id"] != thread]
        cursor = page["next_cursor"]
        if not cursor:
            break
    with open(f"{args.workdir}/post_at_rate.lua", "w") as script, \
            open("benches/post_at_rate.lua") as body:
        script.write("tokens = " + lua_table(tokens) + "\n")
        script.write("discussions = " + lua_table(ids[: args.discussions]) + "\n")
        script.write(f"hot = {thread}\nroots = " + lua_table(root_ids) + "\n")
        script.write(body.read())
    with open(f"{args.workdir}/comment.lua", "w") as script, open("benches/comment.lua") as body:
        script.write("tokens = " + lua_table(tokens) + "\n")
        script.write("discussions = " + lua_table(ids[: args.discussions]) + "\n")
        script.write(body.read())
    print(thread, tokens[-1])


if __name__ == "__main__":
    main()
