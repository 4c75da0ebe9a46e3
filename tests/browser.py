"""Headless Chromium for the page tests: Debian's `chromium` (Playwright cannot download a
browser here), driven by Playwright with `executable_path=CHROMIUM` and these arguments."""

from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
