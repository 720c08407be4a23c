"""The training scripts' outputs: one gnuplot figure of curves (series is
[(title, [(x, y), ...])]) and the summary JSON beside it."""

import json
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


def write(summary, out, png, plot):
    """summary as JSON to out, and plot(summary, png); says what it wrote and how long the run took."""
    with open(out, "w") as f:
        json.dump(summary, f, indent=1)
    plot(summary, png)
    print(f"wrote {out} and {png} in {summary['wall_seconds']:.0f} s")
