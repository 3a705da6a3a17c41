"""Keywords that build and score the extraction model (the engine's train and evaluate stages)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from invoicebot.errors import InvoiceBotError
from robot.api import logger
from robot.api.deco import keyword
from robot.utils import DotDict

from .base import Component, ModelCommandFailed, call_with_supported

DOCUMENT_SUFFIXES = (".pdf", ".png", ".jpg", ".jpeg", ".tif", ".tiff")


def _plain(obj: Any) -> Any:
    if hasattr(obj, "to_dict"):
        return obj.to_dict()
    return obj


class ModelKeywords(Component):
    """Train the invoice model and evaluate extraction against ground truth."""

    @keyword
    def train_invoice_model(self, config: str | None = None, out_dir: str | None = None) -> DotDict:
        """Fine-tunes the invoice model (token classification over the canonical fields) and saves it with its card.

        Training runs on CPU and takes minutes; the trained model is used by the next extraction in this run.

        | =Arguments= | =Description= |
        | ``config`` | A model config JSON under ``models/configs/``; default: the project's default config. |
        | ``out_dir`` | Where the model is saved; default: the config's output folder. |

        Returns the training summary (paths, data fingerprint, metrics) as a dict.

        Example:
        | ${trained} =    `Train Invoice Model`    config=models/configs/train.json
        | Log    ${trained}

        Fails with the engine's message (a config error names the file and key; a missing corpus says which
        command builds it).
        """
        from invoicebot.train import train_model

        kwargs: dict[str, Any] = {"progress": False}
        if config:
            if not Path(config).is_file():
                raise ModelCommandFailed(f"model config {config} does not exist; give a JSON file such as "
                                         "models/configs/train.json, or leave config empty for the default")
            kwargs["config_path"] = config
        if out_dir:
            kwargs["out_dir"] = out_dir
        try:
            summary = call_with_supported(train_model, **kwargs)
        except (InvoiceBotError, FileNotFoundError, ValueError) as exc:
            raise ModelCommandFailed(f"training failed: {exc}") from exc
        self.ctx.cache.pop("engine", None)  # the next keyword loads the new model
        summary = _plain(summary)
        logger.info(json.dumps(summary, indent=2, default=str))
        return DotDict(summary) if isinstance(summary, dict) else DotDict(result=summary)

    @keyword
    def evaluate_invoice_model(self, ground_truth: str, documents: str | None = None, predictions: str | None = None,
                               min_f1: float | None = None) -> DotDict:
        """Scores extraction against ground truth: per-field precision, recall and F1, and micro F1.

        With ``documents``, each document whose name matches a ground-truth file is extracted first and its
        result written to ``predictions`` (default ``${OUTPUT_DIR}/evaluation/predictions``).

        | =Arguments= | =Description= |
        | ``ground_truth`` | Folder of ``<name>.json`` files in the canonical keys. |
        | ``documents`` | Folder of the documents ``<name>.pdf`` (or an image) to extract first; optional. |
        | ``predictions`` | Folder of ``<name>.json`` engine results; written when ``documents`` is given. |
        | ``min_f1`` | When given, the keyword fails if the micro F1 is lower. |

        Returns the report as a dict (``micro.f1``, ``fields``, ``errors``, ``documents``).

        Example:
        | ${score} =    `Evaluate Invoice Model`    tests/fixtures/gt    documents=tests/fixtures/docs    min_f1=0.6
        | Log    ${score.micro.f1}

        Fails when a folder is missing, with no ground truth, or when the micro F1 is below ``min_f1``.
        """
        from invoicebot.evaluate import evaluate_dirs

        if not ground_truth:
            raise ModelCommandFailed("no ground truth given; pass the folder of <name>.json files (and documents= the "
                                     "folder of <name>.pdf) — in evaluate.robot: --variable GROUND_TRUTH:<folder> "
                                     "--variable DOCUMENTS:<folder>")
        gt = Path(ground_truth)
        pred = self.ctx.output_path(predictions, None, "evaluation/predictions")
        if documents:
            self._predict(gt, Path(documents), pred)
        try:
            report = evaluate_dirs(gt, pred)
        except (FileNotFoundError, InvoiceBotError, ValueError) as exc:
            raise ModelCommandFailed(f"evaluation failed: {exc}") from exc
        data = _plain(report)
        if hasattr(report, "table"):
            logger.info(report.table())
        f1 = float(data.get("micro", {}).get("f1", 0.0))
        if min_f1 not in (None, "") and f1 < float(min_f1):
            raise ModelCommandFailed(f"micro F1 {f1:.3f} is below the required {float(min_f1):.3f} on "
                                     f"{data.get('documents')} document(s) in {gt}; see the per-field table in the log")
        return DotDict(data)

    def _predict(self, gt: Path, documents: Path, pred: Path) -> None:
        if not documents.is_dir():
            raise ModelCommandFailed(f"documents folder {documents} does not exist")
        if not gt.is_dir():
            raise ModelCommandFailed(f"ground-truth folder {gt} does not exist")
        pred.mkdir(parents=True, exist_ok=True)
        by_stem = {p.stem: p for p in documents.iterdir() if p.suffix.lower() in DOCUMENT_SUFFIXES}
        done = 0
        for truth in sorted(gt.glob("*.json")):
            doc = by_stem.get(truth.stem)
            if doc is None:
                logger.warn(f"no document for ground truth {truth.name} in {documents}")
                continue
            result = self.ctx.engine.process(doc)
            (pred / f"{truth.stem}.json").write_text(json.dumps(result.to_dict(), indent=2, ensure_ascii=False),
                                                     encoding="utf-8")
            done += 1
        logger.info(f"extracted {done} document(s) into {pred}")
