"""`modelport users …`: make console accounts and change their role from the shell, straight
on the configured database (how an operator makes the first root of an upgraded server, where
sign-up makes plain users)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer

from ..accounting.passwords import Passwords, WeakPassword
from ..accounting.users import BadUsername, LastRoot, UsernameTaken, UserStore
from .database import DatabaseUrl, DataDir, run_on_database

T = TypeVar("T")

users_app = typer.Typer(name="users", help="Manage console accounts.", no_args_is_help=True)


def _run(
    data_dir: Path | None, database_url: str | None, job: Callable[[UserStore], Awaitable[T]]
) -> T:
    return run_on_database(data_dir, database_url, lambda db: job(UserStore(db)))


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(1)


@users_app.command()
def create(
    username: Annotated[str, typer.Argument(help="2-64 characters: a-z, 0-9, _ . -")],
    password: Annotated[
        str,
        typer.Option(
            "--password",
            prompt=True,
            hide_input=True,
            confirmation_prompt=True,
            envvar="MODELPORT_USER_PASSWORD",
            help="Asked for when not given.",
        ),
    ],
    root: Annotated[bool, typer.Option("--root", help="Make it a root account.")] = False,
    admin: Annotated[bool, typer.Option("--admin", help="Make it an admin account.")] = False,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Create a console account and print its id."""
    role = "root" if root else "admin" if admin else None  # None: root if the first

    async def job(store: UserStore) -> str:
        hashed = await Passwords().hash(password)
        return (await store.create(username, password_hash=hashed, role=role)).id

    try:
        typer.echo(_run(data_dir, database_url, job))
    except (WeakPassword, BadUsername) as exc:
        raise _fail(str(exc)) from None
    except UsernameTaken:
        raise _fail(f"the username {username!r} is taken") from None


@users_app.command("set-role")
def set_role(
    username: Annotated[str, typer.Argument()],
    role: Annotated[str, typer.Argument(help="user, admin or root")],
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Change an account's role (its console key follows at its next request)."""
    if role not in ("user", "admin", "root"):
        raise _fail("the role is one of user, admin, root")

    async def job(store: UserStore) -> bool:
        user = await store.by_username(username)
        return user is not None and await store.set_role(user.id, role)

    try:
        found = _run(data_dir, database_url, job)
    except LastRoot:
        raise _fail("this is the last root account") from None
    if not found:
        raise _fail(f"no account named {username!r}")
    typer.echo(f"{username}: {role}")
