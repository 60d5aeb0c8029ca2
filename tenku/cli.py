"""`tenku ...`: the command line. Each subcommand maps its flags 1:1 onto config fields and calls one function.

User errors (`TenkuError`) print one red line and exit 2; the judge exits 1 when a criterion fails. Heavy imports
happen inside the commands, so `tenku --help` and `tenku world` start fast.

Sections are owned by the module they wrap; keep each command inside its section.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from tenku.errors import TenkuError

app = typer.Typer(
    name="tenku",
    help="Open, self-hosted text-to-video.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
data_app = typer.Typer(help="Make training data.", no_args_is_help=True)
train_app = typer.Typer(help="Train the VAE or the diffusion transformer.", no_args_is_help=True)
app.add_typer(data_app, name="data")
app.add_typer(train_app, name="train")

console = Console()
err_console = Console(stderr=True)


def parse_size(size: str) -> tuple[int, int]:
    """'WxH' -> (width, height), with a clear error."""
    try:
        w, h = (int(v) for v in size.lower().split("x"))
    except ValueError:
        raise TenkuError(f"--size must look like WIDTHxHEIGHT, e.g. 64x64, got {size!r}") from None
    return w, h


# ---------------------------------------------------------------------------------------------------------------
# world: tenku world, tenku data world (tenku/world/)
# ---------------------------------------------------------------------------------------------------------------

# (world commands go here)

# ---------------------------------------------------------------------------------------------------------------
# judge: tenku judge (tenku/world/judge.py)
# ---------------------------------------------------------------------------------------------------------------

# (judge command goes here)

# ---------------------------------------------------------------------------------------------------------------
# model: tenku train vae|dit, tenku generate (tenku/train.py, tenku/pipeline.py)
# ---------------------------------------------------------------------------------------------------------------

# (train and generate commands go here)


def main() -> None:
    """Entry point: run the app, turning user errors into one line and a non-zero exit."""
    try:
        app(standalone_mode=False)
    except TenkuError as e:
        err_console.print(f"[red]error:[/red] {e}", highlight=False, soft_wrap=True)
        sys.exit(2)
    except typer.Exit as e:
        sys.exit(e.exit_code)
    except typer.Abort:
        err_console.print("aborted")
        sys.exit(130)
    except Exception as e:  # click's usage errors arrive here with standalone_mode=False
        import click

        if isinstance(e, click.ClickException):
            e.show()
            sys.exit(e.exit_code)
        raise


if __name__ == "__main__":
    main()
