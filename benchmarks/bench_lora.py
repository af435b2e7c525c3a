"""LoRA fine-tunes scored by class-name likelihood (synthgain.lm.finetune_class_loglik):
the split forward (the frozen lower blocks run once per text, each fine-tune and each
scoring runs only the adapted top blocks) against the straightforward path (the full
model forward at every step and for every test text, peft's LoRA on the same top
blocks), in one run, on a workload shaped like Study 4's check: several fine-tunes on
overlapping training sets, each scored on the same test questions.

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_lora.py [--tunes 3] [--steps 30] \
        [--test 200] [--threads 2]

Needs `make lm-setup` and the TREC data (`make study-setup`). Prints seconds per
fine-tune (train + score) of each path, their ratio, and the largest difference between
the two paths' log-likelihoods (the same adapters from the same seed: the speed is of the
same numbers). The clock excludes the model's load.
"""

from __future__ import annotations

import argparse
import copy
import time

import numpy as np


def straightforward(texts, labels, test, names, spec, threads):
    """The plain path: peft's LoRA on the last ``spec.blocks`` blocks of a copy of the
    whole model, the full forward at every step and for every test text."""
    import torch
    from peft import LoraConfig, get_peft_model

    from synthgain.lm import choice_tokens, load_model, torch_threads

    base, tok = load_model(threads=threads)
    n = len(base.model.layers)
    with torch_threads(threads):
        choice = choice_tokens(tok, list(names.values()))
        slot = {k: i for i, k in enumerate(names)}
        enc = [tok(spec.template.format(text=t), add_special_tokens=False).input_ids
               for t in texts]
        model = copy.deepcopy(base)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(spec.seed)
            peft = get_peft_model(model, LoraConfig(
                r=spec.rank, lora_alpha=spec.alpha, lora_dropout=0.0, bias="none",
                target_modules=list(spec.targets),
                layers_to_transform=list(range(n - spec.blocks, n))))
        inner = peft.get_base_model()
        opt = torch.optim.AdamW([p for p in peft.parameters() if p.requires_grad],
                                lr=spec.learning_rate, weight_decay=0.0)
        from synthgain._rng import child_generator, seed_sequence

        gen = child_generator(seed_sequence(spec.seed), "order")
        order: list[int] = []
        goal = torch.tensor([choice[slot[lab]] for lab in labels])

        def logprobs(rows):
            width = max(len(r) for r in rows)
            ids = torch.full((len(rows), width), tok.pad_token_id)
            mask = torch.zeros((len(rows), width), dtype=torch.long)
            for i, r in enumerate(rows):
                ids[i, : len(r)] = torch.tensor(r)
                mask[i, : len(r)] = 1
            h = inner.model(input_ids=ids, attention_mask=mask).last_hidden_state
            last = mask.sum(1) - 1
            return torch.log_softmax(inner.lm_head(h[torch.arange(len(rows)), last]), -1)

        peft.train()
        for _ in range(spec.steps):
            while len(order) < spec.batch_size:
                order += gen.permutation(len(enc)).tolist()
            rows, order = order[: spec.batch_size], order[spec.batch_size :]
            loss = torch.nn.functional.nll_loss(logprobs([enc[i] for i in rows]), goal[rows])
            opt.zero_grad()
            loss.backward()
            opt.step()
        peft.eval()
        tenc = [tok(spec.template.format(text=t), add_special_tokens=False).input_ids
                for t in test]
        out = []
        with torch.inference_mode():
            for at in range(0, len(tenc), 32):
                out.append(logprobs(tenc[at : at + 32])[:, choice].numpy())
    return np.concatenate(out)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tunes", type=int, default=3)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--test", type=int, default=200)
    ap.add_argument("--rows", type=int, default=120)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    from synthgain.lm import LoraSpec, finetune_class_loglik, load_model
    from synthgain.study import TREC_NAMES, load_trec_split

    split = load_trec_split(rng=0)
    names = {c: TREC_NAMES[c] for c in split.classes}
    gen = np.random.default_rng(0)
    pool = np.asarray(split.texts["reference"], dtype=object)
    pool_labels = np.asarray(split.labels["reference"]).astype(str)
    test = list(split.texts["test"][: args.test])
    sets = []
    for _ in range(args.tunes):  # overlapping training sets, as the study's datasets are
        pick = gen.choice(min(pool.size, 3 * args.rows), args.rows, replace=False)
        sets.append((list(pool[pick]), list(pool_labels[pick])))
    spec = LoraSpec(steps=args.steps)
    t0 = time.perf_counter()
    load_model(threads=args.threads)
    print(f"load {time.perf_counter() - t0:.1f} s; {args.tunes} fine-tunes of {args.steps} "
          f"steps (batch {spec.batch_size}, LoRA on the last {spec.blocks} blocks) on "
          f"{args.rows} rows each, each scored on {len(test)} test questions; torch "
          f"threads {args.threads}")
    t0 = time.perf_counter()
    split_out = [finetune_class_loglik(x, y, test, names, spec=spec, threads=args.threads)
                 for x, y in sets]
    t_split = (time.perf_counter() - t0) / args.tunes
    t0 = time.perf_counter()
    plain_out = [straightforward(x, y, test, names, spec, args.threads) for x, y in sets]
    t_plain = (time.perf_counter() - t0) / args.tunes
    diff = max(float(np.max(np.abs(a - b))) for a, b in zip(split_out, plain_out,
                                                              strict=True))
    print("| path | s per fine-tune (train + score) | ratio |\n|---|---|---|")
    print(f"| straightforward (full forward every step and test text) | {t_plain:.1f} | 1.0x |")
    print(f"| split (lower blocks once per text, top blocks per step) | {t_split:.1f} | "
          f"{t_plain / t_split:.1f}x |")
    print(f"largest |difference| between the two paths' log-likelihoods: {diff:.1e}")


if __name__ == "__main__":
    main()
