"""A guided tour of cfaisearch: ``python -m cfaisearch.demo``.

It starts the local AI Search emulator in-process, then uses only the public
SDK to create a namespace and an instance, upload the bundled corpus
(``corpus/``), follow indexing, search and stream a chat answer. No account,
no network: everything stays on 127.0.0.1.
"""
