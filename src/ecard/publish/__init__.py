"""Publishing: the operator's recipes that read what was published before and sign what comes
next (the next revocation list from the current one).

This room sits above both sides: it reads the previous list with :mod:`ecard.verify` (its
signature and its signer's path checked) and signs the next with :mod:`ecard.signing`, so that
neither of those needs the other.
"""
