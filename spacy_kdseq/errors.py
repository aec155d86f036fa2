"""All user-facing error messages, one place, each with a stable code.

Codes are grouped by area so that modules can add messages without clashing:
E0xx CRF core, E1xx components, E2xx corpora and evaluation, E3xx distillation,
E4xx project workflow and report. Access ``Errors.E001`` to get the message
prefixed with its code, e.g. ``"[E001] ..."``.
"""


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
    # --- E1xx: components (crf_ner, crf_tagger) ---------------------------
    # --- E2xx: corpora and evaluation --------------------------------------
    # --- E3xx: distillation ------------------------------------------------
    # --- E4xx: project workflow and report ---------------------------------


class Warnings(metaclass=_ErrorsWithCodes):
    # W0xx CRF, W1xx components, W2xx corpora, W3xx distillation, W4xx report.
    pass
