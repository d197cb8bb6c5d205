"""What the classroom page promises at the sizes a class uses, measured in real Chromium:
shared by the ticker's layout test (test_page_layout.py) and the chat's (test_page_chat.py).

Columns side by side in one row, no two of the page's blocks drawn over each other, every
block inside the window, no scrolling, nothing wider than its box, and no text under 16 px.
"""

from __future__ import annotations

from pathlib import Path

SIZES = [(1920, 1080), (1920, 960), (1366, 768), (1280, 800), (1024, 768)]
SMALLEST_TEXT_PX = 16
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"

BOXES_JS = """(selectors) => selectors.flatMap((selector) =>
  [...document.querySelectorAll(selector)]
    .filter((element) => element.getClientRects().length > 0)
    .map((element) => {
      const box = element.getBoundingClientRect();
      return { name: element.id || selector, left: box.left, top: box.top,
               right: box.right, bottom: box.bottom };
    }))"""
# Every element that shows text of its own (or is a form control), with its font size.
TEXTS_JS = """() => {
  const found = [];
  for (const element of document.body.querySelectorAll("*")) {
    if (element.getClientRects().length === 0) continue;
    const style = getComputedStyle(element);
    if (style.visibility !== "visible") continue;
    const ownText = [...element.childNodes].some(
      (node) => node.nodeType === Node.TEXT_NODE && node.textContent.trim() !== "");
    if (!ownText && !element.matches("input, select, button")) continue;
    found.push({
      tag: element.tagName.toLowerCase(),
      text: (element.textContent || element.placeholder || "").trim().slice(0, 40),
      px: parseFloat(style.fontSize),
    });
  }
  return found;
}"""
# Boxes whose content is wider than they are: text cut off or drawn over a neighbour.
TOO_WIDE_JS = """(selector) => [...document.querySelectorAll(selector)]
  .filter((box) => box.getClientRects().length > 0 && box.scrollWidth > box.clientWidth + 1)
  .map((box) => `${box.className || box.tagName}: ${box.textContent.trim().slice(0, 60)}`)"""


def overlapping(boxes: list[dict]) -> list[tuple[str, str]]:
    """Pairs of boxes that share more than a pixel of area."""
    pairs = []
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            wide = min(a["right"], b["right"]) - max(a["left"], b["left"])
            high = min(a["bottom"], b["bottom"]) - max(a["top"], b["top"])
            if wide > 1 and high > 1:
                pairs.append((a["name"], b["name"]))
    return pairs


def check_side_by_side(page, selector: str, count: int) -> None:
    """`count` boxes matching `selector`, in one row, none over another."""
    columns = page.evaluate(BOXES_JS, [selector])
    assert len(columns) == count, columns
    tops = [box["top"] for box in columns]
    assert max(tops) - min(tops) <= 3, f"{selector} are not in one row: {columns}"
    by_left = sorted(columns, key=lambda box: box["left"])
    for left, right in zip(by_left, by_left[1:], strict=False):
        assert left["right"] <= right["left"] + 0.5, f"{selector} overlap: {left} {right}"


def check_fits(page, width: int, height: int, blocks: list[str], boxes: str) -> list[dict]:
    """The page's `blocks` (selectors) inside the window and apart, no scrolling, none of
    `boxes` (one selector list) wider than itself, no small text; returns the text sizes."""
    shown = page.evaluate(BOXES_JS, blocks)
    assert overlapping(shown) == [], shown
    for box in shown:
        assert box["left"] >= 0 and box["top"] >= 0, box
        assert box["right"] <= width + 0.5 and box["bottom"] <= height + 0.5, box

    scroll = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.scrollHeight]"
    )
    assert scroll[0] <= width and scroll[1] <= height, f"the page scrolls: {scroll}"

    assert page.evaluate(TOO_WIDE_JS, boxes) == []

    texts = page.evaluate(TEXTS_JS)
    small = [text for text in texts if text["px"] < SMALLEST_TEXT_PX]
    assert small == [], small
    return texts
