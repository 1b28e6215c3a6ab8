"""The conflict notice an answer gains when its sources disagree (rag/notices.py, issue #14)."""

from __future__ import annotations

import re

import pytest

from rag.answer_types import Answer, Conflict, ConflictValue
from rag.notices import attach_conflicts, conflict_notice, with_conflict_notice
from rag.pipeline import Sanad
from rag.types import Chunk, Hit
from tests.fakes import FakeGenerator
from tests.models import needs_e5, seed_index

IRAQ_2024 = "001_dc5b0399aa33f440"  # «تحتفظ الولايات المتحدة بحوالي 2500 جندي في العراق» (2024-04-15)
IRAQ_2021 = "002_b12590bbfa883fb9"  # «وبعدد لا يتجاوز ألفي عسكري» (the 2021-12-31 arrangement, 2023-08-09)

OLD = ConflictValue(
    value="لا يتجاوز ألفي عسكري",
    normalized="at most 2000 troops",
    n=3,
    doc_id=IRAQ_2021,
    quote="وبعدد لا يتجاوز ألفي عسكري",
    start=100,
    end=140,
    published="2023-08-09",
    date="2021-12-31",
    date_source="text",
)
NEW = ConflictValue(
    value="بحوالي 2500 جندي",
    normalized="about 2500 troops",
    n=1,
    doc_id=IRAQ_2024,
    quote="تحتفظ الولايات المتحدة بحوالي 2500 جندي في العراق",
    start=10,
    end=60,
    published="2024-04-15",
    date="2024-04-15",
    date_source="published",
)
TROOPS = Conflict(kind="quantity", claim="How many US troops are in Iraq", values=(OLD, NEW))


def test_conflict_notice_english_gives_both_values_dates_and_citations() -> None:
    assert conflict_notice([TROOPS], "en") == (
        "Sources disagree on this figure: at most 2,000 troops as of 2021-12-31 (report of 2023-08-09) [3]; "
        "about 2,500 troops according to a report of 2024-04-15 [1]."
    )


def test_conflict_notice_arabic_keeps_the_sources_words() -> None:
    assert conflict_notice([TROOPS], "ar") == (
        "تختلف المصادر في هذا الرقم: لا يتجاوز ألفي عسكري في 2021-12-31 (تقرير بتاريخ 2023-08-09) [3]؛ "
        "حوالي 2500 جندي بحسب تقرير بتاريخ 2024-04-15 [1]."
    )


def test_with_conflict_notice_no_conflict_leaves_text_unchanged() -> None:
    assert with_conflict_notice("About 2,500 [1].", (), "en") == "About 2,500 [1]."
    assert with_conflict_notice("About 2,500 [1].", [TROOPS], "en").startswith("About 2,500 [1].\n\nSources disagree")


def _hit(doc_id: str, start: int, end: int, rank: int) -> Hit:
    chunk = Chunk(
        doc_id=doc_id, ordinal=0, start=start, end=end, text="x" * (end - start), chunk_id=f"{doc_id}-{start}"
    )
    return Hit(chunk=chunk, score=1.0, rank=rank, title=doc_id, published="")


def test_attach_conflicts_renumbers_sides_into_the_answers_passages() -> None:
    """A side outside the passages the model read is appended as the next passage and cited with its number."""
    read = _hit(IRAQ_2024, 0, 200, 1)
    other = _hit(IRAQ_2021, 50, 300, 2)
    answer = Answer(
        question="How many US troops are in Iraq?",
        language="en",
        answer="About 2,500 [1].",
        refused=False,
        citations=(),
        passages=(read,),
    )
    out = attach_conflicts(answer, [TROOPS], {read.chunk_id: read, other.chunk_id: other})
    assert [h.chunk_id for h in out.passages] == [read.chunk_id, other.chunk_id]
    assert [(v.doc_id, v.n) for v in out.conflicts[0].values] == [(IRAQ_2021, 2), (IRAQ_2024, 1)]
    assert {(c.n, c.doc_id) for c in out.citations} == {(1, IRAQ_2024), (2, IRAQ_2021)}
    assert out.answer.endswith(
        "(report of 2023-08-09) [2]; about 2,500 troops according to a report of 2024-04-15 [1]."
    )
    assert attach_conflicts(answer, (), {}) is answer


class CitingGenerator(FakeGenerator):
    """Answers with the first sentence of passage [1] of its prompt, cited [1] (so the answer is supported)."""

    def stream(self, messages, **kwargs):
        found = re.search(r"^\[1\] (.+?[.!؟])", messages[-1].content, re.MULTILINE)
        self.answer = f"{found.group(1)} [1]" if found else "لا أعرف."
        return super().stream(messages, **kwargs)


@pytest.fixture(scope="module")
def sanad(tmp_path_factory) -> Sanad:
    """The sample articles with the real e5 embedder (retrieval must find both reports) and a fake LLM."""
    config = seed_index(tmp_path_factory.mktemp("notices"))
    return Sanad(config, generator=CitingGenerator())


@needs_e5
def test_ask_disagreeing_sources_appends_notice_and_cites_both(sanad) -> None:
    answer = sanad.ask("كم عدد الجنود الأمريكيين في العراق؟")
    assert not answer.refused, answer.refusal_reason
    (conflict,) = answer.conflicts
    docs = {v.doc_id: v for v in conflict.values}
    assert set(docs) == {IRAQ_2024, IRAQ_2021}
    assert docs[IRAQ_2021].date == "2021-12-31" and docs[IRAQ_2024].date == "2024-04-15"
    notice = answer.answer.split("\n\n")[-1]
    assert notice.startswith("تختلف المصادر") and "ألفي" in notice and "2500" in notice
    for v in conflict.values:
        assert f"[{v.n}]" in notice and answer.passages[v.n - 1].doc_id == v.doc_id
    assert {IRAQ_2024, IRAQ_2021} <= {c.doc_id for c in answer.citations}
    assert "conflicts_s" in answer.timings


@needs_e5
def test_stream_streams_the_notice_and_off_switch(sanad) -> None:
    events = list(sanad.stream("كم عدد الجنود الأمريكيين في العراق؟"))
    streamed = "".join(e.text for e in events if e.kind == "token")
    final = events[-1].answer
    assert final is not None and final.conflicts and streamed.endswith(final.answer.split("\n\n")[-1])
    off = Sanad(sanad.config.with_overrides(conflict_notice=False), embedder=sanad.embedder, generator=sanad.generator)
    plain = off.ask("كم عدد الجنود الأمريكيين في العراق؟")
    assert plain.conflicts == () and "تختلف المصادر" not in plain.answer


@needs_e5
def test_agreeing_sources_get_no_notice(sanad) -> None:
    answer = sanad.ask("كم عدد الدول الأعضاء في التحالف الدولي لهزيمة داعش؟")
    assert answer.conflicts == () and "تختلف المصادر" not in answer.answer
