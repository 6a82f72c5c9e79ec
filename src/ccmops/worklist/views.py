from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils import timezone

from ccmops.access.scope import request_scope
from ccmops.worklist.queries import worklist


@login_required
def my_worklist(request):
    mine = request.GET.get("team") != "1"
    rows = worklist(request_scope(request), request.user, on=timezone.localdate(), mine=mine)
    return render(request, "worklist/worklist.html", {"rows": rows, "mine": mine, "today": timezone.localdate()})
