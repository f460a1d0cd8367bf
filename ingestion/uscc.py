"""Unified social credit code (统一社会信用代码), GB 32100-2015: 18 characters, the last a check character."""

# The standard's 31-character set (no I, O, S, V, Z) and the weights of positions 1–17.
USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_VALUE = {c: i for i, c in enumerate(USCC_CHARSET)}


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


def is_valid_uscc(code: str | None) -> bool:
    if code is None or len(code) != 18 or any(c not in _VALUE for c in code):
        return False
    return check_character(code[:17]) == code[17]


# --- Vectorised forms (polars), so that ten million rows never pass through a Python loop. ---

import polars as pl  # noqa: E402  (kept below the scalar helpers, which need no polars)

_USCC_PATTERN = f"^[{USCC_CHARSET}]{{18}}$"


def is_valid_uscc_expr(code: pl.Expr) -> pl.Expr:
    """True when `code` (already normalised) has 18 characters of the charset and the right check
    character; False (never null) otherwise."""
    shaped = code.str.contains(_USCC_PATTERN).fill_null(False)
    # A character's value is its position in the charset (all ASCII: byte offset = position).
    # Outside the charset it is null, which the shape test above already rejects.
    charset = pl.lit(USCC_CHARSET)
    total = pl.sum_horizontal(
        charset.str.find(code.str.slice(i, 1), literal=True) * weight for i, weight in enumerate(USCC_WEIGHTS)
    )
    expected = charset.str.slice((31 - total % 31) % 31, 1)
    return shaped & (expected == code.str.slice(17, 1)).fill_null(False)
