"""Run every benchmark script in this folder (bench_*.py) one after another."""

import subprocess
import sys
from pathlib import Path

here = Path(__file__).parent
for script in sorted(here.glob("bench_*.py")):
    print(f"\n## {script.name}\n", flush=True)
    subprocess.run([sys.executable, str(script)], check=True)
