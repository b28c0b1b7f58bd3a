"""``cfaisearch tokens``: service tokens instances use to read R2."""

from __future__ import annotations

from typing import Any

import click

from .. import AsyncCloudflare
from ._common import Column, call, conceal, done, example, out, output_options

__all__ = ["group"]

COLUMNS = (
    Column("id", "id"),
    Column("name", "name"),
    Column("cf_api_id", "cf_api_id"),
    Column("enabled", "enabled"),
    Column("modified", "modified_at"),
)


def _credentials(function: Any) -> Any:
    for decorator in reversed(
        (
            click.option("--name", required=True, help="A name for the token."),
            click.option("--cf-api-id", required=True, help="The Cloudflare API token's id."),
            click.option(
                "--cf-api-key",
                envvar="CFAISEARCH_CF_API_KEY",
                prompt="Secret of the Cloudflare API token",
                hide_input=True,
                help="Its secret [default: $CFAISEARCH_CF_API_KEY, else asked]. Never printed.",
            ),
            click.option(
                "--legacy/--no-legacy", default=None, help="Whether it is a legacy token."
            ),
        )
    ):
        function = decorator(function)
    return function


@click.group("tokens")
def group() -> None:
    """Register, list, replace and delete service tokens."""


@group.command("list")
@click.option("--search", help="Only tokens whose name contains this.")
@output_options
@example("cfaisearch tokens list")
def list_(search: str | None) -> None:
    """List the registered tokens (never their secrets)."""

    async def work(client: AsyncCloudflare) -> Any:
        return [t async for t in client.aisearch.tokens.list(search=search)]

    out(call(work), COLUMNS)


@group.command("get")
@click.argument("token_id")
@output_options
@example("cfaisearch tokens get 4f1c...")
def get(token_id: str) -> None:
    """Show a token (without its secret)."""
    out(call(lambda c: c.aisearch.tokens.read(token_id)))


@group.command("create")
@_credentials
@output_options
@example("CFAISEARCH_CF_API_KEY=... cfaisearch tokens create --name r2-reader --cf-api-id abc123")
def create(name: str, cf_api_id: str, cf_api_key: str, legacy: bool | None) -> None:
    """Register a Cloudflare API token; its secret is read from the environment or asked for."""
    conceal(cf_api_key)
    extra: dict[str, Any] = {} if legacy is None else {"legacy": legacy}
    out(
        call(
            lambda c: c.aisearch.tokens.create(
                name=name, cf_api_id=cf_api_id, cf_api_key=cf_api_key, **extra
            )
        )
    )


@group.command("update")
@click.argument("token_id")
@_credentials
@output_options
@example("cfaisearch tokens update 4f1c... --name r2-reader --cf-api-id def456")
def update(token_id: str, name: str, cf_api_id: str, cf_api_key: str, legacy: bool | None) -> None:
    """Replace a token's credentials and name."""
    conceal(cf_api_key)
    extra: dict[str, Any] = {} if legacy is None else {"legacy": legacy}
    out(
        call(
            lambda c: c.aisearch.tokens.update(
                token_id, name=name, cf_api_id=cf_api_id, cf_api_key=cf_api_key, **extra
            )
        )
    )


@group.command("delete")
@click.argument("token_id")
@output_options
@example("cfaisearch tokens delete 4f1c...")
def delete(token_id: str) -> None:
    """Delete a token (refused while an instance uses it)."""
    done(call(lambda c: c.aisearch.tokens.delete(token_id)), f"deleted token {token_id}")
