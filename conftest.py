"""Suite-wide pytest rules."""

import pytest

# --screenshots=DIR (or BOROUGH_SCREENSHOTS=DIR): every page the browser journeys open, at 1280
# and 320 px, for review. A plugin of the root conftest so that the option exists however pytest
# is started (``pytest`` or ``python -m pytest``, with or without paths).
pytest_plugins = ["tests.e2e.screenshots"]


class _CountPassed:
    def __init__(self) -> None:
        self.passed = 0

    def pytest_runtest_logreport(self, report) -> None:
        if report.when == "call" and report.passed:
            self.passed += 1


_counter = _CountPassed()


def pytest_configure(config) -> None:
    config.pluginmanager.register(_counter, "borough-count-passed")


def pytest_addoption(parser) -> None:
    parser.addoption(
        "--database-tests-only",
        action="store_true",
        help="Run only the tests that use the database (CI's second run, on PostgreSQL): a test "
        "that never touches the database behaves the same whichever database is configured, "
        "and the SQLite run has already run it.",
    )


#: Fixtures through which a test reaches the database: pytest-django's, and the session set-up
#: that module fixtures use to load data once. (Not ``django_db_blocker``: pytest-django's own
#: autouse fixtures ask every test for it.)
_DATABASE_FIXTURES = {
    "_django_db_helper",
    "db",
    "transactional_db",
    "django_db_setup",
    "live_server",
}


def uses_database(item) -> bool:
    """Whether a collected test reaches the database: a ``django_db`` or ``postgres`` mark, or a
    database fixture among the fixtures it asks for, directly or through other fixtures."""
    if item.get_closest_marker("django_db") or item.get_closest_marker("postgres"):
        return True
    return bool(_DATABASE_FIXTURES & set(getattr(item, "fixturenames", ())))


def pytest_collection_modifyitems(config, items) -> None:
    if not config.getoption("database_tests_only"):
        return
    keep, drop = [], []
    for item in items:
        (keep if uses_database(item) else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def pytest_sessionfinish(session, exitstatus) -> None:
    # A run that executed nothing proves nothing: fail it rather than report success.
    if exitstatus == pytest.ExitCode.OK and _counter.passed == 0:
        session.exitstatus = pytest.ExitCode.NO_TESTS_COLLECTED


@pytest.fixture
def make_staff(db):
    """A staff account holding the named roles (Django groups)."""
    from django.contrib.auth.models import Group

    from borough.core.models import User

    def make(*roles: str, username: str | None = None, password: str = "correct horse battery"):
        name = username or (
            "staff-" + "-".join(r.lower().replace(" ", "-") for r in roles) or "staff"
        )
        user = User.objects.create_user(name, password=password, is_staff=True)
        for role in roles:
            user.groups.add(Group.objects.get_or_create(name=role)[0])
        return user

    return make


@pytest.fixture
def sign_in_staff(db):
    """THE way a test signs a staff member in: ``sign_in_staff(client, user)``.

    Staff whose roles can see personal data must pass a second factor (docs/sign-in.md), and the
    test settings keep that on, so ``client.force_login(staff)`` alone now reaches no staff page
    (it is sent to the code page) and no staff API call (401). This gives ``user`` a real
    confirmed TOTP device (django-otp) if it has none, signs ``client`` in as ``force_login``
    does, and marks the session with django-otp's own ``otp_login``. Returns the device.

    Use ``client.force_login`` alone only in a test of what happens without the second factor.
    Browser journeys sign in through the pages and type ``borough.core.testing.code_for(device)``.
    """
    from borough.core.testing import sign_in_staff as sign_in

    return sign_in


@pytest.fixture
def resident(db):
    from borough.core.models import User

    return User.objects.create_resident("resident@example.com")


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with empty caches: Django's (sign-in throttles live there) and the
    per-process ones (API clients, active parking zones)."""
    from django.conf import settings

    if settings.configured:
        from django.core.cache import cache

        from borough.core.api_clients import forget_cached_clients
        from borough.parking.enforcement import forget_active_zones

        cache.clear()
        forget_cached_clients()
        forget_active_zones()
    yield
