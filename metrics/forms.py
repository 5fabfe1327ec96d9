"""Forms people fill in (the admin's and the dashboard's), over the services."""

from django import forms
from django.core.exceptions import ValidationError

from metrics.services import ApprovalAlreadyDecided, ApprovalWrongKind, approval_decide


class ApprovalDecisionForm(forms.Form):
    """An operator's decision on a pending approval or clarification: approve,
    reject (with a reason) or answer (the answer)."""

    decision = forms.ChoiceField(
        choices=[("approve", "Approve"), ("reject", "Reject"), ("answer", "Answer")]
    )
    note = forms.CharField(required=False, max_length=10_000)

    def decide(self, approval_id: int, *, by: str, method: str) -> tuple[bool, str]:
        """Record the decision: (whether it was recorded, what to tell the operator)."""
        if not self.is_valid():
            return False, "Choose approve, reject or answer."
        try:
            decided = approval_decide(
                approval_id=approval_id,
                decision=self.cleaned_data["decision"],
                reason=self.cleaned_data["note"],
                by=by,
                method=method,
            )
        except (ApprovalAlreadyDecided, ApprovalWrongKind) as error:
            return False, str(error.detail)
        except ValidationError as error:
            return False, "; ".join(error.messages)
        return True, f"{decided.kind.capitalize()} {decided.pk}: {decided.status}."
