"""The password rules, without a database."""

import pytest

from intake_service.accounts.password_policy import (
    CONTAINS_EMAIL,
    TOO_COMMON,
    common_passwords,
    password_problem,
)


def test_the_list_holds_a_few_hundred_common_passwords_of_three_languages():
    common = common_passwords()
    assert 300 <= len(common) <= 1000
    assert {"haslo123456", "qwertyuiop", "passwort123", "password123"} <= common
    assert all(p == p.casefold() and p.strip() == p and p for p in common)


@pytest.mark.parametrize(
    "password",
    ["HASLO123456", "QwertyUiop", "Passwort123", "ichliebedich", "Hasło12345"],
)
def test_common_passwords_are_refused_in_any_case(password):
    assert password_problem(password, "anna@example.org") == TOO_COMMON


@pytest.mark.parametrize(
    ("password", "email"),
    [
        ("anna.kowalska-2024", "Anna.Kowalska@example.org"),
        ("moje-ANNAKOWALSKA-hasło", "anna.kowalska@example.org"),
        ("rower-jan_nowak-9", "jan.nowak@example.org"),
    ],
)
def test_the_address_s_name_is_refused(password, email):
    assert password_problem(password, email) == CONTAINS_EMAIL


@pytest.mark.parametrize(
    ("password", "email"),
    [
        ("kolorowe-tramwaje-42", "anna@example.org"),
        # A name of one or two letters would refuse half of all passwords.
        ("jo-jo-na-rowerze-7", "jo@example.org"),
        ("kolorowe-tramwaje-42", None),
    ],
)
def test_good_passwords_pass(password, email):
    assert password_problem(password, email) is None
