"""A home address as the HTTP APIs accept it: a publisher's submission (signals) and an
analyst's lookup by address (timelines) share one shape, so both validate it the same way."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from privacy.addresses import MAX_ADDITION_LENGTH, MAX_HOUSE_NUMBER, HomeAddress


def _short_addition(value: str) -> str:
    if len(value.replace(" ", "").replace("-", "")) > MAX_ADDITION_LENGTH:
        raise ValueError(f"at most {MAX_ADDITION_LENGTH} letters or digits")
    return value


Postcode = Annotated[
    str, StringConstraints(pattern=r"^\s*[1-9][0-9]{3}\s*[A-Za-z]{2}\s*$", max_length=10)
]
HouseNumber = Annotated[int, Field(ge=1, le=MAX_HOUSE_NUMBER)]
Addition = Annotated[
    str, StringConstraints(pattern=r"^[A-Za-z0-9\s\-]{0,10}$"), AfterValidator(_short_addition)
]


class AddressSubmission(BaseModel):
    """A home address: postcode, house number and addition (also what a sealed address holds)."""

    model_config = ConfigDict(extra="forbid")

    postcode: Postcode
    house_number: HouseNumber
    addition: Addition = ""

    def home(self) -> HomeAddress:
        return HomeAddress.normalised(self.postcode, self.house_number, self.addition)
