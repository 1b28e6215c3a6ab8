"""Saved web pages: the article body and its metadata, extracted by trafilatura.

A page saved from a news site is mostly not the article: menus, share bars, related-article
lists, cookie notices, comment threads and footers, often in plain ``<div>``s. trafilatura
(a maintained news-extraction library, evaluated on thousands of real pages) finds the
article body; Sanad adds no boilerplate rules of its own. Its figures on pages built around
the seed articles are printed by ``python -m bench.extraction``.

Metadata from the page itself, best first per field (a sidecar or manifest still wins, see
:mod:`rag.ingest.metadata`):

* date: JSON-LD ``datePublished`` (schema.org ``NewsArticle``/``Article``), then the
  ``article:published_time`` / ``datePublished`` / ``pubdate`` / ``date`` / ``DC.date`` meta tags,
  then trafilatura's date search limited to the page's own markup (no guessing from URLs or
  copyright lines: an unknown date is better than a wrong one);
* outlet: JSON-LD ``publisher.name``, ``og:site_name``, trafilatura's site name;
* URL: ``<link rel=canonical>``, ``og:url``, JSON-LD ``url``, trafilatura's URL;
* author: JSON-LD ``author``, the ``author`` meta tag, trafilatura's author;
* title: trafilatura's (``og:title``, ``<h1>``, ``<title>`` cleaned), JSON-LD ``headline``.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from rag.errors import InputError
from rag.ingest.metadata import Metadata
from rag.safety import strip_hidden

logger = logging.getLogger(__name__)

_DATE_META = (
    "article:published_time",
    "og:published_time",
    "datepublished",
    "date_published",
    "pubdate",
    "publishdate",
    "publish-date",
    "dc.date",
    "dc.date.issued",
    "dcterms.created",
    "date",
    "sailthru.date",
    "parsely-pub-date",
)
_ARTICLE_TYPES = {
    "newsarticle",
    "article",
    "reportagenewsarticle",
    "analysisnewsarticle",
    "blogposting",
    "opinionnewsarticle",
    "backgroundnewsarticle",
    "webpage",
}


@dataclass(frozen=True)
class PageText:
    """The article body of a page (paragraphs separated by newlines) and what the page says about it."""

    text: str
    metadata: Metadata
    hidden_instructions: tuple[str, ...] = ()  # instruction-like text found hidden in the markup (removed)


def extract_html(markup: str, name: str) -> PageText:
    """Body text and metadata of a saved page (or an HTML fragment).

    Raises:
        InputError: when the page holds no article text.

    Example:
        >>> page = extract_html("<html><body><article><h1>خبر</h1><p>تفاصيل الخبر كاملة.</p></article>"
        ...                     "</body></html>", "x.html")
        >>> page.text, page.metadata.title
        ('خبر\\nتفاصيل الخبر كاملة.', 'خبر')
    """
    import trafilatura
    from lxml import html as lxml_html

    if not re.search(r"<body[\s>]", markup, re.IGNORECASE):
        markup = f"<html><body>{markup}</body></html>"  # a fragment: trafilatura needs a document
    try:
        tree = lxml_html.fromstring(markup)
    except (ValueError, TypeError) as exc:  # lxml: empty document, or an XML declaration in a str
        try:
            tree = lxml_html.fromstring(markup.encode("utf-8"))
        except Exception:  # noqa: BLE001 - lxml raises many types; each means the same: not HTML
            raise InputError(f"{name}: cannot be parsed as HTML ({exc})") from None
    own = _page_metadata(tree)
    hidden = tuple(strip_hidden(tree))  # text no reader sees is not article text; instructions in it flag the page
    doc: Any = trafilatura.bare_extraction(  # a Document (its stubs also allow a dict, never returned here)
        tree,
        with_metadata=True,
        include_comments=False,
        include_tables=True,
        favor_precision=True,
        deduplicate=False,
        date_extraction_params={"extensive_search": False, "original_date": True},
    )
    body = (doc.text or "") if doc is not None else ""
    if not body.strip():  # precision mode can reject a short page: retry, still trafilatura's choice
        doc = trafilatura.bare_extraction(
            tree,
            with_metadata=True,
            include_comments=False,
            favor_recall=True,
            date_extraction_params={"extensive_search": False, "original_date": True},
        )
        body = (doc.text or "") if doc is not None else ""
    if not body.strip():
        raise InputError(
            f"{name}: no article text found in the page (trafilatura found only navigation or "
            f"nothing); save the article's own page, or paste its text into a .txt file"
        )
    found = Metadata.from_mapping(
        {"title": doc.title, "date": doc.date, "source": doc.sitename, "url": doc.url, "author": doc.author},
        name,
        strict=False,
    )
    meta = own.over(found)
    body = _untable(body)
    headline = meta.title
    if headline and headline not in body.split("\n", 1)[0] and headline not in (meta.source, own.source):
        body = f"{headline}\n{body}"  # the headline carries the story's key words: keep it searchable
    return PageText(body, meta, hidden)


def _untable(text: str) -> str:
    """trafilatura writes table rows as ``| cell | cell |``; pages laid out in tables get plain paragraphs."""
    lines = []
    for line in text.split("\n"):
        stripped = line.strip()
        if stripped and not stripped.strip("| "):
            continue  # a row of empty cells
        if stripped.startswith("|") and stripped.endswith("|"):
            line = " | ".join(c.strip() for c in stripped.strip("|").split(" | ") if c.strip())
        lines.append(line)
    return "\n".join(lines)


def _page_metadata(tree: Any) -> Metadata:
    """Metadata the page states in JSON-LD and meta tags (title left to trafilatura)."""
    ld = {}
    for item in _json_ld_items(tree):
        kind = item.get("@type")
        kinds = {str(k).lower() for k in (kind if isinstance(kind, list) else [kind])}
        if kinds & _ARTICLE_TYPES:
            ld = item
            if kinds - {"webpage"}:
                break
    metas = {}
    for el in tree.iter("meta"):
        key = (el.get("property") or el.get("name") or el.get("itemprop") or "").strip().lower()
        if key and el.get("content") and key not in metas:
            metas[key] = el.get("content")
    canonical = next(
        (
            el.get("href")
            for el in tree.iter("link")
            if "canonical" in (el.get("rel") or "").lower().split() and el.get("href")
        ),
        "",
    )
    date = ld.get("datePublished") or next((metas[k] for k in _DATE_META if metas.get(k)), "")
    data = {
        "published": date,
        "source": _name(ld.get("publisher")) or metas.get("og:site_name", ""),
        "url": canonical or metas.get("og:url", "") or _as_url(ld.get("url") or ld.get("mainEntityOfPage")),
        "author": _name(ld.get("author")) or metas.get("author", "") or metas.get("article:author", ""),
    }
    data["url"] = data["url"] if str(data["url"]).startswith(("http://", "https://")) else ""
    return Metadata.from_mapping(data, "page", strict=False)


def _json_ld_items(tree: Any) -> Iterator[dict[str, Any]]:
    for script in tree.iter("script"):
        if (script.get("type") or "").strip().lower() != "application/ld+json" or not script.text:
            continue
        try:
            data = json.loads(script.text.strip())
        except ValueError:
            logger.debug("skipping a JSON-LD block that is not valid JSON")
            continue
        stack = data if isinstance(data, list) else [data]
        while stack:
            item = stack.pop(0)
            if isinstance(item, dict):
                yield item
                graph = item.get("@graph")
                if isinstance(graph, list):
                    stack.extend(graph)
            elif isinstance(item, list):
                stack.extend(item)


def _name(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("name") or "")
    if isinstance(value, list):
        return ", ".join(n for n in (_name(v) for v in value) if n)
    return str(value or "")


def _as_url(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("@id") or value.get("url") or "")
    return str(value or "")
