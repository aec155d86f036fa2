"""``spacy kdseq evaluate``: per-language scores of a pipeline, as JSON and Markdown."""
from pathlib import Path
from typing import List, Optional

from spacy.cli._util import Arg, Opt, import_code
from wasabi import msg

from ..errors import KDSeqError
from ..fileio import check_output_file, write_json_atomic, write_text_atomic
from ._app import app


@app.command("evaluate")
def evaluate_cli(
    # fmt: off
    model: str = Arg(..., help="Pipeline name or path"),
    data: List[str] = Arg(..., help="Gold .spacy files from `spacy kdseq convert`, or directories of them; LANG=PATH forces the language"),
    output: Optional[Path] = Opt(None, "--output", "-o", help="Output JSON file for the metrics", dir_okay=False),
    markdown: Optional[Path] = Opt(None, "--markdown", "-m", help="Output Markdown table", dir_okay=False),
    task: Optional[str] = Opt(None, "--task", "-t", help="ner or pos (default: from the pipeline's components)"),
    batch_size: int = Opt(128, "--batch-size", "-b", help="Docs per batch"),
    code_path: Optional[Path] = Opt(None, "--code", "-c", help="Python file with additional code to import"),
    use_gpu: int = Opt(-1, "--gpu-id", "-g", help="GPU ID or -1 for CPU"),
    # fmt: on
):
    """
    Score a pipeline (crf_ner, crf_tagger, or spaCy's ner, tagger,
    morphologizer) on each language of the gold data, on the gold tokens. Docs
    are grouped by the language `spacy kdseq convert` recorded on them. Prints
    a table and writes the metrics JSON documented in docs/evaluate.md.
    """
    from ..device import setup_device
    from ..evaluation import (
        SCORE_KEYS, evaluate_pipeline, load_gold, load_pipeline, metrics_to_markdown,
        parse_data_arg,
    )

    import_code(code_path)
    try:
        # The outputs' folders are checked before the pipeline runs.
        for path in (output, markdown):
            if path is not None:
                check_output_file(path)
        setup_device(use_gpu)
        nlp = load_pipeline(model)
        gold, files = load_gold([parse_data_arg(arg) for arg in data], nlp)
        metrics = evaluate_pipeline(
            nlp, gold, task=task, model=model, files=files, batch_size=batch_size
        )
    except KDSeqError as err:
        msg.fail(str(err), exits=1)
    keys = [k for k in SCORE_KEYS if k in metrics["average"]]
    rows = [
        (lang, s["n_docs"], s["n_words"], *(_fmt(s.get(k)) for k in keys), _fmt_wps(s))
        for lang, s in metrics["languages"].items()
    ]
    rows.append(("macro avg", metrics["total"]["n_docs"], metrics["total"]["n_words"],
                 *(_fmt(metrics["average"][k]) for k in keys), _fmt_wps(metrics["total"])))
    msg.divider(f"{model} ({metrics['task']})")
    msg.table(rows, header=("lang", "docs", "words", *keys, "words/s"), aligns=("l",) + ("r",) * (len(keys) + 3))
    if output is not None:
        write_json_atomic(output, metrics)
        msg.good(f"Saved metrics to {output}")
    if markdown is not None:
        write_text_atomic(markdown, metrics_to_markdown(metrics))
        msg.good(f"Saved table to {markdown}")


def _fmt(value: Optional[float]) -> str:
    return "-" if value is None else f"{100 * value:.2f}"


def _fmt_wps(scores: dict) -> str:
    wps = scores["words_per_second"]
    return "-" if wps is None else f"{wps:.0f}"
