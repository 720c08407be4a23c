"""The README's Python examples run as written: every ```python block of README.md (and of
docs/*.md), each file's blocks in order in one fresh interpreter, from a temporary directory,
with the package found as the set-up's tests find it.  A `print(...)  # -> TEXT` line must
print TEXT.  Exits 77 without torch."""

import os
import re
import subprocess
import sys
import tempfile
import unittest

try:
    import torch  # noqa: F401
except ImportError:
    print("test_readme: torch is not installed (tools/bootstrap.sh makes .venv): skipped")
    sys.exit(77)

SRC = os.environ.get("ACTFIT_SOURCE_DIR",
                     os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
FILES = ["README.md"] + sorted(os.path.join("docs", f) for f in os.listdir(os.path.join(SRC, "docs"))
                               if f.endswith(".md")) if os.path.isdir(os.path.join(SRC, "docs")) \
    else ["README.md"]


def blocks(path):
    with open(os.path.join(SRC, path)) as f:
        text = f.read()
    return re.findall(r"^```python\n(.*?)^```", text, flags=re.S | re.M)


class Readme(unittest.TestCase):
    def test_the_readme_has_a_python_quick_start(self):
        self.assertTrue(blocks("README.md"), "README.md has no ```python block")

    def test_every_python_block_runs_and_prints_what_it_says(self):
        for path in FILES:
            code = "\n".join(blocks(path))
            if not code:
                continue
            with self.subTest(file=path), tempfile.TemporaryDirectory() as tmp:
                r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                   cwd=tmp, env=dict(os.environ, XDG_CACHE_HOME=tmp))
                self.assertEqual(r.returncode, 0, f"{path}:\n{r.stdout}\n{r.stderr}")
                want = [m.strip() for m in re.findall(r"^\s*print\(.*\)\s+# -> (.*)$", code,
                                                      flags=re.M)]
                got = r.stdout.splitlines()
                self.assertEqual(len(got), len(want), f"{path}: printed {got}, expected {want}")
                for g, w in zip(got, want):
                    self.assertEqual(g.strip(), w, path)


if __name__ == "__main__":
    unittest.main(verbosity=1)
