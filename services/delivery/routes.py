"""The webhook routes of the query API: an organisation registers, lists and removes its own
webhooks (resource `webhooks`, purpose `webhook_registration`), through the gate like every
query; a secret it sends is never shown back. Another organisation's webhook is not found."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from privacy.actors import Analyst
from privacy.policy import AccessRequest, Decision
from privacy.purposes import Resource
from services.delivery.service import MAX_SECRET_BYTES, Webhooks
from services.delivery.signing import Signing
from services.delivery.tables import MAX_URL_LENGTH
from services.errors import Refusal, RefusalKind
from services.gate import Answer, QueryGate
from services.http import BODY_ERRORS, QUERY_ERRORS, endpoint, error_responses

Purpose = Annotated[str | None, Query(max_length=64, description="Registered purpose")]
WebhookId = Annotated[str, Path(pattern=r"^[0-9a-f-]{36}$", description="The webhook's id")]
SHOWN = ["id", "kind", "url", "signing", "purpose", "delivered_after", "attempts", "last_status"]


class WebhookRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: str = Field(max_length=64, description="The feed to receive (GET /v1/feeds/{kind}).")
    url: str = Field(max_length=MAX_URL_LENGTH, description="https:// only.")
    signing: Signing = Field(
        description="hmac-sha256 with `secret`, or ed25519 with the radar's webhook key."
    )
    secret: str | None = Field(
        default=None, max_length=MAX_SECRET_BYTES, description="At least 32 bytes; not shown back."
    )
    feed_purpose: str = Field(max_length=64, description="The purpose the feed is read under.")
    after: int = Field(default=0, ge=0, description="Deliver the items after this cursor.")


class WebhookView(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    kind: str
    url: str
    signing: str
    purpose: str
    created_at: datetime
    delivered_after: int = Field(description="The last cursor the receiver acknowledged.")
    attempts: int = Field(description="Failed attempts at the next item.")
    next_attempt_at: datetime | None
    last_status: str | None


def webhook_router(
    gate: QueryGate, webhooks: Webhooks, person: Callable[..., Analyst]
) -> APIRouter:
    router = APIRouter(tags=["webhooks"], responses=QUERY_ERRORS)

    def access(actor: Analyst, purpose: str | None) -> AccessRequest:
        return AccessRequest(actor, Resource.WEBHOOKS, purpose, subject_region=str(actor.region))

    @router.post(
        "/v1/webhooks",
        response_model=WebhookView,
        status_code=201,
        responses={**BODY_ERRORS, **error_responses(403)},
    )
    def register_webhook(
        request: Request,
        registration: WebhookRequest,
        purpose: Purpose = None,
        actor: Analyst = Depends(person),  # noqa: B008
    ) -> Any:
        """Registers a webhook of the caller's organisation for one feed."""

        def register(_decision: Decision) -> Answer:
            made = webhooks.register(
                actor,
                registration.kind,
                registration.url,
                registration.signing,
                registration.secret,
                registration.feed_purpose,
                registration.after,
            )
            return Answer(made.view(), SHOWN, 1)

        return gate.answer(access(actor, purpose), endpoint(request), register)

    @router.get("/v1/webhooks", response_model=list[WebhookView])
    def list_webhooks(
        request: Request,
        purpose: Purpose = None,
        actor: Analyst = Depends(person),  # noqa: B008
    ) -> Any:
        """The caller's organisation's webhooks and where their deliveries stand."""

        def listing(_decision: Decision) -> Answer:
            found = webhooks.store.active(actor.organisation)
            return Answer([w.view() for w in found], SHOWN, len(found))

        return gate.answer(access(actor, purpose), endpoint(request), listing)

    @router.delete("/v1/webhooks/{webhook}", status_code=204, responses=error_responses(404))
    def remove_webhook(
        request: Request,
        webhook: WebhookId,
        purpose: Purpose = None,
        actor: Analyst = Depends(person),  # noqa: B008
    ) -> None:
        """Stops a webhook of the caller's organisation (its dead letters stay listed)."""

        def remove(_decision: Decision) -> Answer:
            if not webhooks.store.remove(webhook, actor.organisation):
                raise Refusal(RefusalKind.NOT_FOUND, "no such webhook of your organisation")
            return Answer(None, ["id"], 1)

        gate.answer(access(actor, purpose), endpoint(request), remove)

    return router
