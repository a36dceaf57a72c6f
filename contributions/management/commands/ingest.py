"""``manage.py ingest PATH [PATH ...] [--received YYYY-MM-DD] [--wait] [--json]``.

Takes in payment order files through the same pipeline as the upload page and the API. With
``--wait`` it returns when every order is final: on Celery workers when one is running, else in
this process with the same task code (it says so). Exit status 0 when every order reached a
final status, whatever that status is.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone, translation

from contributions.models import Door, OrderStatus, PaymentOrder
from contributions.selectors import open_orders, order_summary
from contributions.services import intake_file, receipt_date_problem
from contributions.tasks import process_order_task
from records.models import WorkerHeartbeat
from records.services import Actor

logger = logging.getLogger(__name__)

WORKER_ALIVE = timedelta(seconds=20)


def worker_running() -> bool:
    return WorkerHeartbeat.objects.filter(seen_at__gte=timezone.now() - WORKER_ALIVE).exists()


class Command(BaseCommand):
    help = "Take in payment order files (MT102, CSV, XLSX) and optionally wait until they are processed."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("paths", nargs="+", type=Path)
        parser.add_argument("--received", type=date.fromisoformat, help="receipt date YYYY-MM-DD (default today)")
        parser.add_argument("--wait", action="store_true", help="return when every order is final")
        parser.add_argument("--json", action="store_true", help="print one JSON array, an object per order")

    def handle(self, *args: Any, paths: list[Path], received: date | None, wait: bool, json: bool, **opts: Any) -> None:
        actor = Actor(label="command:ingest")
        if received is not None:
            with translation.override("en"):
                problem = receipt_date_problem(received)
            if problem is not None:
                raise CommandError(f"--received {received.isoformat()}: {problem}")
        payloads = []
        for path in paths:
            try:
                payloads.append((path, path.read_bytes()))
            except OSError as exc:
                raise CommandError(f"{path}: {exc.strerror}") from exc
        order_ids: list[int] = []
        failed: list[str] = []
        for path, raw in payloads:
            try:
                result = intake_file(raw=raw, file_name=path.name, door=Door.COMMAND, actor=actor, received=received)
            except Exception as exc:  # one file must not stop the others: reported below
                logger.exception("ingest: %s could not be taken in", path)
                failed.append(f"{path}: could not be taken in ({type(exc).__name__}: {exc})")
                continue
            order_ids.extend(o.pk for o in result.orders)
        if wait:
            self._wait(order_ids, show_progress=not json and sys.stderr.isatty())
        orders = list(PaymentOrder.objects.filter(pk__in=order_ids).order_by("file_id", "position"))
        if json:
            self.stdout.write(_dumps([order_summary(o) for o in orders]))
        else:
            for order in orders:
                summary = order_summary(order)
                self.stdout.write(
                    f"{summary['reference'] or '?'} /{summary['number'] or '?'} payer {summary['payer'] or '?'}:"
                    f" {summary['status']}, lines {summary['lines_posted']}/{summary['lines']} posted,"
                    f" {summary['amount_posted']} of {summary['amount']} posted"
                )
                for error in summary["errors"]:
                    self.stdout.write(f"  {error}")
        for failure in failed:
            self.stderr.write(failure)
        if failed:
            raise CommandError(f"{len(failed)} file(s) could not be taken in; the others were")
        if wait and open_orders(order_ids).exists():
            raise CommandError("some orders did not reach a final status")

    def _wait(self, order_ids: list[int], *, show_progress: bool) -> None:
        if not worker_running():
            self.stderr.write("No Celery worker is running: processing the orders in this process.")
            self._process_here(order_ids, show_progress=show_progress)
            return
        while open_orders(order_ids).exists():
            if show_progress:
                self._progress(order_ids)
            if not worker_running():
                self.stderr.write("\nThe Celery workers stopped: processing the rest in this process.")
                self._process_here(order_ids, show_progress=False)
                break
            time.sleep(0.5)
        if show_progress:
            self._progress(order_ids)
            self.stderr.write("")

    def _process_here(self, order_ids: list[int], *, show_progress: bool) -> None:
        """Run the worker's task code in this process, order by order. An order that fails is
        reported and left open (its attempt counted, as a worker would): the others still run,
        and the sweeper or a later run takes it up again."""
        for order_id in open_orders(order_ids).order_by("pk").values_list("pk", flat=True):
            try:
                process_order_task.run(order_id)
            except Exception as exc:  # noqa: BLE001 - reported per order; the command goes on
                self.stderr.write(f"payment order {order_id} could not be processed: {exc}")
            if show_progress:
                self._progress(order_ids)

    def _progress(self, order_ids: list[int]) -> None:
        orders = PaymentOrder.objects.filter(pk__in=order_ids)
        done_orders = orders.exclude(status=OrderStatus.RECEIVED)
        lines = sum(orders.values_list("lines_total", flat=True))
        done_lines = sum(done_orders.values_list("lines_total", flat=True))
        width = 30
        filled = int(width * done_lines / lines) if lines else width
        self.stderr.write(
            f"\r[{'#' * filled}{'.' * (width - filled)}] orders {done_orders.count()}/{len(order_ids)}"
            f" lines {done_lines}/{lines}",
            ending="",
        )
        self.stderr.flush()


def _dumps(data: object) -> str:
    return json.dumps(data, ensure_ascii=False, indent=1)
