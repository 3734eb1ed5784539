"""Timing pages as a signed-in user, and timing plain calls."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db import connection
from django.test import Client

from campaigns import roles

#: The header htmx sends: the page answers with its partial.
HTMX = {"HX-Request": "true"}


@dataclass(frozen=True)
class PageTiming:
    first: float  # seconds of the first request: caches cold
    median: float  # median seconds of the repeated requests
    queries: int  # queries one warm request runs
    samples: tuple[float, ...] = ()  # seconds of each repeated request


def pooled(timings: list[PageTiming]) -> PageTiming:
    """One page timed in several rounds, as one timing: the median of every sample."""
    samples = tuple(sample for timing in timings for sample in timing.samples)
    return PageTiming(
        first=timings[0].first,
        median=statistics.median(samples),
        queries=max(timing.queries for timing in timings),
        samples=samples,
    )


def signed_in_client(username: str, *, role: str = roles.MANAGERS) -> Client:
    """A test client signed in as a user of `role`, not a superuser: permission checks are
    part of each request."""
    user, _ = User.objects.get_or_create(username=username)
    user.groups.add(roles.group(role))
    client = Client()
    client.force_login(user)
    return client


def seconds(call: Callable[[], object]) -> float:
    began = time.perf_counter()
    call()
    return time.perf_counter() - began


def time_page(
    client: Client, url: str, *, repeats: int = 15, headers: dict | None = None
) -> PageTiming:
    """GET `url` once cold, once counting its queries, then `repeats` times."""
    return time_pages(client, [url], repeats=repeats, headers=headers)[0]


def time_pages(
    client: Client, urls: list[str], *, repeats: int = 15, headers: dict | None = None
) -> list[PageTiming]:
    """`time_page` for each of `urls`, their timed requests taken in turns (big, small, big,
    ...), so that a burst of load from elsewhere on a shared machine slows them alike."""
    firsts = [seconds(lambda url=url: client.get(url, headers=headers)) for url in urls]
    queries = [count_queries(client, url, headers=headers) for url in urls]
    samples: list[list[float]] = [[] for _ in urls]
    for _ in range(repeats):
        for url, timings in zip(urls, samples, strict=True):
            timings.append(seconds(lambda url=url: client.get(url, headers=headers)))
    return [
        PageTiming(
            first=first, median=statistics.median(timings), queries=count, samples=tuple(timings)
        )
        for first, timings, count in zip(firsts, samples, queries, strict=True)
    ]


def count_queries(client: Client, url: str, *, headers: dict | None = None) -> int:
    """The queries one GET of `url` runs."""
    queries = []

    def count(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        response = client.get(url, headers=headers)
    assert response.status_code in (200, 286), (url, response.status_code)
    return len(queries)
