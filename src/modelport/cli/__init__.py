"""`modelport`: serve, chat from the terminal, manage keys."""

from __future__ import annotations

from typing import Annotated

import typer

from .kb import kb_app
from .keys import keys_app
from .pull import models_app, pull
from .serve import serve
from .users import users_app

app = typer.Typer(
    name="modelport", help="An OpenAI-compatible LLM API platform.", no_args_is_help=True
)
app.add_typer(keys_app)
app.add_typer(users_app)
app.add_typer(kb_app)
app.add_typer(models_app)
app.command()(pull)
app.command()(serve)


@app.command()
def chat(
    question: Annotated[str, typer.Argument(help="What to ask.")],
    model: Annotated[
        str | None, typer.Option(help="Model name (default: the first served).")
    ] = None,
    base_url: Annotated[
        str, typer.Option(envvar="MODELPORT_BASE_URL")
    ] = "http://127.0.0.1:8000/v1",
    api_key: Annotated[str | None, typer.Option(envvar="MODELPORT_API_KEY")] = None,
    max_tokens: Annotated[int, typer.Option(min=1)] = 256,
) -> None:
    """Ask a running server a question and stream the answer to the terminal."""
    from .chat import stream_answer

    raise typer.Exit(stream_answer(question, model, base_url, api_key, max_tokens))


def main() -> None:
    app()
