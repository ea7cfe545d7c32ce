"""The name of every read model the projector keeps, as its metrics and `radar status` label
them: one list, so a new read model is added to the end-to-end checks in one place."""

from services.casework.lead_time_store import LEAD_TIME_PROJECTION
from services.casework.monitoring_store import SAFETY_PROJECTION
from services.casework.store import WORKLIST_PROJECTION
from services.feedback.store import FEEDBACK_PROJECTION
from services.handle_with_care.store import HWC_PROJECTION
from services.referrals.store import REFERRAL_PROJECTION
from services.timelines.store import TIMELINE_PROJECTION

READ_MODELS = frozenset(
    {
        TIMELINE_PROJECTION,
        WORKLIST_PROJECTION,
        SAFETY_PROJECTION,
        LEAD_TIME_PROJECTION,
        REFERRAL_PROJECTION,
        HWC_PROJECTION,
        FEEDBACK_PROJECTION,
    }
)
