"""Every page renders every variable it names. Django renders a name the view never passed as an empty string,
silently: the month page's revenue and 837P batches sections once rendered empty that way. Here the templates run
with a marker for unresolved variables over every page route, as users of each role in both demo practices."""

from tests.factories.pages import fill, is_page, marked_templates, page_responses, routes, unresolved_names  # noqa: F401 - the fixture


def test_no_page_names_a_variable_its_view_does_not_pass(world_ids, client):
    unresolved, rendered = {}, set()
    with marked_templates():
        for username, route, response in page_responses(client, world_ids):
            if is_page(response):
                rendered.add(route)
            for name in unresolved_names(response):
                unresolved.setdefault(f"{route} {name}", username)
    assert {  # the walk reached the pages
        "patients/<int:patient_id>/",
        "practices/<int:practice_id>/months/<month:month>/",
        "patients/<int:patient_id>/packets/<month:month>/",
        "consents/<int:consent_id>/",
        "care-plans/<int:plan_id>/",
        "practices/<int:practice_id>/candidates/",
        "staff/",
        "settings/",
        "account/password/",
    } <= rendered
    assert unresolved == {}
