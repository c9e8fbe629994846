"""Plot the real training histories for labelling by eye.

Usage: python plot_cases.py CASES.json OUT_DIR [ID ...]

For each case (or only the ids given) writes OUT_DIR/<id>.png with two panels:
training and validation loss on a linear and on a log y axis. Uses matplotlib only;
it does not import the project's helpers, so labels are made before any diagnosis.
"""
import json
import math
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def to_float(v):
    if isinstance(v, str):
        return {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}[v]
    return float(v)


def plot_case(case, out_dir):
    h = case["history"]
    loss = [to_float(v) for v in h.get("loss", [])]
    val = [to_float(v) for v in h.get("val_loss", [])]
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.2))
    for ax, scale in zip(axes, ("linear", "log")):
        if loss:
            ax.plot(range(1, len(loss) + 1), loss, "o-", ms=2.5, lw=1.2, label="loss")
        if val:
            ax.plot(range(1, len(val) + 1), val, "s-", ms=2.5, lw=1.2, label="val_loss")
        # non-finite values (NaN / inf) are drawn as crosses along the top edge
        for series, name, colour in ((loss, "loss", "C0"), (val, "val_loss", "C1")):
            bad = [i + 1 for i, v in enumerate(series) if not math.isfinite(v)]
            if bad:
                ax.plot(bad, [0.98] * len(bad), "x", color=colour, ms=7, mew=2,
                        transform=ax.get_xaxis_transform(), label=f"{name} non-finite ({len(bad)})")
        n = max(len(loss), len(val), 1)
        ax.set_xlim(0.5, n + 0.5)
        if scale == "log":
            finite = [v for v in loss + val if math.isfinite(v)]
            if finite and min(finite) > 0:
                ax.set_yscale("log")
            elif not finite:
                scale = "no finite values"
            else:
                scale = "log impossible (values <= 0)"
        ax.set_xlabel("epoch")
        ax.set_title(f"{case['id']}  ({scale})", fontsize=9)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(case.get("task", ""), fontsize=8)
    fig.tight_layout()
    path = os.path.join(out_dir, f"{case['id']}.png")
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def main(argv):
    if len(argv) < 3:
        print(__doc__)
        return 2
    cases = json.load(open(argv[1]))
    out_dir = argv[2]
    wanted = set(argv[3:])
    os.makedirs(out_dir, exist_ok=True)
    for case in cases:
        if wanted and case["id"] not in wanted:
            continue
        print(plot_case(case, out_dir))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
