"""Finding copies of the same story: identical texts, and near-verbatim republications.

News agencies' copy is republished by many outlets with small edits (a different first line,
a byline, a dropped paragraph). Two articles are *near duplicates* when the Jaccard
similarity of their word 5-gram sets (shingles, over normalised words) is at least a
threshold (0.8 by default: the same story with a sentence or two changed). Candidate pairs
come from MinHash signatures with locality-sensitive hashing (100 hash functions in 20 bands
of 5: a pair at similarity 0.8 is proposed with probability > 0.999, one at 0.3 with ~0.05),
and every candidate is then checked exactly, so the result has no false positives.
Groups are closed transitively (union-find). Pure numpy; 31k articles take a few minutes
on one core (``python -m bench.duplicates``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rag.textnorm import tokenize

SHINGLE_WORDS = 5
NUM_PERM = 100
BANDS = 20
_PRIME = np.uint64((1 << 61) - 1)
_MASK = np.uint64((1 << 32) - 1)


@dataclass(frozen=True)
class DuplicateGroup:
    """Indexes (into the input) of texts that are copies of one another, and their least similarity
    to the group's first member."""

    members: tuple[int, ...]
    min_similarity: float


def shingles(text: str, n: int = SHINGLE_WORDS, cache: dict[str, int] | None = None) -> np.ndarray:
    """Sorted unique 64-bit hashes of the text's word ``n``-grams (normalised, unstemmed words).

    A text shorter than ``n`` words is one shingle of all its words. ``cache`` (word -> hash)
    saves rehashing the same words across many texts.
    """
    import hashlib

    words = tokenize(text, stem=False, drop_stopwords=False)
    if not words:
        return np.zeros(0, dtype=np.uint64)
    cache = {} if cache is None else cache
    values = []
    for w in words:
        h = cache.get(w)
        if h is None:
            h = cache[w] = int.from_bytes(hashlib.blake2b(w.encode("utf-8"), digest_size=8).digest(), "little")
        values.append(h)
    ids = np.array(values, dtype=np.uint64)
    if len(ids) < n:
        n = len(ids)
    with np.errstate(over="ignore"):
        acc = np.zeros(len(ids) - n + 1, dtype=np.uint64)
        for i in range(n):  # polynomial rolling combination; uint64 arithmetic wraps, which is fine for hashing
            acc = acc * np.uint64(1_000_003) + ids[i : len(ids) - n + 1 + i]
    return np.unique(acc)


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Exact Jaccard similarity of two sorted unique hash arrays."""
    if not len(a) and not len(b):
        return 1.0
    inter = len(np.intersect1d(a, b, assume_unique=True))
    return inter / (len(a) + len(b) - inter)


class MinHasher:
    """MinHash signatures over shingle hashes (``num_perm`` universal hash functions, seeded)."""

    def __init__(self, num_perm: int = NUM_PERM, seed: int = 1) -> None:
        rng = np.random.default_rng(seed)
        # 32-bit a and b with 32-bit inputs keep a*x + b below 2^64, so the arithmetic never wraps.
        self.a = rng.integers(1, 1 << 32, size=num_perm, dtype=np.uint64)
        self.b = rng.integers(0, 1 << 32, size=num_perm, dtype=np.uint64)
        self.num_perm = num_perm

    def signature(self, hashes: np.ndarray) -> np.ndarray:
        """(num_perm,) uint64 minimum of each hash function over ``hashes``."""
        if not len(hashes):
            return np.full(self.num_perm, np.iinfo(np.uint64).max, dtype=np.uint64)
        x = (hashes & _MASK)[:, None]
        values = (x * self.a[None, :] + self.b[None, :]) % _PRIME
        return values.min(axis=0)


def near_duplicate_groups(
    texts: Sequence[str], threshold: float = 0.8, *, bands: int = BANDS, num_perm: int = NUM_PERM
) -> list[DuplicateGroup]:
    """Groups of at least two texts whose shingle sets are at least ``threshold`` similar.

    Members of a group are in input order; groups are ordered by their first member.

    Example:
        >>> base = "أعلنت وزارة الداخلية السعودية اليوم عن القبض على خلية إرهابية في الرياض تضم عشرة أشخاص"
        >>> [g.members for g in near_duplicate_groups([base, base + " وفق البيان", "خبر آخر تماما عن الاقتصاد"],
        ...                                           threshold=0.7)]
        [(0, 1)]
    """
    if not 0 < threshold <= 1:
        raise ValueError(f"threshold={threshold} must be in (0, 1]")
    cache: dict[str, int] = {}
    sets = [shingles(t, cache=cache) for t in texts]
    return groups_from_pairs(sets, similar_pairs(sets, threshold, bands=bands, num_perm=num_perm), threshold)


def similar_pairs(
    sets: Sequence[np.ndarray], threshold: float, *, bands: int = BANDS, num_perm: int = NUM_PERM
) -> list[tuple[int, int, float]]:
    """``(i, j, similarity)`` for every LSH candidate pair whose exact Jaccard similarity is >= ``threshold``."""
    out = []
    for i, j in sorted(candidate_pairs(sets, bands=bands, num_perm=num_perm)):
        if len(sets[i]) and len(sets[j]):
            sim = jaccard(sets[i], sets[j])
            if sim >= threshold:
                out.append((i, j, sim))
    return out


def groups_from_pairs(
    sets: Sequence[np.ndarray], pairs: Sequence[tuple[int, int, float]], threshold: float
) -> list[DuplicateGroup]:
    """Transitive groups (union-find) of the pairs at or above ``threshold``."""
    parent = list(range(len(sets)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j, sim in pairs:
        if sim >= threshold:
            ri, rj = find(i), find(j)
            if ri != rj:
                parent[max(ri, rj)] = min(ri, rj)
    groups: dict[int, list[int]] = {}
    for i in range(len(sets)):
        groups.setdefault(find(i), []).append(i)
    out = []
    for members in groups.values():
        if len(members) > 1:
            first = sets[members[0]]
            out.append(DuplicateGroup(tuple(members), min(jaccard(first, sets[m]) for m in members[1:])))
    return sorted(out, key=lambda g: g.members[0])


def candidate_pairs(
    sets: Sequence[np.ndarray], *, bands: int = BANDS, num_perm: int = NUM_PERM
) -> set[tuple[int, int]]:
    """Pairs ``(i, j)``, ``i < j``, whose MinHash signatures agree on at least one band."""
    if num_perm % bands:
        raise ValueError(f"num_perm={num_perm} must be a multiple of bands={bands}")
    hasher = MinHasher(num_perm)
    rows = num_perm // bands
    signatures = np.stack([hasher.signature(s) for s in sets]) if sets else np.zeros((0, num_perm), np.uint64)
    pairs: set[tuple[int, int]] = set()
    for band in range(bands):
        buckets: dict[bytes, list[int]] = {}
        block = np.ascontiguousarray(signatures[:, band * rows : (band + 1) * rows])
        for i in range(len(sets)):
            if len(sets[i]):
                buckets.setdefault(block[i].tobytes(), []).append(i)
        for members in buckets.values():
            if 1 < len(members) <= 500:  # a huge bucket is boilerplate shared by many texts, not a story
                pairs.update((members[x], members[y]) for x in range(len(members)) for y in range(x + 1, len(members)))
    return pairs
