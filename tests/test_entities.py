"""The bilingual gazetteer (rag/entities.py)."""

from __future__ import annotations

from rag.entities import entity_keys, find_entities


def test_find_entities_english_and_arabic_meet():
    assert entity_keys("How many US troops are in Iraq?") == entity_keys("تحتفظ الولايات المتحدة بجنود في العراق")


def test_find_entities_clitics_and_offsets():
    text = "للعراق وبالعراق والعراقية"
    found = find_entities(text)
    assert [m.key for m in found] == ["iraq"] * 3
    assert all(text[m.start : m.end] == m.text for m in found)


def test_find_entities_longest_wins_and_short_words_need_capitals():
    keys = [m.key for m in find_entities("ورئيس مجلس الوزراء العراقي محمد شياع السوداني")]
    assert keys == ["prime_minister", "iraq", "sudani"]
    assert entity_keys("tell us what is going on") == set()
    assert entity_keys("what IS did in Iraq") == {"isis", "iraq"}
