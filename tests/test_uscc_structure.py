"""USCC validation checks GB 32100's positions 1–8 (authority, its type code, six-digit region) as
well as the check character, in the scalar and the vectorised form alike."""

import polars as pl
import pytest

from ingestion.uscc import check_character, is_valid_uscc, is_valid_uscc_expr


def _with_check(first17: str) -> str:
    return first17 + check_character(first17)


VALID = ["91330106MA2TA0001",  # 工商 (9), 企业 (1), 西湖区
         "92330106MA2TA0001",  # 个体工商户
         "52330100MJ0000001",  # 民政 (5), 民办非企业单位
         "12330000470000001",  # 机构编制 (1), 事业单位
         "N2330100MA0000001"]  # 农业 (N), 村级集体经济组织
INVALID = ["94330106MA2TA0001",  # 工商 assigns no type 4
           "01330106MA2TA0001",  # 0 is no registration authority
           "B1330106MA2TA0001",  # nor is B
           "913301A6MA2TA0001",  # the region code is six digits
           "9133010MA2TA00001"]  # a letter at position 8


@pytest.mark.parametrize("first17,valid", [(c, True) for c in VALID] + [(c, False) for c in INVALID])
def test_structure_of_positions_1_to_8(first17, valid):
    code = _with_check(first17)  # the check character is right in every case
    assert is_valid_uscc(code) is valid
    assert pl.select(is_valid_uscc_expr(pl.lit(code))).item() is valid


def test_a_wrong_check_character_still_fails():
    code = _with_check(VALID[0])
    wrong = code[:17] + ("0" if code[17] != "0" else "1")
    assert not is_valid_uscc(wrong)
    assert not pl.select(is_valid_uscc_expr(pl.lit(wrong))).item()
