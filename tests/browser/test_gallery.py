"""The gallery, served by a real Voila and read in a real headless Chromium."""

import re


def test_gallery_lists_and_links_the_apps(page, voila_url, shots):
    page.goto(f"{voila_url}/voila/render/index.ipynb", wait_until="networkidle")
    page.wait_for_selector("text=descentlab", timeout=60_000)
    link = page.get_by_role("link", name="Optimizer race")
    assert link.count() == 1
    assert re.search(r"race\.ipynb$", link.get_attribute("href"))
    page.screenshot(path=str(shots / "gallery.png"), full_page=True)
    assert "Traceback" not in page.content()


def test_tree_page_serves_the_lab(page, voila_url):
    page.goto(f"{voila_url}/voila/tree")
    page.wait_for_selector("text=race.ipynb", timeout=60_000)
    assert page.get_by_text("index.ipynb").count() >= 1
