"""Memory soak: Joi's resident memory over a long conversation in one process.

    .venv/bin/python benchmarks/soak.py                          # 100 turns on the embedded model
    .venv/bin/python benchmarks/soak.py --turns 8 --prompt-cache llama   # Joi before the fix
    .venv/bin/python benchmarks/soak.py --api-base http://127.0.0.1:8000/v1 --api-model local

One person talks to the real ``Coach`` (real store, real embedder, the configured LLM) for
``--turns`` scripted messages. After each reply the benchmark pauses ``--pause`` seconds
without waiting, so importance ratings and reflections (threshold lowered to
``--reflection-threshold``) run in the background and are preempted by the next message,
as in a real conversation; every ``--drain-every`` turns it waits for the background work
to finish. It prints the process's resident memory (VmRSS) after each turn, the peak
(VmHWM, reset once the models are loaded, so it includes every transient), and the growth
from turn 5 to the last turn. Targets: peak ≤ start + 1.5 GB; growth from turn 5 ≤ 200 MB.

``--prompt-cache`` picks the embedded model's prompt-state cache: ``lean`` (Joi's, the
default), ``llama`` (llama-cpp-python's ``LlamaRAMCache`` of 1 GB with its own
``save_state``, which is what Joi used before; for comparison) or ``off``. With
``--api-base`` the model runs in another process (e.g. ``python -m llama_cpp.server``):
Joi's own memory is measured, and ``--watch-pid`` adds that server's.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
import types
from dataclasses import replace
from pathlib import Path
from typing import Any

from joi_coach.coach import Coach, collect
from joi_coach.config import CoachSettings
from joi_coach.memory.embeddings import Embedder

MB = 1 << 20
PEAK_ABOVE_START_MB = 1536
GROWTH_FROM_TURN_5_MB = 200
# A month of coaching in short messages; {n} varies each pass so that no two turns are equal.
SCRIPT = [
    "Morning, Joi. Day {n} of trying to get my life back on track.",
    "I went for a run before work today, {n} minutes, and my legs are sore.",
    "My manager moved the project deadline again, the third time this month.",
    "I snapped at my partner last night and I feel bad about it.",
    "Slept badly again, maybe five hours. I was on my phone until 1am.",
    "My sister called; she wants me to help plan our dad's 60th birthday.",
    "I skipped the gym because I was exhausted after work.",
    "I cooked dinner at home instead of ordering food, small win.",
    "Work feels pointless lately. I keep thinking about changing jobs.",
    "I meditated for {n} minutes with an app. My mind wandered the whole time.",
    "Had coffee with an old friend from university, it was good to laugh.",
    "I procrastinated all afternoon and then panicked about the report.",
    "What do you remember about why I started talking to you?",
    "My knee hurts a bit after the run, should I rest?",
    "I said no to an extra project at work. It felt scary but right.",
    "I keep comparing myself to colleagues who seem to have it all together.",
    "Weekend plans: a long walk with my partner and no laptop.",
    "I finished the report a day early, first time in ages.",
    "I feel lonely in the evenings since my flatmate moved out.",
    "Can you help me plan a realistic week, with {n} hours for myself?",
]


def status_mb(field: str, pid: int | str = "self") -> float:
    """One memory field of /proc/PID/status (VmRSS, VmHWM) in MB."""
    for line in Path(f"/proc/{pid}/status").read_text(encoding="ascii").splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise KeyError(field)


def reset_peak() -> bool:
    """Reset this process's VmHWM to its current RSS (Linux ≥ 4.0); False where not allowed."""
    try:
        Path("/proc/self/clear_refs").write_text("5", encoding="ascii")
        return True
    except OSError:
        return False


class PeakSampler(threading.Thread):
    """Samples VmRSS every ``interval`` s: the peak where VmHWM cannot be reset."""

    def __init__(self, interval: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.interval, self.peak, self._stop = interval, 0.0, threading.Event()

    def run(self) -> None:
        while not self._stop.wait(self.interval):
            self.peak = max(self.peak, status_mb("VmRSS"))

    def stop(self) -> None:
        self._stop.set()


def make_llm(args: argparse.Namespace) -> Any:
    if args.api_base:
        from joi_coach.llm.openai_compat import OpenAICompatibleLLM

        return OpenAICompatibleLLM(args.api_base, args.api_model, args.api_key)
    from joi_coach.llm.embedded import EmbeddedLLM

    if args.prompt_cache == "lean":
        return EmbeddedLLM()
    llm = EmbeddedLLM(prompt_cache_bytes=0)
    if args.prompt_cache == "llama":  # llama-cpp-python's own cache and save_state, as before
        from llama_cpp import Llama, LlamaRAMCache

        raw = llm._llama
        raw.save_state = types.MethodType(Llama.save_state, raw)
        raw.set_cache(LlamaRAMCache(capacity_bytes=1 << 30))
    return llm


def explain_saved_state(llm: Any) -> dict[str, float]:
    """What one saved prompt state holds: llama-cpp-python's ``save_state`` vs Joi's."""
    from joi_coach.llm.base import GenerationParams
    from joi_coach.llm.prompt_states import LeanLlama, state_bytes
    from llama_cpp import Llama

    raw = llm._llama
    notes = " ".join(line.format(n=3) for line in SCRIPT * 2)
    "".join(llm.stream_chat([{"role": "user", "content": notes}], GenerationParams(max_tokens=1)))
    theirs, ours = Llama.save_state(raw), LeanLlama.save_state(raw)
    figures = {
        "tokens": theirs.n_tokens,
        "llama_state_mb": theirs.llama_state_size / MB,
        "their_logits_mb": theirs.scores.nbytes / MB,
        "their_total_mb": state_bytes(theirs) / MB,
        "our_total_mb": state_bytes(ours) / MB,
    }
    print(
        f"one saved state of {figures['tokens']} tokens: llama.cpp's data {figures['llama_state_mb']:.1f} MB "
        f"(all that LlamaRAMCache counts) + a logits copy of {figures['their_logits_mb']:.1f} MB "
        f"({theirs.scores.shape[0]} rows × {theirs.scores.shape[1]:,}) = {figures['their_total_mb']:.1f} MB "
        f"with llama-cpp-python's save_state; {figures['our_total_mb']:.1f} MB with Joi's",
        flush=True,
    )
    return figures


def cache_note(llm: Any) -> str:
    cache = getattr(getattr(llm, "_llama", None), "cache", None)
    if cache is None:
        return ""
    states = getattr(cache, "n_states", None)
    if states is None:
        states = len(getattr(cache, "cache_state", ()))
    return f"; prompt cache {states} states, {cache.cache_size / MB:.0f} MB counted"


def run(args: argparse.Namespace) -> dict[str, Any]:
    embedder = Embedder()
    llm = make_llm(args)
    settings = CoachSettings()
    settings = replace(settings, reflection=replace(settings.reflection, threshold=args.reflection_threshold))
    data_dir = Path(args.data_dir or tempfile.mkdtemp(prefix="joi-soak-"))
    coach = Coach(llm, embedder, data_dir, settings=settings)
    coach.bank("soak")  # open the store before measuring the start
    explained = explain_saved_state(llm) if args.explain and not args.api_base else {}
    sampler = PeakSampler()
    sampler.start()
    start = status_mb("VmRSS")
    hwm_reset = reset_peak()
    print(
        f"start: {start:,.0f} MB resident ({'VmHWM reset' if hwm_reset else 'peak sampled'}); "
        f"model {llm.name}; {args.turns} turns, pause {args.pause} s, drain every {args.drain_every}",
        flush=True,
    )
    rss: list[float] = []
    reply_s: list[float] = []
    now = time.time()
    for turn in range(1, args.turns + 1):
        message = SCRIPT[(turn - 1) % len(SCRIPT)].format(n=turn)
        began = time.perf_counter()
        _, _, done = collect(coach.reply("soak", message, user_name="Sam", now=now + 3600 * turn))
        reply_s.append(time.perf_counter() - began)
        if done is None:
            raise RuntimeError(f"turn {turn} produced no reply")
        if args.drain_every and turn % args.drain_every == 0:
            coach.wait_idle(timeout=args.drain_timeout)
        else:
            time.sleep(args.pause)
        rss.append(status_mb("VmRSS"))
        print(
            f"turn {turn:3d}: {rss[-1]:8,.0f} MB resident; reply {reply_s[-1]:5.1f} s{cache_note(llm)}",
            flush=True,
        )
    coach.wait_idle(timeout=args.drain_timeout)
    sampler.stop()
    peak = max(status_mb("VmHWM") if hwm_reset else 0.0, sampler.peak, *rss)
    from_turn = min(5, len(rss))
    growth = rss[-1] - rss[from_turn - 1]
    coach.close()
    result = {
        "model": llm.name,
        "prompt_cache": "remote" if args.api_base else args.prompt_cache,
        "turns": args.turns,
        "start_mb": round(start),
        "rss_mb": [round(r) for r in rss],
        "peak_mb": round(peak),
        "peak_above_start_mb": round(peak - start),
        f"growth_from_turn_{from_turn}_mb": round(growth),
        "median_reply_s": round(sorted(reply_s)[len(reply_s) // 2], 1),
        "targets_met": peak - start <= PEAK_ABOVE_START_MB and growth <= GROWTH_FROM_TURN_5_MB,
    }
    if explained:
        result["saved_state"] = {k: round(v, 1) for k, v in explained.items()}
    if args.watch_pid:
        result["server_rss_mb"] = round(status_mb("VmRSS", args.watch_pid))
    print(
        f"\nstart {start:,.0f} MB; peak {peak:,.0f} MB (+{peak - start:,.0f}, target ≤ +{PEAK_ABOVE_START_MB}); "
        f"turn {from_turn} → {len(rss)}: {growth:+,.0f} MB (target ≤ +{GROWTH_FROM_TURN_5_MB}); "
        f"median reply {result['median_reply_s']} s; targets met: {'yes' if result['targets_met'] else 'NO'}"
    )
    if "server_rss_mb" in result:
        print(f"server (pid {args.watch_pid}) resident at the end: {result['server_rss_mb']:,} MB")
    return result


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--turns", type=int, default=100)
    parser.add_argument("--pause", type=float, default=6.0, help="seconds after a reply, not waiting")
    parser.add_argument("--drain-every", type=int, default=10, help="wait for background work every N turns")
    parser.add_argument("--drain-timeout", type=float, default=120.0)
    parser.add_argument("--reflection-threshold", type=int, default=30)
    parser.add_argument("--prompt-cache", choices=("lean", "llama", "off"), default="lean")
    parser.add_argument("--api-base", help="an OpenAI-compatible server instead of the embedded model")
    parser.add_argument("--api-model", default="local")
    parser.add_argument("--api-key", default=os.environ.get("JOI_API_KEY", ""))
    parser.add_argument("--watch-pid", type=int, help="also report this process's RSS (the server)")
    parser.add_argument("--explain", action="store_true", help="first, what one saved state holds")
    parser.add_argument("--data-dir", help="keep the store here (default: a new temporary folder)")
    parser.add_argument("--json", action="store_true", help="print one JSON object last")
    args = parser.parse_args(argv)
    if args.turns < 1:
        parser.error("--turns must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    result = run(args)
    if args.json:
        print(json.dumps(result))
    return 0 if result["targets_met"] else 1


if __name__ == "__main__":
    sys.exit(main())
