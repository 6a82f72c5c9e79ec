from django.utils.functional import SimpleLazyObject

from ccmops.access.policy import Role
from ccmops.web.inbox import inbox_count
from ccmops.web.roles import roles_of


def navigation(request):
    if not request.user.is_authenticated:
        return {}
    roles = roles_of(request.user)
    return {
        "nav_inbox": SimpleLazyObject(lambda: inbox_count(request)),
        "nav_roles": roles,
        "nav_role_values": {r.value for r in roles},
        "nav_sees_patients": any(r is not Role.SYSTEM_ADMIN for r in roles),
    }
