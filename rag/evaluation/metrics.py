"""Evaluation metrics: pure functions over plain values (ids, strings, offsets, numbers).

Retrieval is scored at **document** level: a retrieved passage counts as relevant when
its article (``doc_id``) is gold, and each gold article counts once.

* :func:`hit_at_k` / :func:`recall_at_k` / :func:`reciprocal_rank` read the first ``k``
  passages as returned (positions are passage ranks, the order a reader and the LLM see).
* :func:`ndcg_at_k` first removes repeated doc ids, keeping the first occurrence, then
  scores the resulting document ranking with binary gains.

Answers are compared after :func:`normalize_answer` (Arabic normalisation from
:mod:`rag.textnorm`, ``[n]`` markers and punctuation removed, articles dropped), in
the style of the SQuAD evaluation script. Numbers keep their decimal point and lose
their thousands separators, and :func:`contains_answer` never lets ``500`` match
inside ``2500`` (digit boundaries).

Functions return ``None`` where a score is undefined (e.g. precision with nothing
predicted); :func:`mean` skips ``None``.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

from rag.textnorm import normalize_arabic

#: Cut-offs reported for hit@k and recall@k.
KS: tuple[int, ...] = (1, 3, 5, 10)

Span = tuple[str, int, int]  # (doc_id, start, end) with end exclusive


# -- helpers ------------------------------------------------------------------------------------
def dedupe(ids: Iterable[str]) -> list[str]:
    """``ids`` without repeats, first occurrence kept, order preserved."""
    return list(dict.fromkeys(ids))


def mean(values: Iterable[float | None]) -> float | None:
    """Arithmetic mean of the values that are not ``None``; ``None`` if there are none."""
    kept = [float(v) for v in values if v is not None]
    return sum(kept) / len(kept) if kept else None


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (0-100) with linear interpolation (numpy's default); ``None`` if empty."""
    if not values:
        return None
    if not 0 <= q <= 100:
        raise ValueError(f"percentile q={q} must be within 0..100")
    ordered = sorted(float(v) for v in values)
    pos = (len(ordered) - 1) * q / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


# -- retrieval ----------------------------------------------------------------------------------
def _check_k(k: int) -> None:
    if k <= 0:
        raise ValueError(f"k={k} must be positive")


def hit_at_k(retrieved: Sequence[str], gold: Iterable[str], k: int) -> float:
    """1.0 when any of the first ``k`` retrieved doc ids is gold, else 0.0 (0.0 when there is no gold)."""
    _check_k(k)
    gold = set(gold)
    return 1.0 if gold and any(d in gold for d in retrieved[:k]) else 0.0


def recall_at_k(retrieved: Sequence[str], gold: Iterable[str], k: int) -> float:
    """Share of the distinct gold docs found among the first ``k`` retrieved (0.0 when there is no gold)."""
    _check_k(k)
    gold = set(gold)
    if not gold:
        return 0.0
    return len(gold & set(retrieved[:k])) / len(gold)


def reciprocal_rank(retrieved: Sequence[str], gold: Iterable[str]) -> float:
    """1 / rank of the first gold doc in ``retrieved`` (1-based); 0.0 when none is retrieved."""
    gold = set(gold)
    for rank, doc in enumerate(retrieved, start=1):
        if doc in gold:
            return 1.0 / rank
    return 0.0


def ndcg_at_k(retrieved: Sequence[str], gold: Iterable[str], k: int = 10) -> float:
    """Binary-relevance nDCG@k over the de-duplicated document ranking.

    Repeated doc ids are removed first (each gold doc counts once); gain 1 at position
    ``i`` (1-based) is discounted by ``log2(i + 1)``; the ideal ranking puts all gold docs
    first. 0.0 when there is no gold.
    """
    _check_k(k)
    gold = set(gold)
    if not gold:
        return 0.0
    ranking = dedupe(retrieved)[:k]
    dcg = sum(1.0 / math.log2(i + 2) for i, d in enumerate(ranking) if d in gold)
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(len(gold), k)))
    return dcg / ideal


def retrieval_scores(retrieved: Sequence[str], gold: Sequence[str], ks: Sequence[int] = KS) -> dict[str, float] | None:
    """All retrieval metrics for one question, or ``None`` when it has no gold doc (unanswerable).

    ``retrieved`` is the doc id of each retrieved passage, best first (repeats allowed).
    """
    if not gold:
        return None
    scores: dict[str, float] = {}
    for k in ks:
        scores[f"hit@{k}"] = hit_at_k(retrieved, gold, k)
    for k in ks:
        scores[f"recall@{k}"] = recall_at_k(retrieved, gold, k)
    scores["mrr"] = reciprocal_rank(retrieved, gold)
    scores["ndcg@10"] = ndcg_at_k(retrieved, gold, 10)
    return scores


# -- answers ------------------------------------------------------------------------------------
_MARKER = re.compile(r"\[\s*[0-9\u0660-\u0669]+(?:\s*[,،]\s*[0-9\u0660-\u0669]+)*\s*\]")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_DECIMAL = re.compile(r"(?<=\d)\.(?=\d)")
_DECIMAL_MARK = "\ue000"  # private-use placeholder that survives punctuation removal
_EN_ARTICLES = frozenset({"a", "an", "the"})
_AR_ARTICLE = "ال"


def _is_punct(ch: str) -> bool:
    cat = unicodedata.category(ch)
    return cat.startswith(("P", "S"))


def normalize_answer(text: str) -> str:
    """Answer text in comparison form: one space between tokens.

    Steps: drop ``[n]`` citation markers; :func:`~rag.textnorm.normalize_arabic`
    (diacritics, alef/yeh/teh-marbuta folding, Arabic-Indic digits, lower case); drop
    thousands separators inside numbers (``2,500`` → ``2500``) but keep decimal points
    (``1.5`` stays apart from ``15``); turn other punctuation and symbols into spaces; drop
    English articles (a, an, the) and the Arabic article ``ال`` at the start of a word
    (when at least two letters remain).

    Example:
        >>> normalize_answer("بلغت الميزانيةُ 2,500 دولار [1].")
        'بلغت ميزانيه 2500 دولار'
    """
    text = _MARKER.sub(" ", text)
    text = normalize_arabic(text)
    text = _THOUSANDS.sub("", text)
    text = _DECIMAL.sub(_DECIMAL_MARK, text)
    text = "".join(" " if _is_punct(ch) else ch for ch in text).replace(_DECIMAL_MARK, ".")
    tokens = []
    for token in text.split():
        if token in _EN_ARTICLES:
            continue
        if token.startswith(_AR_ARTICLE) and len(token) - len(_AR_ARTICLE) >= 2:
            token = token[len(_AR_ARTICLE) :]
        tokens.append(token)
    return " ".join(tokens)


def exact_match(prediction: str, golds: Iterable[str]) -> float:
    """1.0 when the normalised prediction equals any normalised gold answer; 0.0 otherwise (and with no gold)."""
    pred = normalize_answer(prediction)
    return 1.0 if any(pred == normalize_answer(g) for g in golds) else 0.0


def _f1(pred_tokens: list[str], gold_tokens: list[str]) -> float:
    if not pred_tokens or not gold_tokens:
        return float(pred_tokens == gold_tokens)
    common = Counter(pred_tokens) & Counter(gold_tokens)
    same = sum(common.values())
    if same == 0:
        return 0.0
    precision = same / len(pred_tokens)
    recall = same / len(gold_tokens)
    return 2 * precision * recall / (precision + recall)


def token_f1(prediction: str, golds: Iterable[str]) -> float:
    """SQuAD token F1 of the normalised prediction against the best-matching gold answer (0.0 with no gold)."""
    pred = normalize_answer(prediction).split()
    return max((_f1(pred, normalize_answer(g).split()) for g in golds), default=0.0)


def _boundary_pattern(needle: str) -> re.Pattern[str]:
    """``needle`` as a regex that may not start or end in the middle of a number."""
    left = r"(?<![0-9.])" if needle[:1].isdigit() else ""
    right = r"(?![0-9]|\.[0-9])" if needle[-1:].isdigit() else ""
    return re.compile(left + re.escape(needle) + right)


def contains_answer(prediction: str, golds: Iterable[str]) -> float:
    """1.0 when any normalised gold string occurs in the normalised prediction, else 0.0.

    A gold string that starts or ends with a digit must not touch further digits there:
    ``"500"`` matches ``"500 جندي"`` but not ``"2500"`` or ``"5000"`` or ``"500.5"``.
    """
    pred = normalize_answer(prediction)
    for gold in golds:
        needle = normalize_answer(gold)
        if needle and _boundary_pattern(needle).search(pred):
            return 1.0
    return 0.0


# -- citations ----------------------------------------------------------------------------------
def locate_quote(text: str, quote: str) -> tuple[int, int] | None:
    """``(start, end)`` of ``quote`` in ``text``: verbatim first, then allowing any whitespace between words.

    ``None`` when the quote is not in the text.
    """
    quote = quote.strip()
    if not quote:
        return None
    at = text.find(quote)
    if at >= 0:
        return at, at + len(quote)
    pattern = r"\s+".join(re.escape(w) for w in quote.split())
    match = re.search(pattern, text)
    return (match.start(), match.end()) if match else None


def _overlaps(a: Span, b: Span) -> bool:
    return a[0] == b[0] and a[1] < b[2] and b[1] < a[2]


def citation_scores(cited: Sequence[Span], evidence: Sequence[Span]) -> tuple[float | None, float | None]:
    """Citation precision and recall for one answer.

    Args:
        cited: the cited passages as ``(doc_id, start, end)`` in their article (duplicates counted once).
        evidence: the gold evidence quotes as ``(doc_id, start, end)`` in their article.

    A cited passage *holds* a piece of evidence when it is in the same article and the
    spans intersect. Precision is the share of cited passages that hold some evidence
    (``None`` when nothing is cited); recall is the share of evidence quotes held by some
    cited passage (``None`` when there is no evidence, e.g. unanswerable questions).
    """
    cited = list(dict.fromkeys(cited))
    precision = (sum(any(_overlaps(c, e) for e in evidence) for c in cited) / len(cited)) if cited else None
    recall = (sum(any(_overlaps(c, e) for c in cited) for e in evidence) / len(evidence)) if evidence else None
    return precision, recall


# -- refusals, support, latency -----------------------------------------------------------------
def refusal_scores(refused: Sequence[bool], answerable: Sequence[bool]) -> tuple[float | None, float | None]:
    """Precision and recall of refusing, where the positive class is "refused" and the truth is "unanswerable".

    Precision: share of refusals that were on unanswerable questions (``None`` if nothing was refused).
    Recall: share of unanswerable questions that were refused (``None`` if none was unanswerable).
    """
    if len(refused) != len(answerable):
        raise ValueError(f"refused has {len(refused)} values, answerable {len(answerable)}")
    tp = sum(1 for r, a in zip(refused, answerable, strict=False) if r and not a)
    predicted = sum(1 for r in refused if r)
    actual = sum(1 for a in answerable if not a)
    return (tp / predicted if predicted else None), (tp / actual if actual else None)


def false_refusal_rate(refused: Sequence[bool], answerable: Sequence[bool]) -> float | None:
    """Share of answerable questions that were refused (``None`` when none was answerable).

    Example:
        >>> false_refusal_rate([True, False, True], [True, True, False])
        0.5
    """
    if len(refused) != len(answerable):
        raise ValueError(f"refused has {len(refused)} values, answerable {len(answerable)}")
    asked = [r for r, a in zip(refused, answerable, strict=True) if a]
    return sum(asked) / len(asked) if asked else None


# -- evidence selection -------------------------------------------------------------------------
def covers(selected: Span, gold: Span, min_share: float = 0.5) -> bool:
    """Whether a selected span stands for a gold span: same article, and it overlaps at least
    ``min_share`` of the gold span's characters, or holds the whole gold span.

    Sentence splitters differ (a selector's sentences vs XQuAD-R's), so an exact boundary match is
    not required; a passing mention (a few characters) is not enough.
    """
    if selected[0] != gold[0]:
        return False
    overlap = min(selected[2], gold[2]) - max(selected[1], gold[1])
    length = max(1, gold[2] - gold[1])
    return overlap > 0 and (overlap >= min_share * length or (selected[1] <= gold[1] and gold[2] <= selected[2]))


def evidence_recall(selected: Sequence[Span], gold: Sequence[Span], min_share: float = 0.5) -> float | None:
    """Share of the gold evidence spans that some selected span covers (:func:`covers`); ``None`` with no gold.

    Example:
        >>> evidence_recall([("d", 0, 40)], [("d", 10, 30), ("e", 0, 5)])
        0.5
    """
    if not gold:
        return None
    return sum(any(covers(s, g, min_share) for s in selected) for g in gold) / len(gold)


def support_counts(supported: Sequence[bool]) -> tuple[int, int]:
    """``(verified sentences, all sentences)`` for one answer's sentence checks."""
    return sum(1 for s in supported if s), len(supported)


def support_rate(per_answer: Iterable[Sequence[bool]]) -> float | None:
    """Share of all answer sentences (pooled over answers) that the citation checker verified."""
    ok = total = 0
    for checks in per_answer:
        a, b = support_counts(checks)
        ok, total = ok + a, total + b
    return ok / total if total else None


def latency_summary(samples: Iterable[Mapping[str, float]]) -> dict[str, dict[str, float | int | None]]:
    """Per key: ``n``, ``mean``, ``p50`` and ``p95`` over the samples that have that key (keys sorted)."""
    by_key: dict[str, list[float]] = {}
    for sample in samples:
        for key, value in sample.items():
            if value is not None:
                by_key.setdefault(key, []).append(float(value))
    return {
        key: {"n": len(v), "mean": sum(v) / len(v), "p50": percentile(v, 50), "p95": percentile(v, 95)}
        for key, v in sorted(by_key.items())
    }
