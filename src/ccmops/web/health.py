"""Checks for a load balancer or orchestrator: `/healthz` (the process answers) and `/readyz` (it can serve:
the database answers and every migration is applied). Neither needs a sign-in nor reveals anything else."""

from __future__ import annotations

import secrets

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import JsonResponse

from ccmops.platform import logs


def healthz(request):
    return JsonResponse({"status": "ok"})


def readyz(request):
    problems = []
    try:
        connection = connections[DEFAULT_DB_ALIAS]
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
        if pending:
            problems.append(f"{len(pending)} migration(s) not applied: run `ccmops migrate`")
    except DatabaseError as exc:
        problems.append(f"database not reachable: {type(exc).__name__}")
    if problems:
        return JsonResponse({"status": "not ready", "problems": problems}, status=503)
    return JsonResponse({"status": "ready"})


class RequestContextMiddleware:
    """Each request's id (the load balancer's X-Request-ID, or a new one), user and practice, for the logs
    (`ccmops.platform.logs`) and echoed in the response's X-Request-ID."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        given = request.headers.get("X-Request-ID", "")
        rid = given if given.isascii() and 0 < len(given) <= 64 and given.replace("-", "").isalnum() else ""
        rid = rid or secrets.token_hex(8)
        tokens = [logs.request_id.set(rid)]
        if getattr(request, "user", None) is not None and request.user.is_authenticated:
            tokens.append(logs.user.set(request.user.get_username()))
        request._log_tokens = tokens
        try:
            response = self.get_response(request)
        finally:
            for token in reversed(request._log_tokens):
                token.var.reset(token)
        response["X-Request-ID"] = rid
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        if "practice_id" in view_kwargs and hasattr(request, "_log_tokens"):
            request._log_tokens.append(logs.practice.set(str(view_kwargs["practice_id"])))
