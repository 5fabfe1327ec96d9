"""The dashboard's replay dry-run form: the command's and the API's selection."""

import re

from django import forms

from metrics.models import IDENTIFIER_MAX_LENGTH, IDENTIFIER_PATTERN, Run
from metrics.selectors import unknown_run_ids
from replay.selectors import FAILED

MAX_RUN_IDS = 1000
_SEPARATORS = re.compile(r"[\s,]+")
_IDENTIFIER = re.compile(IDENTIFIER_PATTERN)


class ReplayDryRunForm(forms.Form):
    run_ids = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Separated by spaces, commas or new lines; empty: every run in the state.",
    )
    from_date = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    to_date = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    state = forms.ChoiceField(
        choices=[(FAILED, "FAILED (every DONE_FAILED_* state)"), *Run.State.choices],
        initial=FAILED,
    )

    def clean_run_ids(self) -> list[str]:
        names = [name for name in _SEPARATORS.split(self.cleaned_data["run_ids"]) if name]
        if len(names) > MAX_RUN_IDS:
            raise forms.ValidationError(f"At most {MAX_RUN_IDS} run ids.")
        malformed = [
            name
            for name in names
            if len(name) > IDENTIFIER_MAX_LENGTH or not _IDENTIFIER.fullmatch(name)
        ]
        if malformed:
            raise forms.ValidationError(f"Not a run id: {', '.join(malformed[:5])}.")
        if unknown := unknown_run_ids(names):
            raise forms.ValidationError(f"No such run: {', '.join(unknown[:5])}.")
        return list(dict.fromkeys(names))
