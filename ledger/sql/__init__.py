"""The ledger's stored SQL, one file per function version (``ledger_post.v2.sql``), never
edited once released; read through ``ledger.sql_files``. A package so that the files ship
with the code (``setup.cfg`` package_data)."""
