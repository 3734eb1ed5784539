"""`make bench`: the performance figures of SPEC section 8, as ratios measured in one run.

The command runs itself once per database (SQLite, then PostgreSQL when reachable) against a
scratch database of its own (`BENCH_POSTGRES_URL` names the server, `BENCH_POSTGRES_DB` the
scratch database), so the figures never touch your data, then prints one table. The
measuring lives in the top-level `bench` package.
"""

from __future__ import annotations

import json
from dataclasses import fields

from django.core.management.base import BaseCommand

from bench.run import GROUPS, RESULTS, Sizes, figures_inside, measure


class Command(BaseCommand):
    help = "Measure Herald's performance figures (SPEC section 8) and print them as a table."

    def add_arguments(self, parser):
        parser.add_argument("--inside", choices=["sqlite", "postgresql"], help="internal")
        for size in fields(Sizes):
            parser.add_argument(f"--{size.name.replace('_', '-')}", type=int, default=size.default)
        parser.add_argument("--skip-postgres", action="store_true")
        parser.add_argument("--only", choices=GROUPS, help="measure only these figures")

    def handle(self, *args, inside=None, skip_postgres=False, only=None, **options):
        sizes = Sizes(**{size.name: options[size.name] for size in fields(Sizes)})
        if inside:
            self.stdout.write(RESULTS + json.dumps(figures_inside(inside, sizes, only=only)))
            return
        say = self.stderr.write
        self.stdout.write(measure(sizes, skip_postgres=skip_postgres, say=say, only=only))
