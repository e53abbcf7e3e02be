"""The ``bctrace`` root command: global options, the core commands, every plugin's namespaced
group, deprecated spellings, and the one place where an error becomes one line and an exit code.

Every failure a user can cause prints one line ``error: ...`` on stderr and exits with the
documented code (0 ok, 1 not verified, 2 usage/config, 3 chain/network/store); no traceback
unless ``--debug``. A plugin that fails to load is one ``warning:`` line; the rest works.
"""

from __future__ import annotations

import logging
import traceback
from typing import Any, NoReturn

import click

from .._internal.registry import CORE, CommandRegistry, load_reference
from ..errors import BctraceError, one_line
from .context import deprecated

CORE_COMMANDS: dict[str, str] = {
    "stamp": "bctrace.cli.anchoring:stamp", "record": "bctrace.cli.anchoring:record", "flush": "bctrace.cli.anchoring:flush",
    "upgrade": "bctrace.cli.anchoring:upgrade", "fetch-proofs": "bctrace.cli.anchoring:fetch_proofs",
    "status": "bctrace.cli.anchoring:status", "verify": "bctrace.cli.checking:verify", "show": "bctrace.cli.checking:show",
    "bundle": "bctrace.cli.checking:bundle_cmd", "chains": "bctrace.cli.project:chains", "init": "bctrace.cli.project:init",
    "serve": "bctrace.cli.serve:serve", "export": "bctrace.cli.exporting:export", "import": "bctrace.cli.exporting:import_cmd",
    "disclose": "bctrace.cli.disclosing:disclose", "kinds": "bctrace.cli.kinds:kinds",
}
"""The core commands by name, as import references: a command's module (and what it imports) is
loaded only when that command runs or ``--help`` lists it, so ``bctrace verify`` does not pay for
``serve`` or ``stamp``."""


def _commands(ctx: click.Context) -> CommandRegistry:
    """The core commands and every plugin's group, collected once per invocation; the
    problems of plugins that could not be loaded are printed once, one line each."""
    root = ctx.find_root()
    registry = root.meta.get("bctrace.commands")
    if registry is None:
        from .._internal.plugin_manager import command_registry, get_plugin_manager

        core = CommandRegistry()
        for name, reference in CORE_COMMANDS.items():
            core.add(reference, name=name)
        pm = get_plugin_manager()
        registry = command_registry(pm, core=core)
        for problem in [*pm.problems, *registry.problems]:
            click.echo(f"warning: {problem}", err=True)
        root.meta["bctrace.commands"] = registry
    return registry


class BctraceGroup(click.Group):
    """Commands come from the command registry; every :class:`BctraceError` raised by any
    subcommand becomes one line and its exit code."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_commands(ctx).commands)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        registry = _commands(ctx)
        if cmd_name in registry.aliases:
            target = registry.aliases[cmd_name].split()
            deprecated(f"'bctrace {cmd_name}'", f"'bctrace {' '.join(target)}'")
            command = self.get_command(ctx, target[0])
            for part in target[1:]:
                if not isinstance(command, click.Group):
                    return None
                command = command.get_command(ctx, part)
            return command
        entry = registry.commands.get(cmd_name)
        if isinstance(entry, str):
            try:
                entry = registry.commands[cmd_name] = load_reference(entry)
            except Exception as err:  # a plugin's broken command module is one line, also in --help
                del registry.commands[cmd_name]
                owner = registry.owner(cmd_name) or CORE
                click.echo(f"warning: plugin {owner!r}: command {cmd_name!r} cannot be loaded: {type(err).__name__}: {one_line(err, 300)}", err=True)
                return None
        return entry

    def make_context(self, info_name: str | None, args: list[str], parent: click.Context | None = None, **extra: Any) -> click.Context:
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except click.UsageError as err:  # the root's own options (``bctrace --bogus``)
            _usage_error(err)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as err:  # a subcommand's (unknown command or option, bad value, missing argument)
            _usage_error(err)
        except BctraceError as err:
            click.echo(f"error: {err.one_line()}", err=True)
            if (ctx.obj or {}).get("debug"):
                click.echo("".join(traceback.format_exception(err)).rstrip(), err=True)
            ctx.exit(err.exit_code)
        except KeyboardInterrupt:
            click.echo("interrupted; records already recorded stay in the outbox", err=True)
            ctx.exit(130)


def _usage_error(err: click.UsageError) -> NoReturn:
    """Click's usage mistakes as one line like every other error (click's own form is three:
    usage, a hint, the error), naming the command and where its help is; exit 2."""
    where = err.ctx.command_path if err.ctx is not None else "bctrace"
    click.echo(f"error: {where}: {one_line(err.format_message())} (see '{where} --help')", err=True)
    raise click.exceptions.Exit(err.exit_code)


@click.group(cls=BctraceGroup)
@click.option("--config", "config_path", type=click.Path(dir_okay=False), envvar="BCTRACE_CONFIG",
              help="Config file (default: bctrace.toml or [tool.bctrace] in pyproject.toml, searched upwards).")
@click.option("-v", "--verbose", count=True, help="Log what bctrace does on stderr (-v: steps, -vv: details).")
@click.option("--debug", is_flag=True, help="On an error, also print its cause chain (traceback).")
@click.version_option(package_name="bctrace")
@click.pass_context
def main(ctx: click.Context, config_path: str | None, verbose: int, debug: bool) -> None:
    """Tamper-evident, chain-anchored records with portable proof bundles."""
    ctx.obj = {"config_path": config_path, "debug": debug, "verbose": verbose}
    if verbose:
        _log_to_stderr(ctx, logging.INFO if verbose == 1 else logging.DEBUG)


class _StderrHandler(logging.Handler):
    """Log lines on the invocation's stderr (click's, so that test runners capture them)."""

    def emit(self, record: logging.LogRecord) -> None:
        click.echo(self.format(record), err=True)


def _log_to_stderr(ctx: click.Context, level: int) -> None:
    """Operators' view (``-v``): bctrace's loggers on stderr for this invocation. Secrets are
    never logged (keys are referenced, RPC URLs redacted)."""
    logger = logging.getLogger("bctrace")
    handler = _StderrHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    previous = logger.level
    logger.addHandler(handler)
    logger.setLevel(level)

    def restore() -> None:
        logger.removeHandler(handler)
        logger.setLevel(previous)

    ctx.call_on_close(restore)
