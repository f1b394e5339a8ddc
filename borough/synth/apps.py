from django.apps import AppConfig


class SynthConfig(AppConfig):
    name = "borough.synth"
    label = "synth"
    verbose_name = "Synthetic borough"
