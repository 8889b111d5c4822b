"""The floor: every configured provider's leads with requests and orjson, as RECORD lines.

No retries, no schema, no state: the least work a client can do to turn the list endpoints
into Singer RECORD lines. It reads the tap's own config (provider blocks, each either one
account or an `accounts` list) and fetches the same pages as the tap.

    python benchmarks/raw_client.py --config tap.json            # page after page
    python benchmarks/raw_client.py --config tap.json --pool 8   # one shared pool of 8

With --pool N, the first page of every source (a provider, or one account of it) goes
into one pool of N threads; as each first page tells its page count, the source's other
pages join the same pool. Pages are written as they arrive.
"""

from __future__ import annotations

import argparse
import sys
import threading
import typing as t
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import orjson
import requests

TIMEOUT_SECONDS = 60


@dataclass(frozen=True)
class Source:
    stream: str
    url: str
    headers: dict[str, str]
    # Query parameters other than the page number.
    params: dict[str, t.Any]
    records_key: str
    pages_of: t.Callable[[dict[str, t.Any]], int]
    # The account's name, added to each record as the tap does in the accounts form.
    account: str | None = None


def teli(block: dict[str, t.Any], account: str | None) -> Source:
    org_id = quote(str(block["org_id"]), safe="")
    return Source(
        stream="teli_leads",
        url=f"{block['api_url'].rstrip('/')}/v1/organizations/{org_id}/leads",
        headers={"X-API-Key": block["api_key"]},
        params={"page_size": block.get("page_size", 200), "is_admin": "true"},
        records_key="leads",
        pages_of=lambda body: int(body["total_pages"]),
        account=account,
    )


def nexus_erp(block: dict[str, t.Any], account: str | None) -> Source:
    return Source(
        stream="nexus_erp_leads",
        url=f"{block['api_url'].rstrip('/')}/api/v1/leads",
        headers={"Authorization": f"Bearer {block['api_key']}"},
        params={"pageSize": block.get("page_size", 100)},
        records_key="data",
        pages_of=lambda body: int(body["pagination"]["totalPages"]),
        account=account,
    )


def autocalls(block: dict[str, t.Any], account: str | None) -> Source:
    return Source(
        stream="autocalls_leads",
        url=f"{block['api_url'].rstrip('/')}/user/leads",
        headers={"Authorization": f"Bearer {block['api_key']}"},
        params={"per_page": block.get("page_size", 100)},
        records_key="data",
        pages_of=lambda body: int(body["last_page"]),
        account=account,
    )


PROVIDERS = {"teli": teli, "nexus_erp": nexus_erp, "autocalls": autocalls}


def sources(config: dict[str, t.Any]) -> list[Source]:
    found = []
    for key, make in PROVIDERS.items():
        block = config.get(key)
        if not block:
            continue
        accounts = block.get("accounts")
        if accounts is None:
            found.append(make(block, None))
            continue
        defaults = {k: v for k, v in block.items() if k != "accounts"}
        found += [make({**defaults, **account}, account["name"]) for account in accounts]
    if not found:
        raise SystemExit(f"no provider block among {list(PROVIDERS)} in the config")
    return found


class Fetcher:
    def __init__(self) -> None:
        # A session per thread: requests does not promise that one is safe to share.
        self.local = threading.local()

    def page(self, source: Source, number: int) -> tuple[Source, int, dict[str, t.Any]]:
        session = getattr(self.local, "session", None)
        if session is None:
            session = self.local.session = requests.Session()
        response = session.get(
            source.url,
            params={"page": number, **source.params},
            headers=source.headers,
            timeout=TIMEOUT_SECONDS,
        )
        response.raise_for_status()
        return source, number, orjson.loads(response.content)


def record_lines(source: Source, body: dict[str, t.Any]) -> bytes:
    """One write per page: every lead of the page as a RECORD line."""
    leads = body[source.records_key]
    if source.account is not None:
        leads = [{**lead, "account": source.account} for lead in leads]
    return b"".join(
        orjson.dumps({"type": "RECORD", "stream": source.stream, "record": lead}) + b"\n"
        for lead in leads
    )


def sequential(found: list[Source], out: t.BinaryIO) -> None:
    fetcher = Fetcher()
    for source in found:
        _, _, body = fetcher.page(source, 1)
        out.write(record_lines(source, body))
        for number in range(2, source.pages_of(body) + 1):
            _, _, body = fetcher.page(source, number)
            out.write(record_lines(source, body))


def pooled(found: list[Source], out: t.BinaryIO, size: int) -> None:
    fetcher = Fetcher()
    with ThreadPoolExecutor(max_workers=size) as pool:
        pending: set[Future[tuple[Source, int, dict[str, t.Any]]]] = {
            pool.submit(fetcher.page, source, 1) for source in found
        }
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                source, number, body = future.result()
                if number == 1:
                    pending |= {
                        pool.submit(fetcher.page, source, later)
                        for later in range(2, source.pages_of(body) + 1)
                    }
                out.write(record_lines(source, body))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", required=True, help="the tap's config (JSON)")
    parser.add_argument(
        "--pool", type=int, default=0, help="threads of the shared pool (0: one page at a time)"
    )
    args = parser.parse_args()
    found = sources(orjson.loads(Path(args.config).read_bytes()))
    out = sys.stdout.buffer
    if args.pool > 0:
        pooled(found, out, args.pool)
    else:
        sequential(found, out)
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
