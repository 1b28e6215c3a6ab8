"""Splitting articles into passages on sentence and paragraph boundaries, offsets kept.

Passages are sized in the embedding model's tokens (e5 reads at most 512; shorter
passages make sharper embeddings and shorter LLM prompts). Consecutive passages share
up to ``overlap_tokens`` of whole sentences so a fact split across a boundary is still
found. For every chunk, ``article.text[chunk.start:chunk.end] == chunk.text``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from rag.errors import InputError
from rag.types import Article, Chunk

TokenCounter = Callable[[str], int]

# A sentence ends at . ! ? ؟ ؛ (optionally followed by closing quotes/brackets) before
# whitespace, or at a run of two or more dots ("معًا..ففي").
_SENTENCE_END = re.compile(r"[.!?؟؛…]+[\"'”»’)\]]*(?=\s)|\.{2,}")
_WORD = re.compile(r"\S+")


def approx_token_count(text: str) -> int:
    """A tokenizer-free estimate (about 1.6 XLM-R pieces per Arabic word) for tests and tools."""
    return math.ceil(len(text.split()) * 1.6)


@dataclass(frozen=True)
class Span:
    """A sentence (or a piece of an over-long one): ``text[start:end]`` in its article."""

    start: int
    end: int
    paragraph: int
    tokens: int


def sentence_spans(text: str) -> Iterator[tuple[int, int, int]]:
    """Yield ``(start, end, paragraph_index)`` of each sentence, whitespace trimmed."""
    para = 0
    for match in re.finditer(r"[^\n]+", text):
        line_start = match.start()
        line = match.group()
        if not line.strip():
            continue
        cursor = 0
        for end_match in _SENTENCE_END.finditer(line):
            yield from _trimmed(text, line_start + cursor, line_start + end_match.end(), para)
            cursor = end_match.end()
        yield from _trimmed(text, line_start + cursor, line_start + len(line), para)
        para += 1


def _trimmed(text: str, start: int, end: int, para: int) -> Iterator[tuple[int, int, int]]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        yield start, end, para


class Chunker:
    """Packs sentences into passages of at most ``max_tokens`` tokens.

    Args:
        max_tokens: upper bound per passage, in the embedding tokenizer's pieces.
        overlap_tokens: whole trailing sentences of a passage, up to this many tokens,
            are repeated at the start of the next one.
        count_tokens: the embedding model's token counter (without special tokens);
            :func:`approx_token_count` when no model is at hand.

    Example:
        >>> chunks = Chunker(max_tokens=64).run(article)  # doctest: +SKIP
    """

    def __init__(
        self, max_tokens: int = 160, overlap_tokens: int = 40, count_tokens: TokenCounter = approx_token_count
    ) -> None:
        if max_tokens <= 0 or not 0 <= overlap_tokens < max_tokens:
            raise InputError(
                f"need max_tokens > 0 and 0 <= overlap_tokens < max_tokens; "
                f"got max_tokens={max_tokens}, overlap_tokens={overlap_tokens}"
            )
        self.max_tokens = max_tokens
        self.overlap_tokens = overlap_tokens
        self.count_tokens = count_tokens

    def spans(self, text: str) -> list[Span]:
        """Sentences with token counts; sentences over ``max_tokens`` are cut between words."""
        spans: list[Span] = []
        for start, end, para in sentence_spans(text):
            n = self.count_tokens(text[start:end])
            if n <= self.max_tokens:
                spans.append(Span(start, end, para, n))
            else:
                spans.extend(self._split_long(text, start, end, para))
        return spans

    def _split_long(self, text: str, start: int, end: int, para: int) -> Iterator[Span]:
        words = [(m.start() + start, m.end() + start) for m in _WORD.finditer(text[start:end])]
        piece_start = words[0][0]
        last_end = words[0][1]
        for w_start, w_end in words[1:]:
            if self.count_tokens(text[piece_start:w_end]) > self.max_tokens:
                yield Span(piece_start, last_end, para, self.count_tokens(text[piece_start:last_end]))
                piece_start = w_start
            last_end = w_end
        yield Span(piece_start, last_end, para, self.count_tokens(text[piece_start:last_end]))

    def run(self, article: Article) -> list[Chunk]:
        """The passages of one article, in order, with offsets into ``article.text``."""
        text = article.text
        spans = self.spans(text)
        groups: list[list[Span]] = []
        current: list[Span] = []
        tokens = 0
        for span in spans:
            new_paragraph = bool(current) and span.paragraph != current[-1].paragraph
            full = tokens + span.tokens > self.max_tokens
            settled = new_paragraph and tokens >= self.max_tokens // 2
            if current and (full or settled):
                groups.append(current)
                current = self._overlap(current, span)
                tokens = sum(s.tokens for s in current)
            current.append(span)
            tokens += span.tokens
        if current:
            groups.append(current)
        return [
            Chunk(doc_id=article.doc_id, ordinal=i, start=g[0].start, end=g[-1].end, text=text[g[0].start : g[-1].end])
            for i, g in enumerate(groups)
        ]

    def _overlap(self, previous: list[Span], incoming: Span) -> list[Span]:
        """Trailing sentences of ``previous`` to repeat, leaving room for ``incoming``."""
        budget = min(self.overlap_tokens, self.max_tokens - incoming.tokens)
        carried: list[Span] = []
        used = 0
        for span in reversed(previous[1:]):  # never carry the whole previous chunk
            if used + span.tokens > budget:
                break
            carried.insert(0, span)
            used += span.tokens
        return carried
