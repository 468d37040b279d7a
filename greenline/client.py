"""The one place that builds a Temporal client: pydantic data converter + tracing interceptor.
Worker, CLI, tests and the replayer all use it."""

from __future__ import annotations

from temporalio.client import Client
from temporalio.contrib.opentelemetry import TracingInterceptor
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError

from greenline.errors import ServerUnavailable
from greenline.tracing import setup_tracing

DATA_CONVERTER = pydantic_data_converter


def interceptors() -> list[TracingInterceptor]:
    setup_tracing()
    return [TracingInterceptor()]


async def connect(address: str, namespace: str = "default") -> Client:
    try:
        return await Client.connect(
            address, namespace=namespace, data_converter=DATA_CONVERTER, interceptors=interceptors()
        )
    except (RPCError, RuntimeError, OSError) as err:
        raise ServerUnavailable(
            f"cannot reach the Temporal server at {address} ({err}); check TEMPORAL_ADDRESS, "
            "or unset it to use the embedded dev server"
        ) from err
