"""An automated accessibility smoke check for every page the browser tests visit."""

import re

STATUS_WORDS = {
    "Ready",
    "Running",
    "Paused",
    "Completed",
    "Stopped",
    "Draft",
    "Active",
    "Archived",
    # A provider's settings, on the Providers page.
    "Simulated",
    "Complete",
    "Incomplete",
}

# Every control, including those in a closed menu or dialog, must have an accessible name.
UNNAMED_CONTROLS_JS = """
() => {
  const text = (el) => (el ? el.textContent : "").replace(/\\s+/g, " ").trim();
  const nameOf = (el) => {
    const label = (el.getAttribute("aria-label") || "").trim();
    if (label) return label;
    const ids = el.getAttribute("aria-labelledby");
    const byId = (id) => text(document.getElementById(id));
    if (ids) return ids.split(/\\s+/).map(byId).join(" ").trim();
    if (el.labels && el.labels.length) return Array.from(el.labels, text).join(" ").trim();
    if (["BUTTON", "SUMMARY", "A"].includes(el.tagName)) return text(el);
    return (el.getAttribute("title") || "").trim();
  };
  const controls =
    "button, summary, a[href], input:not([type=hidden]), select, textarea, progress";
  return Array.from(document.querySelectorAll(controls))
    .filter((el) => !nameOf(el))
    .map((el) => el.outerHTML.slice(0, 160));
}
"""
# The same, from the browser's own accessibility tree (what a screen reader is given).
UNNAMED_IN_TREE = re.compile(
    r"^\s*- (button|textbox|combobox|searchbox|checkbox|spinbutton|progressbar|link)(:|$)", re.M
)


def assert_accessible(page) -> None:
    unnamed = page.evaluate(UNNAMED_CONTROLS_JS)
    assert not unnamed, f"controls without an accessible name on {page.url}: {unnamed}"
    tree = page.locator("body").aria_snapshot()
    missing = UNNAMED_IN_TREE.findall(tree)
    assert not missing, f"unnamed {missing} in the accessibility tree of {page.url}:\n{tree}"
    badges = page.locator(".badge").all_inner_texts()
    words = {badge.strip() for badge in badges}
    assert words <= STATUS_WORDS, f"a status badge without its word on {page.url}: {badges}"
    assert page.locator("html").get_attribute("lang"), "the page declares no language"
    assert page.title().strip(), "the page has no title"
