"""The HTML pages, one module per audience: :mod:`.applicant` (online channel),
:mod:`.clerk` (window console), :mod:`.wallet` (the holder's phone), :mod:`.counter` (the
scanner at a hospital or pharmacy). Each exposes ``router(ctx)``."""
