"""Natural-language segment questions -> a structured customer filter (issue 11).

This file has two lives:

* dbt's ``functions`` resource deploys it as the BODY of the PL/Python function
  ``segment_query_parse(question text, vocabulary jsonb) RETURNS jsonb`` followed by
  ``return main(question, vocabulary)``. PL/Python wraps the body in a Python function, so this
  file holds only imports, constants and definitions (no statement with side effects, no
  ``from __future__``, no ``if __name__``), and never binds the names ``question`` or
  ``vocabulary`` at top level (they are the PL/Python argument globals).
* pytest imports it directly (tests/test_segment_query.py) and calls ``parse``.

Nothing here is a list of sentences. Understanding comes from the vocabulary passed in
(the SQL wrapper ``segment_query_vocabulary()`` builds it from the seeds
``segment_axis_labels`` and ``segment_label_synonyms``):

* every label matches by its own words (``weekly_shopper`` <- "weekly shoppers");
* every synonym row (axis, label, phrase) matches its phrase; one phrase may name several
  labels (``rarely return`` -> low_returner and non_returner);
* a label word that belongs to exactly one label (``explorer``, ``declining``, ``chat``) matches
  that label on its own; a word shared by several labels (``frequent``, ``high``) is reported
  as ambiguous, not guessed;
* LTV tiers match as ``<tier> tier`` / ``<tier> ltv`` and through the synonyms of the pseudo
  axis ``ltv_tier`` (``vip``); ``arch_<hex>`` names an archetype.

Words are lower-cased, apostrophes dropped ("don't" -> "dont"), ``-`` and ``_`` split words,
and a light plural stemmer applies to question and vocabulary alike ("shoppers" -> "shopper",
"categories" -> "category"). Phrases match longest first. A negation word ("not", "never",
"no", "dont", "without", "except", ...) negates the next matched term, unless the negation
word is part of the matched phrase itself ("never return" -> non_returner is a positive term).
Contracted negations are one word: "don't", "doesn't", "do not" all read as "not".
Several labels of one axis are OR-ed, different axes are AND-ed. Stop words are skipped;
every other word is reported back in ``unknown_words`` (or ``ambiguous``).

The raw question never becomes SQL: the result only carries axis and label names that come
from the vocabulary (checked against ``[a-z][a-z0-9_]*``, whole string) and archetype ids matching
``arch_[0-9a-f]{4,32}``; the ``jsonpath`` and ``containment`` outputs are built from those only.
"""

import json
import re
import reprlib

MAX_QUESTION_CHARS = 500
MAX_VOCABULARY_DEPTH = 8  # {"labels": {axis: [label]}} is 3 deep; json.loads recurses per level
TIER_AXIS = "ltv_tier"
DEFAULT_TIERS = ("vip", "high", "mid", "low")
MIN_LABEL_WORD_CHARS = 4  # a single label word shorter than this never matches on its own
RESERVED_KEYS = ("labels", "synonyms", "ltv_tiers", "definitions", "on_error", "allow_unknown_words")

IDENT_RE = re.compile(r"[a-z][a-z0-9_]*\Z")  # \Z: "$" would accept a trailing newline
ARCHETYPE_RE = re.compile(r"arch_[0-9a-f]{4,32}\Z")
WORD_RE = re.compile(r"\w+", re.UNICODE)
APOSTROPHES_RE = re.compile(r"['\u2019\u2018`\u00b4]")

STOP_WORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "but",
        "also",
        "both",
        "either",
        "plus",
        "as",
        "well",
        "who",
        "whom",
        "whose",
        "which",
        "what",
        "that",
        "this",
        "these",
        "those",
        "there",
        "their",
        "they",
        "them",
        "its",
        "it",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "am",
        "has",
        "have",
        "had",
        "having",
        "do",
        "does",
        "did",
        "doing",
        "in",
        "into",
        "on",
        "onto",
        "of",
        "for",
        "from",
        "to",
        "at",
        "by",
        "with",
        "via",
        "within",
        "over",
        "under",
        "about",
        "between",
        "per",
        "than",
        "i",
        "me",
        "my",
        "we",
        "us",
        "our",
        "you",
        "your",
        "please",
        "show",
        "list",
        "find",
        "get",
        "give",
        "select",
        "fetch",
        "display",
        "all",
        "any",
        "anything",
        "some",
        "every",
        "each",
        "other",
        "another",
        "same",
        "such",
        "only",
        "just",
        "very",
        "really",
        "quite",
        "rather",
        "mostly",
        "usually",
        "typically",
        "generally",
        "currently",
        "now",
        "lately",
        "still",
        "ever",
        "tend",
        "tends",
        "like",
        "likes",
        "liked",
        "love",
        "loves",
        "prefer",
        "prefers",
        "preferring",
        "preferred",
        "favor",
        "favour",
        "want",
        "wants",
        "customer",
        "client",
        "user",
        "people",
        "person",
        "member",
        "account",
        "consumer",
        "buyer",
        "shopper",
        "segment",
        "group",
        "cohort",
        "tier",
        "profile",
        "folk",
        "shop",
        "shopping",
        "buy",
        "buying",
        "bought",
        "purchase",
        "purchasing",
        "purchased",
        "order",
        "ordering",
        "ordered",
        "spend",
        "product",
        "item",
        "thing",
        "stuff",
        "use",
        "uses",
        "using",
        "used",
        "archetype",
        "time",
        "done",
    ]
)

NOT_FORMS = frozenset(["dont", "doesnt", "didnt", "isnt", "arent", "wasnt", "werent", "wont", "cant", "cannot"])
NEGATION_WORDS = frozenset(
    [
        "not",
        "never",
        "no",
        "non",
        "dont",
        "doesnt",
        "didnt",
        "isnt",
        "arent",
        "wasnt",
        "werent",
        "wont",
        "cant",
        "cannot",
        "without",
        "except",
        "excluding",
        "exclude",
        "nor",
        "neither",
    ]
)


# --------------------------------------------------------------------------- words


def stem(word):
    """Light plural stemmer, applied to the question and to the vocabulary alike.

    Contracted negations all become "not", so "doesn't return", "do not return" and the
    synonym "dont return" meet ("do" / "does" are stop words).
    """
    if word in NOT_FORMS:
        return "not"
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith("sses"):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def tokenize(text):
    """(surface, stem) pairs. Apostrophes vanish, '_' and '-' split, archetype ids stay whole."""
    out = []
    for raw in WORD_RE.findall(APOSTROPHES_RE.sub("", text.casefold())):
        if ARCHETYPE_RE.match(raw):
            out.append((raw, raw))
            continue
        for part in raw.split("_"):
            if part:
                out.append((part, stem(part)))
    return out


def phrase_key(text):
    return tuple(s for _, s in tokenize(text))


STOP_STEMS = frozenset(stem(w) for w in STOP_WORDS)
NEGATION_STEMS = frozenset(stem(w) for w in NEGATION_WORDS)


# --------------------------------------------------------------------------- vocabulary


class VocabularyError(ValueError):
    pass


_SHORT_REPR = reprlib.Repr()
_SHORT_REPR.maxlevel, _SHORT_REPR.maxstring, _SHORT_REPR.maxother = 2, 60, 60


def _show(value):
    """repr() for messages, bounded in depth and length (a deeply nested value must not recurse)."""
    return _SHORT_REPR.repr(value)


def _text_depth(text):
    """Deepest nesting of [ and { in JSON text (strings skipped), without recursion."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
        elif char in "]}":
            depth -= 1
    return deepest


def _object_depth(value):
    """Deepest nesting of lists / tuples / dicts in a Python value, without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, (list, tuple)):
            children = item
        else:
            continue
        deepest = max(deepest, depth)
        if depth > MAX_VOCABULARY_DEPTH:
            break
        stack.extend((child, depth + 1) for child in children)
    return deepest


def load_vocabulary(vocabulary):
    """Validate the vocabulary (JSON text, bytes or dict). Returns (labels, synonyms, tiers, options).

    Form: {"labels": {axis: [label, ...]}, "synonyms": [{"axis", "label", "phrase"} | [axis, label,
    phrase], ...], "ltv_tiers": [...], "definitions": {axis: {label: text}}, "on_error": "return" |
    "raise", "allow_unknown_words": bool}.
    Without a "labels" key, every non-reserved key is an axis (axis -> [labels]).
    """
    if isinstance(vocabulary, (bytes, bytearray)):
        vocabulary = vocabulary.decode("utf-8")
    if isinstance(vocabulary, str):
        depth = _text_depth(vocabulary)
        if depth > MAX_VOCABULARY_DEPTH:
            raise VocabularyError(
                "vocabulary is nested %d levels deep (at most %d): expected "
                '{"labels": {axis: [label, ...]}, "synonyms": [...]}' % (depth, MAX_VOCABULARY_DEPTH)
            )
        try:
            vocabulary = json.loads(vocabulary)
        except (ValueError, RecursionError):
            raise VocabularyError("vocabulary is not valid JSON") from None
    elif _object_depth(vocabulary) > MAX_VOCABULARY_DEPTH:
        raise VocabularyError(
            "vocabulary is nested more than %d levels deep: expected "
            '{"labels": {axis: [label, ...]}, "synonyms": [...]}' % MAX_VOCABULARY_DEPTH
        )
    if not isinstance(vocabulary, dict):
        raise VocabularyError("vocabulary must be a JSON object")
    raw_labels = vocabulary.get("labels")
    if raw_labels is None:
        raw_labels = {k: v for k, v in vocabulary.items() if k not in RESERVED_KEYS}
    if not isinstance(raw_labels, dict) or not raw_labels:
        raise VocabularyError("vocabulary has no axes")
    labels = {}
    for axis, axis_labels in raw_labels.items():
        if not isinstance(axis, str) or not IDENT_RE.match(axis) or axis == TIER_AXIS:
            raise VocabularyError("invalid axis name in vocabulary: %s" % _show(axis))
        if not isinstance(axis_labels, list) or not axis_labels:
            raise VocabularyError("axis %s has no labels" % axis)
        for label in axis_labels:
            if not isinstance(label, str) or not IDENT_RE.match(label):
                raise VocabularyError("invalid label of axis %s: %s" % (axis, _show(label)))
        labels[axis] = list(dict.fromkeys(axis_labels))
    tiers = vocabulary.get("ltv_tiers")
    tiers = list(DEFAULT_TIERS) if tiers is None else tiers
    if not isinstance(tiers, list) or not all(isinstance(t, str) and IDENT_RE.match(t) for t in tiers):
        raise VocabularyError("ltv_tiers must be a list of identifiers")
    synonyms = []
    for row in vocabulary.get("synonyms") or []:
        if isinstance(row, dict):
            row = (row.get("axis"), row.get("label"), row.get("phrase"))
        if not isinstance(row, (list, tuple)) or len(row) != 3:
            raise VocabularyError("a synonym must be {axis, label, phrase}: %s" % _show(row))
        axis, label, phrase = row
        known = tiers if axis == TIER_AXIS else labels.get(axis, ())
        if label not in known:
            raise VocabularyError(
                "synonym %s names an unknown label %s.%s" % (_show(phrase), _show(axis), _show(label))
            )
        if not isinstance(phrase, str) or not phrase_key(phrase):
            raise VocabularyError("empty synonym phrase for %s.%s" % (axis, label))
        synonyms.append((axis, label, phrase))
    options = {
        "on_error": vocabulary.get("on_error") or "return",
        "allow_unknown_words": bool(vocabulary.get("allow_unknown_words")),
        "definitions": vocabulary.get("definitions") if isinstance(vocabulary.get("definitions"), dict) else {},
    }
    if options["on_error"] not in ("return", "raise"):
        raise VocabularyError("on_error must be 'return' or 'raise'")
    return labels, synonyms, tiers, options


def build_index(labels, synonyms, tiers):
    """phrases: stem tuple -> [(axis, label, source)], ambiguous: stem -> [(axis, label)]."""
    explicit = {}

    def add(key, axis, label, source):
        if not key:
            return
        entries = explicit.setdefault(key, [])
        if all((a, lab) != (axis, label) for a, lab, _ in entries):
            entries.append((axis, label, source))

    for axis, axis_labels in labels.items():
        for label in axis_labels:
            add(phrase_key(label), axis, label, "label")
    for tier in tiers:
        for suffix in ("tier", "ltv", "ltv tier"):
            add(phrase_key(tier + " " + suffix), TIER_AXIS, tier, "tier")
    for axis, label, phrase in synonyms:
        add(phrase_key(phrase), axis, label, "synonym")

    # single label words: owned by one label -> a match, shared -> ambiguous
    owners = {}
    for axis, axis_labels in labels.items():
        for label in axis_labels:
            words = set(phrase_key(label))
            if words & NEGATION_STEMS:
                continue  # "contact" alone must not mean no_contact
            for word in words:
                owners.setdefault(word, []).append((axis, label))
    for tier in tiers:
        for word in set(phrase_key(tier)):
            owners.setdefault(word, []).append((TIER_AXIS, tier))
    # the order of the vocabulary's rows must not matter (jsonb reorders object keys)
    rank = {(TIER_AXIS, tier): k for k, tier in enumerate(tiers)}
    for axis, axis_labels in labels.items():
        rank.update(((axis, label), k) for k, label in enumerate(axis_labels))
    for entries in explicit.values():
        entries.sort(key=lambda e: (e[0], rank[(e[0], e[1])]))
    phrases = dict(explicit)
    ambiguous = {}
    for word, owned_by in owners.items():
        key = (word,)
        if key in explicit or word in STOP_STEMS or word in NEGATION_STEMS:
            continue
        if len(owned_by) == 1:
            if len(word) >= MIN_LABEL_WORD_CHARS and owned_by[0][0] != TIER_AXIS:
                phrases[key] = [(owned_by[0][0], owned_by[0][1], "label_word")]
        else:
            ambiguous[word] = sorted(owned_by, key=lambda e: (e[0], rank[e]))
    max_len = max(len(k) for k in phrases)
    return {"phrases": phrases, "ambiguous": ambiguous, "max_len": max_len}


_MODULE_CACHE = {}


def _static_cache():
    """PL/Python's per-function static dict SD (survives calls in a session), else a module dict."""
    try:
        return SD.setdefault("segment_query_parse", {})
    except NameError:
        return _MODULE_CACHE


def vocabulary_index(vocabulary):
    """(labels, synonyms, tiers, options), index; cached per vocabulary text (read-only objects)."""
    key = vocabulary if isinstance(vocabulary, str) else None
    cache = _static_cache() if key is not None else {}
    entry = cache.get(key)
    if entry is None:
        loaded = load_vocabulary(vocabulary)
        entry = (loaded, build_index(*loaded[:3]))
        if key is not None:
            if len(cache) >= 8:
                cache.clear()
            cache[key] = entry
    return entry


# --------------------------------------------------------------------------- parse


def _empty_result(question_text):
    return {
        "question": question_text,
        "ok": False,
        "error": None,
        "complete": False,
        "filters": {
            "dominant_segments": {},
            "exclude": {},
            "ltv_tiers": [],
            "exclude_ltv_tiers": [],
            "archetype_id": None,
            "exclude_archetype_ids": [],
        },
        "containment": {},
        "jsonpath": None,
        "meanings": {},
        "understood": [],
        "unknown_words": [],
        "ambiguous": [],
        "warnings": [],
    }


def _fail(result, message):
    result["ok"] = False
    result["error"] = message
    return result


def _jsonpath(positive, negative, axis_order):
    """A jsonpath predicate over dominant_segments (GIN-indexable with jsonb_ops `@@`)."""
    parts = []
    for axis in axis_order:
        if positive.get(axis):
            alts = ['$."%s" == "%s"' % (axis, label) for label in positive[axis]]
            parts.append(alts[0] if len(alts) == 1 else "(" + " || ".join(alts) + ")")
    for axis in axis_order:
        for label in negative.get(axis, ()):
            parts.append('!($."%s" == "%s")' % (axis, label))
    return " && ".join(parts) if parts else "true"


def _meanings(definitions, positive, negative, axis_order):
    """{axis: {label: definition}} of every label the question uses, from the vocabulary's
    ``definitions`` (the label catalog's plain-words definitions): what the filter means."""
    out = {}
    for axis in axis_order:
        for label in positive.get(axis, []) + negative.get(axis, []):
            text = (definitions.get(axis) or {}).get(label) if isinstance(definitions.get(axis), dict) else None
            if isinstance(text, str):
                out.setdefault(axis, {})[label] = text
    return out


def parse(question, vocabulary):
    """Parse one question against the vocabulary. Returns a dict (see _empty_result)."""
    if isinstance(question, (bytes, bytearray)):
        try:
            question = question.decode("utf-8")
        except UnicodeDecodeError:
            return _fail(_empty_result(None), "question must be UTF-8 text")
    if question is not None and not isinstance(question, str):
        return _fail(_empty_result(None), "question must be text, got %s" % type(question).__name__)
    text = (question or "").strip()
    if len(text) > MAX_QUESTION_CHARS:
        result = _empty_result(text[:80] + "...")
        return _fail(result, "question is too long: %d characters (at most %d)" % (len(text), MAX_QUESTION_CHARS))
    result = _empty_result(text or None)
    if not text:
        return _fail(result, "question is empty")
    try:
        (labels, _, tiers, options), index = vocabulary_index(vocabulary)
    except VocabularyError as exc:
        return _fail(result, "invalid vocabulary: %s" % exc)
    phrases, ambiguous, max_len = index["phrases"], index["ambiguous"], index["max_len"]

    tokens = tokenize(text)
    stems = [s for _, s in tokens]
    understood, unknown, unclear = [], [], []
    positive, negative = {}, {}
    tiers_pos, tiers_neg, arch_pos, arch_neg = [], [], [], []
    pending = None  # the surface of an unconsumed negation word
    i = 0
    while i < len(tokens):
        match = None
        for n in range(min(max_len, len(tokens) - i), 0, -1):
            entries = phrases.get(tuple(stems[i : i + n]))
            if entries:
                match = (n, entries)
                break
        if match is not None:
            n, entries = match
            surface = " ".join(s for s, _ in tokens[i : i + n])
            negated = pending is not None
            for axis, label, source in entries:
                understood.append(
                    {"phrase": surface, "axis": axis, "label": label, "negated": negated, "source": source}
                )
                if axis == TIER_AXIS:
                    target = tiers_neg if negated else tiers_pos
                    if label not in target:
                        target.append(label)
                else:
                    target = (negative if negated else positive).setdefault(axis, [])
                    if label not in target:
                        target.append(label)
            pending = None
            i += n
            continue
        surface, word = tokens[i]
        if ARCHETYPE_RE.match(word):
            negated = pending is not None
            understood.append(
                {"phrase": surface, "axis": "archetype_id", "label": word, "negated": negated, "source": "archetype"}
            )
            target = arch_neg if negated else arch_pos
            if word not in target:
                target.append(word)
            pending = None
        elif word in NEGATION_STEMS:
            pending = surface
        elif word in STOP_STEMS:
            pass
        elif word in ambiguous:
            if all(a["word"] != surface for a in unclear):
                unclear.append(
                    {"word": surface, "candidates": [{"axis": a, "label": lab} for a, lab in ambiguous[word]]}
                )
        elif surface not in unknown:
            unknown.append(surface)
        i += 1

    if pending is not None:
        result["warnings"].append("'%s' is not followed by a known term and was ignored" % pending)

    axis_order = sorted(labels)
    order = {axis: {label: k for k, label in enumerate(axis_labels)} for axis, axis_labels in labels.items()}
    positive = {a: sorted(v, key=order[a].get) for a, v in positive.items()}
    negative = {a: sorted(v, key=order[a].get) for a, v in negative.items()}
    tier_order = {t: k for k, t in enumerate(tiers)}
    tiers_pos.sort(key=tier_order.get)
    tiers_neg.sort(key=tier_order.get)

    for axis in axis_order:
        both = set(positive.get(axis, ())) & set(negative.get(axis, ()))
        for label in sorted(both, key=order[axis].get):
            result["warnings"].append("%s.%s is both required and excluded: nothing can match" % (axis, label))
    for tier in set(tiers_pos) & set(tiers_neg):
        result["warnings"].append("ltv tier %s is both required and excluded: nothing can match" % tier)

    filters = result["filters"]
    filters["dominant_segments"] = {a: positive[a] for a in axis_order if a in positive}
    filters["exclude"] = {a: negative[a] for a in axis_order if a in negative}
    filters["ltv_tiers"] = tiers_pos
    filters["exclude_ltv_tiers"] = tiers_neg
    filters["exclude_archetype_ids"] = arch_neg
    result["understood"] = understood
    result["unknown_words"] = unknown
    result["ambiguous"] = unclear
    if len(arch_pos) > 1:
        return _fail(result, "more than one archetype id: %s (at most one)" % ", ".join(arch_pos))
    filters["archetype_id"] = arch_pos[0] if arch_pos else None
    if not understood:
        return _fail(result, "no segment, LTV tier or archetype recognised in the question")
    result["containment"] = {a: v[0] for a, v in filters["dominant_segments"].items() if len(v) == 1}
    result["jsonpath"] = _jsonpath(positive, negative, axis_order)
    result["meanings"] = _meanings(options["definitions"], positive, negative, axis_order)
    result["ok"] = True
    result["complete"] = not unknown and not unclear
    return result


def _describe_failure(result, allow_unknown_words):
    """The message `main` raises with on_error = 'raise', or None if the result is usable."""
    if not result["ok"]:
        return "segment query: %s" % result["error"]
    if not allow_unknown_words and not result["complete"]:
        words = list(result["unknown_words"]) + [a["word"] for a in result["ambiguous"]]
        return "segment query: words not understood: %s" % ", ".join(words)
    return None


def main(question, vocabulary):
    """PL/Python entry point: the parse result as JSON text (jsonb).

    With vocabulary.on_error = 'raise' an unusable question (ok = false, or unknown / ambiguous
    words unless allow_unknown_words) raises a PostgreSQL error instead of returning JSON.
    """
    result = parse(question, vocabulary)
    try:
        options = vocabulary_index(vocabulary)[0][3]
    except VocabularyError:
        options = {"on_error": "raise", "allow_unknown_words": False}
    if options["on_error"] == "raise":
        message = _describe_failure(result, options["allow_unknown_words"])
        if message is not None:
            hint = (
                "segment_query_filter(question) shows what was understood; "
                "docs/natural_language_queries.md lists the supported phrasings"
            )
            try:
                error = plpy.error
            except NameError:  # outside PostgreSQL (pytest): a plain exception
                raise ValueError(message) from None
            error(message, hint=hint, sqlstate="22023")  # invalid_parameter_value
    return json.dumps(result, sort_keys=True)
