"""A small bilingual gazetteer of news entities, and how to find them in Arabic or English text.

Follow-up rewriting (:mod:`rag.conversation`) needs to know that "Syria" in «وفي سوريا؟» is a place
that can stand where "Iraq" stood in the previous question; conflict detection (:mod:`rag.conflicts`)
needs to know that an English question about "US troops in Iraq" asks about sentences holding
«الولايات المتحدة»/«الأميركية» and «العراق». Both work without the model through this list: places,
people, organisations and roles common in Middle East and US–Iraq news, each with its English and
Arabic spellings (matched on :func:`rag.dates.fold` text, so أ/ا, ة/ه and diacritics do not matter;
an Arabic form also matches with a clitic in front: وبغداد, للعراق, بالعراق).

When the pipeline has the model's Arabic translation of an English question, that translation is
matched too; the gazetteer is what works when there is none.

Example:
    >>> [e.key for e in find_entities("How many US troops are in Iraq?")]
    ['us', 'iraq']
    >>> [e.key for e in find_entities("وفي سوريا؟")]
    ['syria']
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from rag.dates import fold

EntityType = Literal["place", "person", "org", "role", "topic"]


@dataclass(frozen=True)
class Entity:
    """A gazetteer entry: ``key`` is its id, ``en``/``ar`` its spellings (the first is the display form)."""

    key: str
    type: EntityType
    en: tuple[str, ...]
    ar: tuple[str, ...]


@dataclass(frozen=True)
class EntityMention:
    """An entity found in a text: which entry, and where (offsets in the text)."""

    key: str
    type: EntityType
    text: str
    start: int
    end: int


def _e(key: str, type_: EntityType, en: str, ar: str) -> Entity:
    return Entity(
        key,
        type_,
        tuple(x.strip() for x in en.split("|") if x.strip()),
        tuple(x.strip() for x in ar.split("|") if x.strip()),
    )


ENTITIES: tuple[Entity, ...] = (
    # places
    _e("iraq", "place", "Iraq|Iraqi|Iraqis", "العراق|عراق|العراقي|العراقية|العراقيين|العراقيون"),
    _e("syria", "place", "Syria|Syrian|Syrians", "سوريا|سورية|السوري|السورية|السوريين"),
    _e(
        "us",
        "place",
        "United States|US|U.S.|USA|America|American|Americans",
        "الولايات المتحدة|أمريكا|أميركا|الأمريكي|الأميركي|الأمريكية|الأميركية|الأمريكيين|الأميركيين|"
        "الأمريكيون|الأميركيون|"
        "أمريكي|أميركي|أمريكيا|أميركيا|أمريكية|أميركية|أمريكيين|أميركيين",
    ),
    _e("washington", "place", "Washington", "واشنطن"),
    _e("baghdad", "place", "Baghdad", "بغداد"),
    _e("erbil", "place", "Erbil|Arbil", "أربيل"),
    _e("ramadi", "place", "Ramadi", "الرمادي"),
    _e("anbar", "place", "Anbar", "الأنبار"),
    _e("kurdistan", "place", "Kurdistan|Kurdish", "كردستان|الكردية|الكردي"),
    _e("iran", "place", "Iran|Iranian", "إيران|الإيراني|الإيرانية"),
    _e("israel", "place", "Israel|Israeli", "إسرائيل|الإسرائيلي|الإسرائيلية"),
    _e("gaza", "place", "Gaza", "غزة"),
    _e("afghanistan", "place", "Afghanistan|Afghan", "أفغانستان"),
    _e("china", "place", "China|Chinese", "الصين|الصيني|الصينية"),
    _e("central_asia", "place", "Central Asia", "آسيا الوسطى"),
    _e("africa", "place", "Africa|African|Sub-Saharan Africa", "أفريقيا|إفريقيا"),
    _e("asia", "place", "Asia", "آسيا"),
    _e("middle_east", "place", "Middle East", "الشرق الأوسط"),
    _e("davos", "place", "Davos", "دافوس"),
    _e("switzerland", "place", "Switzerland", "سويسرا"),
    _e("new_york", "place", "New York", "نيويورك"),
    _e("turkey", "place", "Turkey|Türkiye|Turkish", "تركيا"),
    _e("lebanon", "place", "Lebanon|Lebanese", "لبنان"),
    _e("jordan", "place", "Jordan|Jordanian", "الأردن"),
    _e("kuwait", "place", "Kuwait", "الكويت"),
    _e("saudi", "place", "Saudi Arabia|Saudi", "السعودية"),
    _e("egypt", "place", "Egypt|Egyptian", "مصر"),
    _e("russia", "place", "Russia|Russian", "روسيا"),
    _e("uk", "place", "Britain|British|United Kingdom|UK", "بريطانيا|البريطاني|البريطانية|البريطانيين"),
    _e("france", "place", "France|French", "فرنسا|الفرنسي|الفرنسية"),
    _e("germany", "place", "Germany|German", "ألمانيا"),
    _e("yemen", "place", "Yemen", "اليمن"),
    _e("qatar", "place", "Qatar", "قطر"),
    _e("ain_al_asad", "place", "Ain al-Asad|Ain al Asad|Al-Asad|Al Asad", "عين الأسد"),
    _e("harir", "place", "Harir", "حرير"),
    _e("victoria", "place", "Camp Victoria|Victoria|Camp Victory", "فيكتوريا"),
    _e("white_house", "place", "White House|Oval Office", "البيت الأبيض|المكتب البيضاوي"),
    _e("pentagon", "place", "Pentagon", "البنتاغون|البنتاجون"),
    # people
    _e("biden", "person", "Biden|Joe Biden", "بايدن|جو بايدن"),
    _e(
        "sudani",
        "person",
        "Sudani|al-Sudani|Al-Sudani|Mohammed Shia al-Sudani|Mohammed Shia' al-Sudani",
        "السوداني|محمد شياع السوداني",
    ),
    _e("kadhimi", "person", "Kadhimi|al-Kadhimi|Al-Kadhimi|Mustafa al-Kadhimi", "الكاظمي|مصطفى الكاظمي"),
    _e("austin", "person", "Austin|Lloyd Austin", "أوستن|لويد أوستن"),
    _e("blinken", "person", "Blinken|Antony Blinken", "بلينكن|أنتوني بلينكن"),
    _e("abbasi", "person", "Abbasi|al-Abbasi|Thabet al-Abbasi|Thabit al-Abbasi", "العباسي|ثابت العباسي"),
    _e("wallander", "person", "Wallander|Celeste Wallander", "والاندر|سيليست والاندر"),
    _e("nazim", "person", "Hassan Nazim|Nazim", "حسن ناظم|ناظم"),
    _e("saddam", "person", "Saddam Hussein|Saddam", "صدام حسين|صدام"),
    _e("bush", "person", "George W. Bush|Bush", "جورج دبليو بوش|بوش"),
    _e("trump", "person", "Trump|Donald Trump", "ترامب|دونالد ترامب"),
    # organisations and named things
    _e("isis", "org", "ISIS|ISIL|Islamic State|Daesh|IS", "داعش|الدولة الإسلامية"),
    _e("coalition", "org", "coalition|Global Coalition", "التحالف الدولي|التحالف|الائتلاف|ائتلاف"),
    _e("pmf", "org", "Popular Mobilization Forces|PMF|Popular Mobilisation Forces", "الحشد الشعبي"),
    _e("peshmerga", "org", "Peshmerga", "البشمركة|البيشمركة"),
    _e("islamic_resistance", "org", "Islamic Resistance in Iraq", "المقاومة الإسلامية"),
    _e("centcom", "org", "CENTCOM|Central Command", "القيادة المركزية"),
    _e("ctef", "org", "Counter-ISIS Train and Equip Fund|CTEF|Train and Equip Fund", "صندوق تمويل التدريب والتجهيز"),
    _e("oir", "org", "Operation Inherent Resolve|Inherent Resolve|CJTF-OIR|OIR", "العزم الصلب|العزم الثابت"),
    _e("hmc", "org", "Higher Military Commission", "اللجنة العسكرية العليا"),
    _e(
        "hcc",
        "org",
        "Higher Coordinating Committee|Higher Coordination Committee",
        "لجنة التنسيق العليا|اللجنة التنسيقية العليا",
    ),
    _e(
        "jscd",
        "org",
        "Joint Security Cooperation Dialogue|security cooperation dialogue",
        "حوار التعاون الأمني المشترك",
    ),
    _e("strategic_dialogue", "org", "Strategic Dialogue", "الحوار الاستراتيجي"),
    _e("sfa", "org", "Strategic Framework Agreement", "اتفاقية الإطار الاستراتيجي"),
    _e("coordination_framework", "org", "Coordination Framework", "الإطار التنسيقي"),
    _e("ap", "org", "Associated Press|AP", "أسوشيتيد برس"),
    _e("cts", "org", "Counter-Terrorism Service|Counter Terrorism Service", "جهاز مكافحة الإرهاب"),
    _e("nato", "org", "NATO", "الناتو|حلف شمال الأطلسي"),
    _e("un", "org", "United Nations|UN", "الأمم المتحدة"),
    _e("wef", "org", "World Economic Forum", "المنتدى الاقتصادي العالمي"),
    # roles (a role with a country entity names an office: "Iraqi prime minister")
    _e("prime_minister", "role", "prime minister|premier|PM", "رئيس الوزراء|رئيس مجلس الوزراء|رئيس حكومة"),
    _e(
        "defense_minister",
        "role",
        "defense minister|defence minister|defense secretary|defence secretary|"
        "secretary of defense|secretary of defence|Pentagon chief",
        "وزير الدفاع|وزير دفاعه",
    ),
    _e("foreign_minister", "role", "foreign minister|secretary of state|top diplomat", "وزير الخارجية"),
    _e("president", "role", "president", "الرئيس|رئيس"),
    _e("spokesman", "role", "spokesman|spokesperson|spokeswoman", "المتحدث باسم|المتحدث"),
    _e("assistant_secretary", "role", "assistant secretary|assistant secretary of defense", "مساعدة وزير الدفاع"),
)
BY_KEY: dict[str, Entity] = {e.key: e for e in ENTITIES}


@lru_cache(maxsize=1)
def _patterns() -> tuple[tuple[Entity, re.Pattern[str]], ...]:
    out = []
    for e in ENTITIES:
        ar = sorted({fold(a)[0] for a in e.ar}, key=len, reverse=True)
        en = sorted({fold(x)[0] for x in e.en}, key=len, reverse=True)
        parts = []
        if ar:
            # «للعراق» is ل + العراق with the alef dropped: add the لل forms beside the clitic prefixes
            forms = ar + [f"لل{a[2:]}" for a in ar if a.startswith("ال") and len(a) > 4]
            alts = "|".join(re.escape(a).replace(r"\ ", r"\s+") for a in sorted(forms, key=len, reverse=True))
            parts.append(rf"(?<![^\W\d_])(?:[وف]?[بلك]?)(?:{alts})(?![^\W\d_])")
        if en:
            parts.append(r"\b(?:" + "|".join(re.escape(x).replace(r"\ ", r"\s+") for x in en) + r")(?![\w-])")
        out.append((e, re.compile("|".join(parts))))
    return tuple(out)


def find_entities(text: str, types: tuple[EntityType, ...] | None = None) -> list[EntityMention]:
    """The gazetteer entities named in ``text``, in text order, one mention per span (longest wins).

    Short English forms written in capitals ("US", "IS", "AP", "UN", "PM") must be written so: "us"
    and "is" are words.
    """
    folded, where = fold(text)
    found: list[tuple[int, int, Entity]] = []
    for entity, pattern in _patterns():
        if types and entity.type not in types:
            continue
        for m in pattern.finditer(folded):
            s, e = m.start(), m.end()
            raw = text[where[s] : where[e - 1] + 1]
            if raw.isascii() and len(raw.replace(".", "")) <= 3 and not raw.replace(".", "").isupper():
                continue  # "us", "is", "un", "ap", "pm" as words
            found.append((s, e, entity))
    chosen: list[tuple[int, int, Entity]] = []
    for s, e, entity in sorted(found, key=lambda f: (-(f[1] - f[0]), f[0])):
        if all(e <= cs or s >= ce for cs, ce, _ in chosen):
            chosen.append((s, e, entity))
    out = []
    for s, e, entity in sorted(chosen, key=lambda c: c[0]):
        start, end = where[s], where[e - 1] + 1
        out.append(EntityMention(entity.key, entity.type, text[start:end], start, end))
    return out


def entity_keys(text: str, types: tuple[EntityType, ...] | None = None) -> set[str]:
    """The keys of the entities ``text`` names."""
    return {m.key for m in find_entities(text, types)}


__all__ = ["BY_KEY", "ENTITIES", "Entity", "EntityMention", "EntityType", "entity_keys", "find_entities"]
