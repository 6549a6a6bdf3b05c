"""Injected faults (control API `POST /_sandbox/faults`): rules matched by method and path regex,
`before` a request is handled or `after_commit` (handled and committed, then the answer is lost or
replaced), with a probability (seeded) and a number of times. app.py applies the effects."""

from __future__ import annotations

import random
import re
import threading
from dataclasses import dataclass, field

EFFECT = re.compile(r"status:\d{3}|drop|timeout|delay:\d+")


@dataclass
class Fault:
    method: str | None
    path: re.Pattern
    when: str
    effect: str
    probability: float
    times: int | None
    rng: random.Random
    hits: int = 0
    spec: dict = field(default_factory=dict)

    def matches(self, method: str, path: str) -> bool:
        if self.method and self.method not in ("*", method):
            return False
        if not self.path.search(path):
            return False
        if self.times is not None and self.hits >= self.times:
            return False
        if self.probability < 1 and self.rng.random() >= self.probability:
            return False
        self.hits += 1
        return True


class FaultRules:
    def __init__(self) -> None:
        self.rules: list[Fault] = []
        self.lock = threading.Lock()
        self.wake = threading.Event()  # set on reset/clear: held "timeout" requests end

    def add(self, spec: dict) -> dict:
        when = spec.get("when", "before")
        effect = str(spec.get("effect", "status:500"))
        if when not in ("before", "after_commit"):
            raise ValueError("when must be before or after_commit")
        if not EFFECT.fullmatch(effect):
            raise ValueError("effect must be status:<code>, drop, timeout or delay:<ms>")
        method = spec.get("method")
        fault = Fault(
            method=method.upper() if method else None,
            path=re.compile(spec.get("path", ".*")),
            when=when,
            effect=effect,
            probability=float(spec.get("probability", 1.0)),
            times=int(spec["times"]) if spec.get("times") is not None else None,
            rng=random.Random(spec.get("seed")),
            spec=dict(spec),
        )
        with self.lock:
            self.rules.append(fault)
            self.wake.clear()
        return {**fault.spec, "when": when, "effect": effect}

    def clear(self) -> None:
        with self.lock:
            self.rules = []
        self.wake.set()

    def match(self, method: str, path: str, when: str) -> Fault | None:
        if not self.rules:
            return None
        with self.lock:
            for f in self.rules:
                if f.when == when and f.matches(method, path):
                    return f
        return None

    def listing(self) -> list[dict]:
        with self.lock:
            return [{**f.spec, "hits": f.hits} for f in self.rules]
