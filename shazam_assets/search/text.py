"""Word search: BM25 ranking over a few text fields, forgiving of typos and prefixes.

Titles, artists, brands and categories are tokenised the same way as queries: lower case,
accents stripped, split on anything that is not a letter or digit, a plural `s` dropped, a
few stop words removed. A query word that is not in the vocabulary still matches through
its completions (`spea` -> `speaker`) and its close spellings (`speakre` -> `speaker`; same
first letter, length within two), at a lower weight than an exact word, so a person typing
half a word or with a typo still finds the product.

The ranking is Lucene's BM25 (k1 = 1.5, b = 0.75; bm25s's default, which this module used
before). A `TextIndex` holds the postings of one immutable set of documents; `Words` scores
a query over a base index, minus the base documents that were replaced or removed since it
was built, plus a small delta index of the newer documents, with the statistics of the
documents that are live (document count, mean length, document frequencies): the same
scores a fresh index of the live documents gives, so a reader adds a publish's words by
indexing that one document, not the catalogue (issue 15).
"""

from __future__ import annotations

import bisect
import difflib
import heapq
import itertools
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence

import numpy as np
import numpy.typing as npt

_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset({"a", "an", "and", "by", "for", "in", "of", "on", "or", "the", "to", "with"})
PREFIX_WEIGHT = 0.6  # a completion counts this much of an exact word
FUZZY_WEIGHT = 0.5  # a close spelling counts this much
K1, B = 1.5, 0.75  # BM25 (Lucene variant)
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
    """The postings of one immutable set of documents, one per ASIN: for every word, the
    documents holding it and how often; for every document, its length and distinct words."""

    def __init__(self, docs: Sequence[tuple[str, str]]) -> None:
        """`docs`: (asin, text) pairs."""
        self.asins = [asin for asin, _ in docs]
        corpus = [tokenize(text) for _, text in docs]
        self.words = sorted({token for tokens in corpus for token in tokens})  # vocabulary
        ids = {token: i for i, token in enumerate(self.words)}
        lengths = np.fromiter((len(t) for t in corpus), dtype=np.int64, count=len(corpus))
        self.lengths = lengths.astype(np.float32)  # (docs,) words per document
        self.total_length = float(lengths.sum())
        flat = np.fromiter((ids[t] for tokens in corpus for t in tokens), dtype=np.int64)
        owners = np.repeat(np.arange(len(corpus), dtype=np.int64), lengths)
        pairs, counts = np.unique(flat * max(len(corpus), 1) + owners, return_counts=True)
        word_of, doc_of = np.divmod(pairs, max(len(corpus), 1))  # sorted by word, then doc
        self._starts = np.searchsorted(word_of, np.arange(len(self.words) + 1))  # (words+1,)
        self._docs = doc_of.astype(np.int32)  # postings: documents of word w at _starts[w]:
        self._tf = counts.astype(np.float32)  # ... and how often each holds it
        by_doc = np.argsort(doc_of, kind="stable")  # the same pairs, per document
        self._doc_starts = np.searchsorted(doc_of[by_doc], np.arange(len(corpus) + 1))
        self._doc_words = word_of[by_doc].astype(np.int32)
        self._ids = ids
        self.by_head: dict[str, list[str]] = {}  # first letter -> words: typos keep it, mostly
        for token in self.words:
            if not token.isdigit():
                self.by_head.setdefault(token[0], []).append(token)

    def __len__(self) -> int:
        return len(self.asins)

    def df(self, token: str) -> int:
        """How many documents hold the word."""
        i = self._ids.get(token)
        return 0 if i is None else int(self._starts[i + 1] - self._starts[i])

    def postings(self, token: str) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.float32]]:
        """The documents holding the word and how often each does."""
        i = self._ids.get(token)
        if i is None:
            return np.zeros(0, np.int32), np.zeros(0, np.float32)
        span = slice(self._starts[i], self._starts[i + 1])
        return self._docs[span], self._tf[span]

    def words_of(self, doc: int) -> list[str]:
        """The distinct words of one document."""
        span = self._doc_words[self._doc_starts[doc] : self._doc_starts[doc + 1]]
        return [self.words[i] for i in span]

    def completions(self, prefix: str) -> Iterator[str]:
        """Vocabulary words starting with `prefix`, in order."""
        for word in self.words[bisect.bisect_left(self.words, prefix) :]:
            if not word.startswith(prefix):
                return
            yield word

    def expand(self, word: str) -> list[tuple[str, float]]:
        return Words(self).expand(word)

    def scores(self, query: str) -> npt.NDArray[np.float32]:
        """(len(asins),) BM25 score of every document for the query (0 = no match)."""
        return Words(self).scores(query)[0]

    def search(self, query: str, k: int) -> list[tuple[str, float]]:
        """The `k` best (asin, score) pairs with a positive score, best first."""
        return Words(self).search(query, k)


_EMPTY = TextIndex([])


class Words:
    """Word search over `base` less its `dead` documents (replaced or removed since it was
    built) plus `delta` (documents newer than the base): ranked as one index of the live
    documents would rank them."""

    def __init__(
        self, base: TextIndex, delta: TextIndex = _EMPTY, dead: Iterable[int] = ()
    ) -> None:
        self.base, self.delta = base, delta
        dead_ids = np.unique(np.fromiter(dead, dtype=np.int64))
        self._alive = np.ones(len(base), dtype=np.float32)  # (base docs,) 0 for dead ones
        self._alive[dead_ids] = 0.0
        self._dead_df = Counter(w for i in dead_ids for w in base.words_of(int(i)))
        self.docs = len(base) - len(dead_ids) + len(delta)
        total = base.total_length - float(base.lengths[dead_ids].sum()) + delta.total_length
        self._mean_length = total / self.docs if self.docs and total else 1.0

    def __len__(self) -> int:
        return self.docs

    def df(self, token: str) -> int:
        """Live documents holding the word."""
        return self.base.df(token) - self._dead_df.get(token, 0) + self.delta.df(token)

    def _known(self, token: str) -> bool:
        return self.df(token) > 0

    def expand(self, word: str) -> list[tuple[str, float]]:
        """Vocabulary words a query word stands for, with weights: itself, its completions,
        and (only when neither exists) its close spellings."""
        found = [(word, 1.0)] if self._known(word) else []
        if len(word) >= _MIN_PREFIX:
            merged = heapq.merge(self.base.completions(word), self.delta.completions(word))
            live = (c for c in dict.fromkeys(merged) if self._known(c))
            for candidate in itertools.islice(live, _MAX_COMPLETIONS + 1):
                if candidate != word:
                    found.append((candidate, PREFIX_WEIGHT))
        if not found and len(word) >= 4:
            heads = [*self.base.by_head.get(word[0], ()), *self.delta.by_head.get(word[0], ())]
            pool = sorted(t for t in set(heads) if abs(len(t) - len(word)) <= 2 and self._known(t))
            close = difflib.get_close_matches(word, pool, n=3, cutoff=0.75)
            found = [(candidate, FUZZY_WEIGHT) for candidate in close]
        return found

    def matches(self, query: str) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
        """The live documents matching the query (ascending; document i < len(base) is the
        base's, the delta's after) and their BM25 scores. A word counts once per document,
        through its best-matching form; the words' scores add up in query order."""
        words = [
            found
            for word in dict.fromkeys(tokenize(query))  # each distinct word once, in order
            if (found := [self._postings(token, weight) for token, weight in self.expand(word)])
        ]
        if not words:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        size = len(self.base) + len(self.delta)
        postings = sum(len(d) for found in words for d, _ in found)
        if postings * 16 > size:  # common words: one catalogue-sized array is cheaper
            total = np.zeros(size, dtype=np.float32)
            for found in words:
                best = np.zeros(size, dtype=np.float32)
                for found_docs, scores in found:
                    best[found_docs] = np.maximum(best[found_docs], scores)
                total += best
            docs = np.flatnonzero(total)
            total = total[docs]
        else:  # rare words: from their postings only
            per_word = [_best_per_doc(found) for found in words]
            docs = np.unique(np.concatenate([d for d, _ in per_word]))
            total = np.zeros(len(docs), dtype=np.float32)
            for word_docs, word_scores in per_word:
                total[np.searchsorted(docs, word_docs)] += word_scores
        in_base = docs < len(self.base)
        total[in_base] *= self._alive[docs[in_base]]
        keep = total > 0
        return docs[keep], total[keep]

    def _postings(
        self, token: str, weight: float
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
        df = self.df(token)
        idf = weight * math.log(1 + (self.docs - df + 0.5) / (df + 0.5))
        docs, scores = [], []
        for offset, index in ((0, self.base), (len(self.base), self.delta)):
            found, tf = index.postings(token)
            norm = K1 * ((1 - B) + B * index.lengths[found] / self._mean_length)
            docs.append(found.astype(np.int64) + offset)
            scores.append((idf * tf / (norm + tf)).astype(np.float32))
        return np.concatenate(docs), np.concatenate(scores)

    def scores(self, query: str) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
        """BM25 scores of every base document (dead ones 0) and of every delta document."""
        dense = np.zeros(len(self.base) + len(self.delta), dtype=np.float32)
        docs, scores = self.matches(query)
        dense[docs] = scores
        return dense[: len(self.base)], dense[len(self.base) :]

    def search(self, query: str, k: int) -> list[tuple[str, float]]:
        """The `k` best (asin, score) pairs with a positive score, best first (equal scores
        in ASIN order)."""
        docs, scores = self.matches(query)
        if k <= 0 or not len(scores):
            return []
        k = min(k, len(scores))
        kth = scores[np.argpartition(-scores, k - 1)[k - 1]]
        above = scores > kth  # fewer than k: all of them are in
        chosen = dict(zip(docs[above].tolist(), scores[above].tolist(), strict=True))
        ties, missing = docs[scores == kth], k - len(chosen)  # the rest, first ASINs first:
        n = len(self.base)  # ties are ascending, and base and delta are each in ASIN order
        candidates = [*ties[ties < n][:missing].tolist(), *ties[ties >= n][:missing].tolist()]
        for i in sorted(candidates, key=self._asin)[:missing]:
            chosen[i] = float(kth)
        ranked = sorted(chosen, key=lambda i: (-chosen[i], self._asin(i)))
        return [(self._asin(i), chosen[i]) for i in ranked]

    def _asin(self, i: int) -> str:
        n = len(self.base)
        return self.base.asins[i] if i < n else self.delta.asins[i - n]


def _best_per_doc(
    found: list[tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
    """Each document once, with its best score among the (documents, scores) pairs."""
    docs = np.concatenate([d for d, _ in found])
    scores = np.concatenate([v for _, v in found])
    order = np.lexsort((-scores, docs))
    docs, scores = docs[order], scores[order]
    first = np.r_[True, docs[1:] != docs[:-1]]
    return docs[first], scores[first]
