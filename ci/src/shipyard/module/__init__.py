"""The Dagger layer: the only code that imports ``dagger``.

`stages` holds what every stage call shares (the release target, a deploy step's outcome and the
typed protocol the compositions call), `release` composes one pipeline run from the stages, and
`rehearsal` starts an emulated AWS account and runs that same composition against it.
"""
