"""One figure of SPEC section 8 as a table row, and the table `make bench` prints."""

from __future__ import annotations

HEADERS = ["figure", "measured", "ratio", "target", "met"]


def figure(
    name: str, measured: str, ratio: float, target: float, *, higher=True, holds=True
) -> dict:
    """A row: `ratio` meets `target` when at least it (`higher`) or at most it, and the
    figure's other conditions (`holds`, said in `measured`) are true."""
    met = (ratio >= target if higher else ratio <= target) and holds
    sign = "≥" if higher else "≤"
    return {
        "figure": name,
        "measured": measured,
        "ratio": f"{ratio:.2f}",
        "target": f"{sign} {target}",
        "met": "yes" if met else "NO",
    }


def render_table(rows: list[dict]) -> str:
    lines = ["| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
    lines += ["| " + " | ".join(str(row[h]) for h in HEADERS) + " |" for row in rows]
    return "\n".join(lines)
