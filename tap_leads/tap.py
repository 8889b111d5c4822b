"""TapLeads: settings, and one stream per configured provider."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import sys
import typing as t
from functools import cached_property

import click
from singer_sdk.exceptions import ConfigValidationError
from singer_sdk.singerlib import StateMessage
from singer_sdk.tap_base import Tap

from tap_leads import ending, redaction, sdk_hooks, shard_state
from tap_leads.config import checks
from tap_leads.config.cli_files import read_option_file
from tap_leads.config.env import merge_over, settings_from_env
from tap_leads.config.run_settings import RunSettings
from tap_leads.config.schema import CONFIG_SCHEMA, config_schema
from tap_leads.config.types import read_text_values
from tap_leads.deleted_leads import DeletedLeadsStream
from tap_leads.engine.scheduler import Scheduler
from tap_leads.errors import TapLeadsError
from tap_leads.output import BufferedMsgSpecWriter, OutputClosed, StatePacer
from tap_leads.progress import RunCounts
from tap_leads.providers import PROVIDERS
from tap_leads.streams import stream_class

if t.TYPE_CHECKING:
    from types import FrameType

    from tap_leads.providers.spec import ProviderSpec
    from tap_leads.streams import LeadsStream

#: Where cb_test leaves --test's value for invoke, which has the catalog and error handling.
_TEST = "tap_leads.test"


class TapLeads(Tap):
    """Leads of Teli, Nexus ERP, Flextell, Sela and Autocalls."""

    name = "tap-leads"
    package_name = "tap-leads"
    config_jsonschema = CONFIG_SCHEMA
    #: The providers this tap reads: the schema, the checks and the streams derive from them.
    providers: t.ClassVar[tuple[ProviderSpec, ...]] = PROVIDERS
    # Discovery depends on which providers are configured, so validate config first.
    dynamic_catalog = True
    message_writer_class = BufferedMsgSpecWriter
    #: Set for --discover, which may list the streams before any provider is configured.
    _listing_only: t.ClassVar[bool] = False
    #: Which streams' ends write a STATE, when each STATE holds the lists' membership.
    state_pacer: StatePacer | None = None

    #: --test: each selected stream and account reads its first page, and no more.
    first_page_only = False
    #: The stop signal received, if any; a run that received one never reports success.
    interrupted: sdk_hooks.RunInterrupted | None = None

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        # Before the SDK's own start, which logs its notes on this logger.
        sdk_hooks.quiet_sdk_notes([TapLeads.logger])
        super().__init__(*args, **kwargs)
        redaction.install(
            checks.secret_values(self.config, self.providers), self._redacted_loggers()
        )
        sdk_hooks.quiet_sdk_notes([logging.getLogger("singer_sdk"), self.logger])

    @classmethod
    def with_providers(cls, *providers: ProviderSpec) -> type[TapLeads]:
        """A tap that reads these providers: each is its spec, with its stream's schema."""
        attributes = {"providers": providers, "config_jsonschema": config_schema(providers)}
        return type(cls.__name__, (cls,), attributes)

    @cached_property
    def run_settings(self) -> RunSettings:
        """The run's own settings, each with its schema default, read once."""
        return RunSettings.from_config(self.config)

    def mask_secret(self, value: str) -> None:
        """Mask a secret that appears during the run (a refreshed token) in every log line."""
        redaction.install([value], self._redacted_loggers())

    def _redacted_loggers(self) -> list[logging.Logger]:
        return [self.logger, logging.getLogger("singer_sdk"), logging.getLogger("tap-leads")]

    def _validate_config(self, *, raise_errors: bool = True) -> list[str]:
        # Our checks name the provider and the setting; the SDK's schema check follows.
        # Top-level names are checked against the whole schema, the SDK's settings included.
        self.append_builtin_config(self.config_jsonschema)
        known = self.config_jsonschema.get("properties", {})
        # Numbers given as text (environment variables give only text) are those numbers.
        sdk_hooks.replace_config(self, read_text_values(dict(self.config), self.config_jsonschema))
        errors = checks.validate(self.config, known_settings=known, providers=self.providers)
        if self._listing_only and not checks.configured_providers(self.config, self.providers):
            # `meltano select --list` runs discovery before any credentials are set.
            errors = [e for e in errors if not e.startswith("No provider is configured")]
        if errors and raise_errors:
            raise ConfigValidationError("Config validation failed", errors=errors)
        if errors:
            return errors
        try:
            return super()._validate_config(raise_errors=raise_errors)
        except ConfigValidationError as exc:
            raise ConfigValidationError(
                exc.args[0] if exc.args else "Config validation failed",
                errors=[checks.readable_schema_error(error) for error in exc.errors],
                schema=exc.schema,
            ) from None

    @classmethod
    def cb_discover(cls, ctx: click.Context, param: click.Option, value: bool) -> None:
        """Discovery with no provider configured lists all five streams."""
        cls._listing_only = bool(value)
        super().cb_discover(ctx, param, value)

    def discover_streams(self) -> list[LeadsStream | DeletedLeadsStream]:
        configured = checks.configured_providers(self.config, self.providers)
        if not configured and self._listing_only:
            configured = list(self.providers)
        leads = [stream_class(spec)(self) for spec in configured]
        return [*leads, DeletedLeadsStream(self)] if leads else []

    @cached_property
    def scheduler(self) -> Scheduler:
        """The run's one budget of requests in flight, shared by every stream."""
        return Scheduler(self.run_settings.max_concurrent_requests)

    def sync_all(self) -> None:
        """Sync every stream, fetching the next streams' pages while one is emitted.

        A stream that fails keeps its previous bookmark and the others go on; the run
        then ends with one line naming each failure, and a non-zero exit.
        """
        leads = [s for s in self.streams.values() if not isinstance(s, DeletedLeadsStream)]
        streams = [s for s in leads if s.selected]
        shard_state.keep_own_entries(self.state, self.config, {s.name: s.provider for s in leads})
        if self.run_settings.detect_deletes:
            self.state_pacer = StatePacer([s.name for s in streams])
        try:
            # Planning lists Teli partners' organisations: a signal may come already.
            for stream in streams:
                stream.plan_lanes(self.scheduler)
            self.scheduler.start()
            for stream in self.streams.values():
                if isinstance(stream, DeletedLeadsStream):
                    stream.announce()  # its table exists before the first deletion
            super().sync_all()
            # A signal may still come while the run ends: it stops the run as any other.
            self._end_on_state()
            counts = RunCounts(
                # Each stream counts once, or once per account in the accounts form.
                units=sum(s.units for s in streams),
                failures=[failure for stream in streams for failure in stream.failures],
                emitted=sum(s.emitted for s in streams),
                noun="account(s)" if any(s.list_form for s in streams) else "stream(s)",
            )
            if self.interrupted is not None:
                # Swallowed on the way (a bare `except:` in a library): still a stop.
                raise self.interrupted
            if counts.failures:
                raise TapLeadsError(counts.summary(test=self.first_page_only))
            self.logger.info("%s", counts.summary(test=self.first_page_only))
        except (sdk_hooks.RunInterrupted, OutputClosed) as exc:
            # No request starts after this; the ones in flight end with the process.
            self.scheduler.cancel()
            self._stop(exc)
        finally:
            self.scheduler.cancel()

    def run_first_page_test(self) -> None:
        """--test: every selected stream and account reads its first page and emits at
        most one lead of it; any that cannot fails the run, as a sync would."""
        self.first_page_only = True
        for stream in self.streams.values():
            stream.first_page_only = True
        self.sync_all()

    def _end_on_state(self) -> None:
        """Every run ends on a STATE message, also when nothing changed.

        The SDK's state writer skips a state equal to the last one it wrote, even when
        records were written after it.
        """
        self.state_writer.write_state(self.state)
        writer = self.message_writer
        if isinstance(writer, BufferedMsgSpecWriter) and not writer.ended_on_state:
            writer.write_message(StateMessage(value=self.state))

    def _stop(self, exc: sdk_hooks.RunInterrupted | OutputClosed) -> t.NoReturn:
        if isinstance(exc, OutputClosed):
            self.logger.error("tap-leads stopped: %s", exc)
            sys.exit(1)
        with contextlib.suppress(OutputClosed):
            self._end_on_state()
        self.logger.error(
            "tap-leads stopped: %s before the run completed. The last STATE message "
            "holds only complete streams' bookmarks; a run started from it reads "
            "every lead this run did not finish.",
            exc,
        )
        sys.exit(exc.exit_code)

    def _handle_termination(self, signum: int, frame: FrameType | None) -> None:
        self.interrupted = sdk_hooks.RunInterrupted(signum)
        sdk_hooks.handle_termination(self, signum, frame)

    @classmethod
    def invoke(cls, *args: t.Any, **kwargs: t.Any) -> None:  # type: ignore[override]
        """Run the CLI; a known failure ends with its message as the last line, exit 1.
        The tap's own process then ends at once (tap_leads.ending)."""
        try:
            cls._invoke(*args, **kwargs)
        except SystemExit as exc:
            ending.end_now(exc.code)
            raise
        ending.end_now(0)

    @classmethod
    def _invoke(cls, *args: t.Any, **kwargs: t.Any) -> None:
        # The SDK parses --state and --catalog inside the run, where a syntax error would
        # end it with a traceback; they are read here, and handed on unchanged.
        for option in ("state", "catalog"):
            given = kwargs.get(option)
            if given is not None:
                text, problem = read_option_file(option, given)
                if problem is not None:
                    _exit_with([problem])
                kwargs[option] = io.StringIO(text)
        try:
            test = click.get_current_context().meta.get(_TEST)
            if test is None or kwargs.get("about"):
                super().invoke(*args, **kwargs)
            else:
                cls._invoke_test(test, **kwargs)
        except ConfigValidationError as exc:
            # The SDK would follow the specific problems with a generic "Config validation
            # failed" line; the last line is the one users and orchestrators read.
            _exit_with(exc.errors or [str(exc)])
        except TapLeadsError as exc:
            cls.logger.debug("Failure details", exc_info=True)
            _exit_with([str(exc)])
        except sdk_hooks.RunInterrupted as exc:
            # Before the run started (reading the config, discovery) or while it was
            # already stopping: every STATE written so far is whole, and none is added.
            cls.logger.error("tap-leads stopped: %s before the run completed.", exc)
            sys.exit(exc.exit_code)

    @classmethod
    def _invoke_test(cls, test: str, **kwargs: t.Any) -> None:
        """--test (every stream's first page) or --test=schema, with the catalog given."""
        cls.print_version(print_fn=cls.logger.info)
        given, catalog = kwargs.get("config"), kwargs.get("catalog")
        tap = cls(
            config=given.config if given is not None else {},
            catalog=None if catalog is None else json.loads(catalog.read()),
            parse_env_config=False,
            validate_config=True,
        )
        if test == "schema":
            tap.write_schemas()
        else:
            tap.run_first_page_test()

    @classmethod
    def cb_config(cls, ctx: click.Context, param: click.Option, value: tuple[str, ...]) -> t.Any:
        """Read the --config files and `ENV`; a problem ends the run in one line each.

        The SDK reads them while click parses the arguments, before its own error
        handling is in place, so a missing file or a JSON syntax error would end the
        run with a traceback. Its `ENV` reading cannot fill a provider block, so the tap
        reads the environment itself (tap_leads.config.env), in the order given.
        """
        problems = [
            problem
            for path in value
            if path != "ENV" and (problem := checks.config_file_problem(path)) is not None
        ]
        env: dict[str, t.Any] = {}
        if "ENV" in value:
            schema = cls.config_jsonschema
            cls.append_builtin_config(schema)
            env, env_problems = settings_from_env(schema, os.environ)
            problems += env_problems
        if problems:
            _exit_with(problems)
        result = super().cb_config(ctx, param, tuple(p for p in value if p != "ENV"))
        # The environment wins over the files, block by block.
        result.config = merge_over(result.config, env)
        return result

    @classmethod
    def cb_test(cls, ctx: click.Context, param: click.Option, value: str) -> None:
        """Leaves --test to invoke, which reads the catalog and ends a failed test as a
        failed sync ends: one summary line and exit 1."""
        if value != "disabled":
            ctx.meta[_TEST] = value

    @classmethod
    def get_singer_command(cls) -> click.Command:
        """--state and --catalog take a path, read by invoke: click's own check of the
        file ends in a usage text and exit 2."""
        command = super().get_singer_command()
        for param in command.params:
            if param.name in ("state", "catalog"):
                param.type = click.STRING
        return command


def _exit_with(problems: list[str]) -> t.NoReturn:
    """Log each problem as an error, the most specific last, and exit with status 1."""
    for problem in problems:
        TapLeads.logger.error("%s", problem)
    sys.exit(1)
