"""What a run emits and what its state remembers: bookmarks and thresholds
(`bookmarks`), and the walks of a list, again when it moved (`walks`).

It consumes the engine's pages and the records' key ledger, and writes into the SDK's
state through `sdk_hooks`; it never imports a stream, the tap or the config.
"""
