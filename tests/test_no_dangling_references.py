"""No tracked file outside docs/ cites the specification files that live outside the repository
(specs/*.md, STACK_NOTES): the project's own docs/ pages are what the code points to."""

import re
import subprocess

from tests.conftest import REPO

DANGLING = re.compile(r"specs/|STACK_NOTES")


def test_no_file_outside_docs_cites_specs_or_stack_notes():
    files = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout.split()
    this = "tests/test_no_dangling_references.py"
    citing = []
    for rel in files:
        if rel.startswith("docs/") or rel == this or not (REPO / rel).is_file():
            continue
        try:
            text = (REPO / rel).read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue  # binary (xlsx fixtures)
        citing += [f"{rel}:{n}" for n, line in enumerate(text.splitlines(), 1) if DANGLING.search(line)]
    assert not citing, f"{len(citing)} line(s) cite specs/ or STACK_NOTES, e.g. {citing[:10]}"
