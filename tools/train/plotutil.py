"""One gnuplot figure of curves, for the training scripts: series is [(title, [(x, y), ...])]."""

import os
import subprocess


def curves(png, title, xlabel, ylabel, series, key="top right", extra=()):
    dat = png[:-4] + ".dat"
    with open(dat, "w") as f:
        for _, pts in series:
            for x, y in pts:
                f.write(f"{x} {y}\n")
            f.write("\n\n")
    cmds = ["set terminal pngcairo size 1000,700 font 'DejaVu Sans,11'", f"set output '{png}'",
            f"set title '{title}' font ',12'", f"set xlabel '{xlabel}'", f"set ylabel '{ylabel}'",
            "set grid", f"set key {key}", *extra,
            "plot " + ", ".join(f"'{dat}' index {i} with linespoints lw 2 dt {1 + i % 4} "
                                f"title '{t}'" for i, (t, _) in enumerate(series))]
    try:
        subprocess.run(["gnuplot"], input="\n".join(cmds), text=True, check=True)
    finally:
        os.remove(dat)
