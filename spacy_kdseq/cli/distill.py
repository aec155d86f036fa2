"""``spacy kdseq distill``: train one multilingual student from per-language teachers."""
from pathlib import Path
from typing import Optional

import typer
from spacy.cli._util import (
    Arg, Opt, import_code, parse_config_overrides, show_validation_error,
)
from wasabi import msg

from ..errors import KDSeqError
from ..registries import registry  # noqa: F401  (a --code file may register kd_losses)
from ._app import app


@app.command(
    "distill", context_settings={"allow_extra_args": True, "ignore_unknown_options": True}
)
def distill_cli(
    # fmt: off
    ctx: typer.Context,
    config_path: Path = Arg(..., help="Student training config with a distillation block", exists=True, allow_dash=False),
    output_path: Optional[Path] = Opt(None, "--output", "--output-path", "-o", help="Output directory for model-best and model-last", file_okay=False),
    code_path: Optional[Path] = Opt(None, "--code", "-c", help="Python file with additional functions to register"),
    use_gpu: int = Opt(-1, "--gpu-id", "-g", help="GPU ID or -1 for CPU"),
    force_annotate: bool = Opt(False, "--force-annotate", help="Rebuild the knowledge cache even where intact"),
    # fmt: on
):
    """
    Distil the teachers of the config's distillation block into the student described by the config:
    annotate the training docs once (or reuse the cache), then train with spaCy's
    own loop, so loggers, callbacks, patience and model-best/model-last work as in
    `spacy train`. Every setting can be overridden, e.g.
    --distillation.method topwk --distillation.topwk_k 10 --distillation.temperature 4.
    """
    from ..distill.train import distill

    overrides = parse_config_overrides(ctx.args)
    import_code(code_path)
    try:
        with show_validation_error(config_path, hint_fill=False):
            distill(config_path, output_path, overrides=overrides, use_gpu=use_gpu,
                    force_annotate=force_annotate)
    except KDSeqError as err:
        msg.fail(str(err), exits=1)
