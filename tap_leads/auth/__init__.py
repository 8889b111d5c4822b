"""Credentials read at request time: static keys, Flextell's OAuth tokens and the file
that keeps them.

It may import the engine's `Auth` protocol, `errors` and `redaction`; never a stream,
the config or replication.
"""
