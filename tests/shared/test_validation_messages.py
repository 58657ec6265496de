from pydantic import BaseModel, EmailStr, Field, ValidationError, field_validator

from shared.i18n import N_
from shared.validation_messages import validation_message


class Form(BaseModel):
    count: int = Field(default=0, ge=1)
    email: EmailStr | None = None
    note: str = ""

    @field_validator("note")
    @classmethod
    def no_shouting(cls, value: str) -> str:
        if value.isupper():
            raise ValueError(N_("This field is not allowed."))
        if value == "?":
            raise ValueError("someone else's message")
        return value


def first_error(**data):
    try:
        Form(**data)
    except ValidationError as invalid:
        return invalid.errors()[0]
    raise AssertionError("valid")


def test_messages_by_type_are_filled_from_the_context():
    error = first_error(count=0)
    assert error["type"] == "greater_than_equal"
    assert validation_message(error, "pl") == "Wartość musi wynosić co najmniej 1."


def test_our_value_errors_are_translated_and_others_kept():
    assert validation_message(first_error(note="LOUD"), "de") == (
        "Dieses Feld ist nicht erlaubt."
    )
    assert validation_message(first_error(note="?"), "de") == "someone else's message"


def test_an_invalid_email_address_is_explained():
    error = first_error(email="not-an-address")
    assert validation_message(error, "pl") == "To nie jest poprawny adres e-mail."


def test_an_unknown_type_keeps_pydantics_message():
    error = {"type": "no_such_type", "msg": "Something odd", "ctx": {"x": 1}}
    assert validation_message(error, "de") == "Something odd"
