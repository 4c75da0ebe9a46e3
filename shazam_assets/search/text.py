"""Word search: BM25 ranking (bm25s) over a few text fields, forgiving of typos and prefixes.

Titles, artists, brands and categories are tokenised the same way as queries: lower case,
accents stripped, split on anything that is not a letter or digit, a plural `s` dropped, a
few stop words removed. A query word that is not in the vocabulary still matches through
its completions (`spea` -> `speaker`) and its close spellings (`speakre` -> `speaker`; same
first letter, length within two), at a lower weight than an exact word, so a person typing
half a word or with a typo still finds the product.
"""

from __future__ import annotations

import bisect
import difflib
import re
import unicodedata
from collections.abc import Sequence

import bm25s
import numpy as np
import numpy.typing as npt

_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset({"a", "an", "and", "by", "for", "in", "of", "on", "or", "the", "to", "with"})
PREFIX_WEIGHT = 0.6  # a completion counts this much of an exact word
FUZZY_WEIGHT = 0.5  # a close spelling counts this much
_MAX_COMPLETIONS = 16
_MIN_PREFIX = 3  # shorter fragments complete to too many words


def tokenize(text: str) -> list[str]:
    """Normalised words of `text`, in order."""
    plain = unicodedata.normalize("NFKD", text.lower()).encode("ascii", "ignore").decode()
    return [_singular(w) for w in _WORD.findall(plain) if w not in _STOP]


def _singular(word: str) -> str:
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


class TextIndex:
    """An immutable BM25 index over one document per ASIN (rebuilt after changes: bm25s has
    no incremental add, and building 100,000 short titles takes about a second)."""

    def __init__(self, docs: Sequence[tuple[str, str]]) -> None:
        """`docs`: (asin, text) pairs."""
        self.asins = [asin for asin, _ in docs]
        corpus = [tokenize(text) for _, text in docs]
        self._bm25 = bm25s.BM25()
        if corpus:
            self._bm25.index(corpus, show_progress=False)
        vocab = {token for tokens in corpus for token in tokens}
        self._vocab = frozenset(vocab)
        self._sorted = sorted(vocab)
        self._by_head: dict[str, list[str]] = {}  # first letter -> words: typos keep it, mostly
        for token in self._sorted:
            if not token.isdigit():
                self._by_head.setdefault(token[0], []).append(token)

    def expand(self, word: str) -> list[tuple[str, float]]:
        """Vocabulary words a query word stands for, with weights: itself, its completions,
        and (only when neither exists) its close spellings."""
        found = [(word, 1.0)] if word in self._vocab else []
        if len(word) >= _MIN_PREFIX:
            start = bisect.bisect_left(self._sorted, word)
            completions = []
            for candidate in self._sorted[start : start + _MAX_COMPLETIONS + 1]:
                if not candidate.startswith(word):
                    break
                if candidate != word:
                    completions.append((candidate, PREFIX_WEIGHT))
            found += completions
        if not found and len(word) >= 4:
            pool = [t for t in self._by_head.get(word[0], ()) if abs(len(t) - len(word)) <= 2]
            close = difflib.get_close_matches(word, pool, n=3, cutoff=0.75)
            found = [(candidate, FUZZY_WEIGHT) for candidate in close]
        return found

    def scores(self, query: str) -> npt.NDArray[np.float32]:
        """(len(asins),) BM25 score of every document for the query (0 = no match)."""
        total = np.zeros(len(self.asins), dtype=np.float32)
        if not self.asins:
            return total
        for word in dict.fromkeys(tokenize(query)):  # each distinct word once, in order
            best = np.zeros_like(total)
            for token, weight in self.expand(word):
                best = np.maximum(best, weight * self._bm25.get_scores([token]))
            total += best  # a word counts once, through its best-matching form
        return total

    def search(self, query: str, k: int) -> list[tuple[str, float]]:
        """The `k` best (asin, score) pairs with a positive score, best first."""
        scores = self.scores(query)
        if k <= 0 or not len(scores):
            return []
        top = np.argpartition(-scores, min(k, len(scores)) - 1)[:k]
        ranked = sorted(top, key=lambda i: (-float(scores[i]), self.asins[i]))
        return [(self.asins[i], float(scores[i])) for i in ranked if scores[i] > 0]
