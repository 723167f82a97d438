"""The core's programs, free of Dagger: each runs inside a step container (or on the host) with
``python3 -m shipyard.tools.<tool>``: the deploy engine, the gates, the smoke suite, the rehearsal's
emulator, notifications, coverage upload, cost, the pull-request comment and image promotion."""
