"""A fork server for the crash-safety test: load the embedding model once, fork a writer per round.

    python tests/crash_writer.py DATA_DIR

Loading torch and the embedding model takes seconds, so this process loads them once (with
torch on one thread, so that no OpenMP pool exists to be lost in a fork) and then, for each
``{"round": n, "seed": s}`` line on stdin, forks a child that opens the real ``Coach`` on
``DATA_DIR`` and writes turns until it is killed: messages and replies (``Coach.reply`` on a
scripted backend that follows the real protocol), importance ratings and reflections. The
child reports on stdout, one JSON line each, only what has committed (after the call
returned), plus markers around every SQLite transaction, meta write and cache save, so the
test can tell where a kill landed. Every line is written with one ``os.write`` of under
``PIPE_BUF`` bytes, so a kill never leaves half a line. When the child is gone this process
reports how it ended (``reaped``) and waits for the next round.
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
import traceback
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ["TOKENIZERS_PARALLELISM"] = "false"
os.environ["OMP_NUM_THREADS"] = "1"
sys.path.insert(0, str(Path(__file__).resolve().parent))

PROFILE = "sam"
USER = "Sam"
PIPE_BUF = 4096


def emit(**event: object) -> None:
    line = (json.dumps(event, ensure_ascii=True) + "\n").encode()
    if len(line) >= PIPE_BUF:
        raise ValueError(f"report line too long for one atomic write: {len(line)} bytes")
    os.write(1, line)


def trace_writes() -> None:
    """Report the start and end of every write to the store and the vector cache."""
    from joi_coach.memory.sqlite_store import SqliteMemoryStore
    from joi_coach.memory.vector_index import VectorIndex

    transaction = SqliteMemoryStore.transaction
    set_meta = SqliteMemoryStore.set_meta
    save = VectorIndex.save

    @contextmanager
    def traced_transaction(self):
        with transaction(self) as db:
            emit(ev="tx+")
            yield db
        emit(ev="tx-")  # after COMMIT returned

    def traced_set_meta(self, key, value):
        emit(ev="meta+")
        set_meta(self, key, value)
        emit(ev="meta-")

    def traced_save(self):
        emit(ev="cache+")
        save(self)
        emit(ev="cache-")

    SqliteMemoryStore.transaction = traced_transaction
    SqliteMemoryStore.set_meta = traced_set_meta
    VectorIndex.save = traced_save


def write_forever(data_dir: Path, round_no: int, seed: int, embedder) -> None:
    from joi_coach.coach import Coach, collect
    from joi_coach.config import CoachSettings
    from joi_coach.llm.priority import PriorityLLM
    from joi_coach.memory.models import Stream
    from protocol_llm import WORDS, ProtocolLLM

    rng = random.Random(seed)
    emit(ev="start")
    settings = replace(CoachSettings(), background=False)
    coach = Coach(
        PriorityLLM(ProtocolLLM(seed=seed), idle_before_background=0.0), embedder, data_dir, settings=settings
    )
    bank = coach.bank(PROFILE)
    emit(ev="opened")
    turn_no = 0
    while True:
        turn_no += 1
        words = " ".join(rng.choice(WORDS) for _ in range(4))
        message = f"Round {round_no} turn {turn_no}: today the {words} made me think about my week."
        emit(ev="op+", op="reply")
        _, _, turn = collect(coach.reply(PROFILE, message, user_name=USER))
        assert turn is not None
        texts = {
            Stream.DIALOGUE: turn.reply.dialogue,
            Stream.EMPATHETIC: turn.reply.empathetic,
            Stream.THERAPEUTIC: turn.reply.therapeutic,
        }
        emit(ev="memory", id=turn.user_memory_id, stream="dialogue", text=message)
        for stream, ids in turn.memory_ids.items():
            for memory_id in ids:
                emit(ev="memory", id=memory_id, stream=stream.value, text=texts[stream])
        emit(ev="op-", op="reply")
        if turn_no % 2 == 0:
            emit(ev="op+", op="think")
            pending = [m.id for m in bank.unrated(limit=100_000)]
            coach.thinking.think(bank, settings.reflection)
            rated = [(m.id, m.importance) for m in bank.get(pending)]
            for start in range(0, len(rated), 100):
                emit(ev="rated", scores=rated[start : start + 100])
            emit(ev="op-", op="think")
        if turn_no % 3 == 0:
            emit(ev="op+", op="reflect")
            for memory in coach.reflect_now(PROFILE, user_name=USER):
                emit(
                    ev="memory",
                    id=memory.id,
                    stream="reflection",
                    text=memory.text,
                    evidence=list(memory.evidence),
                )
            emit(ev="op-", op="reflect")


def main(data_dir: Path) -> None:
    import faiss
    import torch

    torch.set_num_threads(1)
    faiss.omp_set_num_threads(1)
    import joi_coach.coach  # noqa: F401  (imported once here, not in every child)
    import protocol_llm  # noqa: F401
    from joi_coach.memory.embeddings import Embedder
    from joi_coach.safety.similarity import exemplars_for

    embedder = Embedder()
    exemplars_for(embedder)  # embedded once here (one thread): every child inherits them
    from joi_coach.safety.detection import _shipped_classifier
    from joi_coach.safety.multilingual import shipped_encoder

    _shipped_classifier()  # the crisis classifier and its multilingual encoder, loaded once too
    encoder = shipped_encoder()
    if encoder is not None:
        encoder.embed(["loaded once"])
    trace_writes()
    emit(ev="ready", pid=os.getpid())
    for line in sys.stdin:
        command = json.loads(line)
        round_no, seed = int(command["round"]), int(command["seed"])
        started = time.monotonic()
        pid = os.fork()
        if pid == 0:
            code = 3
            try:
                write_forever(data_dir, round_no, seed, embedder)
            except BaseException:
                emit(ev="error", trace=traceback.format_exc()[-3000:])
            finally:
                os._exit(code)
        emit(ev="forked", round=round_no, pid=pid)
        _, status = os.waitpid(pid, 0)
        emit(
            ev="reaped",
            round=round_no,
            signal=os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
            exit=os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
            seconds=round(time.monotonic() - started, 3),
        )


if __name__ == "__main__":
    main(Path(sys.argv[1]))
