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
