"""Where a run came from: the encoder a saved pipeline names, the machine and the code state."""
import subprocess
from pathlib import Path

import torch

from spacy_kdseq.workflow.provenance import pipeline_encoder
from spacy_kdseq.workflow.records import git_state, machine_info

# As `spacy train` saves a transformer pipeline's config: the model's name refers to
# [paths], it is not written out.
SAVED_CONFIG = """
[paths]
encoder = "assets/encoders/e5-small"

[components]

[components.transformer]
factory = "transformer"

[components.transformer.model]
name = ${paths.encoder}

[components.ner]
factory = "crf_ner"
"""


def test_pipeline_encoder_resolves_the_saved_reference(tmp_path):
    (tmp_path / "config.cfg").write_text(SAVED_CONFIG, encoding="utf8")
    assert pipeline_encoder(tmp_path) == "assets/encoders/e5-small"


def test_pipeline_encoder_of_a_cnn_pipeline(tmp_path):
    config = SAVED_CONFIG.split("[components.transformer]")[0] + "[components.ner]\nfactory = \"crf_ner\"\n"
    (tmp_path / "config.cfg").write_text(config, encoding="utf8")
    assert pipeline_encoder(tmp_path) == "cnn"


def test_the_machine_names_the_gpu_only_when_a_run_used_one(monkeypatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda index: f"Test GPU {index}")
    assert machine_info(1)["gpu"] is None
    assert machine_info(1, gpu_id=0)["gpu"] == "Test GPU 0"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert machine_info(1, gpu_id=0)["gpu"] == "GPU 0"


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=repo,
                   check=True, capture_output=True)


def test_a_checkout_is_dirty_for_changed_code_not_for_changed_run_records(tmp_path) -> None:
    record = tmp_path / "results" / "pos" / "teachers" / "en.json"
    record.parent.mkdir(parents=True)
    record.write_text("{}", encoding="utf8")
    (tmp_path / "code.py").write_text("A = 1\n", encoding="utf8")
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-q", "-m", "start")
    commit, dirty = git_state(tmp_path)
    assert len(commit) == 40 and dirty is False
    # A run recorded in the checkout (the workflow writes records where it runs) ...
    record.write_text('{"task": "pos"}', encoding="utf8")
    assert git_state(tmp_path) == (commit, False)
    # ... also seen from a folder below the top, as a ROOT other than the checkout's top.
    assert git_state(record.parent) == (commit, False)
    # Changed code is dirty.
    (tmp_path / "code.py").write_text("A = 2\n", encoding="utf8")
    assert git_state(record.parent) == (commit, True)


def test_outside_git_the_code_state_is_unknown(tmp_path) -> None:
    assert git_state(tmp_path) == (None, None)
