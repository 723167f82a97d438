"""The pipeline's decisions, pure: no Dagger, no network, no clock of their own.

Which stages an event runs and what blocks a release (`pipeline_flow`), the run report and its
rendering (`summary`, `pr_report`), the image table (`images`) and the rehearsal's emulated
platform as terraform shapes it (`topology`).
"""
