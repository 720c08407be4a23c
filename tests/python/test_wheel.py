"""pip install . : the wheel builds the C libraries through CMake (scikit-build-core) and
ships libactfit_rt (and libactfit) inside the package.  Installed into a fresh virtual
environment (which reuses this interpreter's torch through a .pth file, with no build
isolation, so nothing is downloaded), `import actfit.nn` works from another directory with
no PYTHONPATH and no ACTFIT_LIBRARY, and trains a step.  Exits 77 without torch or
scikit-build-core."""

import os
import subprocess
import sys
import sysconfig
import tempfile
import unittest

try:
    import torch  # noqa: F401
    import scikit_build_core  # noqa: F401
except ImportError:
    print("test_wheel: torch or scikit-build-core is not installed: skipped")
    sys.exit(77)

SRC = os.environ.get("ACTFIT_SOURCE_DIR",
                     os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
STEP = """
import os, torch, actfit, actfit.nn as an, actfit.rt as rt
here = os.path.dirname(actfit.__file__)
assert rt.rt_path == os.path.join(here, "libactfit_rt.so"), rt.rt_path
assert rt.have_fitting() and rt.tab_path == os.path.join(here, "libactfit.so"), rt.tab_path
assert os.path.exists(os.path.join(here, "libactfit_table.so"))
torch.manual_seed(0)
m = torch.nn.Sequential(torch.nn.Linear(8, 32), an.GELU(), torch.nn.Linear(32, 32),
                        an.ELU(alpha=0.5), torch.nn.Linear(32, 1))
opt = torch.optim.SGD(m.parameters(), lr=0.1)
x, t = torch.randn(64, 8), torch.randn(64, 1)
l0 = torch.nn.functional.mse_loss(m(x), t)
l0.backward(); opt.step(); opt.zero_grad()
l1 = torch.nn.functional.mse_loss(m(x), t)
assert l1 < l0, (l0, l1)
print("trained a step:", float(l0), "->", float(l1))
"""


class Wheel(unittest.TestCase):
    def test_pip_install_gives_a_package_that_imports_and_trains_from_anywhere(self):
        with tempfile.TemporaryDirectory(prefix="actfit-wheel-") as tmp:
            venv = os.path.join(tmp, "venv")
            subprocess.run([sys.executable, "-m", "venv", "--without-pip", venv], check=True)
            py = os.path.join(venv, "bin", "python")
            site = subprocess.run([py, "-c", "import sysconfig; print(sysconfig.get_paths()"
                                   "['purelib'])"], capture_output=True, text=True,
                                  check=True).stdout.strip()
            with open(os.path.join(site, "_parent_env.pth"), "w") as f:
                f.write(sysconfig.get_paths()["purelib"] + "\n")  # torch, pip, scikit-build-core
            env = {k: v for k, v in os.environ.items()
                   if k not in ("PYTHONPATH", "ACTFIT_LIBRARY", "ACTFIT_FIT_LIBRARY",
                                "ACTFIT_TABLE_LIBRARY")}
            r = subprocess.run([py, "-m", "pip", "install", "-q", "--no-build-isolation",
                                "--disable-pip-version-check", "--no-deps", SRC],
                               capture_output=True, text=True, env=env, cwd=tmp)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            run = os.path.join(tmp, "elsewhere")
            os.mkdir(run)
            r = subprocess.run([py, "-c", STEP], capture_output=True, text=True, env=env,
                               cwd=run)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertIn("trained a step", r.stdout)


if __name__ == "__main__":
    unittest.main(verbosity=1)
