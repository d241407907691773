"""Search terms for the keyword index: CJK as overlapping character bigrams, Latin as words.

Bigrams match two-character Chinese words (年假, 报销) that FTS5's trigram tokenizer cannot,
and sub-words (知识 inside 知识库) that a word segmenter would hide; both the stored text and
the query go through `terms` so they always agree.
"""

from __future__ import annotations

import re
import unicodedata

# Han (incl. extensions A/B), kana and Hangul: scripts written without spaces between words.
_CJK = (
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f"
    "\u3040-\u309f\u30a0-\u30ff\uac00-\ud7af"
)
_RUN = re.compile(rf"([{_CJK}]+)|([^\W_{_CJK}]+)")
MAX_QUERY_TERMS = 64


def terms(text: str) -> list[str]:
    """Tokens of `text` in order, duplicates kept (they matter for ranking)."""
    # NFKC folds full-width Latin and digits (ＡＢＣ１２３) into their ASCII forms.
    text = unicodedata.normalize("NFKC", text)
    out: list[str] = []
    for match in _RUN.finditer(text):
        cjk, word = match.groups()
        if word:
            out.append(word.lower())
        elif len(cjk) == 1:
            out.append(cjk)
        else:
            out.extend(cjk[i : i + 2] for i in range(len(cjk) - 1))
    return out


def document_terms(text: str) -> str:
    """The space-joined token string stored in the FTS5 table."""
    return " ".join(terms(text))


def query_terms(query: str) -> list[str]:
    """The query's distinct terms, first seen first, at most MAX_QUERY_TERMS of them."""
    return list(dict.fromkeys(terms(query)))[:MAX_QUERY_TERMS]


def match_expression(query: str) -> str | None:
    """An FTS5 MATCH expression that ORs the query's distinct terms; None if it has none.

    OR rather than AND: a question rarely shares every bigram with its answer, and BM25
    already ranks passages that share more terms higher.
    """
    distinct = query_terms(query)
    if not distinct:
        return None
    # Terms hold only letters and digits, so quoting makes each a literal FTS5 string.
    return " OR ".join(f'"{term}"' for term in distinct)
