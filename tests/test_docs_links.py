"""The docs name what exists: every page the README's "What people do with it" table names is a
page the app serves, and every link into docs/benchmarks.md names one of its sections."""

import re
from pathlib import Path

import pytest
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import RequestRedirect

README = Path(__file__).resolve().parent.parent / "README.md"


def readme_page_paths() -> list[str]:
    """The backticked paths of the pages column of the README's table of who does what."""
    section = README.read_text(encoding="utf-8").split("## What people do with it", 1)[1]
    rows = [line for line in section.split("\n## ", 1)[0].splitlines() if line.startswith("| ")]
    pages = [row.split("|")[2] for row in rows[1:]]  # rows[0] is the header
    return [path for column in pages for path in re.findall(r"`(/[^`\s]*)`", column)]


@pytest.fixture(scope="module")
def urls(tmp_path_factory):
    """The url_map needs no database: one app on an in-memory SQLite for the module."""
    from web import create_app
    from web.extensions import db

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("JINDOU_INSTANCE_PATH", str(tmp_path_factory.mktemp("instance")))
        app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "TESTING": True})
    yield app.url_map.bind("localhost")
    with app.app_context():
        db.engine.dispose()


def test_the_readme_table_names_pages():
    paths = readme_page_paths()
    assert len(paths) >= 20
    assert "/reports/mine" in paths and "/wallet" in paths


@pytest.mark.parametrize("path", readme_page_paths())
def test_each_page_in_the_readme_table_is_served(urls, path):
    try:
        urls.match(path, method="GET")
    except RequestRedirect as redirect:
        pytest.fail(f"README names {path}, the app redirects it to {redirect.new_url}")
    except (NotFound, MethodNotAllowed) as error:
        pytest.fail(f"README names {path}, the app answers {error.code}")


def heading_anchors(markdown: str) -> set[str]:
    """The anchors GitHub gives a file's headings (lower case, punctuation dropped)."""
    headings = (line.lstrip("#").strip() for line in markdown.splitlines()
                if line.startswith("#"))
    return {re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-") for heading in headings}


def test_links_into_the_benchmarks_page_name_its_sections():
    root = README.parent
    anchors = heading_anchors((root / "docs" / "benchmarks.md").read_text(encoding="utf-8"))
    documents = [README, root / "bench" / "README.md", *sorted((root / "docs").glob("*.md"))]
    links = [(document.name, anchor) for document in documents
             for anchor in re.findall(r"benchmarks\.md#([\w\-]+)",
                                      document.read_text(encoding="utf-8"))]
    assert len(links) >= 5
    assert [link for link in links if link[1] not in anchors] == []
