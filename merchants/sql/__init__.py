"""The merchants' stored SQL, one file per function version, never edited once released;
read through ``ledger.sql_files``. A package so that the files ship with the code."""
