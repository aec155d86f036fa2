"""spacy_kdseq.workflow.provenance: the encoder a saved pipeline names."""
from spacy_kdseq.workflow.provenance import pipeline_encoder

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
    import torch

    from spacy_kdseq.workflow.records import machine_info

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda index: f"Test GPU {index}")
    assert machine_info(1)["gpu"] is None
    assert machine_info(1, gpu_id=0)["gpu"] == "Test GPU 0"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert machine_info(1, gpu_id=0)["gpu"] == "GPU 0"
