"""synthgain.lm against independent references: the losses against transformers' own
loss, the batched sketch against the projection of the full gradient from plain
autograd, IFD on constructed prompt/response pairs, batch and cache invariance.

Needs the language model (`make lm-setup`; CI installs it)."""

import numpy as np
import pytest

from synthgain.lm import model_available

pytestmark = pytest.mark.skipif(not model_available(),
                                reason="the language model is not installed: make lm-setup")

ROWS = [("What is the capital of France?", "Write a geography question."),
        ("How many legs does a spider have, and why does it matter to biologists?", None),
        ("Who wrote Hamlet?", "Write a question about a play by an English author."),
        ("Define entropy.", "Write a short science question.")]


@pytest.fixture(scope="module")
def scored():
    from synthgain.lm import score_texts

    return score_texts([r for r, _ in ROWS], [p for _, p in ROWS], threads=2, batch_size=4)


def test_sketch_is_the_projection_of_the_full_restricted_gradient(scored):
    """Float32 arithmetic summed in another order: unit sketches agree to 1e-4."""
    from synthgain.lm import project_gradient, restricted_gradient

    for i, (resp, prompt) in enumerate(ROWS):
        full = project_gradient(restricted_gradient(resp, prompt, threads=2))
        np.testing.assert_allclose(scored.sketch[i], full, atol=1e-4)
    np.testing.assert_allclose(np.linalg.norm(scored.sketch, axis=1), 1.0, atol=1e-6)


def test_losses_match_transformers_own_loss(scored):
    """loss = the mean cross-entropy of the response tokens that transformers computes
    with the prompt's tokens masked (-100), on the same token ids."""
    import torch

    from synthgain.lm import load_model

    model, tok = load_model()
    for i, (resp, prompt) in enumerate(ROWS):
        for alone, value in ((False, scored.loss[i]), (True, scored.loss_alone[i])):
            chat = [{"role": "user", "content": prompt or ""}]
            full = tok.apply_chat_template(chat, tokenize=False, add_generation_prompt=True)
            bare = tok.apply_chat_template(chat, tokenize=False, add_generation_prompt=False)
            pre = full[len(bare):] if (alone or prompt is None) else full
            pre_ids = tok(pre, add_special_tokens=False).input_ids
            ids = pre_ids + tok(resp, add_special_tokens=False).input_ids
            labels = [-100] * len(pre_ids) + ids[len(pre_ids):]
            with torch.inference_mode():
                out = model(input_ids=torch.tensor([ids]), labels=torch.tensor([labels]))
            assert value == pytest.approx(float(out.loss), rel=1e-4)
    assert np.isnan(scored.ifd[1])  # no prompt: IFD undefined
    np.testing.assert_allclose(scored.ifd[[0, 2, 3]], (scored.loss / scored.loss_alone)[[0, 2, 3]])


def test_ifd_is_low_where_the_prompt_holds_the_response():
    from synthgain.lm import score_texts

    resp = "The quick brown fox jumps over the lazy dog near the river bank."
    s = score_texts([resp, resp], [f"Repeat this sentence exactly: {resp}",
                                   "Write one sentence about the history of tea."],
                    sketch=None, threads=2)
    assert s.ifd[0] < 0.5 < s.ifd[1]


def test_a_row_scores_the_same_alone_and_in_a_padded_batch(scored):
    from synthgain.lm import score_texts

    one = score_texts([ROWS[2][0]], [ROWS[2][1]], threads=2, batch_size=1)
    np.testing.assert_allclose(one.loss[0], scored.loss[2], rtol=1e-4)
    np.testing.assert_allclose(one.sketch[0], scored.sketch[2], atol=1e-4)


def test_the_cache_returns_what_was_computed(tmp_path, monkeypatch):
    from synthgain.lm import _score, score_texts

    texts = [r for r, _ in ROWS[:2]]
    first = score_texts(texts, cache_dir=tmp_path, threads=2)

    def fail(*a, **k):
        raise AssertionError("recomputed a cached row")

    monkeypatch.setattr(_score, "_compute", fail)
    again = score_texts(texts, cache_dir=tmp_path, threads=2)
    np.testing.assert_array_equal(first.sketch, again.sketch)
    np.testing.assert_array_equal(first.loss, again.loss)


def test_bad_arguments_name_themselves():
    from synthgain.exceptions import ValidationError
    from synthgain.lm import SketchSpec, score_texts

    with pytest.raises(ValidationError, match="`prompts` must have one entry"):
        score_texts(["a", "b"], ["p"])
    with pytest.raises(ValidationError, match="`dim`"):
        SketchSpec(dim=0)


def test_a_killed_call_keeps_the_chunks_it_finished(tmp_path, monkeypatch):
    """Rows are stored chunk by chunk: after a failure in the second chunk, the first
    chunk's rows are read back, not recomputed."""
    from synthgain.lm import _score, score_texts

    monkeypatch.setattr(_score, "_CHUNK", 2)
    texts = [f"Question number {i} about rivers?" for i in range(4)]
    real, calls = _score._compute, []

    def flaky(prompts, responses, *a, **k):
        calls.append(len(responses))
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(prompts, responses, *a, **k)

    monkeypatch.setattr(_score, "_compute", flaky)
    with pytest.raises(KeyboardInterrupt):
        score_texts(texts, sketch=None, cache_dir=tmp_path, threads=2)
    calls.clear()

    def counted(prompts, responses, *a, **k):
        calls.append(len(responses))
        return real(prompts, responses, *a, **k)

    monkeypatch.setattr(_score, "_compute", counted)
    score_texts(texts, sketch=None, cache_dir=tmp_path, threads=2)
    assert calls == [2]  # only the unfinished chunk
