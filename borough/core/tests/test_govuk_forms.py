"""The form adapter: a question that is the page's only one is its heading; a person's own date of
birth may be filled in by the browser."""

from django import forms
from django.template import engines

from borough.core.govuk_forms import DateOfBirthMixin, NameAndDateOfBirthForm, govuk_field


class ChoiceForm(forms.Form):
    months = forms.ChoiceField(
        label="How long do you want the permit for?",
        choices=[("6", "6 months"), ("12", "12 months")],
        widget=forms.RadioSelect,
    )
    vrm = forms.CharField(label="What is your vehicle's registration number?")


class LookUpForm(DateOfBirthMixin, forms.Form):
    dob_day = forms.CharField(required=False)
    dob_month = forms.CharField(required=False)
    dob_year = forms.CharField(required=False)


def render(source: str, **context) -> str:
    return engines["jinja2"].env.from_string(source).render(**context)


FIELD = '{% from "components/field.html" import field %}'


def test_a_radio_question_as_the_page_heading_is_the_legend_in_an_h1():
    html = render(FIELD + '{{ field(form.months, {"page_heading": true}) }}', form=ChoiceForm())
    assert '<legend class="govuk-fieldset__legend govuk-fieldset__legend--l">' in html
    assert '<h1 class="govuk-fieldset__heading">' in html
    assert html.count("How long do you want the permit for?") == 1


def test_a_text_question_as_the_page_heading_is_its_label_in_an_h1():
    params = govuk_field(ChoiceForm()["vrm"], page_heading="Your vehicle")
    assert params["label"] == {
        "text": "Your vehicle",
        "isPageHeading": True,
        "classes": "govuk-label--l",
    }
    html = render(FIELD + '{{ field(form.vrm, {"page_heading": true}) }}', form=ChoiceForm())
    assert '<h1 class="govuk-label-wrapper">' in html


def test_without_page_heading_the_question_is_not_a_heading():
    html = render(FIELD + "{{ field(form.months) }}", form=ChoiceForm())
    assert "<h1" not in html
    assert "govuk-fieldset__legend--m" in html


def test_a_date_of_birth_alone_on_a_page_is_its_heading():
    params = LookUpForm().date_input(page_heading="What is their date of birth?")
    assert params["fieldset"]["legend"]["isPageHeading"] is True
    assert params["fieldset"]["legend"]["text"] == "What is their date of birth?"


def test_the_persons_own_date_of_birth_may_be_filled_in_by_the_browser():
    items = NameAndDateOfBirthForm().date_input()["items"]
    assert [item["autocomplete"] for item in items] == ["bday-day", "bday-month", "bday-year"]
    form = NameAndDateOfBirthForm()
    assert form["first_name"].field.widget.attrs["autocomplete"] == "given-name"
    assert form["surname"].field.widget.attrs["autocomplete"] == "family-name"
    html = render(
        '{% from "govuk_frontend_jinja/components/date-input/macro.html" import govukDateInput %}'
        "{{ govukDateInput(form.date_input()) }}",
        form=form,
    )
    assert 'autocomplete="bday-day"' in html
    assert 'autocomplete="bday-year"' in html


def test_someone_elses_date_of_birth_is_not_filled_in_with_the_officers_own():
    items = LookUpForm().date_input()["items"]
    assert {item["autocomplete"] for item in items} == {"off"}


class PeriodForm(forms.Form):
    period = forms.ChoiceField(
        label="Which payments?",
        choices=[("year", "This year"), ("dates", "Between two dates")],
        widget=forms.RadioSelect,
    )
    start = forms.CharField(label="From")


def test_an_option_can_reveal_more_questions_when_chosen():
    source = (
        FIELD + "{% set dates %}{{ field(form.start) }}{% endset %}"
        '{{ field(form.period, {"reveal": {"dates": dates}}) }}'
    )
    chosen = render(source, form=PeriodForm({"period": "dates"}))
    assert 'data-aria-controls="conditional-id_period_1"' in chosen
    # Chosen: shown, with the question inside it (and not escaped).
    revealed = chosen.split('<div class="govuk-radios__conditional" id="conditional-id_period_1">')
    assert len(revealed) == 2
    assert '<label class="govuk-label" for="id_start">' in revealed[1]
    # Not chosen: hidden once GOV.UK Frontend's script runs (shown without JavaScript).
    unchosen = render(source, form=PeriodForm({"period": "year"}))
    assert "govuk-radios__conditional--hidden" in unchosen
    assert chosen.count("govuk-radios__conditional") == 1
