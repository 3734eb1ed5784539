"""Template hygiene that no single page test would notice."""

from pathlib import Path

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"


def test_it_keeps_every_template_comment_on_one_line():
    # Django's {# #} comments end at the line: a multi-line one is printed on the page.
    broken = [
        f"{path.relative_to(TEMPLATES)}:{number}"
        for path in TEMPLATES.rglob("*.html")
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if line.count("{#") != line.count("#}")
    ]
    assert broken == []


def test_it_renders_no_comment_markers_on_the_login_page(client):
    body = client.get("/accounts/login/").content.decode()
    assert "{#" not in body and "#}" not in body
