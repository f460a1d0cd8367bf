"""Unified social credit code (统一社会信用代码), GB 32100-2015: 18 characters of the standard's
charset. Position 1 is the registration authority (登记管理部门代码), position 2 an institution
type that authority uses (机构类别代码), positions 3–8 the six-digit region code of the
registering office (登记管理机关行政区划码), 9–17 the organisation code, 18 the check character.
docs/sources.md says what ingestion does with a code that breaks any of these."""

# The standard's 31-character set (no I, O, S, V, Z) and the weights of positions 1–17.
USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_VALUE = {c: i for i, c in enumerate(USCC_CHARSET)}
# GB 32100-2015 table 1: registration authority -> the institution type codes it assigns.
# 1 机构编制 2 外交 3 司法行政 4 文化 5 民政 6 旅游 7 宗教 8 工会 9 工商 (market regulation)
# A 中央军委改革和编制办公室 N 农业 Y 其他; type 9 is "other" wherever the standard lists it.
AUTHORITY_TYPES = {
    "1": "1239", "2": "19", "3": "123459", "4": "19", "5": "1239", "6": "129", "7": "129", "8": "19",
    "9": "123", "A": "19", "N": "1239", "Y": "1",
}


def check_character(first17: str) -> str:
    """The check character for the first 17 characters (which must be in the charset)."""
    total = sum(_VALUE[c] * w for c, w in zip(first17, USCC_WEIGHTS))
    return USCC_CHARSET[(31 - total % 31) % 31]


def normalise_uscc(raw: str | None) -> str | None:
    """Upper-case and strip, as the spec asks; None for empty."""
    if raw is None:
        return None
    code = raw.strip().upper()
    return code or None


def has_valid_structure(code: str) -> bool:
    """Positions 1–8 as GB 32100 gives them: an authority code, a type code of that authority, a
    six-digit region code."""
    return code[1:2] in AUTHORITY_TYPES.get(code[:1], "") and len(code) >= 8 and code[2:8].isdigit() \
        and code[2:8].isascii()


def is_valid_uscc(code: str | None) -> bool:
    if code is None or len(code) != 18 or any(c not in _VALUE for c in code):
        return False
    return has_valid_structure(code) and check_character(code[:17]) == code[17]


# --- Vectorised forms (polars), so that ten million rows never pass through a Python loop. ---

import polars as pl  # noqa: E402  (kept below the scalar helpers, which need no polars)

_USCC_PATTERN = f"^[{USCC_CHARSET}]{{18}}$"
# Positions 1-2 (an authority and one of its type codes) and 3-8 (six digits) as one pattern.
_STRUCTURE_PATTERN = "^(?:" + "|".join(f"{a}[{types}]" for a, types in AUTHORITY_TYPES.items()) + ")[0-9]{6}"


def is_valid_uscc_expr(code: pl.Expr) -> pl.Expr:
    """True when `code` (already normalised) has 18 characters of the charset, positions 1–8
    structured as GB 32100 gives them and the right check character; False (never null) otherwise."""
    shaped = (code.str.contains(_USCC_PATTERN) & code.str.contains(_STRUCTURE_PATTERN)).fill_null(False)
    # A character's value is its position in the charset (all ASCII: byte offset = position).
    # Outside the charset it is null, which the shape test above already rejects.
    charset = pl.lit(USCC_CHARSET)
    total = pl.sum_horizontal(
        charset.str.find(code.str.slice(i, 1), literal=True) * weight for i, weight in enumerate(USCC_WEIGHTS)
    )
    expected = charset.str.slice((31 - total % 31) % 31, 1)
    return shaped & (expected == code.str.slice(17, 1)).fill_null(False)
