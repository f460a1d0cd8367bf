"""Sample data: a deterministic, realistic landing directory (clean or messy) and its truth.

    generate_landing(out_dir, enterprises=500, years=(2020, 2025), seed=0, messy=False, formats="mixed")
    clean_records(enterprises=500, years=(2020, 2025), seed=0) -> {source: polars.DataFrame}
"""

from sample_data.landing import generate_landing
from sample_data.truth import clean_records

__all__ = ["generate_landing", "clean_records"]
