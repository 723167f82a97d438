"""The offline Dagger engine kit behind kit/provision, in small pieces.

`settings` (paths, names, flags), `pins` (the versions it builds, each from its one declared
place), `digests` (step inputs and stamps), pure recipes (`images`, `gomod`, `sdk`), the host
edge (`shell`), the steps (`steps.Provisioner`) and the options (`cli`). Stdlib only: it runs
before the project's virtualenv exists.
"""
