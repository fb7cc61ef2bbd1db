"""`fabless model list`: the models in the zoo, with their shapes."""

import json

import typer
from rich.table import Table

from fabless.cli import options
from fabless.cli.app import app
from fabless.cli.console import console, print_table

model_app = typer.Typer(help="List the models `--model` takes by name.", no_args_is_help=True)
app.add_typer(model_app, name="model")


@model_app.command("list")
def list_models(as_json: bool = options.JSON) -> None:
    """List the zoo models: parameters, layers, hidden size, heads and context."""
    from fabless.model import load_model_config
    from fabless.model.zoo import zoo_names

    configs = [load_model_config(name) for name in zoo_names()]
    if as_json:
        print(json.dumps([
            {"name": c.name, "model_type": c.model_type, "params": c.params, "layers": c.num_layers,
             "hidden_size": c.hidden_size, "heads": c.num_heads, "kv_heads": c.num_kv_heads,
             "context": c.max_positions, "vocab_size": c.vocab_size, "experts": c.num_experts,
             "experts_per_token": c.experts_per_token}
            for c in configs
        ], indent=2))
        return
    table = Table(title="Zoo models (name for --model)")
    for column in ("name", "type", "params", "layers", "hidden", "heads / kv heads", "context", "experts"):
        table.add_column(column, justify="left" if column in ("name", "type") else "right")
    for c in configs:
        experts = f"{c.experts_per_token} of {c.num_experts}" if c.is_moe else "-"
        table.add_row(c.name, c.model_type, _params(c.params), str(c.num_layers), f"{c.hidden_size:,}",
                      f"{c.num_heads} / {c.num_kv_heads}", f"{c.max_positions:,}", experts)
    print_table(console(), table)


def _params(count: int) -> str:
    return f"{count / 1e9:,.1f} B" if count >= 1e9 else f"{count / 1e6:,.0f} M"
