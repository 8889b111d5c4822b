"""The tap's settings: the schema users see, and the checks that run before any request.

Owns everything about reading a config: the JSON Schema (`schema`), numbers given as text
and values of the wrong kind (`types`), the checks of the run's own settings and of each
provider block (`checks`, `provider_checks`), the one-line messages for files that cannot
be read, and the run's settings with their defaults (`run_settings`). It may import
`providers`, `auth` and the leaf modules; nothing on the path of a page imports it.
"""
