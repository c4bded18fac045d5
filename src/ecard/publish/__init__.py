"""Publishing: the operator's recipes that read what was published before and sign what comes
next, so that a refresh can never silently undo what the last one said:

- :mod:`~ecard.publish.revocation`: the next revocation list from the current one, saying what
  changed;
- :mod:`~ecard.publish.crl`: the next CRL of a CA from its previous one (revocations and their
  dates kept, numbers that only go up);
- :mod:`~ecard.publish.lists`: the next sequence number of a signed list.

This room sits above both sides: it reads the previous list with :mod:`ecard.verify` (its
signature and its signer's path checked) and signs the next with :mod:`ecard.signing`, so that
neither of those needs the other.
"""
