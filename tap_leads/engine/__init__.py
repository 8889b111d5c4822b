"""The request engine: from a page token to a Page whose rows are shaped.

Owns the page types (`page`), where and how an account lists its leads (`endpoint`), the
page fetcher and its retries (`fetch`, `retry`, `replies`), the envelopes (`pagination`),
the run-wide budget of requests in flight (`scheduler`), each account's adaptive window
and rate cap (`concurrency`), and the HTTP pool (`transport`).

It may import `records` (pages are shaped in the worker that fetched them), `errors` and
the other leaf modules; never a stream, the config, replication or output.
"""
