"""Generation speed of the LLM study's generator (SmolLM2-135M-Instruct, docs/study.md):
new tokens per second through transformers (the study's runtime) at batch 1 and at the
study's batch 32, and, when ``llama-cpp-python`` is installed, through llama.cpp on the
same GGUF file and prompts (one stream, its usual use), all in one run, as ratios.

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_llm.py [--threads 1] [--prompts 32]

Needs `make study-setup` (llama-cpp-python is optional: `pip install llama-cpp-python`
builds it from source). Tokens are each completion's tokens plus the end token, capped
at ``--max-new-tokens``; the clock covers generation only, not the load.
"""

from __future__ import annotations

import argparse
import importlib.util
import time

from synthgain.study import SmolLMGenerator, class_prompt, model_path


def _tokens(tok, texts, cap):
    return sum(min(len(tok(t, add_special_tokens=False)["input_ids"]) + 1, cap) for t in texts)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--prompts", type=int, default=32)
    ap.add_argument("--max-new-tokens", type=int, default=32)
    args = ap.parse_args()
    demos = ["What U.S. state has the most lakes ?", "Where is the Taj Mahal ?",
             "What city is the home of the Dolphins ?"]
    prompts = [class_prompt("LOC", demos)] * args.prompts
    seeds = list(range(args.prompts))
    cap = args.max_new_tokens
    t0 = time.perf_counter()
    gen = SmolLMGenerator(threads=args.threads, batch_size=32)
    _, tok = gen.load()
    print(f"transformers load: {time.perf_counter() - t0:.1f} s, torch threads={args.threads}")
    speed = {}
    for batch in (1, 32):
        gen.batch_size = batch
        n = args.prompts if batch > 1 else max(4, args.prompts // 8)
        t0 = time.perf_counter()
        texts = gen.generate(prompts[:n], seeds[:n], temperature=0.7, max_new_tokens=cap)
        dt = time.perf_counter() - t0
        tokens = _tokens(tok, texts, cap)
        speed[f"transformers, batch {batch}"] = tokens / dt
        print(f"transformers batch {batch:>2}: {n} completions, {tokens} tokens in {dt:.1f} s"
              f" = {tokens / dt:.1f} tokens/s, {n / dt:.2f} completions/s")
    if importlib.util.find_spec("llama_cpp") is not None:
        from llama_cpp import Llama

        t0 = time.perf_counter()
        llm = Llama(model_path=str(model_path()), n_threads=args.threads, n_ctx=512,
                    verbose=False)
        print(f"llama.cpp load: {time.perf_counter() - t0:.1f} s, threads={args.threads}")
        n = max(4, args.prompts // 8)
        t0 = time.perf_counter()
        tokens = 0
        for i in range(n):
            out = llm.create_chat_completion([{"role": "user", "content": prompts[i]}],
                                             temperature=0.7, max_tokens=cap, seed=seeds[i])
            tokens += min(int(out["usage"]["completion_tokens"]) + 1, cap)
        dt = time.perf_counter() - t0
        speed["llama.cpp, one stream"] = tokens / dt
        print(f"llama.cpp one stream: {n} completions, {tokens} tokens in {dt:.1f} s = "
              f"{tokens / dt:.1f} tokens/s, {n / dt:.2f} completions/s")
    else:
        print("llama.cpp: not installed (pip install llama-cpp-python), not measured")
    base = speed["transformers, batch 1"]
    for name, v in speed.items():
        print(f"{name:<24} {v:6.1f} tokens/s  {v / base:5.2f}x transformers batch 1")


if __name__ == "__main__":
    main()
