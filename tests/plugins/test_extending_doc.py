"""docs/extending.md shows the example's files whole, and the line counts it quotes are theirs."""

import re

import pytest
from helpers import ROOT

from gpfem.models.common import OUTPUT_PARAMETERS, TIME_PARAMETERS

DOC = ROOT / "docs" / "extending.md"
PKG = ROOT / "examples" / "allen_cahn" / "allen_cahn"


def _block_after(text, heading):
    """The first ```python block after ``heading``."""
    rest = text[text.index(heading):]
    return re.search(r"```python\n(.*?)```", rest, re.S).group(1)


@pytest.mark.parametrize(("heading", "name"), [("## 1. Parameters and presets", "spec.py"),
                                               ("## 2. The model", "model.py")])
def test_the_doc_quotes_the_whole_file(heading, name):
    assert _block_after(DOC.read_text(), heading) == (PKG / name).read_text()


def test_quoted_line_counts_match_the_files():
    lines = {name: (PKG / name).read_text().count("\n") for name in ("model.py", "spec.py")}
    doc = " ".join(DOC.read_text().split())  # the sentence may wrap
    assert f"{lines['model.py']} lines of model code (`model.py`" in doc
    assert f"{lines['spec.py']} lines of parameters and presets (`spec.py`)" in doc
    readme = " ".join((ROOT / "examples" / "allen_cahn" / "README.md").read_text().split())
    assert f"`allen_cahn/model.py`, {lines['model.py']} lines" in readme
    assert f"`allen_cahn/spec.py` ({lines['spec.py']} lines)" in readme


def test_every_shared_parameter_is_in_the_table():
    doc = DOC.read_text()
    for p in (*TIME_PARAMETERS, *OUTPUT_PARAMETERS):
        assert re.search(rf"^\| `{p.name}` \| {re.escape(repr(p.default))} \|", doc, re.M), p.name


#: The history columns of the example (tests/plugins/test_allen_cahn_plugin.py checks a run's header).
COLUMNS = ["step", "time", "dt", "energy", "bulk", "gradient", "newton_iterations"]


def test_history_columns_are_named_in_order():
    text = DOC.read_text()
    bullet = text[text.index("- `history.csv`, one row per accepted step"):text.index("- `fields.pvd`")]
    named = list(dict.fromkeys(n for n in re.findall(r"`(\w+)`", bullet) if n in COLUMNS))  # first mentions
    assert named == COLUMNS
