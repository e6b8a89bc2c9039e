"""Load-test the sentiment service on loopback (a script, not a pytest test).

    python tests/benchmarks/bench_service.py [--duration 60] [--skip-minilm]

Trains the artifacts it is not given (``--tfidf-dir`` / ``--minilm-dir``), starts
``uvicorn mlcourse.service.app:app`` with one worker on 127.0.0.1, and measures:

1. TF-IDF ``POST /predict``, closed loop with ``wrk`` (``apt-get install wrk``):
   requests/s, p50, p99, errors. Target: >= 1,000 req/s, p99 <= 20 ms, no errors.
2. TF-IDF ``POST /predict/batch`` (256 texts a request) with ``wrk``:
   sentences/s. Target: >= 20,000 sentences/s.
3. MiniLM ``POST /predict`` at a fixed 20 req/s, open loop (an asyncio + httpx
   client that sends on schedule whatever the replies do; latency is measured
   from the scheduled send time, so queueing is not hidden). Target: p99 <= 60 ms.

The request bodies are the 600 held-out sentences of the fixed split. The
server logs one JSON line per request to a file, as in production. Client and
server share the machine, so the figures are a floor for a dedicated host.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TARGETS = {
    "tfidf_predict_rps": 1000.0,
    "tfidf_predict_p99_ms": 20.0,
    "batch_sentences_per_s": 20000.0,
    "minilm_p99_ms": 60.0,
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """``python -m uvicorn mlcourse.service.app:app`` on loopback, one worker."""

    def __init__(self, model_dir: Path, log: Path) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        env = {**os.environ, "MLCOURSE_MODEL_DIR": str(model_dir)}
        command = [sys.executable, "-m", "uvicorn", "mlcourse.service.app:app"]
        command += ["--host", "127.0.0.1", "--port", str(self.port), "--workers", "1"]
        command += ["--no-access-log", "--log-level", "warning"]
        with open(log, "wb") as handle:
            self.proc = subprocess.Popen(command, env=env, stdout=handle, stderr=subprocess.STDOUT)

    def wait_ready(self, timeout: float = 180.0) -> None:
        import httpx

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(
                    f"server exited with {self.proc.returncode}:\n{self.log.read_text()}"
                )
            try:
                if httpx.get(f"{self.url}/health", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise SystemExit(f"server not ready after {timeout} s:\n{self.log.read_text()}")

    def cpu_seconds(self) -> float | None:
        """User + system CPU time the server has used so far (Linux /proc), or None."""
        try:
            fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError, IndexError):
            return None

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self) -> Server:
        self.wait_ready()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


# -- wrk ---------------------------------------------------------------------------

_LUA = """
local bodies = {%(bodies)s}
local reqs = {}
local i = 0
init = function(args)
  for k, body in ipairs(bodies) do
    reqs[k] = wrk.format("POST", "%(path)s", {["Content-Type"] = "application/json"}, body)
  end
end
request = function()
  i = i %% #reqs + 1
  return reqs[i]
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests": %%d, "duration_us": %%d, "p50_us": %%d, "p90_us": %%d, ' ..
    '"p99_us": %%d, "max_us": %%d, "connect": %%d, "read": %%d, "write": %%d, ' ..
    '"status": %%d, "timeout": %%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, e.connect, e.read, e.write, e.status, e.timeout))
end
"""


def _lua_script(path: str, bodies: list[str], folder: Path) -> Path:
    quoted = ",\n".join(f"[==[{body}]==]" for body in bodies)
    script = folder / f"wrk{path.replace('/', '_')}.lua"
    script.write_text(_LUA % {"bodies": quoted, "path": path}, encoding="utf-8")
    return script


def run_wrk(
    url: str, script: Path, duration: float, connections: int, threads: int = 1
) -> dict[str, float]:
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{max(1, round(duration))}s"]
    command += ["--timeout", "5s", "-s", str(script), url]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    line = next(x for x in output.splitlines() if x.startswith("WRKJSON "))
    raw = json.loads(line.removeprefix("WRKJSON "))
    seconds = raw["duration_us"] / 1e6
    errors = sum(raw[k] for k in ("connect", "read", "write", "status", "timeout"))
    return {
        "requests": raw["requests"],
        "rps": raw["requests"] / seconds,
        "p50_ms": raw["p50_us"] / 1000,
        "p90_ms": raw["p90_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
        "max_ms": raw["max_us"] / 1000,
        "errors": errors,
        "seconds": seconds,
    }


# -- open-loop client --------------------------------------------------------------


async def _open_loop(url: str, bodies: list[str], rate: float, duration: float) -> dict[str, float]:
    import httpx

    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    headers = {"content-type": "application/json"}
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=10.0) as client:

        async def one(body: str, scheduled: float) -> None:
            nonlocal errors
            try:
                response = await client.post("/predict", content=body, headers=headers)
                ok = response.status_code == 200
            except httpx.HTTPError:
                ok = False
            if ok:
                latencies.append(time.perf_counter() - scheduled)
            else:
                errors += 1

        n = int(rate * duration)
        start = time.perf_counter() + 0.05
        tasks = []
        for i in range(n):
            scheduled = start + i / rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(bodies[i % len(bodies)], scheduled)))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - start
    latencies.sort()

    def pct(q: float) -> float:
        return (
            latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000 if latencies else 0
        )

    return {
        "requests": n,
        "rps": n / elapsed,
        "p50_ms": pct(0.50),
        "p90_ms": pct(0.90),
        "p99_ms": pct(0.99),
        "max_ms": latencies[-1] * 1000 if latencies else 0.0,
        "mean_ms": statistics.fmean(latencies) * 1000 if latencies else 0.0,
        "errors": errors,
        "seconds": elapsed,
    }


# -- main --------------------------------------------------------------------------


def _artifact(kind: str, given: Path | None, workdir: Path) -> Path:
    if given is not None:
        return given
    from mlcourse.service.train import train

    out = workdir / kind
    print(f"training a {kind} artifact into {out} ...", flush=True)
    meta = train(kind, out)
    print(f"  {meta['version']}: held-out accuracy {meta['metrics']['accuracy']}", flush=True)
    return out


def _row(name: str, result: dict[str, float], extra: str = "") -> str:
    cpu = result.get("server_cpu_us_per_request")
    cpu_text = f"  server CPU {cpu:,.0f} us/request" if cpu else ""
    return (
        f"{name:<34} {result['rps']:>9.1f} req/s  p50 {result['p50_ms']:>7.2f} ms  "
        f"p99 {result['p99_ms']:>7.2f} ms  max {result['max_ms']:>8.2f} ms  "
        f"errors {int(result['errors'])}  ({int(result['requests'])} requests){cpu_text}{extra}"
    )


def _measured(server: Server, run, *args) -> dict[str, float]:
    """Run a load generator and add the server's CPU time per request to its result."""
    before = server.cpu_seconds()
    result = run(*args)
    after = server.cpu_seconds()
    if before is not None and after is not None and result["requests"]:
        result["server_cpu_us_per_request"] = (after - before) / result["requests"] * 1e6
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tfidf-dir", type=Path, help="TF-IDF artifact (default: train one)")
    parser.add_argument("--minilm-dir", type=Path, help="MiniLM artifact (default: train one)")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds per measurement")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of warm-up load")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections, /predict")
    parser.add_argument("--batch-connections", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--rate", type=float, default=20.0, help="MiniLM requests per second")
    parser.add_argument("--skip-minilm", action="store_true")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)

    if shutil.which("wrk") is None:
        print("wrk is not installed: apt-get install -y wrk", file=sys.stderr)
        return 2
    if not os.environ.get("MLCOURSE_DATA_MIRROR") and (REPO.parent / "shared" / "data").is_dir():
        os.environ["MLCOURSE_DATA_MIRROR"] = str(REPO.parent / "shared" / "data")

    from mlcourse.service.train import load_split

    texts = load_split().test_texts
    single = [json.dumps({"text": t}) for t in texts]
    batches = [
        json.dumps({"texts": [texts[(i + k) % len(texts)] for k in range(args.batch_size)]})
        for i in range(0, len(texts), 97)
    ]
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-service-") as tmp:
        work = Path(tmp)
        tfidf = _artifact("tfidf", args.tfidf_dir, work)
        predict_lua = _lua_script("/predict", single, work)
        batch_lua = _lua_script("/predict/batch", batches, work)

        with Server(tfidf, work / "tfidf.log") as server:
            run_wrk(server.url, predict_lua, args.warmup, args.connections)
            results["tfidf_predict"] = _measured(
                server, run_wrk, server.url, predict_lua, args.duration, args.connections
            )
            print(_row("tfidf POST /predict", results["tfidf_predict"]), flush=True)
            run_wrk(server.url, batch_lua, args.warmup, args.batch_connections)
            batch = _measured(
                server, run_wrk, server.url, batch_lua, args.duration, args.batch_connections
            )
            batch["sentences_per_s"] = batch["rps"] * args.batch_size
            results["tfidf_batch"] = batch
            print(
                _row(
                    f"tfidf POST /predict/batch ({args.batch_size})",
                    batch,
                    f"  => {batch['sentences_per_s']:,.0f} sentences/s",
                ),
                flush=True,
            )
        log_lines = sum(1 for _ in open(work / "tfidf.log", encoding="utf-8"))
        print(f"  (server wrote {log_lines:,} log lines)")

        if not args.skip_minilm:
            minilm = _artifact("minilm", args.minilm_dir, work)
            with Server(minilm, work / "minilm.log") as server:
                asyncio.run(_open_loop(server.url, single, args.rate, min(args.warmup, 5.0)))
                results["minilm_predict"] = _measured(
                    server,
                    lambda: asyncio.run(_open_loop(server.url, single, args.rate, args.duration)),
                )
                print(
                    _row(f"minilm POST /predict @{args.rate:g}/s", results["minilm_predict"]),
                    flush=True,
                )

    checks = {
        "tfidf /predict >= 1,000 req/s": results["tfidf_predict"]["rps"]
        >= TARGETS["tfidf_predict_rps"],
        "tfidf /predict p99 <= 20 ms": results["tfidf_predict"]["p99_ms"]
        <= TARGETS["tfidf_predict_p99_ms"],
        "tfidf /predict no errors": results["tfidf_predict"]["errors"] == 0,
        "tfidf /predict/batch >= 20,000 sentences/s": results["tfidf_batch"]["sentences_per_s"]
        >= TARGETS["batch_sentences_per_s"],
    }
    if "minilm_predict" in results:
        checks["minilm /predict p99 <= 60 ms at 20 req/s"] = (
            results["minilm_predict"]["p99_ms"] <= TARGETS["minilm_p99_ms"]
        )
        checks["minilm /predict no errors"] = results["minilm_predict"]["errors"] == 0
    print()
    for name, ok in checks.items():
        print(f"  {'PASS' if ok else 'MISS'}  {name}")
    try:
        load = os.getloadavg()
        cores = os.cpu_count()
        print(f"  (load average during the run: {load[0]:.1f} / {load[1]:.1f} on {cores} cores)")
    except OSError:
        pass
    if args.json:
        args.json.write_text(json.dumps({"results": results, "checks": checks}, indent=2) + "\n")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
