# SPDX-License-Identifier: BSD-3-Clause
"""matplotlib for the benchmarks' plots, headless."""


def pyplot(say):
    """matplotlib.pyplot with the Agg backend, or None (said why) when
    python3-matplotlib is not installed: the figures are still written."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as e:
        say(f"no plots: matplotlib is missing ({e}); "
            f"apt-get install python3-matplotlib")
        return None
    return plt


def save_figure(plt, fig, path):
    """Lay out, write as PNG (110 dpi) and free a figure."""
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
