"""The fields of a BERT ``config.json`` that the encoders read (``encoder.py``'s torch one and ``npnet.py``'s
numpy one): no torch here."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from .errors import ModelNotFound

CONFIG_FILE = "config.json"
#: the weights beside ``config.json``: the base model's, and a trained artifact's (read by both backends)
WEIGHTS_FILE = "model.safetensors"
#: the precisions the torch encoder runs at prediction (``BertEncoder.for_inference``)
PRECISIONS = ("float32", "bfloat16", "int8")


@dataclass
class EncoderConfig:
    """The fields of a BERT ``config.json`` that the encoder needs (others are ignored on load)."""

    vocab_size: int = 30522
    hidden_size: int = 384
    num_hidden_layers: int = 6
    num_attention_heads: int = 12
    intermediate_size: int = 1536
    hidden_act: str = "gelu"
    hidden_dropout_prob: float = 0.1
    attention_probs_dropout_prob: float = 0.1
    max_position_embeddings: int = 512
    type_vocab_size: int = 2
    initializer_range: float = 0.02
    layer_norm_eps: float = 1e-12
    pad_token_id: int = 0
    position_embedding_type: str = "absolute"

    @classmethod
    def from_dict(cls, d: dict) -> EncoderConfig:
        return cls(**{f.name: d[f.name] for f in fields(cls) if f.name in d})

    @classmethod
    def from_file(cls, path: str | Path) -> EncoderConfig:
        path = Path(path)
        if path.is_dir():
            path = path / CONFIG_FILE
        if not path.is_file():
            raise ModelNotFound(f"no encoder config at {path}; rebuild the model with `invoicebot train` (or `make model`)")
        try:
            cfg = cls.from_dict(json.loads(path.read_text(encoding="utf-8")))
        except (ValueError, TypeError) as exc:
            raise ModelNotFound(f"the encoder config {path} is not a BERT config.json ({exc}); rebuild the model "
                                "with `invoicebot train`") from exc
        if cfg.hidden_act != "gelu" or cfg.position_embedding_type != "absolute":
            raise ModelNotFound(f"{path}: hidden_act {cfg.hidden_act!r} / position_embedding_type "
                                f"{cfg.position_embedding_type!r} are not supported (only 'gelu' / 'absolute')")
        if cfg.hidden_size % cfg.num_attention_heads:
            raise ModelNotFound(f"{path}: hidden_size {cfg.hidden_size} is not a multiple of num_attention_heads "
                                f"{cfg.num_attention_heads}")
        return cfg

    def to_dict(self) -> dict:
        # model_type and architectures keep the folder loadable by transformers' AutoModel too
        return {"architectures": ["BertModel"], "model_type": "bert", **asdict(self)}

    def save_pretrained(self, folder: str | Path) -> Path:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / CONFIG_FILE
        path.write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")
        return path
