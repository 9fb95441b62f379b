"""Keep Presidio and its dependencies off the network.

``tldextract`` (which Presidio's e-mail recognizer uses to check domains) fetches the
public suffix list over HTTP the first time it is used, unless
``TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS`` is set when it is imported; set to an empty value
it uses the snapshot shipped in the package. An operator may point it at a local file
instead, so a value already set is kept.
"""

from __future__ import annotations

import os
import sys

SUFFIX_LIST_VARIABLE = "TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS"


def prepare_offline_environment() -> None:
    """Call before importing Presidio (``PiiAnalyzer.build`` does)."""
    os.environ.setdefault(SUFFIX_LIST_VARIABLE, "")
    _stop_fetching_if_already_imported()


def _stop_fetching_if_already_imported() -> None:
    """If something imported tldextract before us, its shared extractor read no variable."""
    module = sys.modules.get("tldextract.tldextract")
    if module is None or os.environ[SUFFIX_LIST_VARIABLE].strip():
        return
    extractor = module.TLD_EXTRACTOR
    extractor.suffix_list_urls = tuple(
        url for url in extractor.suffix_list_urls if not url.startswith(("http://", "https://"))
    )
