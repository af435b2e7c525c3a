"""Write the chat-format audit example of docs/audit.md ("Worked example").

    python examples/chat_example.py chat-example        # needs the `demo` extra

writes chat-example/{anchor,synthetic,target,eval}.jsonl (OpenAI ``messages`` rows) and
chat-example/planted.json (the ids of the planted problem rows), from
``synthgain.audit.write_chat_example(out_dir, rng=seed)``.
"""

from __future__ import annotations

import argparse

from synthgain.audit import write_chat_example


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", nargs="?", default="chat-example")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    for name, path in write_chat_example(args.out_dir, rng=args.seed).items():
        rows = sum(1 for _ in path.open(encoding="utf-8")) if path.suffix == ".jsonl" else None
        print(f"{name}: {path}" + (f" ({rows} rows)" if rows is not None else ""))


if __name__ == "__main__":
    main()
