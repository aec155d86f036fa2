"""``spacy kdseq annotate``: build (or check) the teachers' knowledge cache of a config."""
from pathlib import Path

import typer
from spacy.cli._util import Arg, Opt, parse_config_overrides, show_validation_error
from wasabi import msg

from ..errors import KDSeqError
from ._app import app


@app.command(
    "annotate", context_settings={"allow_extra_args": True, "ignore_unknown_options": True}
)
def annotate_cli(
    # fmt: off
    ctx: typer.Context,
    config_path: Path = Arg(..., help="Student training config with a distillation block", exists=True, allow_dash=False),
    force: bool = Opt(False, "--force", "-F", help="Rebuild every cache entry, even intact ones"),
    backend: str = Opt("serial", "--backend", help="serial, or ray: one Ray task per language and training file"),
    ray_address: str = Opt("", "--ray-address", help="With ray: '' for a local Ray, 'auto' or ray://HOST:10001 for a cluster"),
    unit_cpus: int = Opt(1, "--unit-cpus", help="With ray: CPU cores (and torch threads) per task"),
    # fmt: on
):
    """
    Run each language's teacher once over that language's training docs and cache
    its CRF potentials in the student's label space ([distillation] cache_dir).
    Intact entries are reused; stale ones rebuilt; corrupt ones refused. Config
    overrides as in `spacy train`, e.g. --distillation.cache_dir kd-cache/ner.
    """
    from ..distill.train import load_distill_config
    from ..workflow.annotation import annotate_config
    from ..workflow.backends import UnitsFailed

    overrides = parse_config_overrides(ctx.args)
    try:
        with show_validation_error(config_path):
            config = load_distill_config(config_path, overrides)
        prepared = annotate_config(
            config, force=force, backend=backend, address=ray_address, unit_cpus=unit_cpus
        )
    except (UnitsFailed, KDSeqError) as err:
        msg.fail(str(err), exits=1)
    for lang, entries in sorted(prepared.knowledge.items()):
        n_docs = sum(len(e.keys) for e in entries)
        n_tokens = sum(e.emissions.shape[0] for e in entries)
        msg.good(f"{lang}: knowledge for {n_docs} docs, {n_tokens} tokens")
    size = sum(p.stat().st_size for p in prepared.cache_dir.glob("*") if p.is_file())
    msg.info(f"Cache {prepared.cache_dir}: {size / 2**20:.1f} MiB on disk")
