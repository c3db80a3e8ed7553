"""Measurements of a page in Chromium for the accessibility tests: axe-core, touch targets, text sizes.

axe-core comes from npm (package.json, installed by `npm ci` in .ci/run); it is injected into the page by
Playwright, so it runs offline against what the browser really rendered.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = {"serious", "critical"}

_RUN_AXE = """async (options) => {
  const result = await axe.run(document, options);
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map(n => n.target.join(" ") + " — " + (n.failureSummary || "").split("\\n")[1])
  }));
}"""

# Visible things a finger can press; what is hidden (display:none steps, [hidden]) has no box and is skipped.
_TARGETS = """() => Array.from(document.querySelectorAll(
    "button, a[href], input:not([type=hidden]), textarea, select, [role=button]"))
  .filter(el => el.getClientRects().length && getComputedStyle(el).visibility !== "hidden")
  .map(el => { const r = el.getBoundingClientRect();
    return {what: el.outerHTML.slice(0, 90), width: Math.round(r.width), height: Math.round(r.height)}; })"""

# Every piece of visible text with the computed size of the element that holds it.
_TEXT_SIZES = """() => {
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode, el = node.parentElement;
    if (!node.textContent.trim() || !el || ["SCRIPT", "STYLE"].includes(el.tagName)) continue;
    if (!el.getClientRects().length || getComputedStyle(el).visibility === "hidden") continue;
    out.push({text: node.textContent.trim().slice(0, 60), size: parseFloat(getComputedStyle(el).fontSize)});
  }
  return out;
}"""


def axe_violations(page, enhanced_contrast: bool = False) -> list[dict]:
    """axe-core's serious and critical violations on the page as it is now.

    ``enhanced_contrast`` also applies WCAG AAA contrast (7:1), for the screens elderly citizens read.
    """
    if not AXE.exists():
        raise RuntimeError(f"{AXE} is missing: run `npm ci` in {ROOT} (package.json pins axe-core)")
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    options: dict = {"resultTypes": ["violations"]}
    if enhanced_contrast:
        options["rules"] = {"color-contrast-enhanced": {"enabled": True}}
    return [v for v in page.evaluate(_RUN_AXE, options) if v["impact"] in BLOCKING]


def small_targets(page, minimum: int = 60) -> list[dict]:
    return [t for t in page.evaluate(_TARGETS) if t["width"] < minimum or t["height"] < minimum]


def small_text(page, minimum: float = 18.0) -> list[dict]:
    return [t for t in page.evaluate(_TEXT_SIZES) if t["size"] < minimum]


def describe(violations: list[dict]) -> str:
    return "\n".join(f"{v['impact']} {v['id']}: {v['help']}\n    " + "\n    ".join(v["nodes"]) for v in violations)
