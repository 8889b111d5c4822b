"""The raw client with pages fetched ahead, as many at once as the tap's default window.

Page 1 tells how many pages there are; after that up to --window requests are in flight
(the one being waited for included, as in the tap), and pages are written strictly in
page order. Usage: python benchmarks/raw_concurrent_client.py --config teli.json [--window 8]
"""

from __future__ import annotations

import argparse
import sys
import threading
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor

from raw_client import fetch, leads_url, load_config, new_session, record_lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", required=True, help="JSON: api_url, api_key, org_id, page_size")
    parser.add_argument("--window", type=int, default=8, help="pages in flight at once")
    args = parser.parse_args()
    config = load_config(args.config)
    page_size = int(config.get("page_size", 100))
    url = leads_url(config)
    local = threading.local()

    def fetch_page(page: int) -> dict:
        # A session per thread: requests does not promise that one is safe to share.
        session = getattr(local, "session", None)
        if session is None:
            session = local.session = new_session(config)
        return fetch(session, url, page, page_size)

    out = sys.stdout.buffer
    first = fetch_page(1)
    out.write(record_lines(first))
    total_pages = int(first["total_pages"])
    with ThreadPoolExecutor(max_workers=max(1, args.window)) as pool:
        pending: deque[Future[dict]] = deque()
        next_page = 2
        while True:
            while next_page <= total_pages and len(pending) < args.window:
                pending.append(pool.submit(fetch_page, next_page))
                next_page += 1
            if not pending:
                break
            out.write(record_lines(pending.popleft().result()))
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
