"""The command line in its user's language: chosen from the environment as gettext programs
choose it, and Click classes that show the help texts from the catalogs.

Texts are written in English (`t("Created merchant {id}.")`, help texts marked with
`gettext_noop`) and looked up when shown, so one process can answer in the language of
whichever environment runs it (the tests run the same commands in Thai and English).
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import IO, Any

import click

from app import i18n
from app.i18n import gettext_noop
from app.wallet.i18n import normalize_language

LANGUAGE_VARIABLES = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")
"""Where the language is read, in Python's gettext order: the first one set wins."""
CLICK_TEXTS = (
    gettext_noop("Usage:"), gettext_noop("Options"), gettext_noop("Commands"),
    gettext_noop("Show this message and exit."),
    gettext_noop("Load environment variables from this file, taking precedence over those set "
                 "by '.env' and '.flaskenv'. Variables set directly in the environment take "
                 "highest precedence. python-dotenv must be installed."),
    gettext_noop("The Flask application or factory function to load, in the form "
                 "'module:name'. Module can be a dotted import or file path. Name is not "
                 "required if it is 'app', 'application', 'create_app', or 'make_app', and can "
                 "be 'name(args)' to pass arguments."),
    gettext_noop("Set debug mode."),
)
"""Click's and Flask's own words around our help texts (they give them in English)."""


def cli_language(environ: Mapping[str, str] | None = None) -> str:
    """The command line's language: the first entry of the first variable set among LANGUAGE
    (a colon-separated list), LC_ALL, LC_MESSAGES and LANG that is one of the five
    ('th_TH.UTF-8' is Thai, 'zh_TW' Traditional Chinese); English otherwise."""
    env = os.environ if environ is None else environ
    value = next((env[name] for name in LANGUAGE_VARIABLES if env.get(name)), "")
    for entry in value.split(":"):
        tag = entry.split("@")[0]
        if tag.split(".")[0] in ("C", "POSIX"):
            return "en"
        lang = normalize_language(tag)
        if lang is not None:
            return lang
    return "en"


def t(message: str, /, **values: Any) -> str:
    """`message` in the command line's language, {values} filled in."""
    return i18n.gettext(cli_language(), message, **values)


def tn(singular: str, plural: str, count: int, /, **values: Any) -> str:
    """The form of a counted message that fits `count`, in the command line's language."""
    return i18n.ngettext(cli_language(), singular, plural, count, **values)


class CliError(click.ClickException):
    """A failure printed as one line, "Error: ..." in the command line's language."""

    def show(self, file: IO[Any] | None = None) -> None:
        """Print the message on standard error."""
        click.echo(t("Error: {message}", message=self.format_message()), file=file,
                   err=True)


class Formatter(click.HelpFormatter):
    """Click's help layout with its own words translated."""

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        """The usage line, "Usage:" translated."""
        super().write_usage(prog, args, f"{t('Usage:')} " if prefix is None else prefix)

    @contextmanager
    def section(self, name: str) -> Iterator[None]:
        """A titled section ("Options", "Commands"), its title translated."""
        with super().section(t(name)):
            yield


class Context(click.Context):
    """A command's context, laying out help with the translating formatter."""

    formatter_class = Formatter


def short_help(text: str, limit: int) -> str:
    """A help text cut at a space before `limit` characters for the command list (whole
    where the language writes no spaces there: the list wraps it)."""
    if len(text) <= limit:
        return text
    cut = text[:limit - 3]
    if cut.rfind(" ") <= limit // 2:  # Thai and Chinese: no space to cut at, shown whole
        return text
    return cut.rsplit(" ", 1)[0].rstrip(" .,;:") + "..."


def option_help(param: click.Parameter, ctx: click.Context) -> tuple[str, str] | None:
    """An option's line in the help: its flags and its help text translated, with its
    default and range."""
    record = param.get_help_record(ctx)
    if record is None or not isinstance(param, click.Option):
        return record
    extra = param.get_help_extra(ctx)
    items = [t("default: {value}", value=extra["default"])] if "default" in extra else []
    items += [extra["range"]] if "range" in extra else []
    items += [t("required")] if "required" in extra else []
    text = t(inspect.cleandoc(param.help)) if param.help else ""
    shown = f"{text}  [{'; '.join(items)}]" if items else text
    return record[0], shown.strip()


class Localized(click.Command):
    """A command whose help texts show in the command line's language."""

    context_class = Context

    def format_help_text(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command's help paragraph, translated."""
        if self.help:
            formatter.write_paragraph()
            with formatter.indentation():
                formatter.write_text(t(inspect.cleandoc(self.help)))

    def get_short_help_str(self, limit: int = 45) -> str:
        """The command's help in the list of commands, translated and shortened."""
        return short_help(t(inspect.cleandoc(self.help)), limit) if self.help else ""

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The options with their help texts translated (and a group's commands)."""
        rows = [row for param in self.get_params(ctx) if (row := option_help(param, ctx))]
        if rows:
            with formatter.section(gettext_noop("Options")):
                formatter.write_dl(rows)
        if isinstance(self, click.Group):
            self.format_commands(ctx, formatter)
