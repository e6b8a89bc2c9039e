"""A small static checker for the Dockerfile of a model service.

There is no container engine on the course's machines, so an image is never
built here; what can be checked without building is the Dockerfile itself.
:func:`lint` parses it (continuation lines, comments, exec and shell forms)
and returns a :class:`Finding` per broken rule:

============== ==================================================================
rule           what it asks
============== ==================================================================
syntax         every line is an instruction Docker knows, and there is a FROM
pinned-base    each base image is pinned: a full ``x.y.z`` version tag or an
               ``@sha256:`` digest (``latest``, no tag or ``3.11-slim`` move)
non-root       the final stage's last USER (the one the container runs as) is not
               root
healthcheck    the final stage declares a HEALTHCHECK (not ``NONE``)
health-tool    the health check does not call curl or wget unless a RUN installs
               them (slim Python images have neither)
layer-order    dependencies are installed (``pip install``) before anything but the
               requirements file is copied in (code, model), so that editing the
               code does not reinstall every package
pip-cache      ``pip install`` uses ``--no-cache-dir`` or ``ENV PIP_NO_CACHE_DIR=1``
               (the download cache would stay in the layer)
exec-form      CMD and ENTRYPOINT use the JSON (exec) form, so that the service
               is PID 1 and receives the SIGTERM a stop (or Kubernetes) sends
listen-all     the service does not bind to loopback only (127.0.0.1 or
               localhost is unreachable from outside the container)
no-secrets     no ENV or ARG bakes a secret (a key, token or password) into
               the image
============== ==================================================================
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass

INSTRUCTIONS = frozenset(
    "FROM RUN CMD LABEL MAINTAINER EXPOSE ENV ADD COPY ENTRYPOINT VOLUME USER WORKDIR ARG "
    "ONBUILD STOPSIGNAL HEALTHCHECK SHELL".split()
)
RULES = (
    "syntax",
    "pinned-base",
    "non-root",
    "healthcheck",
    "health-tool",
    "layer-order",
    "pip-cache",
    "exec-form",
    "listen-all",
    "no-secrets",
)
_FULL_VERSION = re.compile(r"(?<![\w.])\d+\.\d+\.\d+(?![\d.])")
_DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")
_SECRET_NAME = re.compile(r"(SECRET|TOKEN|PASSWORD|PASSWD|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY)", re.I)
_REQUIREMENTS = re.compile(
    r"(^|/)(requirements[\w.-]*\.txt|constraints[\w.-]*\.txt|pyproject\.toml|poetry\.lock|"
    r"uv\.lock|Pipfile(\.lock)?|environment\.ya?ml|python_env\.yaml|conda\.yaml)$"
)
_ROOT_USERS = {"root", "0"}


@dataclass(frozen=True)
class Finding:
    """One broken rule: which, on which line (1-based, 0 for the whole file), and why."""

    rule: str
    line: int
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line else "Dockerfile"
        return f"{where}: [{self.rule}] {self.message}"


@dataclass(frozen=True)
class Instruction:
    keyword: str
    args: str
    line: int

    def exec_form(self) -> list[str] | None:
        """The arguments as a JSON list (exec form), or None (shell form)."""
        text = self.args.strip()
        if not text.startswith("["):
            return None
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            return None
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return value
        return None

    def words(self) -> list[str]:
        """The arguments as words (either form)."""
        exec_args = self.exec_form()
        if exec_args is not None:
            return exec_args
        try:
            return shlex.split(self.args, comments=False)
        except ValueError:
            return self.args.split()


def parse(text: str) -> tuple[list[Instruction], list[Finding]]:
    """The instructions of a Dockerfile, and syntax findings."""
    if not isinstance(text, str):
        raise TypeError(f"a Dockerfile is text, not {type(text).__name__}")
    instructions: list[Instruction] = []
    findings: list[Finding] = []
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue  # comments inside a continued instruction are dropped by Docker
        if not pending:
            start = number
        if line.endswith("\\"):
            pending.append(line[:-1].strip())
            continue
        pending.append(line)
        joined = " ".join(part for part in pending if part)
        pending = []
        keyword, _, args = joined.partition(" ")
        keyword = keyword.upper()
        if keyword not in INSTRUCTIONS:
            findings.append(
                Finding("syntax", start, f"{keyword!r} is not a Dockerfile instruction")
            )
            continue
        instructions.append(Instruction(keyword, args.strip(), start))
    if pending:
        findings.append(Finding("syntax", start, "the last instruction ends with a backslash"))
    if not any(i.keyword == "FROM" for i in instructions):
        findings.append(Finding("syntax", 0, "there is no FROM instruction"))
    elif instructions[0].keyword not in ("FROM", "ARG"):
        findings.append(
            Finding("syntax", instructions[0].line, "the first instruction must be FROM (or ARG)")
        )
    return instructions, findings


def _stages(instructions: list[Instruction]) -> list[list[Instruction]]:
    stages: list[list[Instruction]] = []
    for ins in instructions:
        if ins.keyword == "FROM":
            stages.append([ins])
        elif stages:
            stages[-1].append(ins)
    return stages


def _image_of(from_: Instruction) -> tuple[str, str | None]:
    words = [w for w in from_.words() if not w.startswith("--")]
    image = words[0] if words else ""
    alias = words[2] if len(words) >= 3 and words[1].lower() == "as" else None
    return image, alias


def _pinned(image: str) -> bool:
    if _DIGEST.search(image):
        return True
    name, _, tag = image.rpartition(":")
    if not name or "/" in tag:  # no tag at all (a ':' only in a registry port)
        return False
    return bool(_FULL_VERSION.search(tag))


def _is_pip_install(ins: Instruction) -> bool:
    return ins.keyword == "RUN" and re.search(r"\bpip3?\s+install\b", ins.args) is not None


def _copied_sources(ins: Instruction) -> list[str]:
    words = [w for w in ins.words() if not w.startswith("--")]
    return words[:-1]


def lint(text: str) -> list[Finding]:
    """Every broken rule in a Dockerfile (an empty list: nothing to report)."""
    instructions, findings = parse(text)
    stages = _stages(instructions)
    if not stages:
        return findings
    names = set()
    for stage in stages:
        image, alias = _image_of(stage[0])
        if image not in names and image.lower() != "scratch" and not _pinned(image):
            findings.append(
                Finding(
                    "pinned-base",
                    stage[0].line,
                    f"the base image {image!r} is not pinned: use a full version tag "
                    "(such as 3.11.9-slim) or an @sha256 digest",
                )
            )
        if alias:
            names.add(alias)
    final = stages[-1]

    starts = [i for i in final if i.keyword in ("CMD", "ENTRYPOINT")]
    if not starts:
        findings.append(Finding("syntax", 0, "the final stage has no CMD or ENTRYPOINT"))
    # The container runs as the final stage's last USER, wherever CMD is written.
    users = [i for i in final if i.keyword == "USER"]
    if not users:
        findings.append(
            Finding("non-root", 0, "no USER: the service would run as root inside the container")
        )
    else:
        words = users[-1].words()
        user = words[0].split(":")[0] if words else ""
        if user.lower() in _ROOT_USERS:
            findings.append(
                Finding("non-root", users[-1].line, "the last USER is root: switch to a plain user")
            )

    checks = [i for i in final if i.keyword == "HEALTHCHECK"]
    if not checks:
        findings.append(
            Finding(
                "healthcheck", 0, "no HEALTHCHECK: nothing tells a dead service from a live one"
            )
        )
    else:
        check = checks[-1]
        if check.args.strip().upper() == "NONE" or " CMD" not in f" {check.args.upper()}":
            findings.append(Finding("healthcheck", check.line, "the HEALTHCHECK runs no command"))
        else:
            for tool in ("curl", "wget"):
                if re.search(rf"\b{tool}\b", check.args) and not any(
                    i.keyword == "RUN" and re.search(rf"install[^&;|]*\b{tool}\b", i.args)
                    for i in final
                ):
                    findings.append(
                        Finding(
                            "health-tool",
                            check.line,
                            f"the HEALTHCHECK calls {tool}, which the image never installs "
                            "(slim Python images do not have it): use python, or install it",
                        )
                    )

    installs = [i for i in final if _is_pip_install(i)]
    if not installs:
        findings.append(
            Finding("layer-order", 0, "no RUN pip install: where do the dependencies come from?")
        )
    else:
        first = installs[0]
        for ins in final:
            if ins.line >= first.line:
                break
            if ins.keyword in ("COPY", "ADD"):
                if any(w.startswith("--from") for w in ins.words()):
                    continue
                others = [
                    s for s in _copied_sources(ins) if not _REQUIREMENTS.search(s.rstrip("/"))
                ]
                if others:
                    findings.append(
                        Finding(
                            "layer-order",
                            ins.line,
                            f"{ins.keyword} {' '.join(others)} comes before the dependencies are "
                            "installed: copy only the requirements file first, then install, then "
                            "copy the rest",
                        )
                    )
        no_cache_env = any(
            name.upper() == "PIP_NO_CACHE_DIR" and value.lower() in ("1", "true", "yes", "on")
            for ins in final
            if ins.keyword == "ENV"
            for name, value in _assignments(ins)
        )
        for ins in installs:
            if "--no-cache-dir" not in ins.args and not no_cache_env:
                findings.append(
                    Finding(
                        "pip-cache",
                        ins.line,
                        "pip install without --no-cache-dir (or ENV PIP_NO_CACHE_DIR=1) keeps "
                        "its download cache in the layer",
                    )
                )

    for ins in starts:
        if ins.exec_form() is None:
            findings.append(
                Finding(
                    "exec-form",
                    ins.line,
                    f"{ins.keyword} uses the shell form: /bin/sh becomes PID 1 and the service "
                    'never sees SIGTERM; write it as a JSON list, ["program", "arg", ...]',
                )
            )
        words = ins.words()
        if any(
            w in ("127.0.0.1", "localhost") or w.endswith(("=127.0.0.1", "=localhost"))
            for w in words
        ):
            findings.append(
                Finding(
                    "listen-all",
                    ins.line,
                    "the service listens on loopback only: inside a container that is unreachable; "
                    "bind to 0.0.0.0",
                )
            )

    for ins in instructions:
        if ins.keyword in ("ENV", "ARG"):
            for name, value in _assignments(ins):
                if _SECRET_NAME.search(name) and value:
                    findings.append(
                        Finding(
                            "no-secrets",
                            ins.line,
                            f"{ins.keyword} {name} bakes a secret into every layer of the image: "
                            "pass it at run time",
                        )
                    )
    return sorted(findings, key=lambda f: (f.line, RULES.index(f.rule)))


def _assignments(ins: Instruction) -> list[tuple[str, str]]:
    words = ins.words()
    if ins.keyword == "ENV" and len(words) >= 2 and "=" not in words[0]:
        return [(words[0], " ".join(words[1:]))]  # the legacy form: ENV NAME value
    pairs = []
    for word in words:
        name, eq, value = word.partition("=")
        pairs.append((name, value if eq else ""))
    return pairs


def final_command(text: str) -> list[str]:
    """The words of the final stage's last CMD (after the ENTRYPOINT's, if any)."""
    instructions, _ = parse(text)
    stages = _stages(instructions)
    if not stages:
        return []
    words: list[str] = []
    entry = [i for i in stages[-1] if i.keyword == "ENTRYPOINT"]
    cmd = [i for i in stages[-1] if i.keyword == "CMD"]
    if entry:
        words += entry[-1].words()
    if cmd:
        words += cmd[-1].words()
    return words


def healthcheck_command(text: str) -> str | None:
    """The command of the final stage's HEALTHCHECK, as written, or None."""
    instructions, _ = parse(text)
    stages = _stages(instructions)
    checks = [i for i in stages[-1] if i.keyword == "HEALTHCHECK"] if stages else []
    if not checks:
        return None
    _, _, command = checks[-1].args.partition("CMD")
    return command.strip() or None
