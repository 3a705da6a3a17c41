"""The WordPiece tokenizer of the encoder, read from ``tokenizer.json`` by ``tokenizers``: no torch here.

Both forward passes use it: the torch encoder (``encoder.py``, training and batches) and the numpy one
(``npnet.py``, a process's first documents).  ``save_pretrained(folder)`` writes ``tokenizer.json`` and
``tokenizer_config.json``, the same files that ``transformers`` reads.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .errors import ModelNotFound

TOKENIZER_FILE = "tokenizer.json"
TOKENIZER_CONFIG_FILE = "tokenizer_config.json"


class WordPieceTokenizer:
    """``tokenizers``' WordPiece tokenizer from ``tokenizer.json``: truncates and pads; numpy arrays (``encode``) or
    torch tensors (``tokenize``)."""

    def __init__(self, tokenizer, folder: Path | None = None):
        self._tok = tokenizer
        self.folder = folder
        self._max_tokens: int | None = None
        pad = tokenizer.token_to_id("[PAD]")
        self.pad_id = 0 if pad is None else pad
        tokenizer.no_truncation()
        tokenizer.enable_padding(pad_id=self.pad_id, pad_token="[PAD]")

    @classmethod
    def from_folder(cls, folder: str | Path) -> WordPieceTokenizer:
        from tokenizers import Tokenizer

        folder = Path(folder)
        path = folder / TOKENIZER_FILE
        if not path.is_file():
            raise ModelNotFound(f"no tokenizer at {path}; rebuild the model with `invoicebot train` (or `make model`)")
        try:
            tok = Tokenizer.from_file(str(path))
        except Exception as exc:  # tokenizers raises its own Exception type for a malformed file
            raise ModelNotFound(f"cannot read the tokenizer {path}: {exc}; rebuild the model with `invoicebot train`") from exc
        return cls(tok, folder)

    def _truncate(self, max_tokens: int) -> None:
        if self._max_tokens != max_tokens:
            self._tok.enable_truncation(max_length=max_tokens)
            self._max_tokens = max_tokens

    def encode(self, strings: list[str], max_tokens: int) -> tuple[np.ndarray, np.ndarray]:
        """``input_ids`` and ``attention_mask`` (batch, longest) as int64 arrays, each string cut to ``max_tokens``
        tokens with [CLS] and [SEP]."""
        self._truncate(max_tokens)
        if not strings:
            empty = np.zeros((0, 0), dtype=np.int64)
            return empty, empty.copy()
        encs = self._tok.encode_batch(list(strings))
        ids = np.array([e.ids for e in encs], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encs], dtype=np.int64)
        return ids, mask

    def tokenize(self, strings: list[str], max_tokens: int):
        """:meth:`encode` as torch tensors (training and the torch encoder)."""
        import torch

        ids, mask = self.encode(strings, max_tokens)
        return torch.from_numpy(ids), torch.from_numpy(mask)

    def save_pretrained(self, folder: str | Path) -> Path:
        """Write ``tokenizer.json`` (and ``tokenizer_config.json``) into ``folder``."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        self._tok.save(str(folder / TOKENIZER_FILE))
        source = self.folder / TOKENIZER_CONFIG_FILE if self.folder else None
        target = folder / TOKENIZER_CONFIG_FILE
        if source is not None and source.is_file():
            if source.resolve() != target.resolve():
                target.write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
        else:
            target.write_text(json.dumps({"tokenizer_class": "BertTokenizer", "do_lower_case": True,
                                          "model_max_length": 512}, indent=2) + "\n", encoding="utf-8")
        return folder / TOKENIZER_FILE


def load_tokenizer(folder: str | Path) -> WordPieceTokenizer:
    """The tokenizer saved in ``folder`` (the base model's folder or an artifact's ``tokenizer/``)."""
    return WordPieceTokenizer.from_folder(folder)


__all__ = ["TOKENIZER_CONFIG_FILE", "TOKENIZER_FILE", "WordPieceTokenizer", "load_tokenizer"]
