"""Word files (.docx): paragraphs and tables in document order, read by python-docx.

A .docx stores text in logical order, so no reordering is needed (unlike PDF). Headers,
footers and comments are left out: they are page furniture, not the article. The document
properties give a title and an author; their dates are not used as the publication date,
because they record when a file was created or converted, not when the story ran (give the
date in a sidecar or manifest, see :mod:`rag.ingest.metadata`).
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass

from rag.errors import InputError
from rag.ingest.metadata import Metadata


@dataclass(frozen=True)
class DocxText:
    """The text of a Word document (one line per paragraph or table row) and its properties."""

    text: str
    metadata: Metadata


def extract_docx(data: bytes, name: str) -> DocxText:
    """Paragraph and table text of a .docx, with title and author from its properties.

    Raises:
        InputError: the file is not a readable Word document (e.g. an old binary .doc renamed).
    """
    import docx
    from docx.table import Table

    try:
        document = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        hint = " (an old binary .doc? save it as .docx)" if data[:4] == b"\xd0\xcf\x11\xe0" else ""
        raise InputError(f"{name} cannot be read as a Word .docx file{hint}: {exc}") from None
    lines: list[str] = []
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            for row in block.rows:
                cells: list[str] = []
                for cell in row.cells:
                    text = " ".join(cell.text.split())
                    if text and (not cells or cells[-1] != text):  # merged cells repeat their text
                        cells.append(text)
                if cells:
                    lines.append(" | ".join(cells))
        else:
            lines.append(block.text)
    props = document.core_properties
    meta = Metadata.from_mapping({"title": props.title or "", "author": props.author or ""}, name, strict=False)
    return DocxText("\n".join(lines), meta)
