import pytest
import spacy
import srsly
from spacy.language import Language
from spacy.tokens import Doc, DocBin
from typer.testing import CliRunner

from spacy_kdseq.cli import app
from spacy_kdseq.evaluation import (
    detect_task,
    evaluate_pipeline,
    load_gold,
    metrics_to_markdown,
    parse_data_arg,
)
from spacy_kdseq.lang import set_doc_lang

runner = CliRunner()


@Language.component("kdseq_test_all_nouns")
def all_nouns(doc: Doc) -> Doc:
    for token in doc:
        token.pos_ = "NOUN"
    return doc


def gold_doc(vocab, lang, words, ents=None, pos=None):
    iob = ["O"] * len(words)
    for start, end, label in ents or []:
        iob[start:end] = [f"B-{label}"] + [f"I-{label}"] * (end - start - 1)
    doc = Doc(vocab, words=words, ents=iob if pos is None else None, pos=pos)
    if lang:
        set_doc_lang(doc, lang)
    return doc


@pytest.fixture
def ner_nlp():
    nlp = spacy.blank("xx")
    ruler = nlp.add_pipe("entity_ruler")
    ruler.add_patterns([
        {"label": "PER", "pattern": "Ana"}, {"label": "ORG", "pattern": "Madrid"},
        {"label": "MISC", "pattern": "y"}, {"label": "PER", "pattern": "Juan"},
        {"label": "PER", "pattern": "Jan"},
    ])
    return nlp


def ner_gold(vocab):
    return {
        # es: Ana ✓, Madrid wrong label, "y" spurious, Juan ✓, Pedro missed: P = R = 2/4
        "es": [gold_doc(vocab, "es", ["Ana", "vive", "en", "Madrid", "."], [(0, 1, "PER"), (3, 4, "LOC")]),
               gold_doc(vocab, "es", ["Juan", "y", "Pedro"], [(0, 1, "PER"), (2, 3, "PER")])],
        # nl: Jan ✓, Gent missed: P = 1, R = 1/2
        "nl": [gold_doc(vocab, "nl", ["Jan", "woont", "in", "Gent"], [(0, 1, "PER"), (3, 4, "LOC")])],
    }


def test_ner_scores_by_hand(ner_nlp):
    metrics = evaluate_pipeline(ner_nlp, ner_gold(ner_nlp.vocab), task="ner", progress=False)
    es, nl = metrics["languages"]["es"], metrics["languages"]["nl"]
    assert (es["ents_p"], es["ents_r"], es["ents_f"]) == pytest.approx((0.5, 0.5, 0.5))
    assert (nl["ents_p"], nl["ents_r"], nl["ents_f"]) == pytest.approx((1.0, 0.5, 2 / 3))
    assert es["ents_per_type"]["PER"] == pytest.approx({"p": 1.0, "r": 2 / 3, "f": 0.8})
    assert es["ents_per_type"]["LOC"] == pytest.approx({"p": 0.0, "r": 0.0, "f": 0.0})
    assert (es["n_docs"], es["n_words"], nl["n_words"]) == (2, 8, 4)
    assert metrics["average"] == pytest.approx(
        {"n_languages": 2, "ents_p": 0.75, "ents_r": 0.5, "ents_f": (0.5 + 2 / 3) / 2}
    )
    assert metrics["total"]["n_words"] == 12 and metrics["total"]["words_per_second"] > 0
    assert metrics["task"] == "ner" and metrics["version"] == 1
    assert "| **macro avg** | 3 | 12 | 75.00 | 50.00 | 58.33 |" in metrics_to_markdown(metrics)


def test_pos_scores_by_hand_including_unseen_language():
    nlp = spacy.blank("xx")
    nlp.add_pipe("kdseq_test_all_nouns")
    gold = {
        "de": [gold_doc(nlp.vocab, "de", ["Hunde", "bellen"], pos=["NOUN", "VERB"])],
        "fr": [gold_doc(nlp.vocab, "fr", ["chat", "noir", "dort"], pos=["NOUN", "ADJ", "VERB"])],
    }
    metrics = evaluate_pipeline(nlp, gold, task="pos", progress=False)
    assert metrics["languages"]["de"]["pos_acc"] == pytest.approx(0.5)
    assert metrics["languages"]["fr"]["pos_acc"] == pytest.approx(1 / 3)
    assert metrics["average"]["pos_acc"] == pytest.approx(5 / 12)
    assert "tag_acc" not in metrics["average"]


def test_pos_needs_a_tagging_pipeline():
    nlp = spacy.blank("xx")
    gold = {"de": [gold_doc(nlp.vocab, "de", ["Hunde"], pos=["NOUN"])]}
    with pytest.raises(ValueError, match="E216"):
        evaluate_pipeline(nlp, gold, task="pos", progress=False)
    with pytest.raises(ValueError, match="E218"):
        evaluate_pipeline(nlp, gold, task="ner", progress=False)
    with pytest.raises(ValueError, match="E215"):
        evaluate_pipeline(nlp, gold, task="parse", progress=False)


def test_detect_task():
    nlp = spacy.blank("xx")
    with pytest.raises(ValueError, match="E214"):
        detect_task(nlp)
    nlp.add_pipe("ner")
    assert detect_task(nlp) == "ner"
    nlp.add_pipe("tagger")
    with pytest.raises(ValueError, match="E214"):
        detect_task(nlp)
    tagging = spacy.blank("xx")
    tagging.add_pipe("morphologizer")
    assert detect_task(tagging) == "pos"


@pytest.mark.parametrize(
    "arg,expected",
    [("es=a/b.spacy", ("es", "a/b.spacy")), ("zh-Hans=x", ("zh-Hans", "x")),
     ("corpus/es.spacy", (None, "corpus/es.spacy")), ("a=b/c=d.spacy", (None, "a=b/c=d.spacy"))],
)
def test_parse_data_arg(arg, expected):
    lang, path = parse_data_arg(arg)
    assert (lang, str(path)) == expected


def test_cli_writes_json_and_markdown(ner_nlp, tmp_path):
    ner_nlp.to_disk(tmp_path / "model")
    gold = ner_gold(ner_nlp.vocab)
    DocBin(docs=gold["es"] + gold["nl"], store_user_data=True).to_disk(tmp_path / "gold.spacy")
    no_lang = [gold_doc(ner_nlp.vocab, None, ["Ana"], [(0, 1, "PER")])]
    DocBin(docs=no_lang, store_user_data=True).to_disk(tmp_path / "nolang.spacy")
    out, table = tmp_path / "metrics.json", tmp_path / "table.md"
    result = runner.invoke(app, [
        "evaluate", str(tmp_path / "model"), str(tmp_path / "gold.spacy"),
        f"pt={tmp_path / 'nolang.spacy'}", "--task", "ner", "--output", str(out),
        "--markdown", str(table),
    ])
    assert result.exit_code == 0, result.output
    metrics = srsly.read_json(out)
    assert sorted(metrics["languages"]) == ["es", "nl", "pt"]
    assert metrics["languages"]["pt"]["ents_f"] == pytest.approx(1.0)
    assert metrics["languages"]["es"]["data"] == [str(tmp_path / "gold.spacy")]
    assert set(metrics["languages"]["es"]) == {
        "data", "n_docs", "n_words", "words_per_second", "ents_p", "ents_r", "ents_f", "ents_per_type"
    }
    assert set(metrics) == {"version", "model", "task", "languages", "average", "total"}
    assert "| pt | 1 | 1 | 100.00 | 100.00 | 100.00 |" in table.read_text()

    result = runner.invoke(app, ["evaluate", str(tmp_path / "model"), str(tmp_path / "nolang.spacy"), "-t", "ner"])
    # wasabi wraps long messages at the terminal width: compare with whitespace collapsed.
    output = " ".join(result.output.split())
    assert result.exit_code == 1 and "E213" in output and "doc 0" in output
    result = runner.invoke(app, ["evaluate", str(tmp_path / "model"), str(tmp_path / "missing.spacy")])
    assert result.exit_code == 1 and "E201" in result.output


def test_load_gold_groups_by_language(ner_nlp, tmp_path):
    gold = ner_gold(ner_nlp.vocab)
    DocBin(docs=gold["nl"] + gold["es"], store_user_data=True).to_disk(tmp_path / "g.spacy")
    docs, files = load_gold([(None, tmp_path / "g.spacy")], ner_nlp)
    assert {lang: len(d) for lang, d in docs.items()} == {"es": 2, "nl": 1}
    DocBin().to_disk(tmp_path / "empty.spacy")
    with pytest.raises(ValueError, match="E217"):
        load_gold([(None, tmp_path / "empty.spacy")], ner_nlp)


def test_a_corpus_directory_is_its_spacy_files(ner_nlp, tmp_path):
    """As `spacy evaluate` does: a directory stands for the .spacy files under it."""
    gold = ner_gold(ner_nlp.vocab)
    corpus = tmp_path / "corpus"
    (corpus / "nl").mkdir(parents=True)
    DocBin(docs=gold["es"], store_user_data=True).to_disk(corpus / "es.spacy")
    DocBin(docs=gold["nl"], store_user_data=True).to_disk(corpus / "nl" / "test.spacy")
    docs, files = load_gold([(None, corpus)], ner_nlp)
    assert sorted(docs) == ["es", "nl"]
    assert files["nl"] == [str(corpus / "nl" / "test.spacy")]
    ner_nlp.to_disk(tmp_path / "model")
    result = runner.invoke(app, ["evaluate", str(tmp_path / "model"), str(corpus), "-t", "ner"])
    assert result.exit_code == 0, result.output
    (tmp_path / "none").mkdir()
    # spaCy's corpus reader warns first (W090); the command then stops with its own error.
    with pytest.warns(UserWarning, match="W090"):
        result = runner.invoke(app, ["evaluate", str(tmp_path / "model"), str(tmp_path / "none")])
    assert result.exit_code == 1 and "E222" in result.output


@pytest.mark.parametrize("content,what", [
    (b"", "it is empty (0 bytes)"),
    (b"Ana B-PER\nvive O\n", "it holds text, starting 'Ana B-PER'"),
    (None, "bytes are truncated or corrupt"),
])
def test_gold_that_is_not_a_docbin_is_named(ner_nlp, tmp_path, content, what):
    """Not spaCy's E1014 about v2 JSON, naming no file."""
    ner_nlp.to_disk(tmp_path / "model")
    if content is None:  # a copy cut short
        gold = ner_gold(ner_nlp.vocab)
        DocBin(docs=gold["es"], store_user_data=True).to_disk(tmp_path / "full.spacy")
        content = (tmp_path / "full.spacy").read_bytes()[:60]
    (tmp_path / "gold.spacy").write_bytes(content)
    result = runner.invoke(app, ["evaluate", str(tmp_path / "model"), str(tmp_path / "gold.spacy")])
    output = " ".join(result.output.split())
    assert result.exit_code == 1 and "E233" in output and what in output
    assert "gold.spacy" in output and "spacy kdseq convert" in output


@pytest.mark.parametrize("model", ["missing", "not-a-pipeline"])
def test_a_model_that_is_not_a_pipeline_is_a_coded_error(ner_nlp, tmp_path, model):
    (tmp_path / "not-a-pipeline").mkdir()
    gold = ner_gold(ner_nlp.vocab)
    DocBin(docs=gold["es"], store_user_data=True).to_disk(tmp_path / "gold.spacy")
    result = runner.invoke(app, ["evaluate", str(tmp_path / model), str(tmp_path / "gold.spacy")])
    output = " ".join(result.output.split())
    assert result.exit_code == 1 and "E234" in output and "is not a spaCy pipeline" in output
    assert "Traceback" not in output


@pytest.mark.parametrize("option", ["--output", "--markdown"])
def test_an_output_under_a_file_is_refused_before_evaluating(tmp_path, option):
    (tmp_path / "afile").write_text("")
    result = runner.invoke(app, ["evaluate", str(tmp_path / "no-model"), str(tmp_path / "no.spacy"),
                                 option, str(tmp_path / "afile" / "m.out")])
    output = " ".join(result.output.split())
    assert result.exit_code == 1 and "E225" in output and "afile is a file" in output
