"""TapLeads: settings, and one stream per configured provider."""

from __future__ import annotations

import logging
import sys
import typing as t

from singer_sdk import Tap
from singer_sdk.exceptions import ConfigValidationError

from tap_leads import redaction, settings
from tap_leads.errors import TapLeadsError
from tap_leads.output import BufferedMsgSpecWriter
from tap_leads.streams import STREAM_TYPES

if t.TYPE_CHECKING:
    import click

    from tap_leads.client import LeadsStream


class TapLeads(Tap):
    """Leads of Teli, Nexus ERP, Flextell, Sela and Autocalls."""

    name = "tap-leads"
    package_name = "tap-leads"
    config_jsonschema = settings.CONFIG_SCHEMA
    # Discovery depends on which providers are configured, so validate config first.
    dynamic_catalog = True
    message_writer_class = BufferedMsgSpecWriter

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        redaction.install(
            settings.secret_values(self.config),
            [self.logger, logging.getLogger("singer_sdk"), logging.getLogger("tap-leads")],
        )

    def _validate_config(self, *, raise_errors: bool = True) -> list[str]:
        # Our checks name the provider and the setting; the SDK's schema check follows.
        # Top-level names are checked against the whole schema, the SDK's settings included.
        self.append_builtin_config(self.config_jsonschema)
        known = self.config_jsonschema.get("properties", {})
        errors = settings.validate(self.config, known_settings=known)
        if errors and raise_errors:
            raise ConfigValidationError("Config validation failed", errors=errors)
        if errors:
            return errors
        try:
            return super()._validate_config(raise_errors=raise_errors)
        except ConfigValidationError as exc:
            raise ConfigValidationError(
                exc.args[0] if exc.args else "Config validation failed",
                errors=[settings.readable_schema_error(error) for error in exc.errors],
                schema=exc.schema,
            ) from None

    def discover_streams(self) -> list[LeadsStream]:
        configured = {p.key for p in settings.configured_providers(self.config)}
        return [stream(self) for stream in STREAM_TYPES if stream.provider in configured]

    def sync_all(self) -> None:
        """Sync every stream; one provider failing does not stop the others.

        This is the SDK's own loop with a try around each stream: the SDK stops at
        the first failure, which would hold back the leads of healthy providers.
        A failed stream keeps its previous bookmark, so its next run misses nothing.
        """
        self._reset_state_progress_markers()
        self._set_compatible_replication_methods()
        if self.state:
            self._state_writer.write_state(self.state)
        failures: list[str] = []
        for stream in self.streams.values():
            if not stream.selected:
                self.logger.info("Skipping deselected stream '%s'.", stream.name)
                continue
            try:
                stream.sync()
            except TapLeadsError as exc:
                self.logger.error("%s failed: %s", stream.name, exc)
                failures.append(f"{stream.name}: {exc}")
                continue
            stream.finalize_state_progress_markers()
        for stream in self.streams.values():
            stream.log_sync_costs()
        if failures:
            others = len(self.streams) - len(failures)
            raise TapLeadsError(
                f"{len(failures)} stream(s) failed ({others} other(s) completed): "
                + " | ".join(failures)
            )

    @classmethod
    def invoke(cls, *args: t.Any, **kwargs: t.Any) -> None:  # type: ignore[override]
        """Run the CLI; a known failure ends with its message as the last line, exit 1."""
        try:
            super().invoke(*args, **kwargs)
        except ConfigValidationError as exc:
            # The SDK would follow the specific problems with a generic "Config validation
            # failed" line; the last line is the one users and orchestrators read.
            _exit_with(exc.errors or [str(exc)])
        except TapLeadsError as exc:
            cls.logger.debug("Failure details", exc_info=True)
            _exit_with([str(exc)])

    @classmethod
    def cb_config(cls, ctx: click.Context, param: click.Option, value: tuple[str, ...]) -> t.Any:
        """Read the --config files; one that is missing or not JSON ends the run in one line.

        The SDK reads them while click parses the arguments, before its own error
        handling is in place, so a missing file or a JSON syntax error would end the
        run with a traceback.
        """
        problems = [
            problem
            for path in value
            if path != "ENV" and (problem := settings.config_file_problem(path)) is not None
        ]
        if problems:
            _exit_with(problems)
        return super().cb_config(ctx, param, value)


def _exit_with(problems: list[str]) -> t.NoReturn:
    """Log each problem as an error, the most specific last, and exit with status 1."""
    for problem in problems:
        TapLeads.logger.error("%s", problem)
    sys.exit(1)
