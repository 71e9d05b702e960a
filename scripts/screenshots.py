"""Take the README's screenshots of a demo site with Debian's headless chromium.

    tracker demo --out /tmp/demo
    python scripts/screenshots.py /tmp/demo docs/screenshots

Each page (the index, a topic, a story) is shot at desktop (1280 px) and phone (390 px) width,
from file:// so nothing but the site is loaded.
"""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

PAGES = {
    "index": "days/2025-01-27.html",
    "topic": "topics/deepseek.html",
    "story": None,  # the 27 January story with the most outlets, found from the index
}
WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}


def main(site: Path, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        for width_name, (width, height) in WIDTHS.items():
            page = browser.new_page(viewport={"width": width, "height": height})
            for name, rel in PAGES.items():
                if rel is None:
                    page.goto((site / PAGES["index"]).as_uri())
                    href = page.locator("a.more").first.get_attribute("href") or ""
                    url = (site / "days" / href).resolve().as_uri()
                else:
                    url = (site / rel).as_uri()
                page.goto(url)
                page.screenshot(path=str(out / f"{name}-{width_name}.png"))
            page.close()
        browser.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]).resolve(), Path(sys.argv[2]))
