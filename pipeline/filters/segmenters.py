"""Word segmenters for languages whose datatrove tokenizer is not spaCy's rule-based one, equal to datatrove's.

datatrove's word list for a language is ``strip_strings`` of the tokens of its tokenizer. For three tokenizer
families Curate gets the same list without spaCy's per-document ``Doc`` building, so the filters chained on a text
share one cheap segmentation (``word_analysis``):

* **Chinese** (``SpaCyTokenizer("zh")``: spaCy's ``ChineseTokenizer`` with jieba). The Doc's tokens are jieba's
  non-empty tokens, with the whitespace between them re-inserted by ``get_words_and_spaces``; once whitespace
  tokens are stripped, the words are jieba's non-whitespace tokens. jieba cuts a text into runs of Han
  characters / ASCII letters and digits (no whitespace in them), each segmented alone, and yields every other
  character alone, whitespace included: so the tokens of a text are the tokens of its whitespace-free chunks in
  order, and chunks are cached like spaCy's (``word_analysis.ChunkTokenizer``).
* **Japanese** (datatrove's ``JapaneseTokenizer``: SudachiPy, split mode A, on the text cut into 40,000-byte
  parts by ``chunk_text_on_bytes``). The Doc's tokens are Sudachi's non-empty surfaces plus whitespace gap tokens,
  so the words are the stripped non-empty surfaces of Sudachi's morphemes over the same parts. Sudachi's lattice
  may in principle join across a space, so no chunk cache here: one Sudachi pass per text, without the Doc.
* **Languages with no tokenizer of their own** (datatrove's ``WhitespaceTokenizer``, 53 FineWeb-2 languages): its
  words are a blank ``xx`` spaCy pipeline's, so the chunked spaCy tokenizer serves them (its sentences are a
  regex split: ``count_sentences`` keeps datatrove's for these).

A text containing ``IS_ALPHA`` (a string spaCy's Doc refuses, which datatrove strips and retries) goes through
datatrove's own ``split_into_words``. ``tests/test_filters_parity_multilingual.py`` checks the word lists.
"""

from __future__ import annotations

from datatrove.utils.word_tokenizers import SpaCyTokenizer, WhitespaceTokenizer, chunk_text_on_bytes

from pipeline.filters.chunk_info import ChunkInfo, chunk_info

CHUNK_CACHE_SIZE = 200_000  # chunks (Chinese chunks are clauses, longer than words): cleared when full
JAPANESE_PART_BYTES = 40_000  # datatrove's byte limit per Sudachi call


class JiebaChunkSegmenter:
    """jieba's words of whitespace-free chunks, cached, as spaCy's ``zh`` pipeline with jieba makes them."""

    chunked = True

    def __init__(self) -> None:
        import jieba

        jieba.setLogLevel(60)  # no "Building prefix dict" lines in a run's log
        list(jieba.cut("作为", cut_all=False))  # load the dictionary now, as spaCy's try_jieba_import does
        self._cut = jieba.cut
        self._cache: dict[str, ChunkInfo] = {}

    def chunk_infos(self, chunks: list[str]) -> list[ChunkInfo]:
        cache = self._cache
        missing = [c for c in dict.fromkeys(chunks) if c not in cache]
        if missing:
            if len(cache) + len(missing) > CHUNK_CACHE_SIZE:
                cache.clear()
                missing = list(dict.fromkeys(chunks))
            for chunk, tokens in zip(missing, self._cut_chunks(missing), strict=True):
                cache[chunk] = chunk_info(tokens)
        return [cache[c] for c in chunks]

    def _cut_chunks(self, chunks: list[str]) -> list[tuple[str, ...]]:
        """jieba's tokens of each chunk, from one ``cut`` over the chunks joined by newlines.

        A newline is whitespace, which jieba yields as a token of its own and never joins to a neighbour, so each
        chunk is segmented exactly as if alone.
        """
        out: list[tuple[str, ...]] = []
        current: list[str] = []
        for token in self._cut("\n".join(chunks), cut_all=False):
            if token == "\n":
                out.append(tuple(current))
                current = []
            elif token:
                current.append(token)
        out.append(tuple(current))
        if len(out) != len(chunks):  # cannot happen with jieba's whitespace handling; never guess
            raise RuntimeError("jieba chunk segmentation lost its alignment")
        return out

    def clear(self) -> None:
        self._cache.clear()


class SudachiSegmenter:
    """The stripped surfaces of SudachiPy's morphemes (split mode A), as datatrove's Japanese tokenizer gives them."""

    chunked = False

    def __init__(self) -> None:
        from datatrove.utils.japanese_tokenizer import try_sudachi_import

        self._tokenizer = try_sudachi_import(None)  # datatrove's JapaneseTokenizer: split_mode None = A

    def words(self, text: str) -> list[str]:
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates (broken input): datatrove crashes, Sudachi cannot take them
            text = text.encode("utf-8", "replace").decode("utf-8")
        words: list[str] = []
        for part in chunk_text_on_bytes(text, JAPANESE_PART_BYTES):
            for morpheme in self._tokenizer.tokenize(part):
                word = morpheme.surface().strip()
                if word:
                    words.append(word)
        return words

    def clear(self) -> None:
        pass


_SEGMENTERS: dict[str, object] = {}


def segmenter_for(language: str, tokenizer: object):
    """The segmenter replacing datatrove's tokenizer ``tokenizer`` (loaded for ``language``), or None."""
    if type(tokenizer) is SpaCyTokenizer and tokenizer.language in ("zh", "ja"):
        key = tokenizer.language
        if key not in _SEGMENTERS:
            _SEGMENTERS[key] = JiebaChunkSegmenter() if key == "zh" else SudachiSegmenter()
        return _SEGMENTERS[key]
    if type(tokenizer) is WhitespaceTokenizer:  # its words are spacy.blank("xx")'s
        if "xx" not in _SEGMENTERS:
            from pipeline.filters.word_analysis import ChunkTokenizer

            _SEGMENTERS["xx"] = ChunkTokenizer(SpaCyTokenizer("xx"))
        return _SEGMENTERS["xx"]
    return None


def clear_segmenter_caches() -> None:
    for segmenter in _SEGMENTERS.values():
        if hasattr(segmenter, "clear"):
            segmenter.clear()
        else:  # the chunked spaCy tokenizer
            segmenter._cache.clear()
            segmenter._nlp = segmenter._new_pipeline()
