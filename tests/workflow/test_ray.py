"""The `ray` backend on real units: annotation as serial, failures and kills, a separate Ray head."""
import dataclasses
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy
import pytest
from spacy.util import load_config

from spacy_kdseq.distill.train import prepare
from spacy_kdseq.workflow import units as units_module
from spacy_kdseq.workflow.annotation import annotate_config
from spacy_kdseq.workflow.backends import UnitsFailed, run_units
from spacy_kdseq.workflow.layout import teacher_model
from spacy_kdseq.workflow.plan import pending
from spacy_kdseq.workflow.units import run_unit

from .test_workflow import LANGS, REPO, TINY, _label, _students, root  # noqa: F401 (fixture)

ray = pytest.importorskip("ray")
# the `ray` command, run by this interpreter (its script need not sit beside it, as in a venv
# over a base interpreter that holds ray)
RAY = [sys.executable, "-c", "from ray.scripts.scripts import main; main()"]


def run_or_die(unit):
    """run_unit, except that seed 5's worker is killed once trained, before its outputs move."""
    if unit.seed == 5:
        units_module._evaluate = lambda *args, **kwargs: os.kill(os.getpid(), signal.SIGKILL)
    return run_unit(unit)


def _config(root: Path, cache_dir: Path):
    corpus = root / "corpus" / "ner"
    config = load_config(REPO / "configs" / "student-ner.cfg", overrides={
        "paths.train": str(corpus / "train"), "paths.dev": str(corpus / "dev"),
        "distillation.method": "posterior", "distillation.cache_dir": str(cache_dir),
    }, interpolate=False)
    config["distillation"]["teachers"] = {lang: str(teacher_model(root, "ner", lang)) for lang in LANGS}
    return config


def test_annotation_on_ray_builds_what_prepare_builds(root: Path, tmp_path: Path) -> None:
    prepare(_config(root, tmp_path / "serial"))
    annotate_config(_config(root, tmp_path / "ray"), backend="ray")
    serial = json.loads((tmp_path / "serial" / "manifest.json").read_text())["entries"]
    manifest = tmp_path / "ray" / "manifest.json"
    parallel = json.loads(manifest.read_text())["entries"]
    assert sorted(serial) == sorted(parallel) and len(serial) == len(LANGS)
    for name in serial:
        with numpy.load(tmp_path / "serial" / name) as a, numpy.load(tmp_path / "ray" / name) as b:
            for key in a.files:
                numpy.testing.assert_array_equal(a[key], b[key])
    # A distillation run's `prepare` finds every entry: nothing is rebuilt.
    before = manifest.read_bytes()
    prepare(_config(root, tmp_path / "ray"))
    assert manifest.read_bytes() == before


@pytest.mark.slow
def test_a_failed_or_killed_unit_keeps_the_others_and_a_rerun_does_only_them(root: Path) -> None:
    good, bad, killed = _students(root, ["none"], [3, 4, 5])
    broken = dataclasses.replace(bad, overrides={**bad.overrides, "training.optimizer.learn_rate": "fast"})
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    try:
        with pytest.raises(UnitsFailed) as failed:
            run_units([good, broken, killed], run_or_die, _label, backend="ray")
    finally:
        ray.cloudpickle.unregister_pickle_by_value(sys.modules[__name__])
    errors = dict(failed.value.failures)
    assert sorted(errors) == [bad.label, killed.label]
    assert "learn_rate" in errors[bad.label] and "[E414]" in errors[killed.label]
    assert good.record.exists()
    for unit in (bad, killed):
        assert not unit.record.exists() and not unit.output.exists()
    # the killed unit's half-way model is left where no rerun looks
    assert list(killed.output.parent.glob(f".{killed.output.name}.partial-*/model-best"))
    kept = good.record.read_bytes()
    assert pending([good, bad, killed]) == [bad, killed]
    run_units(pending([good, bad, killed]), run_unit, _label, backend="ray")
    assert bad.record.exists() and killed.record.exists() and good.record.read_bytes() == kept


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def ray_head(tmp_path: Path):
    """A Ray head on the loopback address, started as `ray start --head` would be; stopped after."""
    address = f"127.0.0.1:{_free_port()}"
    head = subprocess.Popen(
        [*RAY, "start", "--head", "--block",
         "--node-ip-address", "127.0.0.1", "--port", address.split(":")[1], "--num-cpus", "2",
         "--num-gpus", "0", "--include-dashboard", "false", "--disable-usage-stats"],
        stdout=(tmp_path / "head.log").open("w"), stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        deadline = time.time() + 120
        while subprocess.run([*RAY, "status", "--address", address], capture_output=True).returncode != 0:
            if head.poll() is not None or time.time() > deadline:
                pytest.fail(f"the Ray head did not start:\n{(tmp_path / 'head.log').read_text()}")
            time.sleep(2)
        yield address
    finally:
        # the head and every process it started are in its own session: stop exactly those
        os.killpg(head.pid, signal.SIGTERM)
        try:
            head.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(head.pid, signal.SIGKILL)
            head.wait()
        # and forget it, as `ray stop` would, so that no later `auto` looks for it
        current = Path("/tmp/ray/ray_current_cluster")
        if current.exists() and current.read_text().endswith(address.split(":")[1]):
            current.unlink()


@pytest.mark.slow
def test_the_workflow_runs_on_a_separately_started_ray_head(root: Path, ray_head: str) -> None:
    overrides = " ".join(f"{key}={value}" for key, value in TINY.items())
    step = [
        sys.executable, "scripts/workflow.py", "spacy", "ner", "--root", str(root), "--langs", " ".join(LANGS),
        "--overrides", overrides, "--backend", "ray", "--ray-address", "auto",
    ]
    # `auto` finds the head through RAY_ADDRESS, so no other Ray on this machine is joined
    out = subprocess.run(step, cwd=REPO, env={**os.environ, "RAY_ADDRESS": ray_head},
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert "3 units on Ray (2 CPUs" in out.stdout
    for name in (*LANGS, "xx"):
        record = json.loads((root / "results" / "ner" / "spacy" / f"{name}.json").read_text())
        assert record["kind"] == "spacy" and record["training"]["steps"] == TINY["training.max_steps"]
