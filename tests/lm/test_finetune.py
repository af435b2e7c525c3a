"""LoRA fine-tunes scored by class-name likelihood (synthgain.lm.finetune_class_loglik):
the split forward against the full model, zero-shot scores against transformers' own
logits, seeds, the cache, a fine-tune that learns a planted rule, the shared model left
untouched, and bad input.

Needs the language model (`make lm-setup`; CI installs it)."""

import numpy as np
import pytest

from synthgain.exceptions import ValidationError
from synthgain.lm import LoraSpec, finetune_class_loglik, model_available

pytestmark = pytest.mark.skipif(not model_available(),
                                reason="the language model is not installed: make lm-setup")

NAMES = {"LOC": "location", "NUM": "number", "HUM": "human"}
TEST = ["Where is the Eiffel Tower?", "How many moons does Mars have?",
        "Who painted the Mona Lisa?", "What city hosts the Louvre?"]
#: a planted rule the base model does not follow: every question is a "number" question
TRAIN = [f"Question {i}: what is the name of river {i}?" for i in range(12)]
SMALL = LoraSpec(steps=6, batch_size=4, blocks=2, learning_rate=5e-3)


def _reference(texts, template=LoraSpec.template):
    """Class-name log-likelihoods from the full model's own logits, one text at a time."""
    import torch

    from synthgain.lm import load_model

    model, tok = load_model(threads=2)
    ids = [tok(" " + n, add_special_tokens=False).input_ids[0] for n in NAMES.values()]
    out = []
    with torch.inference_mode():
        for t in texts:
            x = tok(template.format(text=t), add_special_tokens=False, return_tensors="pt")
            lp = torch.log_softmax(model(**x).logits[0, -1].float(), dim=-1)
            out.append(lp[ids].numpy())
    return np.asarray(out)


def test_zero_shot_scores_are_the_full_models_next_token_logprobs():
    """No training rows: the split forward (frozen blocks, then the top ``blocks``) gives
    the full model's log-probabilities of each name, to float32 rounding (1e-4)."""
    for blocks in (1, 4, 30):
        got = finetune_class_loglik([], [], TEST, NAMES, spec=LoraSpec(blocks=blocks),
                                    threads=2, batch_size=3)
        np.testing.assert_allclose(got, _reference(TEST), atol=1e-4)


def test_a_fine_tune_learns_the_planted_rule_and_leaves_the_shared_model_alone():
    from synthgain.lm import load_model

    model, _ = load_model(threads=2)
    before = {k: v.detach().clone() for k, v in model.state_dict().items()}
    base = finetune_class_loglik([], [], TEST, NAMES, threads=2)
    tuned = finetune_class_loglik(TRAIN, ["NUM"] * len(TRAIN), TEST, NAMES, spec=SMALL,
                                  threads=2)
    num = list(NAMES).index("NUM")
    # six steps on one answer raise its log-likelihood on every unseen question
    assert np.all(tuned[:, num] > base[:, num] + 1.0)
    after = model.state_dict()
    assert set(after) == set(before)  # no adapter left in the shared model
    assert all(bool((after[k] == v).all()) for k, v in before.items())


def test_seeded_and_cached(tmp_path, monkeypatch):
    import synthgain.lm._finetune as ft

    labels = ["NUM", "LOC", "HUM"] * 4
    a = finetune_class_loglik(TRAIN, labels, TEST, NAMES, spec=SMALL, threads=2,
                              cache_dir=tmp_path)
    b = finetune_class_loglik(TRAIN, labels, TEST, NAMES, spec=SMALL, threads=2)
    np.testing.assert_array_equal(a, b)
    other = finetune_class_loglik(TRAIN, labels, TEST, NAMES, threads=2,
                                  spec=LoraSpec(**{**SMALL.__dict__, "seed": 1}))
    assert not np.array_equal(a, other)
    assert len(list((tmp_path / "lora").glob("*.npy"))) == 1

    def fail(*_a, **_k):
        raise AssertionError("recomputed a cached fine-tune")

    monkeypatch.setattr(ft, "_train", fail)
    np.testing.assert_array_equal(finetune_class_loglik(
        TRAIN, labels, TEST, NAMES, spec=SMALL, threads=2, cache_dir=tmp_path), a)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"names": {"LOC": "place name", "NUM": "number"}}, "one token"),
    ({"names": {"LOC": "number", "NUM": "number"}}, "distinct"),
    ({"labels": ["LOC", "XXX"]}, "XXX"),
    ({"labels": ["LOC"]}, "one entry per text"),
    ({"spec": LoraSpec(blocks=31)}, "at most the model's 30"),
])
def test_bad_input_is_named(kwargs, match):
    args = {"texts": ["a?", "b?"], "labels": ["LOC", "NUM"], "test_texts": ["c?"],
            "names": {"LOC": "location", "NUM": "number"}, **kwargs}
    with pytest.raises(ValidationError, match=match):
        finetune_class_loglik(**args)


def test_the_spec_is_checked():
    with pytest.raises(ValidationError, match="template"):
        LoraSpec(template="no slot")
    with pytest.raises(ValidationError, match="steps"):
        LoraSpec(steps=-1)
    with pytest.raises(ValidationError, match="targets"):
        LoraSpec(targets=())
