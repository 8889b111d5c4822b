"""The floor: Teli's leads page by page with requests and orjson, one Singer RECORD per lead.

No retries, no schema, no state: the least work a client can do to turn the endpoint into
Singer RECORD lines. Usage: python benchmarks/raw_client.py --config teli.json, where the
config holds api_url, api_key, org_id and page_size.
"""

from __future__ import annotations

import argparse
import sys
import typing as t
from pathlib import Path
from urllib.parse import quote

import orjson
import requests

STREAM = "teli_leads"
TIMEOUT_SECONDS = 60


def load_config(path: str) -> dict[str, t.Any]:
    return orjson.loads(Path(path).read_bytes())


def leads_url(config: dict[str, t.Any]) -> str:
    org_id = quote(str(config["org_id"]), safe="")
    return f"{config['api_url'].rstrip('/')}/v1/organizations/{org_id}/leads"


def new_session(config: dict[str, t.Any]) -> requests.Session:
    session = requests.Session()
    session.headers["X-API-Key"] = config["api_key"]
    return session


def page_params(page: int, page_size: int) -> dict[str, t.Any]:
    return {"page": page, "page_size": page_size, "is_admin": "true"}


def fetch(session: requests.Session, url: str, page: int, page_size: int) -> dict[str, t.Any]:
    response = session.get(url, params=page_params(page, page_size), timeout=TIMEOUT_SECONDS)
    response.raise_for_status()
    return orjson.loads(response.content)


def record_lines(body: dict[str, t.Any]) -> bytes:
    """One write per page: every lead of the page as a RECORD line."""
    return b"".join(
        orjson.dumps({"type": "RECORD", "stream": STREAM, "record": lead}) + b"\n"
        for lead in body["leads"]
    )


def parse_args(description: str | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--config", required=True, help="JSON: api_url, api_key, org_id, page_size")
    return parser.parse_args()


def main() -> int:
    config = load_config(parse_args(__doc__).config)
    page_size = int(config.get("page_size", 100))
    url = leads_url(config)
    session = new_session(config)
    out = sys.stdout.buffer
    page = 1
    while True:
        body = fetch(session, url, page, page_size)
        out.write(record_lines(body))
        if body["page"] >= body["total_pages"]:
            break
        page += 1
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
