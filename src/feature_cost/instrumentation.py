"""The method's feature middleware for Python services: the counterpart of the article's
`withFeatureContext` for the OpenTelemetry Python SDK and OpenFeature.

Install with the optional extra: ``pip install 'feature-cost[instrument]'``.

For one invocation of a feature (a request, a job run) :func:`feature_context`

1. evaluates the feature's flag through OpenFeature when the feature is gated (``flag_key``),
   and records the evaluation as the OpenTelemetry ``feature_flag.evaluation`` event on the span
   that is active (the server span): key, result value and variant, reason, provider and the
   tenant as context id;
2. opens the feature span, a child of the active span, carrying ``feature.id``,
   ``feature.category``, ``tenant.id`` and ``feature.variant``, when the flag is on (or the
   feature is not gated). When the flag is off it opens none and the handler runs anyway, as the
   method's middleware does; it sets ``tenant.id`` on the active span, and the project reads the
   evaluation and counts that work as the tenant's flag-off invocation of the feature (rule 13).

It does no cost work in the request path: attributes only, cost is computed in the warehouse
from the exported spans. :func:`with_feature` decorates a function (sync or async);
:class:`FeatureWSGIMiddleware` and :class:`FeatureASGIMiddleware` wrap an application, choosing
the feature by path prefix and the tenant from a request header.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from openfeature import api as openfeature
from openfeature.evaluation_context import EvaluationContext
from opentelemetry import trace

TRACER_NAME = "feature-cost.instrumentation"
F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Feature:
    """A feature as the taxonomy names it, and the flag that gates it (if any)."""

    feature_id: str
    category: str | None = None
    flag_key: str | None = None
    """The OpenFeature flag key; ``None`` for a feature no flag gates."""


@dataclass(frozen=True)
class Invocation:
    """What :func:`feature_context` did: the flag's result and the feature span it opened."""

    feature: Feature
    enabled: bool
    span: trace.Span | None
    """The feature span; ``None`` when the flag was off (no feature span is opened)."""


def _record_evaluation(feature: Feature, tenant_id: str | None, default: bool) -> bool:
    """Evaluate the feature's flag and record the ``feature_flag.evaluation`` event on the
    active span; return whether the flag is on."""
    client = openfeature.get_client()
    context = EvaluationContext(targeting_key=tenant_id) if tenant_id else None
    details = client.get_boolean_details(str(feature.flag_key), default, context)
    attributes: dict[str, Any] = {
        "feature_flag.key": str(feature.flag_key),
        "feature_flag.result.value": bool(details.value),
        "feature_flag.provider.name": openfeature.get_provider_metadata().name,
    }
    if details.variant is not None:
        attributes["feature_flag.result.variant"] = str(details.variant)
    if details.reason is not None:
        attributes["feature_flag.result.reason"] = str(details.reason).lower()
    if tenant_id:
        attributes["feature_flag.context.id"] = tenant_id
    if details.error_code is not None:
        attributes["error.type"] = str(details.error_code).lower()
    trace.get_current_span().add_event("feature_flag.evaluation", attributes)
    return bool(details.value)


@contextmanager
def feature_context(
    feature: Feature,
    tenant_id: str | None = None,
    variant: str | None = None,
    *,
    span_name: str | None = None,
    flag_default: bool = False,
    tracer: trace.Tracer | None = None,
) -> Iterator[Invocation]:
    """One invocation of ``feature``: evaluate its flag, then open its feature span.

    ``flag_default`` is the flag's value when the provider cannot answer (off by default:
    a gated feature whose flag cannot be read does not run as on).
    """
    enabled = _record_evaluation(feature, tenant_id, flag_default) if feature.flag_key else True
    if not enabled:
        # The active span stands in for the feature span (rule 13): it names the tenant, so
        # the flag-off work is the tenant's, not shared.
        if tenant_id:
            trace.get_current_span().set_attribute("tenant.id", tenant_id)
        yield Invocation(feature, False, None)
        return
    attributes: dict[str, Any] = {"feature.id": feature.feature_id}
    if feature.category:
        attributes["feature.category"] = feature.category
    if tenant_id:
        attributes["tenant.id"] = tenant_id
    if variant:
        attributes["feature.variant"] = variant
    tracer = tracer or trace.get_tracer(TRACER_NAME)
    with tracer.start_as_current_span(
        span_name or f"feature {feature.feature_id}", attributes=attributes
    ) as span:
        yield Invocation(feature, True, span)


def with_feature(
    feature: Feature,
    tenant: Callable[..., str | None] | None = None,
) -> Callable[[F], F]:
    """Decorate a function (sync or async) as one invocation of ``feature``; ``tenant`` takes
    the function's arguments and returns the tenant id."""

    def decorate(function: F) -> F:
        if inspect.iscoroutinefunction(function):

            @functools.wraps(function)
            async def run_async(*args: Any, **kwargs: Any) -> Any:
                with feature_context(feature, tenant(*args, **kwargs) if tenant else None):
                    return await function(*args, **kwargs)

            return run_async  # type: ignore[return-value]

        @functools.wraps(function)
        def run(*args: Any, **kwargs: Any) -> Any:
            with feature_context(feature, tenant(*args, **kwargs) if tenant else None):
                return function(*args, **kwargs)

        return run  # type: ignore[return-value]

    return decorate


def _feature_for(routes: Mapping[str, Feature], path: str) -> Feature | None:
    """The feature of the longest path prefix that matches ``path``."""
    matches = [prefix for prefix in routes if path.startswith(prefix)]
    return routes[max(matches, key=len)] if matches else None


class _ClosingBody:
    """A WSGI response body that leaves the feature context when the server closes it, so the
    feature span covers the streaming of the body too."""

    def __init__(self, body: Iterable[bytes], stack: ExitStack) -> None:
        self._body = body
        self._stack = stack

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._body)

    def close(self) -> None:
        try:
            close = getattr(self._body, "close", None)
            if close is not None:
                close()
        finally:
            self._stack.close()


class FeatureWSGIMiddleware:
    """WSGI middleware: each request under a path prefix of ``routes`` is an invocation of its
    feature, for the tenant named by the ``tenant_header`` request header."""

    def __init__(
        self,
        app: Callable[..., Iterable[bytes]],
        routes: Mapping[str, Feature],
        tenant_header: str = "X-Tenant-Id",
    ) -> None:
        self.app = app
        self.routes = dict(routes)
        self.environ_key = "HTTP_" + tenant_header.upper().replace("-", "_")

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        feature = _feature_for(self.routes, environ.get("PATH_INFO", ""))
        if feature is None:
            return self.app(environ, start_response)
        stack = ExitStack()
        stack.enter_context(feature_context(feature, environ.get(self.environ_key) or None))
        try:
            body = self.app(environ, start_response)
        except BaseException:
            stack.close()
            raise
        return _ClosingBody(body, stack)


class FeatureASGIMiddleware:
    """ASGI middleware (HTTP): each request under a path prefix of ``routes`` is an invocation
    of its feature, for the tenant named by the ``tenant_header`` request header."""

    def __init__(
        self,
        app: Callable[..., Any],
        routes: Mapping[str, Feature],
        tenant_header: str = "x-tenant-id",
    ) -> None:
        self.app = app
        self.routes = dict(routes)
        self.tenant_header = tenant_header.lower().encode("latin-1")

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        feature = (
            _feature_for(self.routes, scope.get("path", "")) if scope["type"] == "http" else None
        )
        if feature is None:
            await self.app(scope, receive, send)
            return
        tenant = next(
            (
                value.decode("latin-1")
                for name, value in scope.get("headers", [])
                if name.lower() == self.tenant_header
            ),
            None,
        )
        with feature_context(feature, tenant or None):
            await self.app(scope, receive, send)
