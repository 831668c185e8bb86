#!/usr/bin/env python3
"""Reference PyTorch runner for Content Arena's runner protocol, version 1.

    python3 runners/pytorch/train.py <config.json>

The config file is the last argument (see src/domain/training/runner-protocol.ts); the runner
prints one JSON object per line on stdout (log, progress, metric, artifact, error) and exits
0 on success, 3 on a permanent failure (bad config, bad data, missing software), 143 when
stopped by SIGTERM and 1 on anything else (retryable).

Two models:

* Without ``hyperparameters.baseModel``: the platform's fastText architecture, trained with
  PyTorch (on CUDA when ``device.kind`` is ``cuda``). The features are the platform's own hashed
  ids, computed by ``node dist/runners/featurize.js <config>``; the model is
  ``EmbeddingBag(buckets, dim, mode="sum")`` with the featurizer's weights as
  ``per_sample_weights`` (they sum to 1, so the sum is fastText's mean), then a linear layer
  and softmax, trained by SGD with fastText's initialization and linear learning-rate decay.
  The weights are written with ``node dist/runners/export-onnx.js``: the same exporter, graph
  and signature as the built-in trainer (``ids`` int64 [batch, length], ``weights`` float32
  [batch, length] -> ``probabilities`` float32 [batch, labels]), featurizer spec in the metadata.

* With ``hyperparameters.baseModel`` = the path of a local Hugging Face checkpoint: LoRA
  fine-tuning of that model for sequence classification (transformers + peft), its own
  tokenizer instead of the platform's featurizer. The ONNX file then takes ``input_ids`` and
  ``attention_mask`` (int64 [batch, sequence]) and gives ``probabilities`` [batch, labels]: it is
  not a text-classification model in the platform's sense (which is fed hashed ids) and is served
  as a tensor model through ``predict``, with the tokenizer saved beside it. See README.md.

Requires Python 3.9+, numpy, torch; the LoRA path also needs transformers and peft. Node and
the platform's dist/ (``npm run build``) are needed for the fastText path.
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, NoReturn, Optional, Sequence, Tuple

PROTOCOL_VERSION = 1
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_PERMANENT = 3
EXIT_TERMINATED = 143
MAX_MESSAGE = 16 * 1024
PROGRESS_EVERY_S = 0.25

REPO_ROOT = Path(__file__).resolve().parents[2]

FASTTEXT_DEFAULTS: Dict[str, Any] = {
    "epochs": 5,
    "learningRate": 0.5,
    "dim": 16,
    "seed": 1,
    "metricsEverySteps": 1000,
    # 1 is fastText's per-example SGD; larger batches are faster on a GPU (the loss is the batch mean).
    "batchSize": 1,
}

LORA_DEFAULTS: Dict[str, Any] = {
    "baseModel": None,
    "epochs": 3,
    "learningRate": 2e-4,
    "seed": 1,
    "metricsEverySteps": 50,
    "batchSize": 16,
    "maxLength": 256,
    "loraRank": 8,
    "loraAlpha": 16,
    "loraDropout": 0.05,
    # None lets peft pick the attention projections it knows for the architecture.
    "loraTargetModules": None,
    "weightDecay": 0.0,
}


# ----------------------------------------------------------------------------- protocol output


def say(message: Dict[str, Any]) -> None:
    """Writes one protocol line; NaN and infinities are not JSON, so they never reach the wire."""
    sys.stdout.write(json.dumps(message, allow_nan=False, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def log(level: str, message: str) -> None:
    say({"type": "log", "level": level, "message": message[:MAX_MESSAGE]})


def metric(name: str, value: float, step: Optional[int] = None, epoch: Optional[int] = None, scope: Optional[str] = None) -> None:
    if not math.isfinite(value):
        log("warn", f"metric {name} is {value}; not reported")
        return
    line: Dict[str, Any] = {"type": "metric", "name": name, "value": float(value)}
    if step is not None:
        line["step"] = int(step)
    if epoch is not None:
        line["epoch"] = int(epoch)
    if scope is not None:
        line["scope"] = scope
    say(line)


def progress(fraction: float, step: int, epoch: int) -> None:
    say({"type": "progress", "fraction": min(1.0, max(0.0, fraction)), "step": int(step), "epoch": int(epoch)})


class RunnerFailure(Exception):
    """A failure of the run; permanent ones (bad config or data) exit 3 and are not retried."""

    def __init__(self, message: str, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


class Stopped(Exception):
    """SIGTERM arrived: stop, write nothing more, exit 143."""


# ----------------------------------------------------------------------------- termination

_stop_requested = False


def _on_signal(signum: int, _frame: Any) -> None:
    global _stop_requested
    if _stop_requested:
        os._exit(EXIT_TERMINATED)
    _stop_requested = True


def check_stop() -> None:
    if _stop_requested:
        raise Stopped()


# ----------------------------------------------------------------------------- config


def read_config(argv: Sequence[str]) -> Dict[str, Any]:
    if len(argv) < 2:
        raise RunnerFailure("usage: train.py <config.json> (the config file is the last argument)", permanent=True)
    path = Path(argv[-1])
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise RunnerFailure(f"cannot read the config file {path}: {error}", permanent=True) from error
    except json.JSONDecodeError as error:
        raise RunnerFailure(f"the config file {path} is not JSON: {error}", permanent=True) from error

    problems: List[str] = []
    if not isinstance(config, dict):
        raise RunnerFailure(f"the config file {path} must hold a JSON object", permanent=True)
    if config.get("protocol") != PROTOCOL_VERSION:
        problems.append(f"protocol: must be {PROTOCOL_VERSION}")
    if not isinstance(config.get("runId"), str) or not config["runId"]:
        problems.append("runId: must be a non-empty string")
    work_dir = config.get("workDir")
    if not isinstance(work_dir, str) or not os.path.isabs(work_dir):
        problems.append("workDir: must be an absolute path")
    data = config.get("data")
    if not isinstance(data, dict):
        problems.append("data: must be an object")
        data = {}
    for key in ("train", "test"):
        if not isinstance(data.get(key), str) or not os.path.isabs(data[key]):
            problems.append(f"data.{key}: must be an absolute path")
    if "validation" in data and (not isinstance(data["validation"], str) or not os.path.isabs(data["validation"])):
        problems.append("data.validation: must be an absolute path")
    labels = data.get("labels")
    if not isinstance(labels, list) or len(labels) < 2 or not all(isinstance(l, str) and l for l in labels) or len(set(labels)) != len(labels):
        problems.append("data.labels: must be at least two distinct non-empty strings")
    positive = data.get("positiveLabel")
    if positive is not None and (not isinstance(labels, list) or positive not in labels):
        problems.append("data.positiveLabel: must be one of data.labels")
    if not isinstance(config.get("featurizer"), dict):
        problems.append("featurizer: must be an object (a FeaturizerSpec)")
    if not isinstance(config.get("hyperparameters", {}), dict):
        problems.append("hyperparameters: must be an object")
    device = config.get("device")
    if not isinstance(device, dict) or device.get("kind") not in ("cpu", "cuda"):
        problems.append('device.kind: must be "cpu" or "cuda"')
    elif device.get("index") is not None and (not isinstance(device["index"], int) or device["index"] < 0):
        problems.append("device.index: must be a non-negative integer or null")
    if problems:
        raise RunnerFailure(f"invalid config {path}: " + "; ".join(problems), permanent=True)
    config.setdefault("hyperparameters", {})
    return config


def hyperparameters(given: Dict[str, Any], defaults: Dict[str, Any], checks: Dict[str, Callable[[Any], bool]], what: str) -> Dict[str, Any]:
    """Defaults for what is missing; every unknown key and every bad value is reported at once."""
    problems = [f"hyperparameters.{k}: unknown for the {what}; known: {', '.join(defaults)}" for k in given if k not in defaults]
    merged = {**defaults, **{k: v for k, v in given.items() if k in defaults}}
    for key, ok in checks.items():
        if not ok(merged[key]):
            problems.append(f"hyperparameters.{key}: invalid value {json.dumps(merged[key])}")
    if problems:
        raise RunnerFailure("; ".join(problems), permanent=True)
    return merged


def is_int(lo: int, hi: int) -> Callable[[Any], bool]:
    return lambda v: isinstance(v, int) and not isinstance(v, bool) and lo <= v <= hi


def is_number(lo: float, hi: float) -> Callable[[Any], bool]:
    return lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and lo < v <= hi


# ----------------------------------------------------------------------------- torch


def import_torch() -> Any:
    try:
        import torch  # noqa: PLC0415 - imported late so that config errors need no torch
    except ImportError as error:
        raise RunnerFailure(f"PyTorch is not installed for {sys.executable}: {error}", permanent=True) from error
    return torch


def pick_device(torch: Any, device: Dict[str, Any]) -> Any:
    if device["kind"] == "cpu":
        return torch.device("cpu")
    if not torch.cuda.is_available():
        # Another worker may have a GPU: retryable.
        raise RunnerFailure("the config asks for CUDA but torch.cuda.is_available() is false on this machine", permanent=False)
    # The worker sets CUDA_VISIBLE_DEVICES to the leased device, which makes it index 0 here.
    index = 0 if os.environ.get("CUDA_VISIBLE_DEVICES") else (device.get("index") or 0)
    return torch.device(f"cuda:{index}")


def seed_everything(torch: Any, seed: int) -> Any:
    import random  # noqa: PLC0415

    random.seed(seed)
    torch.manual_seed(seed)
    generator = torch.Generator()
    generator.manual_seed(seed)
    return generator


# ----------------------------------------------------------------------------- evaluation


def classification_metrics(gold: Sequence[int], predicted: Sequence[int], labels: Sequence[str]) -> Dict[str, Any]:
    """The same definitions as src/domain/model/evaluation.ts (0/0 counts as 0; macro over occurring labels)."""
    n = len(labels)
    confusion = [[0] * n for _ in range(n)]
    for g, p in zip(gold, predicted):
        confusion[g][p] += 1
    per_class = []
    for c, label in enumerate(labels):
        tp = confusion[c][c]
        support = sum(confusion[c])
        predicted_count = sum(confusion[k][c] for k in range(n))
        precision = tp / predicted_count if predicted_count else 0.0
        recall = tp / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class.append({"label": label, "precision": precision, "recall": recall, "f1": f1, "support": support, "predicted": predicted_count})
    occurring = [m for m in per_class if m["support"] or m["predicted"]]
    total = len(gold)
    correct = sum(confusion[c][c] for c in range(n))
    return {
        "labels": list(labels),
        "total": total,
        "correct": correct,
        "accuracy": correct / total if total else 0.0,
        "macroF1": sum(m["f1"] for m in occurring) / len(occurring) if occurring else 0.0,
        "perClass": per_class,
        "confusion": confusion,
    }


def summary_metrics(evaluation: Dict[str, Any], positive: Optional[str]) -> Dict[str, float]:
    summary = {"test_accuracy": evaluation["accuracy"], "test_macro_f1": evaluation["macroF1"]}
    if positive is not None:
        summary["test_f1"] = next(m["f1"] for m in evaluation["perClass"] if m["label"] == positive)
    return summary


class Reporter:
    """Windowed and per-epoch loss / accuracy / throughput, and paced progress lines."""

    def __init__(self, total_steps: int, every: int) -> None:
        self.total_steps = total_steps
        self.every = every
        self.step = 0
        self.last_progress = 0.0
        self._window = [0.0, 0, 0, time.perf_counter()]
        self._epoch = [0.0, 0, 0, time.perf_counter()]

    def start_epoch(self) -> None:
        self._epoch = [0.0, 0, 0, time.perf_counter()]

    def add(self, loss_sum: float, correct: int, count: int, epoch: int) -> None:
        before = self.step
        self.step += count
        for acc in (self._window, self._epoch):
            acc[0] += loss_sum
            acc[1] += correct
            acc[2] += count
        if self.step // self.every > before // self.every:
            self._emit(self._window, epoch, "step")
            self._window = [0.0, 0, 0, time.perf_counter()]
        now = time.perf_counter()
        if now - self.last_progress >= PROGRESS_EVERY_S:
            self.last_progress = now
            progress(self.step / self.total_steps, self.step, epoch)

    def end_epoch(self, epoch: int) -> None:
        self._emit(self._epoch, epoch, "epoch")
        progress(self.step / self.total_steps, self.step, epoch)

    def _emit(self, acc: List[Any], epoch: int, scope: str) -> None:
        loss_sum, correct, count, started = acc
        if not count:
            return
        metric("loss", loss_sum / count, self.step, epoch, scope)
        metric("train_accuracy", correct / count, self.step, epoch, scope)
        seconds = time.perf_counter() - started
        if seconds > 0:
            metric("examples_per_second", count / seconds, self.step, epoch, scope)


# ----------------------------------------------------------------------------- node helpers


def node_command(script: str, *args: str) -> List[str]:
    node = os.environ.get("ARENA_NODE", "node")
    dist = Path(os.environ.get("ARENA_DIST", REPO_ROOT / "dist"))
    path = dist / "runners" / script
    if not path.is_file():
        raise RunnerFailure(f"{path} is missing: build the platform first (npm run build), or set ARENA_DIST to its dist/ folder", permanent=True)
    return [node, str(path), *args]


def run_node(command: List[str], what: str) -> None:
    """Runs a Node helper that speaks the protocol, relaying its log lines and honouring SIGTERM."""
    try:
        child = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, encoding="utf-8")
    except OSError as error:
        raise RunnerFailure(f"cannot start {command[0]} for {what}: {error}", permanent=True) from error
    error_message = None
    permanent = False
    assert child.stdout is not None
    for line in child.stdout:
        if _stop_requested and child.poll() is None:
            child.terminate()
        try:
            message = json.loads(line)
        except json.JSONDecodeError:
            continue
        if not isinstance(message, dict):
            continue
        if message.get("type") == "error":
            error_message = str(message.get("message"))
            permanent = bool(message.get("permanent"))
        elif message.get("type") == "log":
            log(str(message.get("level", "info")), f"{what}: {message.get('message')}")
    code = child.wait()
    check_stop()
    if code != 0:
        raise RunnerFailure(f"{what} failed (exit {code}): {error_message or 'no error line'}", permanent=permanent or code == EXIT_PERMANENT)


# ----------------------------------------------------------------------------- the fastText path


def load_split(np: Any, directory: Path, manifest: Dict[str, Any], split: str) -> Optional[Dict[str, Any]]:
    entry = manifest["splits"].get(split)
    if entry is None:
        return None
    files = entry["files"]
    arrays = {
        "offsets": np.fromfile(directory / files["offsets"], dtype="<i4").astype(np.int64),
        "ids": np.fromfile(directory / files["ids"], dtype="<i4").astype(np.int64),
        "weights": np.fromfile(directory / files["weights"], dtype="<f4"),
        "labels": np.fromfile(directory / files["labels"], dtype="<i4").astype(np.int64),
    }
    if len(arrays["offsets"]) != entry["count"] + 1 or len(arrays["ids"]) != entry["entries"] or len(arrays["weights"]) != entry["entries"]:
        raise RunnerFailure(f"the featurized {split} split in {directory} does not match features.json", permanent=False)
    return arrays


def train_fasttext(config: Dict[str, Any]) -> Tuple[Dict[str, float], Dict[str, Any]]:
    import numpy as np  # noqa: PLC0415

    hp = hyperparameters(
        config["hyperparameters"],
        FASTTEXT_DEFAULTS,
        {
            "epochs": is_int(1, 100),
            "learningRate": is_number(0, 10),
            "dim": is_int(1, 512),
            "seed": is_int(0, 2**32 - 1),
            "metricsEverySteps": is_int(1, 10**9),
            "batchSize": is_int(1, 65536),
        },
        "fastText model",
    )
    torch = import_torch()
    device = pick_device(torch, config["device"])
    labels: List[str] = config["data"]["labels"]
    work_dir = Path(config["workDir"])
    work_dir.mkdir(parents=True, exist_ok=True)
    config_path = sys.argv[-1]

    run_node(node_command("featurize.js", config_path), "featurize")
    features_dir = work_dir / "features"
    manifest = json.loads((features_dir / "features.json").read_text(encoding="utf-8"))
    if manifest.get("format") != "content-arena/packed-features@1":
        raise RunnerFailure(f"unexpected features format {manifest.get('format')!r}", permanent=True)
    buckets = int(manifest["buckets"])
    train = load_split(np, features_dir, manifest, "train")
    test = load_split(np, features_dir, manifest, "test")
    validation = load_split(np, features_dir, manifest, "validation")
    assert train is not None and test is not None
    n = len(train["labels"])
    if n == 0:
        raise RunnerFailure("the training split is empty", permanent=True)
    if len(set(train["labels"].tolist())) < 2:
        raise RunnerFailure("the training split has examples of fewer than two labels", permanent=True)
    log("info", f"PyTorch fastText on {device}: {n} training examples, {buckets} buckets, {json.dumps(hp)}")

    generator = seed_everything(torch, hp["seed"])
    dim = hp["dim"]
    model = FastTextModel(torch, buckets, dim, len(labels)).to(device)
    # Sparse gradients: each step touches only the rows of its examples, as fastText does.
    optimizer = torch.optim.SGD(model.parameters(), lr=hp["learningRate"])
    batch_size = hp["batchSize"]
    steps_per_epoch = math.ceil(n / batch_size)
    total_updates = steps_per_epoch * hp["epochs"]
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda u: max(0.0, 1.0 - u / total_updates))
    on_device = {k: torch.from_numpy(v).to(device) for k, v in train.items()}
    reporter = Reporter(n * hp["epochs"], hp["metricsEverySteps"])

    for epoch in range(1, hp["epochs"] + 1):
        reporter.start_epoch()
        model.train()
        order = torch.randperm(n, generator=generator).tolist()
        for start in range(0, n, batch_size):
            check_stop()
            batch = order[start : start + batch_size]
            ids, offsets, weights = gather(torch, on_device, batch, device)
            target = on_device["labels"][batch]
            logits = model(ids, offsets, weights)
            loss = torch.nn.functional.cross_entropy(logits, target, reduction="mean")
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
            with torch.no_grad():
                correct = int((logits.argmax(dim=1) == target).sum())
            reporter.add(float(loss) * len(batch), correct, len(batch), epoch)
        reporter.end_epoch(epoch)
        if validation is not None:
            val = classification_metrics(validation["labels"].tolist(), predict_fasttext(torch, model, validation, device), labels)
            metric("val_accuracy", val["accuracy"], reporter.step, epoch, "epoch")
            positive = config["data"].get("positiveLabel")
            f1 = next(m["f1"] for m in val["perClass"] if m["label"] == positive) if positive else val["macroF1"]
            metric("val_f1", f1, reporter.step, epoch, "epoch")

    evaluation = classification_metrics(test["labels"].tolist(), predict_fasttext(torch, model, test, device), labels)
    check_stop()
    export_fasttext(np, model, labels, buckets, dim, work_dir, config_path)
    return summary_metrics(evaluation, config["data"].get("positiveLabel")), evaluation


def FastTextModel(torch: Any, buckets: int, dim: int, classes: int) -> Any:  # noqa: N802 - a class factory
    """EmbeddingBag(sum, per-sample weights) -> Linear without bias: the platform's fastText graph."""
    nn = torch.nn

    class _FastText(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embedding = nn.EmbeddingBag(buckets, dim, mode="sum", sparse=True)
            self.linear = nn.Linear(dim, classes, bias=False)
            # fastText's initialization: input rows uniform in [-1/dim, 1/dim], output at 0.
            nn.init.uniform_(self.embedding.weight, -1.0 / dim, 1.0 / dim)
            nn.init.zeros_(self.linear.weight)

        def forward(self, ids: Any, offsets: Any, weights: Any) -> Any:
            return self.linear(self.embedding(ids, offsets, per_sample_weights=weights))

    return _FastText()


def gather(torch: Any, data: Dict[str, Any], batch: List[int], device: Any) -> Tuple[Any, Any, Any]:
    """The flat ids / weights of some examples and their offsets, as EmbeddingBag takes them."""
    offsets = data["offsets"]
    starts = offsets[batch]
    ends = offsets[[i + 1 for i in batch]]
    lengths = ends - starts
    if len(batch) == 1:
        s, e = int(starts[0]), int(ends[0])
        return data["ids"][s:e], torch.zeros(1, dtype=torch.int64, device=device), data["weights"][s:e]
    index = torch.cat([torch.arange(int(s), int(e), device=device) for s, e in zip(starts.tolist(), ends.tolist())])
    bag_offsets = torch.cat([torch.zeros(1, dtype=torch.int64, device=device), torch.cumsum(lengths, 0)[:-1]])
    return data["ids"][index], bag_offsets, data["weights"][index]


def predict_fasttext(torch: Any, model: Any, split: Dict[str, Any], device: Any, batch_size: int = 1024) -> List[int]:
    model.eval()
    data = {k: torch.from_numpy(v).to(device) for k, v in split.items()}
    n = len(split["labels"])
    predicted: List[int] = []
    with torch.no_grad():
        for start in range(0, n, batch_size):
            check_stop()
            batch = list(range(start, min(n, start + batch_size)))
            ids, offsets, weights = gather(torch, data, batch, device)
            predicted.extend(model(ids, offsets, weights).argmax(dim=1).tolist())
    return predicted


def export_fasttext(np: Any, model: Any, labels: List[str], buckets: int, dim: int, work_dir: Path, config_path: str) -> None:
    """Raw float32 weights, then the platform's own exporter: the same graph as the built-in trainer."""
    weights_dir = work_dir / "weights"
    weights_dir.mkdir(exist_ok=True)
    embeddings = model.embedding.weight.detach().float().cpu().numpy()
    out_weights = model.linear.weight.detach().float().cpu().numpy().T  # Linear stores [classes, dim]; the graph takes [dim, classes]
    np.ascontiguousarray(embeddings, dtype="<f4").tofile(weights_dir / "embeddings.f32")
    np.ascontiguousarray(out_weights, dtype="<f4").tofile(weights_dir / "out_weights.f32")
    np.zeros(len(labels), dtype="<f4").tofile(weights_dir / "out_bias.f32")
    manifest = {"labels": labels, "dim": dim, "buckets": buckets, "embeddings": "embeddings.f32", "outWeights": "out_weights.f32", "outBias": "out_bias.f32"}
    (weights_dir / "weights.json").write_text(json.dumps(manifest), encoding="utf-8")
    run_node(node_command("export-onnx.js", str(weights_dir), config_path), "export")


# ----------------------------------------------------------------------------- the LoRA path


def read_jsonl(path: str, labels: List[str]) -> Tuple[List[str], List[int]]:
    index = {label: i for i, label in enumerate(labels)}
    texts: List[str] = []
    golds: List[int] = []
    problems: List[str] = []
    try:
        with open(path, encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError:
                    row = None
                if not isinstance(row, dict) or not isinstance(row.get("text"), str) or not isinstance(row.get("label"), str):
                    problems.append(f"line {number}: not a JSON object with string fields text and label")
                elif row["label"] not in index:
                    problems.append(f"line {number}: label {row['label']!r} is not one of {labels}")
                else:
                    texts.append(row["text"])
                    golds.append(index[row["label"]])
    except OSError as error:
        raise RunnerFailure(f"cannot read {path}: {error}", permanent=True) from error
    if problems:
        shown = "; ".join(problems[:10])
        raise RunnerFailure(f"{path} has {len(problems)} unusable line(s): {shown}", permanent=True)
    return texts, golds


def train_lora(config: Dict[str, Any]) -> Tuple[Dict[str, float], Dict[str, Any]]:
    hp = hyperparameters(
        config["hyperparameters"],
        LORA_DEFAULTS,
        {
            "baseModel": lambda v: isinstance(v, str) and os.path.isdir(v),
            "epochs": is_int(1, 100),
            "learningRate": is_number(0, 1),
            "seed": is_int(0, 2**32 - 1),
            "metricsEverySteps": is_int(1, 10**9),
            "batchSize": is_int(1, 4096),
            "maxLength": is_int(8, 8192),
            "loraRank": is_int(1, 1024),
            "loraAlpha": is_number(0, 1e6),
            "loraDropout": lambda v: isinstance(v, (int, float)) and 0 <= v < 1,
            "loraTargetModules": lambda v: v is None or (isinstance(v, list) and all(isinstance(m, str) for m in v)),
            "weightDecay": lambda v: isinstance(v, (int, float)) and 0 <= v < 1,
        },
        "LoRA fine-tuning",
    )
    torch = import_torch()
    try:
        import peft  # noqa: PLC0415
        import transformers  # noqa: PLC0415
    except ImportError as error:
        raise RunnerFailure(f"LoRA fine-tuning needs transformers and peft: {error}", permanent=True) from error
    device = pick_device(torch, config["device"])
    labels: List[str] = config["data"]["labels"]
    work_dir = Path(config["workDir"])
    work_dir.mkdir(parents=True, exist_ok=True)
    generator = seed_everything(torch, hp["seed"])
    transformers.set_seed(hp["seed"])

    train_texts, train_gold = read_jsonl(config["data"]["train"], labels)
    test_texts, test_gold = read_jsonl(config["data"]["test"], labels)
    if len(set(train_gold)) < 2:
        raise RunnerFailure("the training split has examples of fewer than two labels", permanent=True)
    base = hp["baseModel"]
    try:
        tokenizer = transformers.AutoTokenizer.from_pretrained(base, local_files_only=True)
        model = transformers.AutoModelForSequenceClassification.from_pretrained(
            base,
            num_labels=len(labels),
            id2label=dict(enumerate(labels)),
            label2id={label: i for i, label in enumerate(labels)},
            local_files_only=True,
            ignore_mismatched_sizes=True,
        )
    except (OSError, ValueError) as error:
        raise RunnerFailure(f"cannot load the base model {base}: {error}", permanent=True) from error
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model.config.pad_token_id = tokenizer.pad_token_id
    lora = peft.LoraConfig(
        task_type=peft.TaskType.SEQ_CLS,
        r=hp["loraRank"],
        lora_alpha=hp["loraAlpha"],
        lora_dropout=hp["loraDropout"],
        target_modules=hp["loraTargetModules"],
    )
    model = peft.get_peft_model(model, lora).to(device)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    log("info", f"LoRA on {base}, {device}: {len(train_texts)} training examples, {trainable} trainable parameters, {json.dumps(hp)}")

    batch_size = hp["batchSize"]
    n = len(train_texts)
    steps_per_epoch = math.ceil(n / batch_size)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=hp["learningRate"], weight_decay=hp["weightDecay"])
    scheduler = transformers.get_linear_schedule_with_warmup(optimizer, 0, steps_per_epoch * hp["epochs"])
    use_bf16 = device.type == "cuda" and torch.cuda.is_bf16_supported()
    reporter = Reporter(n * hp["epochs"], hp["metricsEverySteps"])

    def encode(texts: List[str]) -> Dict[str, Any]:
        batch = tokenizer(texts, truncation=True, max_length=hp["maxLength"], padding=True, return_tensors="pt")
        return {k: v.to(device) for k, v in batch.items() if k in ("input_ids", "attention_mask")}

    for epoch in range(1, hp["epochs"] + 1):
        reporter.start_epoch()
        model.train()
        order = torch.randperm(n, generator=generator).tolist()
        for start in range(0, n, batch_size):
            check_stop()
            batch = order[start : start + batch_size]
            inputs = encode([train_texts[i] for i in batch])
            target = torch.tensor([train_gold[i] for i in batch], device=device)
            with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=use_bf16):
                logits = model(**inputs).logits
            loss = torch.nn.functional.cross_entropy(logits.float(), target)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
            correct = int((logits.argmax(dim=1) == target).sum())
            reporter.add(float(loss) * len(batch), correct, len(batch), epoch)
        reporter.end_epoch(epoch)

    model.eval()
    predicted: List[int] = []
    with torch.no_grad():
        for start in range(0, len(test_texts), batch_size):
            check_stop()
            inputs = encode(test_texts[start : start + batch_size])
            with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=use_bf16):
                predicted.extend(model(**inputs).logits.argmax(dim=1).tolist())
    evaluation = classification_metrics(test_gold, predicted, labels)
    check_stop()
    export_lora(torch, model.merge_and_unload(), tokenizer, labels, work_dir, hp)
    return summary_metrics(evaluation, config["data"].get("positiveLabel")), evaluation


def export_lora(torch: Any, model: Any, tokenizer: Any, labels: List[str], work_dir: Path, hp: Dict[str, Any]) -> None:
    """The merged model as ONNX: input_ids, attention_mask int64 [batch, sequence] -> probabilities [batch, labels]."""
    nn = torch.nn

    class WithSoftmax(nn.Module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            return torch.softmax(self.inner(input_ids=input_ids, attention_mask=attention_mask).logits, dim=-1)

    wrapper = WithSoftmax(model.float().cpu().eval())
    sample = tokenizer(["a sample text"], return_tensors="pt", padding="max_length", max_length=16, truncation=True)
    path = work_dir / "model.onnx"
    kwargs: Dict[str, Any] = {
        "input_names": ["input_ids", "attention_mask"],
        "output_names": ["probabilities"],
        "dynamic_axes": {"input_ids": {0: "batch", 1: "sequence"}, "attention_mask": {0: "batch", 1: "sequence"}, "probabilities": {0: "batch"}},
        "opset_version": 17,
    }
    args = (sample["input_ids"], sample["attention_mask"])
    try:
        # The TorchScript exporter: dynamic_axes and one self-contained file (newer torch defaults to dynamo).
        torch.onnx.export(wrapper, args, str(path), dynamo=False, **kwargs)
    except TypeError:
        torch.onnx.export(wrapper, args, str(path), **kwargs)
    tokenizer.save_pretrained(str(work_dir / "tokenizer"))
    (work_dir / "model-card.json").write_text(
        json.dumps({"labels": labels, "baseModel": hp["baseModel"], "inputs": ["input_ids", "attention_mask"], "tokenizer": "tokenizer/", "maxLength": hp["maxLength"]}, indent=2),
        encoding="utf-8",
    )
    log("info", f"wrote {path} ({path.stat().st_size / 2**20:.1f} MiB) and the tokenizer under {work_dir / 'tokenizer'}")


# ----------------------------------------------------------------------------- main


def main(argv: Sequence[str]) -> int:
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    try:
        config = read_config(argv)
        lora = config["hyperparameters"].get("baseModel") is not None
        summary, evaluation = train_lora(config) if lora else train_fasttext(config)
        for name, value in summary.items():
            metric(name, value)
        work_dir = Path(config["workDir"])
        (work_dir / "evaluation.json").write_text(json.dumps({"runId": config["runId"], "test": evaluation}, indent=2), encoding="utf-8")
        say({"type": "artifact", "path": "model.onnx", "format": "onnx", "metrics": summary})
        return EXIT_OK
    except Stopped:
        log("warn", "stopped on request (SIGTERM); no artifact written")
        return EXIT_TERMINATED
    except RunnerFailure as failure:
        say({"type": "error", "message": str(failure)[:MAX_MESSAGE], "permanent": failure.permanent})
        return EXIT_PERMANENT if failure.permanent else EXIT_FAILED
    except Exception as error:  # noqa: BLE001 - anything unexpected is reported, then retried
        import traceback  # noqa: PLC0415

        traceback.print_exc(file=sys.stderr)
        say({"type": "error", "message": f"{type(error).__name__}: {error}"[:MAX_MESSAGE], "permanent": False})
        return EXIT_FAILED


def _exit(code: int) -> NoReturn:
    sys.stdout.flush()
    sys.exit(code)


if __name__ == "__main__":
    _exit(main(sys.argv))
