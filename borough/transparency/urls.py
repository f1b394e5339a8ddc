from django.urls import path

from borough.transparency import question_views, resident_views, views

app_name = "transparency"

urlpatterns = [
    path("how-we-use-your-data", resident_views.start, name="start"),
    path("how-we-use-your-data/timeline", resident_views.timeline, name="timeline"),
    path("how-we-use-your-data/timeline/<int:event_id>", resident_views.entry_page, name="entry"),
    path(
        "how-we-use-your-data/timeline/<int:event_id>/question",
        resident_views.question,
        name="question",
    ),
    path("how-we-use-your-data/questions", resident_views.questions, name="questions"),
    path("how-we-use-your-data/datasets", resident_views.datasets, name="datasets"),
    path("how-we-use-your-data/datasets/<slug:code>", resident_views.dataset, name="dataset"),
    path("staff/data-use", views.staff_data_use, name="staff-data-use"),
    path("staff/data-use.csv", views.staff_data_use_export, name="staff-data-use-export"),
    path("staff/data-use/questions", question_views.staff_questions, name="staff-questions"),
    path(
        "staff/data-use/questions/<int:case_id>",
        question_views.staff_question,
        name="staff-question",
    ),
]
