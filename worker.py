"""Greenline's worker: ``python worker.py`` serves the task queues of a Temporal cluster.

    TEMPORAL_ADDRESS=host:7233 python worker.py                 # control + sandbox queues
    TEMPORAL_ADDRESS=host:7233 python worker.py --queue sandbox # a docker host only runs builds
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import contextlib
import os
import signal
import sys
from collections.abc import Sequence
from datetime import timedelta

from temporalio.client import Client
from temporalio.worker import Worker

from activities.artifacts import ArtifactStore
from activities.llm import LLMActivities, LLMConfig
from activities.package_index import PackageIndex
from activities.repair import RepairActivities
from activities.sandbox.docker import DockerSandbox
from activities.sandbox.local import LocalSandbox
from activities.sandbox.pip_cache import PipCache
from greenline.settings import Settings
from models import SandboxKind
from activities.docker_lookups import AptCache, LocalImageTags
from specialists.llm.pricing import PriceError, load_prices, price_of
from workflows import WORKFLOWS

# Builds notice a worker shutdown within a second and remove their sandboxes.
_GRACE = timedelta(seconds=10)


def build_activities(settings: Settings) -> RepairActivities:
    settings.artifacts_dir.mkdir(parents=True, exist_ok=True)
    index = PackageIndex()
    return RepairActivities(
        store=ArtifactStore(settings.artifacts_dir),
        sandboxes={SandboxKind.LOCAL: LocalSandbox(), SandboxKind.DOCKER: DockerSandbox(image=settings.sandbox_image)},
        resolve_import=index.resolve_import,
        tools=index,
        release_history=index.release_history,
        requires_dist=index.requires_dist,
        apt_lookup=AptCache(),
        list_image_tags=LocalImageTags(),
        pip_cache=None if settings.pip_cache == "off" else PipCache(settings.cache_dir / "pip", scope=settings.pip_cache),
    )


def llm_config(settings: Settings) -> LLMConfig:
    """The LLM engine's configuration; ``problem`` says why it cannot run (no key, no price)."""
    price, problem = None, None
    try:
        price = price_of(settings.llm_model, load_prices(settings.llm_prices))
    except PriceError as err:
        problem = str(err)
    key = settings.anthropic_api_key.get_secret_value() if settings.anthropic_api_key else None
    if not key:
        problem = (
            "no API key: set ANTHROPIC_API_KEY where the worker runs (and GREENLINE_LLM_BASE_URL for a gateway or a "
            "self-hosted Anthropic-compatible server), or use --engine rules"
        )
    return LLMConfig(key, settings.llm_base_url, settings.llm_model, settings.llm_max_output_tokens, settings.llm_context_tokens, price, problem)


def build_workers(
    client: Client,
    settings: Settings,
    queues: Sequence[str] = ("control", "sandbox"),
    activities: RepairActivities | None = None,
    max_cached_workflows: int = 1000,
) -> list[Worker]:
    activities = activities or build_activities(settings)
    llm = LLMActivities(llm_config(settings), activities.store)
    executor = concurrent.futures.ThreadPoolExecutor(max_workers=16)
    workers = []
    if "control" in queues:
        workers.append(
            Worker(
                client,
                task_queue=settings.task_queue,
                workflows=WORKFLOWS,
                activities=[*activities.all(), *llm.all()],
                activity_executor=executor,
                max_cached_workflows=max_cached_workflows,
                graceful_shutdown_timeout=_GRACE,
            )
        )
    if "sandbox" in queues:
        workers.append(
            Worker(
                client,
                task_queue=settings.sandbox_task_queue,
                activities=[activities.run_build],
                activity_executor=executor,
                graceful_shutdown_timeout=_GRACE,
            )
        )
    return workers


async def serve(queues: Sequence[str]) -> None:
    from greenline.client import connect

    settings = Settings()
    if not settings.temporal_address:
        sys.exit("worker.py needs TEMPORAL_ADDRESS (host:port of the Temporal frontend)")
    client = await connect(settings.temporal_address, settings.temporal_namespace)
    workers = build_workers(client, settings, queues)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with contextlib.AsyncExitStack() as stack:
        for worker in workers:
            await stack.enter_async_context(worker)
        print(f"greenline worker serving {', '.join(w.task_queue for w in workers)} on {settings.temporal_address}", flush=True)
        await stop.wait()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--queue", action="append", choices=["control", "sandbox"], help="queues to serve (default: both)")
    args = parser.parse_args(argv)
    asyncio.run(serve(args.queue or ["control", "sandbox"]))
    sys.stdout.flush()
    sys.stderr.flush()
    # temporalio's Rust bridge can abort at interpreter exit (sdk-python#300): leave now.
    os._exit(0)


if __name__ == "__main__":
    main()
