"""The portal: a web application over the published releases of a warehouse (docs/portal.md).

Public pages (releases, open tables, the data dictionary, the target-progress report), a
district area (its own extracts, rejected rows and uploads), a statisticians' area (restricted
tables, the snapshot) and accounts. It only reads published releases and writes under
`<warehouse>/portal/` (accounts, secret, audit log) and, for uploads, the landing directory.
"""
